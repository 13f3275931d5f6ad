/**
 * brotli at quality 0–11 through node:zlib. `brotli:Q:large` turns on large-window brotli
 * (BROTLI_PARAM_LARGE_WINDOW, lgwin 30 = 1 GiB). A large-window stream is not RFC 7932 brotli:
 * only a decoder given BROTLI_DECODER_PARAM_LARGE_WINDOW reads it, which `decompress` does.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Compressor, Reach } from './compressor.js';
import { ALWAYS_AVAILABLE, type ClassicCompressor, constantSize, plainBytes, withProgress } from './classic.js';

const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);
const C = zlib.constants;

export const BROTLI_LEVELS = { min: 0, max: 11, default: 11 } as const;
/** brotli's default window (lgwin 22) and the large-window setting used by `:large`. */
const DEFAULT_LGWIN = 22;
const LARGE_LGWIN = 30;

/**
 * Decompressor size: libbrotlidec.so.1.0.9 (47,264 B) + libbrotlicommon.so.1.0.9 (137,376 B,
 * which holds the 122,784-byte static dictionary every brotli decoder needs), Debian 12 amd64.
 */
const BROTLI_DECOMPRESSOR_BYTES = 47_264 + 137_376;

export interface BrotliOptions {
  /** Large-window brotli: lgwin 30 (1 GiB) instead of 22 (4 MiB). */
  largeWindow?: boolean;
}

export function createBrotli(quality: number = BROTLI_LEVELS.default, options: BrotliOptions = {}): ClassicCompressor {
  if (!Number.isInteger(quality) || quality < BROTLI_LEVELS.min || quality > BROTLI_LEVELS.max) {
    throw new Error(`brotli quality must be ${BROTLI_LEVELS.min}–${BROTLI_LEVELS.max}, got ${quality}`);
  }
  const large = options.largeWindow === true;
  const lgwin = large ? LARGE_LGWIN : DEFAULT_LGWIN;
  const reach: Reach = {
    unit: 'bytes',
    // brotli's window is (1 << lgwin) − 16 bytes.
    window: 2 ** lgwin - 16,
    note: large
      ? 'large-window brotli, lgwin 30: 1 GiB − 16 B back (needs a large-window decoder)'
      : 'brotli lgwin 22 (default): 4 MiB − 16 B back',
  };
  const compressor: ClassicCompressor = {
    name: `brotli:${quality}${large ? ':large' : ''}`,
    family: 'brotli',
    settings: { quality, lgwin, largeWindow: large, implementation: `node:zlib brotli ${process.versions.brotli}` },
    reach,
    decompressorSize: constantSize(
      BROTLI_DECOMPRESSOR_BYTES,
      'libbrotlidec + libbrotlicommon 1.0.9 (incl. 122,784 B dictionary), Debian 12 amd64',
    ),
    available: ALWAYS_AVAILABLE,
    compress: (input, hooks) =>
      withProgress(hooks, 'encode', input.length, async () => {
        const params: Record<number, number> = {
          [C.BROTLI_PARAM_QUALITY]: quality,
          [C.BROTLI_PARAM_LGWIN]: lgwin,
          [C.BROTLI_PARAM_SIZE_HINT]: Math.min(input.length, 2 ** 30),
        };
        if (large) params[C.BROTLI_PARAM_LARGE_WINDOW] = 1;
        return plainBytes(await brotliCompress(input, { params }));
      }),
    decompress: (archive, hooks) =>
      withProgress(hooks, 'decode', archive.length, async () => {
        const params: Record<number, number> = large ? { [C.BROTLI_DECODER_PARAM_LARGE_WINDOW]: 1 } : {};
        return plainBytes(await brotliDecompress(archive, { params }));
      }),
  };
  return compressor satisfies Compressor;
}
