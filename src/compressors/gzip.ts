/**
 * gzip (deflate, RFC 1952) at levels 1–9, through node:zlib (zlib's own deflate).
 *
 * Why not fflate: its deflate is 2–6 % larger than `gzip -9` on the snappy test corpus
 * (alice29.txt: 55,370 B vs 54,179 B; kppkn.gtb: 39,761 vs 37,623), which would flatter every
 * model compared against "gzip". zlib's deflate is the reference implementation and lands within
 * 0.3 % of the gzip CLI (alice29.txt: 54,032 B). Its header is 10 bytes with mtime 0 and no file
 * name, the same as `gzip -n`, so sizes compare like with like.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Compressor, Reach } from './compressor.js';
import { ALWAYS_AVAILABLE, type ClassicCompressor, constantSize, plainBytes, withProgress } from './classic.js';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

export const GZIP_LEVELS = { min: 1, max: 9, default: 6 } as const;

/**
 * Decompressor size: `/usr/bin/gzip` 1.12 on Debian 12 amd64 is 98,136 bytes and self-contained
 * (it does not link zlib). A constant, so records from different machines compare.
 */
const GZIP_DECOMPRESSOR_BYTES = 98_136;

const REACH: Reach = {
  unit: 'bytes',
  window: 32 * 1024,
  note: 'deflate window: 32 KiB back (matches of 3–258 bytes)',
};

export function createGzip(level: number = GZIP_LEVELS.default): ClassicCompressor {
  if (!Number.isInteger(level) || level < GZIP_LEVELS.min || level > GZIP_LEVELS.max) {
    throw new Error(`gzip level must be ${GZIP_LEVELS.min}–${GZIP_LEVELS.max}, got ${level}`);
  }
  const compressor: ClassicCompressor = {
    name: `gzip:${level}`,
    family: 'gzip',
    settings: { level, implementation: `node:zlib ${process.versions.zlib}`, header: 'gzip, mtime 0, no name' },
    reach: REACH,
    decompressorSize: constantSize(GZIP_DECOMPRESSOR_BYTES, 'gzip 1.12 binary, Debian 12 amd64 (self-contained)'),
    available: ALWAYS_AVAILABLE,
    compress: (input, hooks) =>
      withProgress(hooks, 'encode', input.length, async () => plainBytes(await gzip(input, { level }))),
    decompress: (archive, hooks) =>
      withProgress(hooks, 'decode', archive.length, async () => plainBytes(await gunzip(archive))),
  };
  return compressor satisfies Compressor;
}
