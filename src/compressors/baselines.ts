/**
 * `--baselines` spec → classic compressors. Syntax in BASELINES_SYNTAX below; the CLI prints it
 * in `--help`. xz and bzip2 run their command-line tools: `partitionAvailable` tells those
 * whose tool is missing apart (the CLI fails on them unless --skip-missing).
 */
import { createBrotli, BROTLI_LEVELS } from './brotli.js';
import { createBzip2, BZIP2_LEVELS } from './bzip2.js';
import type { ClassicCompressor } from './classic.js';
import { createGzip, GZIP_LEVELS } from './gzip.js';
import { createXz, XZ_LEVELS } from './xz.js';
import { createZstd, ZSTD_LEVELS } from './zstd.js';

/** The baselines a run gets unless `--baselines` says otherwise. */
export const DEFAULT_BASELINES = 'gzip:9,zstd:19,brotli:11,xz:9e';

export const BASELINES_SYNTAX = `Baselines: comma-separated FAMILY[:LEVEL][:FLAG...], e.g. ${DEFAULT_BASELINES} (the default).
  gzip[:1-9]           deflate via node:zlib (default 6), 32 KiB window
  brotli[:0-11][:large] node:zlib (default 11), 4 MiB window; :large = 1 GiB window (large-window brotli)
  zstd[:1-22][:long]   zstd-napi (default 3; 20-22 = --ultra); :long = long-distance matching, 128 MiB window
  xz[:0-9[e]]          xz CLI (default 6); e = extreme, e.g. xz:9e; 9 = 64 MiB dictionary
  bzip2[:1-9]          bzip2 CLI (default 9), 900 kB blocks at 9
A bare family uses that tool's own default level. "none" or "" = no baselines.
xz and bzip2 need their command on PATH; a missing one is an error unless --skip-missing.`;

interface Family {
  levels: { min: number; max: number; default: number };
  flags: readonly string[];
  create(level: number, flags: ReadonlySet<string>, extreme: boolean): ClassicCompressor;
}

const FAMILIES: Record<string, Family> = {
  gzip: { levels: GZIP_LEVELS, flags: [], create: (level) => createGzip(level) },
  brotli: {
    levels: BROTLI_LEVELS,
    flags: ['large'],
    create: (level, flags) => createBrotli(level, { largeWindow: flags.has('large') }),
  },
  zstd: { levels: ZSTD_LEVELS, flags: ['long'], create: (level, flags) => createZstd(level, { long: flags.has('long') }) },
  xz: { levels: XZ_LEVELS, flags: [], create: (level, _flags, extreme) => createXz(level, { extreme }) },
  bzip2: { levels: BZIP2_LEVELS, flags: [], create: (level) => createBzip2(level) },
};

export const BASELINE_FAMILIES: readonly string[] = Object.keys(FAMILIES);

/**
 * Parses e.g. `gzip,zstd:19,zstd:22:long,brotli:11,xz:9e,bzip2:9` into compressors, in order,
 * duplicates (same resulting name) dropped. Throws an Error naming the bad item otherwise.
 */
export function parseBaselines(spec: string): ClassicCompressor[] {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return [];
  const byName = new Map<string, ClassicCompressor>();
  for (const item of trimmed.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const compressor = parseBaseline(item);
    if (!byName.has(compressor.name)) byName.set(compressor.name, compressor);
  }
  return [...byName.values()];
}

/** One item: FAMILY[:LEVEL][:FLAG...]; a flag may also come before the level (`zstd:long`). */
export function parseBaseline(item: string): ClassicCompressor {
  const [rawFamily = '', ...rest] = item.trim().toLowerCase().split(':');
  const family = FAMILIES[rawFamily];
  if (family === undefined) {
    throw new Error(`unknown baseline "${rawFamily}": expected one of ${BASELINE_FAMILIES.join(', ')}`);
  }
  const { min, max } = family.levels;
  let level: number | undefined;
  let extreme = false;
  const flags = new Set<string>();
  for (const token of rest) {
    if (token === '') continue;
    if (family.flags.includes(token)) {
      flags.add(token);
      continue;
    }
    const match = (rawFamily === 'xz' ? /^(\d+)(e?)$/ : /^(\d+)()$/).exec(token);
    if (match === null) {
      const known = family.flags.length > 0 ? `flags: ${family.flags.join(', ')}` : `${rawFamily} takes no flags`;
      const levelHelp = rawFamily === 'xz' ? `a preset ${min}–${max}, optionally with e (xz:9e)` : `a level ${min}–${max}`;
      throw new Error(`baseline "${item}": "${token}" is neither ${levelHelp} nor a known flag (${known})`);
    }
    if (level !== undefined) throw new Error(`baseline "${item}": more than one level`);
    level = Number(match[1]);
    extreme = match[2] === 'e';
    if (level < min || level > max) {
      throw new Error(`baseline "${item}": ${rawFamily} level must be ${min}–${max}, got ${level}`);
    }
  }
  return family.create(level ?? family.levels.default, flags, extreme);
}

export interface Partitioned {
  usable: ClassicCompressor[];
  /** Compressors that cannot run here, with the message to warn with. */
  skipped: { name: string; reason: string }[];
}

/** Splits compressors into those that can run here and those whose tool is missing. */
export async function partitionAvailable(compressors: readonly ClassicCompressor[]): Promise<Partitioned> {
  const checks = await Promise.all(compressors.map((c) => c.available()));
  const result: Partitioned = { usable: [], skipped: [] };
  compressors.forEach((compressor, i) => {
    const check = checks[i];
    if (check === undefined || check.ok) result.usable.push(compressor);
    else result.skipped.push({ name: compressor.name, reason: check.reason });
  });
  return result;
}
