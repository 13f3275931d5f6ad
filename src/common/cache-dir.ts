import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where models, derived coding graphs and fetched corpora are cached (COMPRESS_BENCH_CACHE). */
export function cacheDir(): string {
  return process.env.COMPRESS_BENCH_CACHE ?? join(homedir(), '.cache', 'compress-bench');
}
