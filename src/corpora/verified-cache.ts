/**
 * Remembers the SHA-256 of present corpus files keyed by path, size and mtime, so a 1 GB file is
 * hashed once rather than on every run. Stored as `<cacheDir>/verified.json`; a lost or unwritable
 * cache only costs a re-hash.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { sha256File } from './hash.js';

interface Stamp {
  size: number;
  mtimeMs: number;
  sha256: string;
}

const CACHE_FILE = 'verified.json';

/** SHA-256 and size of `path`, from the cache when size and mtime are unchanged. */
export async function cachedSha256(path: string, cacheDir: string): Promise<{ sha256: string; bytes: number }> {
  const key = await realpath(path);
  const { size, mtimeMs } = await stat(key);
  const stamps = await readStamps(cacheDir);
  const hit = stamps[key];
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs) return { sha256: hit.sha256, bytes: size };
  const sha256 = await sha256File(key);
  stamps[key] = { size, mtimeMs, sha256 };
  await writeStamps(cacheDir, stamps);
  return { sha256, bytes: size };
}

/** Record a hash just computed elsewhere (e.g. while fetching) so the next lookup is free. */
export async function rememberSha256(path: string, cacheDir: string, sha256: string): Promise<void> {
  const key = await realpath(path);
  const { size, mtimeMs } = await stat(key);
  const stamps = await readStamps(cacheDir);
  stamps[key] = { size, mtimeMs, sha256 };
  await writeStamps(cacheDir, stamps);
}

async function writeStamps(cacheDir: string, stamps: Record<string, Stamp>): Promise<void> {
  try {
    await writeFileAtomic(join(cacheDir, CACHE_FILE), JSON.stringify(stamps, null, 1) + '\n');
  } catch {
    // A read-only cache dir must not stop a run; we just hash again next time.
  }
}

async function readStamps(cacheDir: string): Promise<Record<string, Stamp>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(cacheDir, CACHE_FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, Stamp>) : {};
  } catch {
    return {};
  }
}
