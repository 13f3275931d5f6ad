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
import { ContextTable, SLOTS, countAt, countOf, totalOf, usedOf } from '../src/mix/context-table.js';
import { History, MatchModel } from '../src/mix/token-models.js';
import { mixTableSizes } from '../src/mix/memory.js';
import { LmRow, MixPredictor } from '../src/mix/predictor.js';
import { Apm } from '../src/mix/apm.js';
import { mixTablesFor } from '../src/mix/mix-model.js';
import { FREQUENCY_TOTAL } from '../src/step/frequencies.js';
import { SettingError } from '../src/common/setting-error.js';
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
    expect(header.codingStep).toBe('mix/4+js-quantizer/1');

    const other = new LmCompressor(new MixModel(createOrderKModel(3), { ...DEFAULT_MIX_SETTINGS, matchMin: [4, 8] }));
    await expect(other.decompress(archive)).rejects.toThrow(ModelMismatchError);
    await expect(other.decompress(archive)).rejects.toThrow(/archive expects mix\/4\+js-quantizer\/1, this model runs mix\/4:o1\.2\.4\.6:m4\.8:r512:mem256\+js-quantizer\/1/);
    // Another memory budget builds other tables: refused the same way.
    const smaller = new LmCompressor(new MixModel(createOrderKModel(3), { ...DEFAULT_MIX_SETTINGS, memoryMB: 64 }));
    await expect(smaller.decompress(archive)).rejects.toThrow(/archive expects mix\/4\+js-quantizer\/1, this model runs mix\/4:o1\.2\.4\.6:m3\.6\.12\.24:r512:mem64\+js-quantizer\/1/);
    await expect(new LmCompressor(createOrderKModel(3)).decompress(archive)).rejects.toThrow(/a mix: archive: decode it with mix:order-k:3/);
    await expect(new LmCompressor(new MixModel(createOrderKModel(2))).decompress(archive)).rejects.toThrow(/weights: archive expects/);
  });

  test('a pure-model archive is not decoded by the mix', async () => {
    const archive = await new LmCompressor(createOrderKModel(3)).compress(new TextEncoder().encode('plain order-k archive'));
    await expect(mix().decompress(archive)).rejects.toThrow(/coding step: archive expects order-k-hash\/2:64MiB, this model runs mix\/4/);
  });

  test('the name, family and default of one segment', async () => {
    const c = mix();
    expect([c.name, c.family]).toEqual(['mix:order-k:3', 'mix']);
    await c.compress(randomBytes(20000, 3));
    expect(c.lastStats()!.codec!.segments).toBe(1);
  });
});

describe('the mixed table', () => {
  test('never built, yet a table: C(0) = 0, C(V) = T, every token ≥ 1, find inverts C, the encoder\'s two LM intervals give the whole row\'s intervals', () => {
    const V = 300;
    const T = FREQUENCY_TOTAL;
    const settings = DEFAULT_MIX_SETTINGS;
    const sizes = mixTablesFor(settings, 1, V);
    const tables = { contexts: new ContextTable(sizes.contextBuckets), matches: settings.matchMin.map(() => new Int32Array(sizes.matchEntries).fill(-1)), historyTokens: sizes.historyTokens };
    const tokenBytes = (t: number) => new Uint8Array([t & 255]);
    const decoder = new MixPredictor(V, settings, tokenBytes, tables, 0);
    // A skewed LM row (cumulative, the leftover the last token's) and a text with repeats, so
    // every expert has counts: contexts, order 0, matches.
    const lmCum = new Uint32Array(V);
    // Token V − 1 in the cycle too: its interval ends at T, whichever view the LM row comes in.
    const text = Array.from({ length: 400 }, (_, i) => (i % 37 === 5 ? V - 1 : ((i % 37) * 7) % V));
    const whole = new LmRow(V);
    const part = new LmRow(V);
    let bits = 0;
    for (const [step, token] of text.entries()) {
      let c = 0;
      for (let i = 0; i < V; i++) lmCum[i] = c += 1 + ((i * 2654435761 + step * 97) % 65536) * (i === (step * 13) % V ? 2000 : 1);
      decoder.predict(whole.whole(lmCum, 0), 1000);
      if (step % 50 === 0) {
        let prev = decoder.cumulative(0);
        expect(prev).toBe(0);
        for (let sym = 1; sym <= V; sym++) {
          const next = decoder.cumulative(sym);
          expect(next - prev).toBeGreaterThanOrEqual(1);
          prev = next;
        }
        expect(prev).toBe(T);
      }
      const low = decoder.cumulative(token);
      const high = decoder.cumulative(token + 1);
      for (const target of [low, high - 1, low + ((high - low) >> 1)]) expect(decoder.find(target)).toBe(token);
      // The encoder's view: only the LM intervals of the symbol and of the match token (the
      // APM's), as the graph returns them when fed both.
      const lmLow = (s: number) => (s > 0 ? lmCum[s - 1] : 0);
      const lmFreq = (s: number) => (s === V - 1 ? T : lmCum[s]) - lmLow(s);
      const other = Math.max(0, decoder.matchToken());
      decoder.predict(part.interval(token, lmLow(token), lmFreq(token), other, lmLow(other), lmFreq(other)), 1000);
      expect([decoder.cumulative(token), decoder.cumulative(token + 1)]).toEqual([low, high]);
      bits -= Math.log2((high - low) / T);
      decoder.learn(token);
    }
    // The repeated text is learned: far below the 8.2 bits of a uniform table.
    expect(bits / text.length).toBeLessThan(3);
  });
});

describe('the APM stage', () => {
  test('starts as the identity, learns an event that keeps happening, and keeps its contexts apart', () => {
    const apm = new Apm(2);
    for (const u of [1, 0.7, 0.25, 0.01, 2 ** -19]) expect(apm.refine(u, 0)).toBeCloseTo(u, 12);
    for (let i = 0; i < 300; i++) {
      apm.refine(0.25, 0);
      apm.update(true); // the match token came
    }
    expect(apm.refine(0.25, 0)).toBeLessThan(0.05);
    expect(apm.refine(0.25, 1)).toBeCloseTo(0.25, 12);
    for (let i = 0; i < 300; i++) {
      apm.refine(0.25, 1);
      apm.update(false);
    }
    expect(apm.refine(0.25, 1)).toBeGreaterThan(0.6);
  });
});

describe('bounded memory', () => {
  test('the context table keeps its size, finds what it counted, and replaces the less counted bucket of a pair', () => {
    const table = new ContextTable(64);
    const bytes = table.bytes;
    const keys = Array.from({ length: 2000 }, (_, i) => Math.imul(i + 1, 0x9e3779b1));
    // A context counted often, then many counted once: the often-counted one survives its pair.
    for (let i = 0; i < 50; i++) table.add(keys[0], 7);
    for (const k of keys.slice(1)) table.add(k, 3);
    expect(table.bytes).toBe(bytes);
    const b = table.find(keys[0]);
    expect(b).toBeGreaterThanOrEqual(0);
    expect([totalOf(table.t, b), usedOf(table.t, b), countOf(table.t, b, 7)]).toEqual([50, 1, 50]);
    // 2,000 contexts in 64 buckets: most are gone, and a lookup never invents counts for them.
    const found = keys.filter((k) => table.find(k) >= 0).length;
    expect(found).toBeLessThanOrEqual(64);
    expect(found).toBeGreaterThan(16);
  });

  test('a full bucket gives the least counted slot to a new token, and counts halve at the limit', () => {
    const table = new ContextTable(2);
    const key = 12345;
    for (let t = 0; t < SLOTS; t++) for (let i = 0; i <= t; i++) table.add(key, 100 + t); // token 100 + t counted t + 1 times
    table.add(key, 999);
    const b = table.find(key);
    expect(usedOf(table.t, b)).toBe(SLOTS);
    expect([countOf(table.t, b, 100), countOf(table.t, b, 999), countOf(table.t, b, 101)]).toEqual([0, 1, 2]);
    for (let i = 0; i < 1100; i++) table.add(key, 101);
    expect(countOf(table.t, b, 101)).toBeLessThan(1024);
    // The total stays the sum of the slots' counts through the halvings.
    let sum = 0;
    for (let j = 0; j < SLOTS; j++) sum += countAt(table.t, b, j);
    expect(totalOf(table.t, b)).toBe(sum);
  });

  test('the history ring: a match within the ring is found and followed, one older than the ring is not', () => {
    const run = (distance: number) => {
      const h = new History(1024);
      const m = new MatchModel(h, 6, new Int32Array(1 << 12).fill(-1), 0);
      const noise = randomBytes(distance, 5);
      const phrase = [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010];
      const tokens = [...phrase, ...Array.from(noise, (x) => x), ...phrase];
      let predictedRight = 0;
      for (const t of tokens) {
        if (m.predicted() === t) predictedRight++;
        h.push(t);
        m.update(t);
      }
      return predictedRight;
    };
    expect(run(500)).toBeGreaterThanOrEqual(4); // the phrase's last 4 tokens follow its first 6
    expect(run(1500)).toBe(0); // its first copy has left the 1,024-token ring
  });

  test('the split stays within the budget and refuses a budget too small for the segments', () => {
    for (const [mb, rows] of [[4, 1], [256, 1], [256, 12], [64, 32]]) {
      const s = mixTableSizes(mb, rows, 4, 400_000);
      expect(s.bytes).toBeLessThanOrEqual(mb * 2 ** 20);
      expect(s.bytes).toBeGreaterThan(mb * 2 ** 20 * 0.9);
    }
    expect(() => mixTableSizes(4, 32, 4, 400_000)).toThrow(SettingError);
    expect(() => mixTableSizes(4, 32, 4, 400_000)).toThrow(/mixMemory 4: too small for 32 segments: the mix needs at least \d+ MB there/);
  });

  test.skipIf(!HAVE_SHARED)('at the smallest budget, with several segments: byte-exact, the segments recorded, and within 3% of the default budget here', async () => {
    const input = corpusPrefix('alice29.txt', 24000);
    const small = new LmCompressor(new MixModel(createOrderKModel(3), { ...DEFAULT_MIX_SETTINGS, memoryMB: 4 }), { segments: 3 });
    const archive = await roundTrip(small, input);
    expect(readArchive(archive).header.segments.length).toBe(3);
    expect(readArchive(archive).header.codingStep).toMatch(/:mem4\+/);
    const big = await new LmCompressor(new MixModel(createOrderKModel(3)), { segments: 3 }).compress(input);
    expect(archive.length).toBeLessThan(big.length * 1.03);
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

  test('an archive of an earlier mixer version is refused in one line naming both steps', () => {
    const olds = ['mix/1:o1.2.3:m4:r512+js-quantizer/1', 'mix/2:o1.2.4.6:m3.6.12.24:r512+js-quantizer/1', 'mix/3:o1.2.4.6:m3.6.12.24:r512:mem256+onnx-graph-static-kv-table/1'];
    for (const old of olds) {
      expect(() => parseMixStep(old)).toThrow(
        `archive's coding step ${old} is mixer version ${old[4]}; this build mixes with version 4 (mix/4+…): decode it with the release that made it`,
      );
    }
  });

  test('one spelling per setting: the defaults are plain mix/4, any other setting spells them all', () => {
    expect(parseMixStep('mix/4+js-quantizer/1')).toEqual({ settings: DEFAULT_MIX_SETTINGS, lmStep: 'js-quantizer/1' });
    const other = parseMixStep('mix/4:o1.2.4.6:m3.6.12.24:r512:mem64+onnx-graph-static-kv-cum/1');
    expect(other).toEqual({ settings: { ...DEFAULT_MIX_SETTINGS, memoryMB: 64 }, lmStep: 'onnx-graph-static-kv-cum/1' });
    expect(new MixModel(createOrderKModel(3), other.settings).codingSteps[0]).toBe('mix/4:o1.2.4.6:m3.6.12.24:r512:mem64+js-quantizer/1');
    // The defaults spelled out are not a name this build writes: refused rather than read two ways.
    expect(() => parseMixStep('mix/4:o1.2.4.6:m3.6.12.24:r512:mem256+js-quantizer/1')).toThrow(/these are the default settings, spelled mix\/4/);
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
    // --mix-memory is recorded in the archive, and the decoder builds the same tables from it.
    const small = join(dir, 'small.cbz');
    expect((await cli(['compress', '-m', 'mix:order-k', '--mix-memory', '8', file, '-o', small, '-q'])).code).toBe(0);
    expect(readArchive(readFileSync(small)).header.codingStep).toMatch(/^mix\/4:\S+:mem8\+js-quantizer\/1$/);
    const back8 = join(dir, 'back8.txt');
    expect((await cli(['decompress', small, '-o', back8, '-q'])).code).toBe(0);
    expect(readFileSync(back8).equals(readFileSync(file))).toBe(true);
    const tiny = await cli(['compress', '-m', 'mix:order-k', '--mix-memory', '2', file, '-o', small, '-f']);
    expect([tiny.code, tiny.stderr.trim()]).toEqual([2, 'compress-bench: --mix-memory: "2" is not accepted; accepted values: a whole number of MB from 4 to 4096']);
    const bad = await cli(['compress', '-m', 'mix:', file, '-o', join(dir, 'bad.cbz')]);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, 'compress-bench: -m mix:: name the model to mix, e.g. mix:gpt2-docmix-7m']);
  });
});
