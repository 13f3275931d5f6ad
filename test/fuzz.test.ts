/**
 * Mutated archives never decode to wrong output, never crash outside our errors, and never
 * run long: bit flips, byte overwrites, truncations and header-field edits, half of them with
 * the trailing CRC recomputed so that the decoder's own checks (header validation, the
 * original's checksum) are what stands in the way. `FUZZ_COUNT` raises the count for a
 * one-off long run (`FUZZ_COUNT=5000 npx vitest run test/fuzz.test.ts`). The order-k model here (unit
 * tier); the same on a real model in fuzz-models.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { readArchive, writeArchive } from '../src/coding/container.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { createOrderKModel } from '../src/models/order-k.js';
import { COUNT, fuzz } from './helpers/fuzz.js';

describe('mutated archives: no wrong output, one-line errors, bounded time', () => {
  test(`order-k archives, ${COUNT} mutations`, async () => {
    const lm = new LmCompressor(createOrderKModel(3), { segments: 3 });
    const input = new TextEncoder().encode('It was the best of times, it was the worst of times.\r\n'.repeat(40) + '\u0000\u00ff');
    const { rejected, exact } = await fuzz(lm, input, COUNT, 12345, 5000);
    expect(rejected + exact).toBeGreaterThan(COUNT * 0.9);
    expect(rejected).toBeGreaterThan(COUNT * 0.8);
  }, Math.max(60_000, COUNT * 200)); // ≈ 20 ms a mutation on a loaded 2-core machine; FUZZ_COUNT=5000 gets its time
});

describe('crafted headers (CRC re-sealed) are refused before any model call', () => {
  test('a token count of 2^31, a prime equal to the context, a context beyond the model: one line each, at once', async () => {
    const lm = new LmCompressor(createOrderKModel(3), { segments: 2 });
    const input = new TextEncoder().encode('hello world, hello world\n'.repeat(20));
    const { header, streams } = readArchive(await lm.compress(input));
    const cases: [Partial<typeof header>, RegExp][] = [
      [{ segments: header.segments.map((s, i) => ({ ...s, tokens: i === 0 ? 2 ** 31 : s.tokens })) }, /header is invalid: \d+ tokens cannot decode to \d+ bytes/],
      [{ segments: Array.from({ length: 5000 }, () => ({ tokens: 1, bytes: 0 })), originalLength: 10_000 }, /header is invalid: 5000 segments/],
    ];
    for (const [edit, message] of cases) {
      const edited = { ...header, ...edit };
      const bodies = edit.segments ? edit.segments.map((s, i) => streams[i] ?? new Uint8Array(s.bytes)) : streams;
      const crafted = writeArchive({ ...edited, segments: edited.segments.map((s, i) => ({ ...s, bytes: bodies[i].length })) }, bodies);
      const t0 = performance.now();
      await expect(lm.decompress(crafted)).rejects.toThrow(message);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });
});
