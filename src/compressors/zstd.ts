/**
 * zstd at levels 1–22 through zstd-napi (libzstd in-process). Levels 20–22 are what the CLI
 * calls `--ultra` (bigger windows; the library needs no flag). `zstd:N:long` adds long-distance
 * matching with windowLog 27 (128 MiB), like `zstd --long`. The frame carries the content size
 * and a checksum, as the CLI writes it, so sizes match `zstd -N -c FILE` byte for byte.
 */
import { compress, decompress } from 'zstd-napi';
import type { Compressor, Reach } from './compressor.js';
import { ALWAYS_AVAILABLE, type ClassicCompressor, constantSize, plainBytes, withProgress } from './classic.js';

export const ZSTD_LEVELS = { min: 1, max: 22, default: 3, ultraFrom: 20 } as const;
/** windowLog used by `--long` (zstd CLI default for long mode). */
const LONG_WINDOW_LOG = 27;

/**
 * windowLog per level for inputs over 256 KiB, from zstd's lib/compress/clevels.h
 * (ZSTD_defaultCParameters[0]); index = level. Smaller inputs get a smaller window.
 */
const WINDOW_LOG_BY_LEVEL = [19, 19, 20, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 25, 26, 27];

/**
 * Decompressor size: a decoder-only libzstd (lib/decompress + lib/common of the zstd 1.5 sources
 * bundled with zstd-napi) built with `gcc -O2 -shared` and stripped on amd64: 154,024 bytes.
 * The `zstd` CLI binary (1.3 MB on Debian 12) also carries the encoder and gzip/xz/lz4 support.
 */
const ZSTD_DECOMPRESSOR_BYTES = 154_024;

export interface ZstdOptions {
  /** Long-distance matching with windowLog 27, like `zstd --long`. */
  long?: boolean;
}

export function createZstd(level: number = ZSTD_LEVELS.default, options: ZstdOptions = {}): ClassicCompressor {
  if (!Number.isInteger(level) || level < ZSTD_LEVELS.min || level > ZSTD_LEVELS.max) {
    throw new Error(`zstd level must be ${ZSTD_LEVELS.min}–${ZSTD_LEVELS.max}, got ${level}`);
  }
  const long = options.long === true;
  const levelWindowLog = WINDOW_LOG_BY_LEVEL[level] as number;
  const windowLog = long ? Math.max(LONG_WINDOW_LOG, levelWindowLog) : levelWindowLog;
  const ultra = level >= ZSTD_LEVELS.ultraFrom;
  const reach: Reach = {
    unit: 'bytes',
    window: 2 ** windowLog,
    note: long
      ? `zstd long mode: windowLog ${windowLog} (${formatWindow(windowLog)}) with long-distance matching`
      : `zstd level ${level}: windowLog ${windowLog} (${formatWindow(windowLog)}) for inputs over 256 KiB; smaller inputs get a smaller window`,
  };
  const compressor: ClassicCompressor = {
    name: `zstd:${level}${long ? ':long' : ''}`,
    family: 'zstd',
    settings: { level, ultra, long, windowLog, checksum: true, implementation: 'zstd-napi (libzstd)' },
    reach,
    decompressorSize: constantSize(ZSTD_DECOMPRESSOR_BYTES, 'decoder-only libzstd 1.5, gcc -O2, stripped, amd64'),
    available: ALWAYS_AVAILABLE,
    compress: (input, hooks) =>
      withProgress(hooks, 'encode', input.length, async () =>
        plainBytes(
          compress(input, {
            compressionLevel: level,
            checksumFlag: true,
            ...(long ? { enableLongDistanceMatching: true, windowLog } : {}),
          }),
        ),
      ),
    decompress: (archive, hooks) =>
      withProgress(hooks, 'decode', archive.length, async () => plainBytes(decompress(archive))),
  };
  return compressor satisfies Compressor;
}

function formatWindow(windowLog: number): string {
  return windowLog >= 20 ? `${2 ** (windowLog - 20)} MiB` : `${2 ** (windowLog - 10)} KiB`;
}
