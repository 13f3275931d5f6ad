/** Archive mutations for the fuzz tests (test/fuzz.test.ts, test/fuzz-models.test.ts). */
import { expect } from 'vitest';
import { crc32Of, readArchive, writeArchive, ArchiveError } from '../../src/coding/container.js';
import { ModelMismatchError, type LmCompressor } from '../../src/compressors/lm.js';

/** Mutations per run; `FUZZ_COUNT` raises it for a one-off long run. */
export const COUNT = Number(process.env.FUZZ_COUNT ?? 300);

/** xorshift32: failures reproduce from the printed seed. */
export function rng(seed: number) {
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
export function reseal(a: Uint8Array): Uint8Array {
  const out = a.slice();
  if (out.length >= 9) new DataView(out.buffer).setUint32(out.length - 4, crc32Of(out.subarray(0, out.length - 4)), true);
  return out;
}

export function mutate(archive: Uint8Array, r: (n: number) => number): Uint8Array {
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

export async function fuzz(lm: LmCompressor, input: Uint8Array, count: number, seed: number, maxMs: number) {
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
