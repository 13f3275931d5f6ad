/**
 * bzip2 (Burrows–Wheeler) at levels 1–9 through the `bzip2` command: input on stdin, archive on
 * stdout. Level N sorts blocks of N × 100 kB; no context crosses a block boundary.
 */
import type { Compressor, Reach } from './compressor.js';
import { type ClassicCompressor, cliCodec, constantSize } from './classic.js';

export const BZIP2_LEVELS = { min: 1, max: 9, default: 9 } as const;

/** Decompressor size: `/usr/bin/bzip2` 1.0.8 (39,224 B) + libbz2.so.1.0 (74,688 B), Debian 12 amd64. */
const BZIP2_DECOMPRESSOR_BYTES = 39_224 + 74_688;

export function createBzip2(level: number = BZIP2_LEVELS.default): ClassicCompressor {
  if (!Number.isInteger(level) || level < BZIP2_LEVELS.min || level > BZIP2_LEVELS.max) {
    throw new Error(`bzip2 level must be ${BZIP2_LEVELS.min}–${BZIP2_LEVELS.max}, got ${level}`);
  }
  const reach: Reach = {
    unit: 'bytes',
    window: level * 100_000,
    note: `bzip2 -${level}: independent BWT blocks of ${level * 100} kB`,
  };
  const compressor: ClassicCompressor = {
    name: `bzip2:${level}`,
    family: 'bzip2',
    settings: { level, blockBytes: level * 100_000, command: `bzip2 -${level} -c`, implementation: 'bzip2 CLI' },
    reach,
    decompressorSize: constantSize(BZIP2_DECOMPRESSOR_BYTES, 'bzip2 1.0.8 binary + libbz2.so.1.0, Debian 12 amd64'),
    ...cliCodec({
      family: 'bzip2',
      command: 'bzip2',
      installHint: 'apt install bzip2',
      compressArgs: [`-${level}`, '-c'],
      decompressArgs: ['-d', '-c'],
    }),
  };
  return compressor satisfies Compressor;
}
