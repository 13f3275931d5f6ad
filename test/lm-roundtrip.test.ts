/**
 * Byte-exact round trips through the real LM codec: the shared GPT-2-architecture model on
 * real files of every kind, edge cases, sliding context and segments; and the coded size
 * against the ideal.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/models/lookup.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { createOrderKModel } from '../src/models/order-k.js';
import { parseModelSpec } from '../src/common/model-spec.js';
import { DIRECT_BYTES, HashedOrderKBatch } from '../src/models/order-k/hashed.js';
import { readArchive } from '../src/coding/container.js';
import { ModelMismatchError } from '../src/compressors/lm.js';
import type { LanguageModel } from '../src/step/language-model.js';
import { EDGE_CASES, HAVE_EMBEDDED, HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL, SNAPPY, corpusPrefix } from './helpers/shared.js';

async function roundTrip(lm: LmCompressor, input: Uint8Array) {
  const archive = await lm.compress(input);
  const back = await lm.decompress(archive);
  expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  return { archive, stats: lm.lastStats()! };
}

describe('order-k backend (no weights) through the same codec', () => {
  const lm = new LmCompressor(createOrderKModel(3));
  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(lm, input);
  });

  test('conditional coding: B = A primed with all of A costs a fraction of coding A alone', async () => {
    const a = new TextEncoder().encode('Alice was beginning to get very tired of sitting by her sister on the bank. '.repeat(3) + 'So she was considering in her own mind.');
    const plain = new LmCompressor(createOrderKModel(3));
    await plain.compress(a);
    const cond = new LmCompressor(createOrderKModel(3), { primerTokens: a.length });
    const archive = await cond.compressAfter(a, a);
    const payload = (c: LmCompressor) => c.lastStats()!.codec!.payloadBytes as number;
    expect(payload(cond)).toBeLessThan(payload(plain) * 0.5);
    expect(Buffer.from(await cond.decompressAfter(archive, a)).equals(Buffer.from(a))).toBe(true);
  });

  test.skipIf(!HAVE_SHARED)('whole alice29.txt: coded size within 0.1% of the ideal plus a few bytes per segment', async () => {
    const input = new Uint8Array(readFileSync(join(SNAPPY, 'alice29.txt')));
    const multi = new LmCompressor(createOrderKModel(3), { segments: 4 });
    const { archive, stats } = await roundTrip(multi, input);
    const payloadBits = 8 * (stats.codec!.payloadBytes as number);
    const segments = stats.codec!.segments as number;
    expect(payloadBits).toBeLessThanOrEqual(stats.idealBits! * 1.001 + 8 * 8 * segments);
    expect(payloadBits).toBeGreaterThanOrEqual(stats.idealBits! * 0.99);
    expect(archive.length).toBeLessThan(input.length / 2);
  });
});

describe('order-k in bounded memory: one hashed table of a fixed size, recorded in the archive', () => {
  const text = corpusPrefix('html', 60_000);

  test.each(Object.entries(EDGE_CASES))('round-trips %s with a 1 MiB table in 3 segments, the table size in the archive', async (_, input) => {
    const { archive } = await roundTrip(new LmCompressor(createOrderKModel(3, { memoryMiB: 1 }), { segments: 3 }), input);
    const { header } = readArchive(archive);
    expect(header.modelId).toBe('order-k:3:1MiB');
    expect(header.codingStep).toBe('order-k-hash/2:1MiB');
  });

  test('the table is the memory setting, whatever the input size or the segment count', async () => {
    const model = createOrderKModel(2, { memoryMiB: 4 });
    for (const batch of [1, 32]) {
      const step = model.open(batch) as HashedOrderKBatch;
      expect(step).toBeInstanceOf(HashedOrderKBatch);
      expect(step.tableBytes).toBe(4 * 2 ** 20 + DIRECT_BYTES); // the hashed tables + orders 0 and 1 (273 KiB)
      expect(step.codingStep).toBe('order-k-hash/2:4MiB');
    }
    expect(createOrderKModel(3).codingSteps[0]).toBe('order-k-hash/2:64MiB');
    expect(createOrderKModel(3).identity.id).toBe('order-k:3'); // the default memory keeps the row's name
  });

  test('the memory setting is honoured: a crowded 1 MiB table codes worse than 64 MiB, both exactly', async () => {
    const input = new Uint8Array(readFileSync(join(SNAPPY, 'alice29.txt')));
    const small = await roundTrip(new LmCompressor(createOrderKModel(4, { memoryMiB: 1 }), { segments: 1 }), input);
    const large = await roundTrip(new LmCompressor(createOrderKModel(4), { segments: 1 }), input);
    expect(small.archive.length).toBeGreaterThan(large.archive.length * 1.02);
  });

  test('deterministic: the same input gives the same archive, binary and text', async () => {
    for (const input of [text, EDGE_CASES['random binary'], corpusPrefix('geo.protodata', 20_000)]) {
      const a = await new LmCompressor(createOrderKModel(3)).compress(input);
      const b = await new LmCompressor(createOrderKModel(3)).compress(input);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    }
  });

  test('codes within 1% of the first order-k (js-quantizer/1), which still codes and decodes', async () => {
    const legacy = await roundTrip(new LmCompressor(createOrderKModel(3), { codingStep: 'js-quantizer/1' }), text);
    expect(readArchive(legacy.archive).header.codingStep).toBe('js-quantizer/1');
    const hashed = await roundTrip(new LmCompressor(createOrderKModel(3)), text);
    expect(hashed.archive.length).toBeLessThan(legacy.archive.length * 1.01);
    // An archive of either step decodes with the default model: the step it names picks the code path.
    expect(Buffer.from(await new LmCompressor(createOrderKModel(3)).decompress(legacy.archive)).equals(Buffer.from(text))).toBe(true);
  });

  test('an archive made with another table size is refused, naming both steps', async () => {
    const archive = await new LmCompressor(createOrderKModel(3, { memoryMiB: 2 })).compress(text.subarray(0, 5000));
    const other = new LmCompressor(createOrderKModel(3));
    await expect(other.decompress(archive)).rejects.toThrow(ModelMismatchError);
    await expect(other.decompress(archive)).rejects.toThrow(/coding step: archive expects order-k-hash\/2:2MiB, this model runs order-k-hash\/2:64MiB or js-quantizer\/1/);
  });

  test('spec order-k[:K[:MEMMiB]]; memory a power of two from 1 to 2048 MiB', async () => {
    expect(parseModelSpec('order-k')).toEqual({ kind: 'order-k', k: 3 });
    expect(parseModelSpec('order-k:4:256MiB')).toEqual({ kind: 'order-k', k: 4, memoryMiB: 256 });
    expect(parseModelSpec('order-k:4:256MB')).toEqual({ kind: 'named', name: 'order-k:4:256MB' });
    const model = await loadModel({ model: 'order-k:2:8MiB', offline: true });
    expect([model.identity.id, model.codingSteps[0]]).toEqual(['order-k:2:8MiB', 'order-k-hash/2:8MiB']);
    expect(() => createOrderKModel(3, { memoryMiB: 3 })).toThrow(/memory must be a power of two from 1 to 2048 MiB, got 3/);
    expect(() => createOrderKModel(3, { memoryMiB: 4096 })).toThrow(/power of two/);
  });
});

describe.skipIf(!HAVE_EMBEDDED)('the embedded default model (ships in the repo)', () => {
  let model: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ offline: true });
  });
  afterAll(async () => model?.dispose());

  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(new LmCompressor(model), input);
  });

  test('round-trips the shipped sample with sliding context and segments, near its ideal', async () => {
    const input = new Uint8Array(readFileSync(join(ROOT, 'corpora', 'samples', 'gpl-3.0.txt'))).subarray(0, 6000);
    const lm = new LmCompressor(model, { segments: 2, contextLength: 128, primeTokens: 32 });
    const { stats } = await roundTrip(lm, input);
    const payloadBits = 8 * (stats.codec!.payloadBytes as number);
    expect(payloadBits).toBeLessThanOrEqual((stats.codec!.tableBits as number) * 1.001 + 2 * 64);
    expect(stats.idealBits! / input.length).toBeLessThan(4); // it is a language model, not noise
  });
});

describe.skipIf(!HAVE_SHARED)(`${SMALL_MODEL} from ../shared/models`, () => {
  let model: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
  });
  afterAll(async () => model?.dispose());

  // Prefixes of real files of every kind keep CI fast; the codec is the same for any length.
  test.each([
    ['alice29.txt', 3000],
    ['html', 3000],
    ['paper-100k.pdf', 2000],
    ['fireworks.jpeg', 1500],
    ['geo.protodata', 2000],
    ['urls.10K', 2000],
  ])('round-trips a %s prefix of %i bytes', async (file, bytes) => {
    await roundTrip(new LmCompressor(model), corpusPrefix(file, bytes));
  });

  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(new LmCompressor(model), input);
  });

  test('sliding context (64 tokens, re-prime 16) and 3 segments round-trip', async () => {
    const input = corpusPrefix('lcet10.txt', 2500);
    const lm = new LmCompressor(model, { contextLength: 64, primeTokens: 16, segments: 3 });
    const { stats } = await roundTrip(lm, input);
    expect(stats.codec).toMatchObject({ contextLength: 64, primeTokens: 16, segments: 3 });
    expect(stats.tokens!).toBeGreaterThan(3 * 64); // every segment slides at least once
  });

  test('real text: coded payload within 0.1% of the ideal plus a few bytes per segment', async () => {
    const input = corpusPrefix('asyoulik.txt', 12000);
    const lm = new LmCompressor(model, { segments: 2 });
    const { stats } = await roundTrip(lm, input);
    const payloadBits = 8 * (stats.codec!.payloadBytes as number);
    const tableBits = stats.codec!.tableBits as number;
    // Against the quantized tables (what the range coder codes): the coder's own overhead.
    expect(payloadBits).toBeLessThanOrEqual(tableBits * 1.001 + 2 * 64);
    expect(payloadBits).toBeGreaterThanOrEqual(tableBits - 2 * 64);
    // Against the model's own softmax: never more than 0.1% above it. (It may come out a little
    // below: the quantizer's floor of 2^-28 beats the model on tokens it deems near impossible.)
    expect(payloadBits).toBeLessThanOrEqual(stats.idealBits! * 1.001 + 2 * 64);
    expect(payloadBits).toBeGreaterThan(stats.idealBits! * 0.97);
  });

  test('conditional coding C(B|A): round-trips after a primer, refuses another context', async () => {
    const a = corpusPrefix('alice29.txt', 1200);
    const b = corpusPrefix('alice29.txt', 2400).subarray(1200);
    const lm = new LmCompressor(model, { primerTokens: 900 });
    const archive = await lm.compressAfter(b, a);
    expect(lm.lastStats()!.codec!.primerTokens).toBeGreaterThan(200);
    expect(Buffer.from(await lm.decompressAfter(archive, a)).equals(Buffer.from(b))).toBe(true);
    await expect(lm.decompressAfter(archive, corpusPrefix('html', 1200))).rejects.toThrow(/context given does not match/);
    await expect(lm.decompress(archive)).rejects.toThrow(/context given does not match/);
  });

  test('a model with a different tokenizer or weights refuses the archive, naming both hashes', async () => {
    const archive = await new LmCompressor(model).compress(new TextEncoder().encode('hello world'));
    const other = new LmCompressor(createOrderKModel(2));
    await expect(other.decompress(archive)).rejects.toThrow(/archive was made with model gpt2-docmix-7m.*weights: archive expects [0-9a-f]{64}, found [0-9a-f]{64}/);
  });
});
