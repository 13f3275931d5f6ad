/**
 * Compressors whose command-line tool is missing (xz, bzip2, --external binaries): an error,
 * exit 2, unless the user asked to skip them with --skip-missing (then a warning per skip).
 */
import { partitionAvailable, type Partitioned } from '../compressors/baselines.js';
import type { ClassicCompressor } from '../compressors/classic.js';
import { UsageError } from './options.js';

export const SKIP_MISSING_DESCRIBE = 'Leave out baselines and --external compressors whose command is not on PATH (each is named on stderr) instead of failing';

export async function requireAvailable(compressors: readonly ClassicCompressor[], skipMissing: boolean): Promise<Partitioned> {
  const found = await partitionAvailable(compressors);
  const { skipped } = found;
  if (skipped.length && !skipMissing) {
    const s = skipped[0]!;
    const more = skipped.length > 1 ? ` (and ${skipped.slice(1).map((x) => x.name).join(', ')})` : '';
    const what = s.reason.includes(s.name) ? s.reason : `${s.name}: ${s.reason}`;
    throw new UsageError(`${what}${more}; install it, leave it out of --baselines/--external, or pass --skip-missing`);
  }
  for (const s of skipped) process.stderr.write(`warning: skipping ${s.name}: ${s.reason} (--skip-missing)\n`);
  return found;
}
