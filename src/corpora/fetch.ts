/**
 * `fetchCorpus`: download a registered corpus file (or a whole collection) into the cache,
 * unzip it when the source is an archive, check size and SHA-256, and only then move it into
 * place. A file that fails its check never appears under its final name.
 */
import { open, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempSiblingPath } from '../common/atomic.js';
import { describeError, downloadToFile, defaultFetch, type FetchImpl } from './download.js';
import { sha256File } from './hash.js';
import { listCorpora, selectCorpora, type CorpusEntry } from './manifest.js';
import { cachePathFor, defaultCacheDir } from './paths.js';
import { rememberSha256 } from './verified-cache.js';
import { locateCorpus } from './resolve.js';
import { extractZipMember } from './zip-member.js';

export interface FetchCorpusOptions {
  /** Defaults to `defaultCacheDir()`. */
  cacheDir?: string;
  /** Defaults to global `fetch` (plus `file://` support). */
  fetchImpl?: FetchImpl;
  /** Registry to look `name` up in; defaults to `listCorpora()`. */
  corpora?: CorpusEntry[];
  /** Progress and computed-hash lines; defaults to stderr, since a maintainer must see unpinned hashes. */
  log?: (line: string) => void;
  /** Folders where a file already present needs no download (default: `corpus/` and the COMPRESS_BENCH_DATA_DIR folders). */
  searchDirs?: readonly string[];
}

/**
 * Make `name` present and return its path: the file for a corpus file name (`enwik8`,
 * `silesia/dickens`), the collection directory for a collection (`canterbury`). A file already
 * present with the right size and hash (in the cache or a search folder) is not downloaded
 * again: it is logged as "present and verified at PATH".
 */
export async function fetchCorpus(name: string, options: FetchCorpusOptions = {}): Promise<string> {
  const corpora = options.corpora ?? listCorpora();
  const entries = selectCorpora(name, corpora);
  if (entries.length === 0) {
    const known = [...new Set(corpora.map((c) => c.collection))].join(', ');
    throw new Error(`unknown corpus "${name}" (collections: ${known}; files are named like silesia/dickens)`);
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const fetchImpl = options.fetchImpl ?? defaultFetch;

  // Entries sharing a primary source (one archive, many members) are fetched with one download.
  const bySource = new Map<string, CorpusEntry[]>();
  const located: string[] = [];
  for (const entry of entries) {
    const { found, rejected } = await locateCorpus(entry, cacheDir, options.searchDirs);
    for (const why of rejected) log(`${entry.name}: ${why}; ${found ? 'not used' : 'downloading again'}`);
    if (found) {
      log(`${entry.name}: present and ${entry.sha256 === null ? 'size checked (no pinned SHA-256)' : 'verified'} at ${found.path}`);
      located.push(found.path);
      continue;
    }
    located.push(cachePathFor(entry, cacheDir));
    bySource.set(entry.urls[0]!, [...(bySource.get(entry.urls[0]!) ?? []), entry]);
  }
  for (const group of bySource.values()) await fetchGroup(group, cacheDir, fetchImpl, log);

  if (entries.length === 1 && entries[0]!.name === name) return located[0]!;
  // A collection: the one folder holding all of it, else its cache folder.
  const folders = new Set(located.map((p) => dirname(p)));
  return folders.size === 1 ? [...folders][0]! : join(cacheDir, entries[0]!.collection);
}

/**
 * Fetch a group from its shared primary URL; whatever is still missing then tries its own
 * fallback URLs one by one. Throws, listing every failure, if anything could not be installed.
 */
async function fetchGroup(group: CorpusEntry[], cacheDir: string, fetchImpl: FetchImpl, log: (line: string) => void): Promise<void> {
  const failures: string[] = [];
  const remaining = await fetchFrom(group[0]!.urls[0]!, group, cacheDir, fetchImpl, log, failures);
  const unresolved: CorpusEntry[] = [];
  for (const entry of remaining) {
    let left = [entry];
    for (const url of entry.urls.slice(1)) {
      left = await fetchFrom(url, left, cacheDir, fetchImpl, log, failures);
      if (left.length === 0) break;
    }
    unresolved.push(...left);
  }
  if (unresolved.length === 0) return;
  const where = unresolved.map((e) => cachePathFor(e, cacheDir)).join(', ');
  throw new Error(`${failures.join('; ')}; place the file${unresolved.length > 1 ? 's' : ''} at ${where} yourself`);
}

/** Download `url` once and install every entry it yields; returns the entries still missing. */
async function fetchFrom(
  url: string,
  entries: CorpusEntry[],
  cacheDir: string,
  fetchImpl: FetchImpl,
  log: (line: string) => void,
  failures: string[],
): Promise<CorpusEntry[]> {
  const label = entries.length === 1 ? entries[0]!.name : entries[0]!.collection;
  const isZip = entries[0]!.zipMember !== undefined;
  // Archives go next to the cache; plain files straight to a temp sibling of their final path.
  const download = tempSiblingPath(isZip ? join(cacheDir, basename(new URL(url).pathname) || 'download') : cachePathFor(entries[0]!, cacheDir));
  await mkdir(dirname(download), { recursive: true });
  try {
    log(`${label}: downloading ${url}`);
    try {
      await downloadToFile(url, download, fetchImpl);
    } catch (error) {
      failures.push(`could not download ${label} from ${url}: ${describeError(error)}`);
      return entries;
    }
    const missing: CorpusEntry[] = [];
    for (const entry of entries) {
      try {
        const temp = isZip ? await extractToTemp(download, entry, cacheDir) : download;
        await installVerified(temp, entry, cacheDir, url, log);
      } catch (error) {
        failures.push(describeError(error));
        missing.push(entry);
      }
    }
    return missing;
  } finally {
    await rm(download, { force: true });
  }
}

async function extractToTemp(archive: string, entry: CorpusEntry, cacheDir: string): Promise<string> {
  const target = cachePathFor(entry, cacheDir);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempSiblingPath(target);
  const out = await open(temp, 'w');
  try {
    await extractZipMember(archive, entry.zipMember!, async (chunk) => {
      await out.write(chunk);
    });
  } catch (error) {
    await out.close();
    await rm(temp, { force: true });
    throw new Error(`could not unzip ${entry.zipMember} for ${entry.name}: ${describeError(error)}`);
  }
  await out.close();
  return temp;
}

/** Check size and hash of `temp`, then rename it into place; `temp` is gone either way. */
async function installVerified(temp: string, entry: CorpusEntry, cacheDir: string, url: string, log: (line: string) => void): Promise<void> {
  const target = cachePathFor(entry, cacheDir);
  try {
    const { size } = await stat(temp);
    if (size !== entry.bytes) throw new Error(`${entry.name} from ${url} has ${size} bytes, expected ${entry.bytes}; discarded it`);
    const sha256 = await sha256File(temp);
    if (entry.sha256 === null) {
      log(`${entry.name}: no pinned SHA-256 (${entry.note ?? 'unverified'}); computed sha256 ${sha256} — pin it in corpora/*.json once checked`);
    } else if (sha256 !== entry.sha256) {
      throw new Error(`${entry.name} from ${url} has SHA-256 ${sha256}, expected ${entry.sha256}; discarded it`);
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(temp, target);
    await rememberSha256(target, cacheDir, sha256);
    log(`${entry.name}: ${entry.sha256 === null ? 'size checked' : 'verified'}, ${target}`);
  } finally {
    await rm(temp, { force: true });
  }
}
