/**
 * `mix:gpt2-docmix-7m` (../shared): byte-exact round trips of real prefixes and edge cases, never
 * much worse than the pure LM on English, and a copy nearly free. The mixing logic itself is
 * tested over order-k in mix.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LmCompressor } from '../src/compressors/lm.js';
import { MixModel } from '../src/mix/mix-model.js';
import { loadModel } from '../src/models/lookup.js';
import type { LanguageModel } from '../src/step/language-model.js';
import { readArchive } from '../src/coding/container.js';
import { EDGE_CASES, HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, corpusPrefix, randomBytes } from './helpers/shared.js';

async function roundTrip(c: LmCompressor, input: Uint8Array) {
  const archive = await c.compress(input);
  const back = await c.decompress(archive);
  expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  return archive;
}

const twice = (a: Uint8Array) => {
  const out = new Uint8Array(2 * a.length);
  out.set(a);
  out.set(a, a.length);
  return out;
};

describe.skipIf(!HAVE_SHARED)(`mix:${SMALL_MODEL}`, () => {
  let inner: LanguageModel;
  let plain: LanguageModel;
  beforeAll(async () => {
    inner = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
    plain = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
  });
  afterAll(async () => {
    await inner?.dispose();
    await plain?.dispose();
  });
  const mix = () => new LmCompressor(new MixModel(inner));

  // Short prefixes keep this file fast.
  test.each([
    ['alice29.txt', 1200],
    ['geo.protodata', 500],
    ['fireworks.jpeg', 400],
    ['kppkn.gtb', 300],
  ])('round-trips a %s prefix of %i bytes', async (file, bytes) => {
    await roundTrip(mix(), corpusPrefix(file, bytes));
  });

  test.each(['empty', 'one byte', 'NUL bytes', 'CRLF', 'invalid UTF-8', 'emoji and CJK'])('round-trips %s', async (name) => {
    await roundTrip(mix(), EDGE_CASES[name]);
  });

  test('round-trips random binary (200 bytes)', async () => {
    await roundTrip(mix(), randomBytes(200, 7));
  });

  test('the LM tables come from the static-KV cumulative graph; the JS quantizer variant round-trips too; each refuses the other', async () => {
    const m = new MixModel(inner);
    expect(m.codingSteps).toEqual(['mix/4+onnx-graph-static-kv-cum/1', 'mix/4+js-quantizer/1']);
    const input = corpusPrefix('alice29.txt', 1500);
    const graph = await roundTrip(new LmCompressor(m), input);
    const js = await roundTrip(new LmCompressor(m, { codingStep: m.codingSteps[1] }), input);
    expect(readArchive(graph).header.codingStep).toBe(m.codingSteps[0]);
    expect(readArchive(js).header.codingStep).toBe(m.codingSteps[1]);
    // Two ways of computing one table: within a few bytes of each other (the graph's float32 sums).
    expect(Math.abs(graph.length - js.length)).toBeLessThan(40);
    // The same model without its table graph (as where the rewrite does not apply) runs the JS variant only.
    const logitsOnly = new MixModel(Object.create(inner, { tableStep: { value: undefined } }) as LanguageModel);
    expect(logitsOnly.codingSteps).toEqual([m.codingSteps[1]]);
    await expect(new LmCompressor(logitsOnly).decompress(graph)).rejects.toThrow(/coding step: archive expects mix\/4\+onnx-graph-static-kv-cum\/1, this model runs mix\/4\+js-quantizer\/1/);
  });

  test('several segments round-trip, each with its own predictor (the count recorded)', async () => {
    const input = corpusPrefix('lcet10.txt', 3000);
    const archive = await roundTrip(new LmCompressor(new MixModel(inner), { segments: 3 }), input);
    expect(readArchive(archive).header.segments.length).toBe(3);
  });

  test('English: never worse than the pure model by more than a small constant', async () => {
    const input = corpusPrefix('lcet10.txt', 1500);
    const lm = new LmCompressor(plain, { segments: 1 });
    const pure = (await lm.compress(input)).length;
    const mixed = (await mix().compress(input)).length;
    // The mix archive's header names the mixer (~35 bytes more); the payload may cost at most 1% more.
    expect(mixed).toBeLessThanOrEqual(pure * 1.01 + 40);
  });

  test('a text followed by an exact copy of itself: the copy costs a small fraction of the original', async () => {
    const a = corpusPrefix('alice29.txt', 1500);
    const c = mix();
    await c.compress(a);
    const once = c.lastStats()!.codec!.payloadBytes as number;
    await c.compress(twice(a));
    const copy = (c.lastStats()!.codec!.payloadBytes as number) - once;
    expect(once).toBeGreaterThan(300);
    expect(copy).toBeLessThan(once * 0.1);
  });
});
