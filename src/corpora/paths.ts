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

/** Always checked (relative to the working directory) before asking for a download. */
export const DEFAULT_SEARCH_DIRS: readonly string[] = ['corpus'];

/** Colon-separated folders where corpus files already are, searched after `corpus/`. */
export const DATA_DIR_ENV = 'COMPRESS_BENCH_DATA_DIR';

/** The folders named by COMPRESS_BENCH_DATA_DIR, in order. */
export function dataDirsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[DATA_DIR_ENV] ?? '').split(':').filter(Boolean);
}

/** What `resolveInput` searches when not told: `corpus/`, then the COMPRESS_BENCH_DATA_DIR folders. */
export function defaultSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...new Set([...DEFAULT_SEARCH_DIRS, ...dataDirsFromEnv(env)])];
}

/**
 * The CLI's `--data-dir DIR` (repeatable): put in front of COMPRESS_BENCH_DATA_DIR, in this process's
 * environment, so every command that resolves inputs sees them and so do the children it starts
 * (`check` re-running a baseline's command line, shard workers).
 */
export function useDataDirs(dirs: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  if (dirs.length === 0) return;
  env[DATA_DIR_ENV] = [...new Set([...dirs, ...dataDirsFromEnv(env)])].join(':');
}

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
