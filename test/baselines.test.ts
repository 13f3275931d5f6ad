import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BASELINE_FAMILIES,
  BASELINES_SYNTAX,
  DEFAULT_BASELINES,
  parseBaselines,
  partitionAvailable,
} from '../src/compressors/baselines.js';
import type { ClassicCompressor } from '../src/compressors/classic.js';
import { findCommand } from '../src/compressors/run-command.js';
import { createXz } from '../src/compressors/xz.js';
import { createBzip2 } from '../src/compressors/bzip2.js';
import { HAVE_SNAPPY, SNAPPY, randomBytes } from './helpers/shared.js';

const HAVE = {
  gzip: (await findCommand('gzip')) !== undefined,
  zstd: (await findCommand('zstd')) !== undefined,
  xz: (await findCommand('xz')) !== undefined,
  bzip2: (await findCommand('bzip2')) !== undefined,
  brotli: (await findCommand('brotli')) !== undefined,
};


/** Deterministic English-like text: compressible, so size comparisons mean something without ../shared. */
function syntheticText(bytes: number): Uint8Array {
  const words = 'the of and to a in that it was he for on are as with his they at be this from I have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know'.split(' ');
  const rnd = randomBytes(bytes, 12345);
  let s = '';
  for (let i = 0; s.length < bytes; i++) {
    s += words[(rnd[i % rnd.length] as number) % words.length] + ((rnd[(i * 7) % rnd.length] as number) % 13 === 0 ? '.\n' : ' ');
  }
  return new TextEncoder().encode(s.slice(0, bytes));
}

const SYNTHETIC: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', Uint8Array.of(0x42)],
  ['random bytes (100 KiB)', randomBytes(100 * 1024, 0x9e3779b9)],
  ['NUL bytes (200 KiB)', new Uint8Array(200 * 1024)],
  ['CRLF text', new TextEncoder().encode('line one\r\nline two\r\n\r\nbare LF\nbare CR\rend\r\n'.repeat(500))],
  [
    'invalid UTF-8',
    Uint8Array.from([
      0xff, 0xfe, 0x80, 0xbf, 0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xc3, 0x28,
      0x41, 0xe2, 0x82, 0x00, 0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f, 0x98,
    ]),
  ],
];

const needsCli = (c: ClassicCompressor): 'xz' | 'bzip2' | undefined =>
  c.family === 'xz' || c.family === 'bzip2' ? c.family : undefined;

const ROUND_TRIP = parseBaselines(
  'gzip:1,gzip:9,brotli:0,brotli:11,brotli:11:large,zstd:1,zstd:19,zstd:22,zstd:19:long,xz:0,xz:9e,bzip2:1,bzip2:9',
);

async function expectRoundTrip(c: ClassicCompressor, input: Uint8Array): Promise<Uint8Array> {
  const archive = await c.compress(input);
  const back = await c.decompress(archive);
  expect(back.length).toBe(input.length);
  expect(Buffer.compare(Buffer.from(back), Buffer.from(input))).toBe(0);
  return archive;
}

describe('parseBaselines', () => {
  it('parses the documented example, with bare families at their tool default level', () => {
    const names = parseBaselines('gzip,zstd:19,zstd:22:long,brotli:11,xz:9e,bzip2:9').map((c) => c.name);
    expect(names).toEqual(['gzip:6', 'zstd:19', 'zstd:22:long', 'brotli:11', 'xz:9e', 'bzip2:9']);
    expect(parseBaselines('gzip,brotli,zstd,xz,bzip2').map((c) => c.name)).toEqual([
      'gzip:6',
      'brotli:11',
      'zstd:3',
      'xz:6',
      'bzip2:9',
    ]);
  });

  it('parses DEFAULT_BASELINES', () => {
    expect(parseBaselines(DEFAULT_BASELINES).map((c) => c.name)).toEqual(['gzip:9', 'zstd:19', 'brotli:11', 'xz:9e']);
  });

  it('accepts flags, case, spaces, flags before the level; drops duplicates; none and empty mean no baselines', () => {
    expect(parseBaselines(' ZSTD:19:LONG , brotli:11:large,zstd:long ').map((c) => c.name)).toEqual([
      'zstd:19:long',
      'brotli:11:large',
      'zstd:3:long',
    ]);
    expect(parseBaselines('gzip:9,gzip:9,xz:9,').map((c) => c.name)).toEqual(['gzip:9', 'xz:9']);
    expect(parseBaselines('none')).toEqual([]);
    expect(parseBaselines('')).toEqual([]);
  });

  it('records settings: family, ultra levels, long mode, extreme', () => {
    const [z22, z19l, xz9e] = parseBaselines('zstd:22,zstd:19:long,xz:9e');
    expect(z22?.family).toBe('zstd');
    expect(z22?.settings).toMatchObject({ level: 22, ultra: true, long: false });
    expect(z19l?.settings).toMatchObject({ level: 19, ultra: false, long: true, windowLog: 27 });
    expect(xz9e?.settings).toMatchObject({ preset: 9, extreme: true, dictBytes: 64 * 2 ** 20 });
  });

  it('rejects unknown families, bad levels and unknown flags with clear messages', () => {
    expect(() => parseBaselines('gzip,foo')).toThrow(
      'unknown baseline "foo": expected one of gzip, brotli, zstd, xz, bzip2',
    );
    expect(() => parseBaselines('zstd:23')).toThrow('baseline "zstd:23": zstd level must be 1–22, got 23');
    expect(() => parseBaselines('zstd:0')).toThrow('zstd level must be 1–22');
    expect(() => parseBaselines('gzip:0')).toThrow('gzip level must be 1–9');
    expect(() => parseBaselines('gzip:10')).toThrow('gzip level must be 1–9');
    expect(() => parseBaselines('brotli:12')).toThrow('brotli level must be 0–11');
    expect(() => parseBaselines('xz:10e')).toThrow('xz level must be 0–9');
    expect(() => parseBaselines('bzip2:0')).toThrow('bzip2 level must be 1–9');
    expect(() => parseBaselines('gzip:9:long')).toThrow('"long" is neither a level 1–9 nor a known flag (gzip takes no flags)');
    expect(() => parseBaselines('zstd:fast')).toThrow('(flags: long)');
    expect(() => parseBaselines('xz:9x')).toThrow('optionally with e (xz:9e)');
    expect(() => parseBaselines('zstd:19:20')).toThrow('more than one level');
  });

  it('has a --help syntax text naming every family', () => {
    for (const family of BASELINE_FAMILIES) expect(BASELINES_SYNTAX).toContain(family);
    expect(BASELINES_SYNTAX).toContain(DEFAULT_BASELINES);
  });
});

describe('reach and decompressor size', () => {
  it('states each window honestly', () => {
    const reach = Object.fromEntries(
      parseBaselines('gzip:9,brotli:11,brotli:11:large,zstd:1,zstd:19,zstd:19:long,zstd:22,xz:0,xz:9,bzip2:9').map(
        (c) => [c.name, c.reach.window],
      ),
    );
    expect(reach).toEqual({
      'gzip:9': 32 * 1024,
      'brotli:11': 2 ** 22 - 16,
      'brotli:11:large': 2 ** 30 - 16,
      'zstd:1': 2 ** 19,
      'zstd:19': 2 ** 23,
      'zstd:19:long': 2 ** 27,
      'zstd:22': 2 ** 27,
      'xz:0': 256 * 1024,
      'xz:9': 64 * 2 ** 20,
      'bzip2:9': 900_000,
    });
    for (const c of parseBaselines('gzip,brotli,zstd,xz,bzip2')) {
      expect(c.reach.unit).toBe('bytes');
      expect(c.reach.note.length).toBeGreaterThan(0);
    }
  });

  it('gives a documented constant per family', async () => {
    for (const c of parseBaselines('gzip,brotli,zstd,xz,bzip2')) {
      const size = await c.decompressorSize();
      expect(size.bytes).toBeGreaterThan(10_000);
      expect(size.source).toMatch(/^constant: /);
    }
  });
});

describe('round trips on synthetic data', () => {
  for (const c of ROUND_TRIP) {
    const cli = needsCli(c);
    const missing = cli !== undefined && !HAVE[cli];
    describe.skipIf(missing)(`${c.name}${missing ? ` (skipped: \`${cli}\` not on PATH)` : ''}`, () => {
      for (const [label, input] of SYNTHETIC) {
        it(label, async () => {
          await expectRoundTrip(c, input);
        });
      }
    });
  }

  it('reports start and end progress in bytes', async () => {
    const [gzip] = parseBaselines('gzip:9');
    const calls: [number, number, string][] = [];
    const input = randomBytes(1000);
    const archive = await gzip!.compress(input, { progress: (d, t, p) => calls.push([d, t, p]) });
    await gzip!.decompress(archive, { progress: (d, t, p) => calls.push([d, t, p]) });
    expect(calls).toEqual([
      [0, 1000, 'encode'],
      [1000, 1000, 'encode'],
      [0, archive.length, 'decode'],
      [archive.length, archive.length, 'decode'],
    ]);
  });

  it('rejects a corrupt archive instead of returning wrong bytes', async () => {
    for (const c of parseBaselines(`gzip:9,brotli:11,zstd:19${HAVE.xz ? ',xz:9' : ''}${HAVE.bzip2 ? ',bzip2:9' : ''}`)) {
      const archive = await c.compress(syntheticText(5000));
      const corrupt = archive.slice(0, Math.floor(archive.length / 2));
      await expect(c.decompress(corrupt), c.name).rejects.toThrow();
    }
  });
});

describe.skipIf(!HAVE_SNAPPY)(
  `round trips on real data${HAVE_SNAPPY ? '' : ` (skipped: ${SNAPPY} not found; ../shared is absent in a fresh clone)`}`,
  () => {
    for (const file of ['alice29.txt', 'fireworks.jpeg']) {
      for (const c of ROUND_TRIP) {
        const cli = needsCli(c);
        it.skipIf(cli !== undefined && !HAVE[cli])(`${c.name} on ${file}`, async () => {
          const input = readFileSync(path.join(SNAPPY, file));
          const archive = await expectRoundTrip(c, input);
          if (file === 'alice29.txt') expect(archive.length).toBeLessThan(input.length / 2);
        });
      }
    }
  },
);

/**
 * Sizes against the reference CLIs at the same settings, within 1 %. Like with like:
 * - gzip: `gzip -n` writes a 10-byte header with mtime 0 and no file name, as node:zlib does
 *   (without -n, gzip would add the file name and mtime, fflate likewise by default).
 *   Both end with CRC32 + length; the deflate streams differ slightly (zlib vs gzip's own deflate).
 * - zstd: the CLI reading a file writes content size + checksum, as the baseline does.
 * - xz, bzip2: the baseline runs the same CLI, so sizes are equal.
 */
describe('sizes match the reference CLIs within 1%', () => {
  const inputs: [string, () => Uint8Array][] = [['synthetic text (300 kB)', () => syntheticText(300_000)]];
  if (HAVE_SNAPPY) {
    for (const f of ['alice29.txt', 'fireworks.jpeg', 'kppkn.gtb']) inputs.push([f, () => readFileSync(path.join(SNAPPY, f))]);
  }
  const cases: { spec: string; cli: keyof typeof HAVE; args: string[] }[] = [
    { spec: 'gzip:9', cli: 'gzip', args: ['-9', '-n', '-c'] },
    { spec: 'zstd:19', cli: 'zstd', args: ['-19', '-q', '-c'] },
    { spec: 'xz:9', cli: 'xz', args: ['-9', '-c'] },
    { spec: 'bzip2:9', cli: 'bzip2', args: ['-9', '-c'] },
    { spec: 'brotli:11', cli: 'brotli', args: ['-q', '11', '-c'] },
  ];
  let tmp: string | undefined;
  afterEach(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });
  for (const { spec, cli, args } of cases) {
    describe.skipIf(!HAVE[cli])(`${spec} vs \`${cli} ${args.join(' ')}\`${HAVE[cli] ? '' : ` (skipped: \`${cli}\` not on PATH)`}`, () => {
      for (const [label, load] of inputs) {
        it(label, async () => {
          const input = load();
          tmp = mkdtempSync(path.join(os.tmpdir(), 'baselines-test-'));
          const file = path.join(tmp, 'input');
          execFileSync('sh', ['-c', 'cat > "$0"', file], { input });
          const reference = execFileSync(cli, [...args, file], { maxBuffer: 1 << 30 }).length;
          const ours = (await parseBaselines(spec)[0]!.compress(input)).length;
          expect(Math.abs(ours - reference) / reference, `${spec} ${ours} B vs ${cli} ${reference} B`).toBeLessThanOrEqual(0.01);
        });
      }
    });
  }
});

describe('CLI baselines when the tool is missing', () => {
  const savedPath = process.env.PATH;
  let emptyDir: string | undefined;
  afterEach(() => {
    process.env.PATH = savedPath;
    if (emptyDir) rmSync(emptyDir, { recursive: true, force: true });
    emptyDir = undefined;
  });
  const hidePath = () => {
    emptyDir = mkdtempSync(path.join(os.tmpdir(), 'empty-path-'));
    process.env.PATH = emptyDir;
  };

  it('xz: a clear error naming the package', async () => {
    hidePath();
    const xz = createXz(9);
    expect(await xz.available()).toEqual({ ok: false, reason: 'xz baseline needs the `xz` command (apt install xz-utils)' });
    await expect(xz.compress(Uint8Array.of(1, 2, 3))).rejects.toThrow(
      'xz baseline needs the `xz` command (apt install xz-utils)',
    );
  });

  it('bzip2: a clear error naming the package', async () => {
    hidePath();
    await expect(createBzip2(9).decompress(Uint8Array.of(1))).rejects.toThrow(
      'bzip2 baseline needs the `bzip2` command (apt install bzip2)',
    );
  });

  it('partitionAvailable skips them and keeps the in-process ones', async () => {
    hidePath();
    const { usable, skipped } = await partitionAvailable(parseBaselines('gzip:9,zstd:19,brotli:11,xz:9e,bzip2:9'));
    expect(usable.map((c) => c.name)).toEqual(['gzip:9', 'zstd:19', 'brotli:11']);
    expect(skipped).toEqual([
      { name: 'xz:9e', reason: 'xz baseline needs the `xz` command (apt install xz-utils)' },
      { name: 'bzip2:9', reason: 'bzip2 baseline needs the `bzip2` command (apt install bzip2)' },
    ]);
  });
});
