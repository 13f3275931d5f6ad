/**
 * Whether each registered corpus is here: present (size and SHA-256 match, the hash from the
 * verified cache when the file is unchanged), corrupt (a copy of the wrong size or hash), or
 * absent. Cheap: absent entries cost a stat per candidate path, hashing only what has the right size.
 */
import type { CorpusEntry } from './manifest.js';
import { defaultCacheDir, defaultSearchDirs } from './paths.js';
import { locateCorpus } from './resolve.js';

export type CorpusStatus =
  | { state: 'present'; path: string; verified: boolean }
  | { state: 'corrupt'; why: string }
  | { state: 'absent' };

export async function corpusStatus(entry: CorpusEntry, cacheDir = defaultCacheDir(), searchDirs: readonly string[] = defaultSearchDirs()): Promise<CorpusStatus> {
  const { found, rejected } = await locateCorpus(entry, cacheDir, searchDirs);
  if (found) return { state: 'present', path: found.path, verified: entry.sha256 !== null };
  return rejected.length ? { state: 'corrupt', why: rejected.join('; ') } : { state: 'absent' };
}
