import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTERNAL_SYNTAX, parseExternal, parseExternals, splitCommandLine } from '../src/compressors/external.js';
import { findCommand } from '../src/compressors/run-command.js';
import { HAVE_SNAPPY, SNAPPY } from './helpers/shared.js';

const HAVE = {
  gzip: (await findCommand('gzip')) !== undefined,
  xz: (await findCommand('xz')) !== undefined,
  bzip2: (await findCommand('bzip2')) !== undefined,
  zstd: (await findCommand('zstd')) !== undefined,
};
const skipMsg = (tool: keyof typeof HAVE) => (HAVE[tool] ? '' : ` (skipped: \`${tool}\` not on PATH)`);

const enc = (s: string) => new TextEncoder().encode(s);
const INPUTS: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['NUL bytes', new Uint8Array(70_000)],
  ['CRLF text', enc('a line\r\nanother\r\n'.repeat(2000))],
  ['invalid UTF-8', Uint8Array.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x80, 0xf0, 0x9f])],
  ['random bytes', Uint8Array.from({ length: 50_000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff)],
];

async function roundTrip(compressSpec: string, decompressSpec: string, input: Uint8Array): Promise<Uint8Array> {
  const c = parseExternal(compressSpec, decompressSpec);
  const archive = await c.compress(input);
  const back = await c.decompress(archive);
  expect(Buffer.compare(Buffer.from(back), Buffer.from(input))).toBe(0);
  return archive;
}

describe('splitCommandLine', () => {
  it('splits words and honours quotes and backslashes like a shell does for simple words', () => {
    expect(splitCommandLine('zpaq a {out} {in} -m5')).toEqual(['zpaq', 'a', '{out}', '{in}', '-m5']);
    expect(splitCommandLine(`  tool  'a b'  "c \\"d\\" e" f\\ g '' --x={out}`)).toEqual([
      'tool',
      'a b',
      'c "d" e',
      'f g',
      '',
      '--x={out}',
    ]);
    expect(splitCommandLine(`sh -c 'gzip -9 < "$0" > "$1"' {in} {out}`)).toEqual([
      'sh',
      '-c',
      'gzip -9 < "$0" > "$1"',
      '{in}',
      '{out}',
    ]);
  });

  it('rejects unquoted shell syntax and unbalanced quotes', () => {
    expect(() => splitCommandLine('gzip -9 -c {in} > {out}')).toThrow(/shell syntax `>`.*leave out \{out\} to take stdout/);
    expect(() => splitCommandLine('cat {in} | xz')).toThrow('shell syntax `|`');
    expect(() => splitCommandLine('xz -c $HOME')).toThrow('shell syntax `$`');
    expect(() => splitCommandLine(`xz 'oops`)).toThrow("unclosed ' quote");
  });
});

describe('parsing external specs', () => {
  it('pairs --external with --external-decompress by name', () => {
    const [a, b] = parseExternals(['a=gzip -9 -n -c', 'b=xz -9 -c'], ['b=xz -d -c', 'a=gzip -d -c']);
    expect(a?.name).toBe('a');
    expect(a?.family).toBe('external');
    expect(a?.settings).toEqual({ compress: 'gzip -9 -n -c', decompress: 'gzip -d -c' });
    expect(b?.settings).toEqual({ compress: 'xz -9 -c', decompress: 'xz -d -c' });
    expect(a?.reach.window).toBe(Infinity);
  });

  it('keeps = inside the template', () => {
    const [c] = parseExternals(['z=zstd --ultra -22 --long=27 -c'], ['z=zstd -d --long=27 -c']);
    expect(c?.settings).toEqual({ compress: 'zstd --ultra -22 --long=27 -c', decompress: 'zstd -d --long=27 -c' });
  });

  it('explains bad specs', () => {
    expect(() => parseExternals(['gzip -9'], [])).toThrow('--external "gzip -9": expected NAME=COMMAND TEMPLATE');
    expect(() => parseExternals(['a='], ['a=x'])).toThrow('empty command template');
    expect(() => parseExternals(['a b=gzip'], ['a b=gzip -d'])).toThrow('name "a b" must use letters');
    expect(() => parseExternals(['a=gzip -c'], [])).toThrow("external compressor a: no --external-decompress 'a=...' given");
    expect(() => parseExternals(['a=gzip -c'], ['a=gzip -d -c', 'b=xz -d'])).toThrow(
      '--external-decompress given for "b" without a matching --external',
    );
    expect(() => parseExternals(['a=gzip -c', 'a=xz -c'], ['a=gzip -d -c'])).toThrow('"a" given twice');
    expect(() => parseExternal('a=gzip -c', 'b=gzip -d -c')).toThrow('decompress spec is for "b"');
    expect(() => parseExternal('a=gzip -9 -c {in} > {out}', 'a=gzip -d -c')).toThrow(
      'external compressor a (compress): command template uses shell syntax `>`',
    );
    expect(() => parseExternal('a={in} x', 'a=gzip -d -c')).toThrow('the program name cannot be a placeholder');
  });

  it('has a --help syntax text', () => {
    expect(EXTERNAL_SYNTAX).toContain('--external-decompress');
    expect(EXTERNAL_SYNTAX).toContain('{in}');
  });
});

describe.skipIf(!HAVE.gzip)(`gzip as a plain filter (stdin → stdout)${skipMsg('gzip')}`, () => {
  for (const [label, input] of INPUTS) {
    it(`round trip: ${label}`, async () => {
      await roundTrip('gz=gzip -9 -n -c', 'gz=gzip -d -c', input);
    });
  }

  it('gives exactly the bytes gzip gives', async () => {
    const input = enc('to be or not to be, that is the question\n'.repeat(300));
    const archive = await roundTrip('gz=gzip -9 -n -c', 'gz=gzip -d -c', input);
    expect(Buffer.compare(Buffer.from(archive), execFileSync('gzip', ['-9', '-n', '-c'], { input }))).toBe(0);
  });

  it('measures the decompressor binary', async () => {
    const size = await parseExternal('gz=gzip -9 -n -c', 'gz=gzip -d -c').decompressorSize();
    const found = (await findCommand('gzip')) as string;
    expect(size.source).toBe(`measured: ${found} (binary only; shared libraries not counted)`);
    expect(size.bytes).toBe(readFileSync(found).length);
  });
});

describe.skipIf(!HAVE.xz)(`xz through sh -c with {in} and {out} files${skipMsg('xz')}`, () => {
  const compress = `x=sh -c 'xz -9 -T1 -c < "$0" > "$1"' {in} {out}`;
  const decompress = 'x=xz -d -c {in}'; // file in, stdout out
  for (const [label, input] of INPUTS) {
    it(`round trip: ${label}`, async () => {
      await roundTrip(compress, decompress, input);
    });
  }
  it.skipIf(!HAVE_SNAPPY)(`alice29.txt, same size as xz -9${HAVE_SNAPPY ? '' : ' (skipped: ../shared absent)'}`, async () => {
    const input = readFileSync(path.join(SNAPPY, 'alice29.txt'));
    const archive = await roundTrip(compress, decompress, input);
    expect(archive.length).toBe(execFileSync('xz', ['-9', '-c'], { input }).length);
  });
});

describe.skipIf(!HAVE.bzip2)(`bzip2 reading {in}, writing stdout${skipMsg('bzip2')}`, () => {
  for (const [label, input] of INPUTS) {
    it(`round trip: ${label}`, async () => {
      await roundTrip('b=bzip2 -9 -c {in}', 'b=bzip2 -d -c', input);
    });
  }
});

describe.skipIf(!HAVE.zstd)(`zstd writing {out} itself (-o)${skipMsg('zstd')}`, () => {
  it('round trip', async () => {
    await roundTrip('zs=zstd -19 -q {in} -o {out}', 'zs=zstd -d -q {in} -o {out}', INPUTS[2]![1]);
  });
});

describe('failures', () => {
  it('names a missing program', async () => {
    const c = parseExternal('zpaq=zpaq-not-installed a {out} {in} -m5', 'zpaq=zpaq-not-installed x {in} -to {out}');
    await expect(c.compress(enc('hello'))).rejects.toThrow(
      'external compressor zpaq: command `zpaq-not-installed` not found',
    );
    expect(await c.available()).toEqual({
      ok: false,
      reason: 'external compressor zpaq: command `zpaq-not-installed` not found',
    });
    await expect(c.decompressorSize()).rejects.toThrow('command `zpaq-not-installed` not found');
  });

  it('reports a non-zero exit with the tail of stderr', async () => {
    const c = parseExternal(`bad=sh -c 'echo "cannot frobnicate" >&2; exit 3'`, 'bad=cat');
    await expect(c.compress(enc('hello'))).rejects.toThrow(
      /^external compressor bad: `sh -c .*` exited with code 3: cannot frobnicate$/,
    );
  });

  it('says when {out} was not written', async () => {
    const c = parseExternal('lazy=true {in} {out}', 'lazy=cat');
    await expect(c.compress(enc('hello'))).rejects.toThrow('external compressor lazy: `true {in} {out}` exited 0 but did not write {out}');
  });

  it('removes its temp dir', async () => {
    // The "compressor" prints the path of its input file, so the test learns where the temp dir was.
    const c = parseExternal(`where=sh -c 'printf %s "$0"' {in}`, 'where=cat');
    const inPath = new TextDecoder().decode(await c.compress(enc('hello')));
    expect(path.basename(inPath)).toBe('in.bin');
    expect(existsSync(path.dirname(inPath))).toBe(false);
  });

  it('works with {in} and {out} files both ways (cp as an identity compressor)', async () => {
    const c = parseExternal(`copy=cp {in} "{out}"`, 'copy=cat {in}');
    const input = enc('identity');
    expect(await c.decompress(await c.compress(input))).toEqual(input);
  });
});
