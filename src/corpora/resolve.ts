/**
 * `resolveInput`: turn what a user typed (`enwik8`, `enwik8:test`, `corpus/enwik8`) into a file
 * and the byte range to compress. Registered corpora are used only when present and verified;
 * this never downloads (the CLI decides whether to call `fetchCorpus`).
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { listCorpora, type CorpusEntry } from './manifest.js';
import { candidatePaths, cachePathFor, defaultCacheDir, defaultSearchDirs } from './paths.js';
import { cachedSha256 } from './verified-cache.js';

export interface ResolvedInput {
  path: string;
  /** Display name for records: the path as given, or `corpus` / `corpus:split`. */
  name: string;
  /** Registry name, when the file is a verified registered corpus. */
  corpus?: string;
  split?: string;
  offset: number;
  length: number;
  /** Size of the whole file. */
  fileBytes: number;
  /** SHA-256 of the whole file, when it was hashed during resolution. */
  fileSha256?: string;
}

export interface ResolveOptions {
  cacheDir?: string;
  /** Directories where corpus files may already be (default: `corpus/`, then COMPRESS_BENCH_DATA_DIR). */
  searchDirs?: readonly string[];
  corpora?: CorpusEntry[];
}

/** A registered corpus that is not on disk (or only in a corrupt copy). The CLI may offer to fetch it. */
export class CorpusNotPresentError extends Error {
  constructor(
    readonly corpus: CorpusEntry,
    readonly expectedPath: string,
    readonly rejected: string[],
  ) {
    super(
      `${corpus.name} is not present` +
        (rejected.length ? ` (rejected: ${rejected.join('; ')})` : '') +
        `; run \`compress-bench corpora fetch ${corpus.name}\` or place the file at ${expectedPath}`,
    );
    this.name = 'CorpusNotPresentError';
  }
}

/** `corpus/` or `corpora/` (optionally `./`) before a registry name. */
const FOLDER_PREFIX = /^(?:\.\/)?(?:corpus|corpora)\//;

export async function resolveInput(spec: string, options: ResolveOptions = {}): Promise<ResolvedInput> {
  const corpora = options.corpora ?? listCorpora();
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const searchDirs = options.searchDirs ?? defaultSearchDirs();

  // An existing file wins, so odd file names containing ':' still work.
  if (await isFile(spec)) return resolvePath(spec, undefined, corpora, cacheDir);

  const colon = spec.lastIndexOf(':');
  const [base, split] = colon > 0 && /^[A-Za-z0-9_-]+$/.test(spec.slice(colon + 1)) ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, undefined];

  // `corpus/enwik8` and `corpora/enwik8` (the folders the README names) mean the registry entry
  // when no such file exists, so they get the same "not present; fetch or place it" answer.
  const entry = corpora.find((c) => c.name === base) ?? corpora.find((c) => c.name === base.replace(FOLDER_PREFIX, ''));
  if (entry) return resolveCorpus(entry, split, cacheDir, searchDirs);
  if (split !== undefined && (await isFile(base))) return resolvePath(base, split, corpora, cacheDir);

  const collection = corpora.filter((c) => c.collection === base);
  if (collection.length > 0) {
    throw new Error(`${base} is a collection; name one file, e.g. ${collection.slice(0, 3).map((c) => c.name).join(', ')}`);
  }
  throw new Error(`no such file or corpus: ${spec} (corpora: ${corpora.map((c) => c.name).filter((n) => !n.includes('/')).join(', ')}, or collection/file such as silesia/dickens)`);
}

/** Where an entry was found intact (`found`), and every copy turned down on the way (`rejected`). */
export interface LocatedCorpus {
  found?: { path: string; bytes: number; sha256: string };
  rejected: string[];
}

/**
 * The first candidate path holding the entry intact: the size is checked first (a stat), the
 * SHA-256 only for a file of the right size, and from the verified cache when unchanged.
 */
export async function locateCorpus(entry: CorpusEntry, cacheDir: string, searchDirs: readonly string[] = defaultSearchDirs()): Promise<LocatedCorpus> {
  const rejected: string[] = [];
  for (const path of candidatePaths(entry, cacheDir, searchDirs)) {
    const size = await fileSize(path);
    if (size === undefined) continue;
    if (size !== entry.bytes) {
      rejected.push(`${path} has ${size} bytes, expected ${entry.bytes}`);
      continue;
    }
    const { sha256 } = await cachedSha256(path, cacheDir);
    if (entry.sha256 !== null && sha256 !== entry.sha256) {
      rejected.push(`${path} has SHA-256 ${sha256}, expected ${entry.sha256}`);
      continue;
    }
    return { found: { path, bytes: size, sha256 }, rejected };
  }
  return { rejected };
}

async function resolveCorpus(entry: CorpusEntry, split: string | undefined, cacheDir: string, searchDirs: readonly string[]): Promise<ResolvedInput> {
  const range = rangeFor(entry, split);
  const { found, rejected } = await locateCorpus(entry, cacheDir, searchDirs);
  if (!found) throw new CorpusNotPresentError(entry, cachePathFor(entry, cacheDir), rejected);
  return {
    path: found.path,
    name: split ? `${entry.name}:${split}` : entry.name,
    corpus: entry.name,
    ...(split ? { split } : {}),
    ...range,
    fileBytes: found.bytes,
    fileSha256: found.sha256,
  };
}

/**
 * A plain path. It is tagged as a corpus only when its name and size match a registered file with
 * a pinned hash and the hash checks out (so `corpus/enwik8:test` gets enwik8's split).
 */
async function resolvePath(path: string, split: string | undefined, corpora: CorpusEntry[], cacheDir: string): Promise<ResolvedInput> {
  const size = (await fileSize(path))!;
  const name = basename(path);
  let match: { entry: CorpusEntry; sha256: string } | undefined;
  for (const entry of corpora.filter((c) => c.file === name && c.bytes === size && c.sha256 !== null)) {
    const { sha256 } = await cachedSha256(path, cacheDir);
    if (sha256 === entry.sha256) {
      match = { entry, sha256 };
      break;
    }
  }
  if (split !== undefined) {
    if (!match) throw new Error(`${path} is not a verified registered corpus, so it has no split "${split}"`);
    return { path, name: `${path}:${split}`, corpus: match.entry.name, split, ...rangeFor(match.entry, split), fileBytes: size, fileSha256: match.sha256 };
  }
  return {
    path,
    name: path,
    ...(match ? { corpus: match.entry.name, fileSha256: match.sha256 } : {}),
    offset: 0,
    length: size,
    fileBytes: size,
  };
}

function rangeFor(entry: CorpusEntry, split: string | undefined): { offset: number; length: number } {
  if (split === undefined) return { offset: 0, length: entry.bytes };
  const range = entry.splits[split];
  if (!range) {
    const known = Object.keys(entry.splits);
    throw new Error(`${entry.name} has no split "${split}"${known.length ? ` (splits: ${known.join(', ')})` : ' (it has no splits)'}`);
  }
  return { offset: range.offset, length: range.length };
}

async function fileSize(path: string): Promise<number | undefined> {
  return stat(path).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
}

async function isFile(path: string): Promise<boolean> {
  return (await fileSize(path)) !== undefined;
}
