/**
 * The fuzz tests of fuzz.test.ts on a real model (gpt2-docmix-7m from ../shared): mutated archives
 * never decode to wrong output, and crafted headers are refused before any model call.
 */
import { describe, expect, test } from 'vitest';
import { readArchive, writeArchive } from '../src/coding/container.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { loadModel } from '../src/models/lookup.js';
import { HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, corpusPrefix } from './helpers/shared.js';
import { COUNT, fuzz } from './helpers/fuzz.js';

describe('mutated archives: no wrong output, one-line errors, bounded time', () => {
  test.skipIf(!HAVE_SHARED)(`${SMALL_MODEL} archives, ${Math.ceil(COUNT / 10)} mutations`, async () => {
    const model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
    const lm = new LmCompressor(model, { segments: 2 });
    const { rejected } = await fuzz(lm, corpusPrefix('alice29.txt', 600), Math.ceil(COUNT / 10), 777, 30_000);
    expect(rejected).toBeGreaterThan(0);
    await model.dispose();
  }, 600_000);
});

describe('crafted headers (CRC re-sealed) are refused before any model call', () => {
  test.skipIf(!HAVE_SHARED)(`${SMALL_MODEL}: prime = context and context > the model's are refused`, async () => {
    const model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
    const lm = new LmCompressor(model, { segments: 1 });
    const { header, streams } = readArchive(await lm.compress(corpusPrefix('alice29.txt', 300)));
    await expect(lm.decompress(writeArchive({ ...header, primeTokens: header.contextLength }, streams))).rejects.toThrow(/header is invalid: prime of 1024 tokens/);
    await expect(lm.decompress(writeArchive({ ...header, contextLength: 4096 }, streams))).rejects.toThrow(/header is invalid: context of 4096 tokens \(this model allows 2 to 1024\)/);
    await model.dispose();
  }, 120_000);
});
