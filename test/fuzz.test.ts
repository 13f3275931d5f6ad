/**
 * Mutated archives never decode to wrong output, never crash outside our errors, and never
 * run long: bit flips, byte overwrites, truncations and header-field edits, half of them with
 * the trailing CRC recomputed so that the decoder's own checks (header validation, the
 * original's checksum) are what stands in the way. `FUZZ_COUNT` raises the count for a
 * one-off long run (`FUZZ_COUNT=5000 npx vitest run test/fuzz.test.ts`).
 */
import { describe, expect, test } from 'vitest';
import { crc32Of, readArchive, writeArchive, ArchiveError } from '../src/coding/container.js';
import { LmCompressor, ModelMismatchError } from '../src/compressors/lm.js';
import { createOrderKModel } from '../src/models/order-k.js';
import { loadModel } from '../src/models/lookup.js';
import { HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, corpusPrefix } from './helpers/shared.js';

/** xorshift32: failures reproduce from the printed seed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Re-seal the trailing CRC-32 so the container accepts the mutation. */
function reseal(a: Uint8Array): Uint8Array {
  const out = a.slice();
  if (out.length >= 9) new DataView(out.buffer).setUint32(out.length - 4, crc32Of(out.subarray(0, out.length - 4)), true);
  return out;
}

function mutate(archive: Uint8Array, r: (n: number) => number): Uint8Array {
  let a = archive.slice();
  switch (r(5)) {
    case 0: // bit flip
      a[r(a.length)] ^= 1 << r(8);
      break;
    case 1: // overwrite a few bytes
      for (let k = 1 + r(4); k > 0; k--) a[r(a.length)] = r(256);
      break;
    case 2: // truncate
      a = a.subarray(0, r(a.length));
      break;
    case 3: {
      // header fields rewritten through the container's own writer: huge counts, prime = context…
      const { header, streams } = readArchive(a);
      const seg = header.segments.map((s) => ({ ...s }));
      const edits = [
        () => seg.length && (seg[r(seg.length)].tokens = 2 ** 31),
        () => (header.primeTokens = header.contextLength),
        () => (header.contextLength = 1 << 20),
        () => (header.originalLength = 2 ** 40),
        () => seg.length && (seg[r(seg.length)].tokens += 1 + r(1000)),
      ];
      edits[r(edits.length)]();
      return writeArchive({ ...header, segments: seg }, streams);
    }
    default: // payload bytes only, with the CRC re-sealed: the decoder itself must catch it
      a[a.length - 5 - r(Math.max(1, a.length >> 2))] ^= 1 + r(255);
      return reseal(a);
  }
  return r(2) ? reseal(a) : a;
}

async function fuzz(lm: LmCompressor, input: Uint8Array, count: number, seed: number, maxMs: number) {
  const archive = await lm.compress(input);
  const r = rng(seed);
  const outcomes = { rejected: 0, exact: 0 };
  for (let i = 0; i < count; i++) {
    let bad: Uint8Array;
    try {
      bad = mutate(archive, r);
    } catch {
      continue; // a mutation the writer itself refuses (e.g. a count beyond a varint)
    }
    const t0 = performance.now();
    try {
      const out = await lm.decompress(bad);
      // Accepted: then it must be the original, byte for byte (e.g. a flipped bit in an unused field).
      expect(Buffer.from(out).equals(Buffer.from(input)), `mutation ${i} (seed ${seed}) decoded to wrong output`).toBe(true);
      outcomes.exact++;
    } catch (e) {
      expect(e instanceof ArchiveError || e instanceof ModelMismatchError, `mutation ${i} (seed ${seed}): ${e}`).toBe(true);
      expect(String((e as Error).message).split('\n')).toHaveLength(1);
      outcomes.rejected++;
    }
    expect(performance.now() - t0, `mutation ${i} (seed ${seed}) took too long`).toBeLessThan(maxMs);
  }
  return outcomes;
}

const COUNT = Number(process.env.FUZZ_COUNT ?? 300);

describe('mutated archives: no wrong output, one-line errors, bounded time', () => {
  test(`order-k archives, ${COUNT} mutations`, async () => {
    const lm = new LmCompressor(createOrderKModel(3), { segments: 3 });
    const input = new TextEncoder().encode('It was the best of times, it was the worst of times.\r\n'.repeat(40) + '\u0000\u00ff');
    const { rejected, exact } = await fuzz(lm, input, COUNT, 12345, 5000);
    expect(rejected + exact).toBeGreaterThan(COUNT * 0.9);
    expect(rejected).toBeGreaterThan(COUNT * 0.8);
  }, 600_000);

  test.skipIf(!HAVE_SHARED)(`${SMALL_MODEL} archives, ${Math.ceil(COUNT / 10)} mutations`, async () => {
    const model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
    const lm = new LmCompressor(model, { segments: 2 });
    const { rejected } = await fuzz(lm, corpusPrefix('alice29.txt', 600), Math.ceil(COUNT / 10), 777, 30_000);
    expect(rejected).toBeGreaterThan(0);
    await model.dispose();
  }, 600_000);
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

  test.skipIf(!HAVE_SHARED)(`${SMALL_MODEL}: prime = context and context > the model's are refused`, async () => {
    const model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
    const lm = new LmCompressor(model, { segments: 1 });
    const { header, streams } = readArchive(await lm.compress(corpusPrefix('alice29.txt', 300)));
    await expect(lm.decompress(writeArchive({ ...header, primeTokens: header.contextLength }, streams))).rejects.toThrow(/header is invalid: prime of 1024 tokens/);
    await expect(lm.decompress(writeArchive({ ...header, contextLength: 4096 }, streams))).rejects.toThrow(/header is invalid: context of 4096 tokens \(this model allows 2 to 1024\)/);
    await model.dispose();
  }, 120_000);
});
