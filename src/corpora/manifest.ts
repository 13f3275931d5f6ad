/**
 * The corpora registry: well-known corpora described as data in `corpora/*.json`, one manifest per
 * collection, flattened here into one `CorpusEntry` per file. Keeping them as data means a hash
 * can be pinned (or a mirror added) without touching code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A named byte range of a corpus file, e.g. enwik8's `test` split. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** One fetchable corpus file. */
export interface CorpusEntry {
  /** Registry name: the file name for single-file collections (`enwik8`), else `collection/file` (`silesia/dickens`). */
  name: string;
  collection: string;
  /** File name inside the collection (also the cache file name). */
  file: string;
  description: string;
  homepage?: string;
  /** Download sources, tried in order. */
  urls: string[];
  /** Set when the source is a zip archive: the member to extract (matched by exact path, then by base name). */
  zipMember?: string;
  bytes: number;
  /** SHA-256 of the (extracted) file; `null` where no verified hash is known yet. */
  sha256: string | null;
  /** Why a hash is missing or weakly sourced; shown to users. */
  note?: string;
  /** Where the collection's hashes come from. */
  hashProvenance?: string;
  splits: Record<string, ByteRange>;
  splitNote?: string;
}

/** `corpora/` at the repository root; the same relative hop works from `src/corpora` and `dist/corpora`. */
export const DEFAULT_MANIFEST_DIR = fileURLToPath(new URL('../../corpora/', import.meta.url));

const SHA256_RE = /^[0-9a-f]{64}$/;

/** Read and validate every `*.json` manifest in `dir`. Throws with the file and field at fault. */
export function loadCorpora(dir: string = DEFAULT_MANIFEST_DIR): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  for (const fileName of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const path = join(dir, fileName);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`corpus manifest ${path} is not valid JSON: ${(error as Error).message}`);
    }
    entries.push(...parseManifest(raw, path));
  }
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.name)) throw new Error(`corpus ${entry.name} is defined twice in ${dir}`);
    seen.add(entry.name);
  }
  return entries;
}

/** Turn one manifest object into entries; `where` names it in errors. */
export function parseManifest(raw: unknown, where: string): CorpusEntry[] {
  const fail = (msg: string): never => {
    throw new Error(`corpus manifest ${where}: ${msg}`);
  };
  if (!isObject(raw)) return fail('expected an object');
  const collection = str(raw.collection) ?? fail('missing "collection"');
  const description = str(raw.description) ?? fail('missing "description"');
  if (!Array.isArray(raw.files) || raw.files.length === 0) return fail('"files" must be a non-empty array');
  const single = raw.files.length === 1;
  return raw.files.map((f: unknown, i: number): CorpusEntry => {
    const at = `files[${i}]`;
    if (!isObject(f)) return fail(`${at} must be an object`);
    const file = str(f.name) ?? fail(`${at}.name missing`);
    const urls = Array.isArray(f.urls) && f.urls.every((u) => typeof u === 'string') ? (f.urls as string[]) : [];
    if (urls.length === 0) fail(`${at}.urls must list at least one URL`);
    const bytes = f.bytes;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) fail(`${at}.bytes must be a byte count`);
    const sha256 = f.sha256;
    if (!(sha256 === null || (typeof sha256 === 'string' && SHA256_RE.test(sha256)))) {
      fail(`${at}.sha256 must be 64 lowercase hex digits or null`);
    }
    const note = str(f.note);
    if (sha256 === null && !note) fail(`${at} has "sha256": null but no "note" saying why`);
    const splits = parseSplits(f.splits, bytes as number, (m) => fail(`${at}.splits${m}`));
    // Single-file collections are known by the file's own name (`enwik8`), others as `collection/file`.
    const name = single && file === collection ? file : `${collection}/${file}`;
    return {
      name,
      collection,
      file,
      description,
      homepage: str(raw.homepage),
      urls,
      zipMember: str(f.zipMember),
      bytes: bytes as number,
      sha256: sha256 as string | null,
      note,
      hashProvenance: str(raw.hashProvenance),
      splits,
      splitNote: str(f.splitNote),
    };
  });
}

function parseSplits(raw: unknown, bytes: number, fail: (msg: string) => never): Record<string, ByteRange> {
  if (raw === undefined) return {};
  if (!isObject(raw)) return fail(' must be an object');
  const splits: Record<string, ByteRange> = {};
  for (const [name, range] of Object.entries(raw)) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) fail(`: bad split name "${name}"`);
    if (!isObject(range)) return fail(`.${name} must be {offset, length}`);
    const { offset, length } = range;
    if (typeof offset !== 'number' || typeof length !== 'number' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
      return fail(`.${name} must have integer offset and length`);
    }
    if (offset < 0 || length < 0 || offset + length > bytes) fail(`.${name} [${offset}, +${length}) lies outside the ${bytes}-byte file`);
    splits[name] = { offset, length };
  }
  return splits;
}

let registry: CorpusEntry[] | undefined;

/** Every registered corpus file (from `corpora/*.json`, read once). */
export function listCorpora(): CorpusEntry[] {
  registry ??= loadCorpora();
  return registry;
}

/**
 * Entries a name stands for: one file by registry name, or every file of a collection
 * (`canterbury`). Empty when the name is unknown.
 */
export function selectCorpora(name: string, corpora: CorpusEntry[] = listCorpora()): CorpusEntry[] {
  const exact = corpora.filter((c) => c.name === name);
  return exact.length > 0 ? exact : corpora.filter((c) => c.collection === name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
