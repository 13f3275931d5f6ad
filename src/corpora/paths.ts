/** Where corpora live on disk: the download cache and the extra directories searched for files already present. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CorpusEntry } from './manifest.js';

/**
 * `$COMPRESS_BENCH_CACHE/corpora`, else `~/.cache/compress-bench/corpora`. The variable names the
 * cache root (shared with other caches), so corpora get their own subdirectory.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env.COMPRESS_BENCH_CACHE || join(homedir(), '.cache', 'compress-bench');
  return join(root, 'corpora');
}

/** Checked (relative to the working directory) before asking for a download. */
export const DEFAULT_SEARCH_DIRS: readonly string[] = ['corpus', '../shared/corpora/snappy-testdata'];

/** Where `fetchCorpus` puts an entry: `<cacheDir>/<collection>/<file>`, or `<cacheDir>/<file>` for single-file collections. */
export function cachePathFor(entry: CorpusEntry, cacheDir: string): string {
  return join(cacheDir, entry.name);
}

/** Paths at which an entry counts as present, in order of preference. */
export function candidatePaths(entry: CorpusEntry, cacheDir: string, searchDirs: readonly string[]): string[] {
  const paths = [cachePathFor(entry, cacheDir)];
  for (const dir of searchDirs) paths.push(join(dir, entry.name), join(dir, entry.file));
  return [...new Set(paths)];
}
