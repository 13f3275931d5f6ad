import { test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createOrderKModel } from '../src/models/order-k.js';
import { loadOnnxModel } from '../src/models/onnx-model.js';
import { encodeTokens, decodeTokens, resolveSettings } from '../src/coding/lm-codec.js';

test('rt', async () => {
  const data = readFileSync('/work/shared/corpora/snappy-testdata/alice29.txt').subarray(0, 20000);
  for (const model of [createOrderKModel(3), await loadOnnxModel({ dir: '/work/shared/models/gpt2-docmix-7m', id: '7m', dtype: 'fp32', device: 'cpu' })]) {
    const t0 = performance.now();
    const tokens = model.tokenizer.encode(data);
    const t1 = performance.now();
    const s = resolveSettings(model, tokens.length, { segments: 4 , contextLength: 300});
    const enc = await encodeTokens(model, tokens, s);
    const t2 = performance.now();
    const bytes = enc.streams.reduce((a, b) => a + b.length, 0);
    const dec = await decodeTokens(model, enc.streams, enc.lengths, s);
    const t3 = performance.now();
    expect(Buffer.from(model.tokenizer.decode(dec.tokens)).equals(data)).toBe(true);
    console.log(model.identity.id, tokens.length, 'tok ms', t1 - t0, 'enc ms', t2 - t1, 'dec ms', t3 - t2, 'coded', bytes, 'ideal', enc.idealBits / 8, 'bpb', bytes * 8 / data.length, enc.timing, dec.timing);
  }
});
