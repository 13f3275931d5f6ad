/**
 * `mix:<model>`: the LM mixed with online match and context models. Byte-exact round trips
 * (edge cases, real prefixes), never much worse than the pure LM on English, a copy nearly
 * free, and archives refused by another model or mixer. The mixing logic is the same for any
 * inner model, so the edge cases also run over the fast weightless order-k model here; the mix
 * over gpt2-docmix-7m is in mix-models.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { LmCompressor, ModelMismatchError } from '../src/compressors/lm.js';
import { MixModel } from '../src/mix/mix-model.js';
import { DEFAULT_MIX_SETTINGS, parseMixStep } from '../src/mix/settings.js';
import { RecordModel } from '../src/mix/record-model.js';
import { parseBaseline } from '../src/compressors/baselines.js';
import { createOrderKModel } from '../src/models/order-k.js';
import { readArchive } from '../src/coding/container.js';
import { EDGE_CASES, HAVE_SHARED, ROOT, corpusPrefix, randomBytes } from './helpers/shared.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { cwd: ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

async function roundTrip(c: LmCompressor, input: Uint8Array) {
  const archive = await c.compress(input);
  const back = await c.decompress(archive);
  expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  return archive;
}

describe('mix over the order-k model (no weights)', () => {
  const mix = () => new LmCompressor(new MixModel(createOrderKModel(3)));

  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(mix(), input);
  });

  test('records the mixer in the archive; another mixer, the pure model or another model is refused with expected vs found', async () => {
    const input = new TextEncoder().encode('the mixer is named in the header, and only that mixer decodes it. '.repeat(4));
    const archive = await roundTrip(mix(), input);
    const { header } = readArchive(archive);
    expect(parseMixStep(header.codingStep).settings).toEqual(DEFAULT_MIX_SETTINGS);
    expect(header.codingStep).toMatch(/^mix\/2:o1\.2\.4\.6:m3\.6\.12\.24:r512\+js-quantizer\/1$/);

    const other = new LmCompressor(new MixModel(createOrderKModel(3), { ...DEFAULT_MIX_SETTINGS, matchMin: [4, 8] }));
    await expect(other.decompress(archive)).rejects.toThrow(ModelMismatchError);
    await expect(other.decompress(archive)).rejects.toThrow(/archive expects mix\/2:o1\.2\.4\.6:m3\.6\.12\.24:r512\+js-quantizer\/1, this model runs mix\/2:o1\.2\.4\.6:m4\.8:r512/);
    await expect(new LmCompressor(createOrderKModel(3)).decompress(archive)).rejects.toThrow(/a mix: archive: decode it with mix:order-k:3/);
    await expect(new LmCompressor(new MixModel(createOrderKModel(2))).decompress(archive)).rejects.toThrow(/weights: archive expects/);
  });

  test('a pure-model archive is not decoded by the mix', async () => {
    const archive = await new LmCompressor(createOrderKModel(3)).compress(new TextEncoder().encode('plain order-k archive'));
    await expect(mix().decompress(archive)).rejects.toThrow(/coding step: archive expects order-k-hash\/2:64MiB, this model runs mix\/2/);
  });

  test('the name, family and default of one segment', async () => {
    const c = mix();
    expect([c.name, c.family]).toEqual(['mix:order-k:3', 'mix']);
    await c.compress(randomBytes(20000, 3));
    expect(c.lastStats()!.codec!.segments).toBe(1);
  });
});

describe('the record model', () => {
  const feed = (bytes: Uint8Array) => {
    const r = new RecordModel();
    for (let i = 0; i < bytes.length; i += 3) r.push(bytes.subarray(i, i + 3)); // any token cut: the byte stream is what counts
    return r;
  };

  test('finds the length of fixed-size records that differ in a few bytes', () => {
    const rec = randomBytes(40, 9);
    const noise = randomBytes(8000, 10);
    const data = new Uint8Array(8000);
    for (let i = 0; i < data.length; i++) data[i] = noise[i] < 40 ? noise[(i * 7) % 8000] : rec[i % 40];
    expect(feed(data).d1).toBe(40);
  });

  test('finds no records in random bytes or English text, so their contexts stay silent', () => {
    expect(feed(randomBytes(8000, 11)).d1).toBe(0);
    if (HAVE_SHARED) expect(feed(corpusPrefix('alice29.txt', 16000)).d1).toBe(0);
  });

  test.skipIf(!HAVE_SHARED)('fixed-size binary records (kppkn.gtb, 16 KB): the mix over order-k codes within 10% of xz -9e', async () => {
    // Mixer version 1 (token contexts and one match model only) was 21% above xz here.
    const input = corpusPrefix('kppkn.gtb', 16384);
    const archive = await roundTrip(new LmCompressor(new MixModel(createOrderKModel(3))), input);
    const xz = await parseBaseline('xz:9e').compress(input);
    expect(archive.length).toBeLessThan(1.1 * xz.length);
  });

  test('an archive of an earlier mixer version is refused by name', () => {
    expect(() => parseMixStep('mix/1:o1.2.3:m4:r512+js-quantizer/1')).toThrow(/mixer version 1 is not supported \(this build mixes with version 2\)/);
  });
});

describe('the CLI', () => {
  test('--mix beside --model gives both rows; compress -m mix: and decompress from the header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-mix-'));
    const file = join(dir, 'text.txt');
    writeFileSync(file, 'Mixing learns the input as it goes; a repeated line costs little. '.repeat(30));
    const r = await cli(['-m', 'order-k', '--mix', 'order-k', file, '--baselines', 'gzip:9', '--json', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).results as { compressor: string; roundtrip: boolean; outputBytes: number }[];
    expect(rows.map((x) => x.compressor)).toEqual(['order-k:3', 'mix:order-k:3', 'gzip:9']);
    expect(rows.every((x) => x.roundtrip)).toBe(true);
    const archive = join(dir, 'a.cbz');
    expect((await cli(['compress', '-m', 'mix:order-k', file, '-o', archive, '-q'])).code).toBe(0);
    const back = join(dir, 'back.txt');
    const d = await cli(['decompress', archive, '-o', back, '-q']);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(back).equals(readFileSync(file))).toBe(true);
    const bad = await cli(['compress', '-m', 'mix:', file, '-o', join(dir, 'bad.cbz')]);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'compress-bench: -m mix:: name the model to mix, e.g. mix:gpt2-docmix-7m']);
  });
});
