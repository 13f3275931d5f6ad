/**
 * xz (LZMA2) at presets 0–9, `e` for extreme (`xz:9e`), through the `xz` command: input on
 * stdin, archive on stdout. `-T1` pins single-threaded mode (xz ≥ 5.6 defaults to threads,
 * which splits the input into independent blocks and changes the size).
 */
import type { Compressor, Reach } from './compressor.js';
import { type ClassicCompressor, cliCodec, constantSize } from './classic.js';

export const XZ_LEVELS = { min: 0, max: 9, default: 6 } as const;

/** LZMA2 dictionary size per preset (xz(1), "Presets"); `e` does not change it. */
const DICT_BYTES_BY_PRESET = [256 * 1024, ...[1, 2, 4, 4, 8, 8, 16, 32, 64].map((mib) => mib * 1024 * 1024)];

/**
 * Decompressor size: `/usr/bin/xz` 5.4.1 (84,680 B) + liblzma.so.5 (190,456 B), Debian 12 amd64:
 * what decodes the stream on a stock system. (A decoder-only `xzdec` is smaller; not installed here.)
 */
const XZ_DECOMPRESSOR_BYTES = 84_680 + 190_456;

export interface XzOptions {
  /** `-e`: slower, sometimes slightly smaller. */
  extreme?: boolean;
}

export function createXz(preset: number = XZ_LEVELS.default, options: XzOptions = {}): ClassicCompressor {
  if (!Number.isInteger(preset) || preset < XZ_LEVELS.min || preset > XZ_LEVELS.max) {
    throw new Error(`xz preset must be ${XZ_LEVELS.min}–${XZ_LEVELS.max}, got ${preset}`);
  }
  const extreme = options.extreme === true;
  const flag = `-${preset}${extreme ? 'e' : ''}`;
  const dictBytes = DICT_BYTES_BY_PRESET[preset] as number;
  const reach: Reach = {
    unit: 'bytes',
    window: dictBytes,
    note: `xz preset ${preset}: LZMA2 dictionary ${dictBytes >= 2 ** 20 ? `${dictBytes / 2 ** 20} MiB` : `${dictBytes / 1024} KiB`}`,
  };
  const compressor: ClassicCompressor = {
    name: `xz:${preset}${extreme ? 'e' : ''}`,
    family: 'xz',
    settings: { preset, extreme, dictBytes, command: `xz ${flag} -T1 -c`, implementation: 'xz CLI' },
    reach,
    decompressorSize: constantSize(XZ_DECOMPRESSOR_BYTES, 'xz 5.4.1 binary + liblzma.so.5, Debian 12 amd64'),
    ...cliCodec({
      family: 'xz',
      command: 'xz',
      installHint: 'apt install xz-utils',
      compressArgs: [flag, '-T1', '-c'],
      decompressArgs: ['-d', '-c'],
    }),
  };
  return compressor satisfies Compressor;
}
