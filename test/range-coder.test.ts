import { describe, expect, test } from 'vitest';
import { RangeDecoder, RangeEncoder, MAX_TOTAL } from '../src/coding/range-coder.js';
import { Quantizer, cumulativeBelow, findSymbol } from '../src/step/frequencies.js';

/** Small deterministic PRNG so a failing case can be replayed from its seed. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** A random frequency table summing to `total`, every entry ≥ 1; some very skewed. */
function randomTable(rand: () => number, V: number, total: number): Uint32Array {
  const skew = rand() < 0.5 ? 1 : 8 + rand() * 20;
  const w = Array.from({ length: V }, () => Math.pow(rand(), skew));
  const sum = w.reduce((a, b) => a + b, 0);
  const f = new Uint32Array(V);
  let assigned = 0;
  for (let i = 0; i < V; i++) assigned += f[i] = 1 + Math.floor((w[i] / sum) * (total - V));
  f[0] += total - assigned;
  return f;
}

function sample(rand: () => number, f: Uint32Array, total: number): number {
  return findSymbol(f, Math.floor(rand() * total)).symbol;
}

describe('range coder', () => {
  test('round-trips random distributions and symbols (property test, 300 cases)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const V = 2 + Math.floor(rand() * (rand() < 0.2 ? 60000 : 300));
      const total = rand() < 0.5 ? MAX_TOTAL : 2 ** (Math.ceil(Math.log2(V + 1)) + Math.floor(rand() * 8));
      const n = Math.floor(rand() * 400);
      const tables: Uint32Array[] = [];
      const symbols: number[] = [];
      const enc = new RangeEncoder();
      let bits = 0;
      for (let i = 0; i < n; i++) {
        const f = i % 17 === 0 || tables.length === 0 ? randomTable(rand, V, total) : tables[tables.length - 1];
        // Mostly likely symbols, sometimes the rarest ones (frequency 1).
        const s = rand() < 0.1 ? Math.floor(rand() * V) : sample(rand, f, total);
        tables.push(f);
        symbols.push(s);
        enc.encode(cumulativeBelow(f, s), f[s], total);
        bits += Math.log2(total / f[s]);
      }
      const stream = enc.finish();
      const dec = new RangeDecoder(stream);
      for (let i = 0; i < n; i++) {
        const f = tables[i];
        const { symbol, cum } = findSymbol(f, dec.target(total));
        expect(symbol, `seed ${seed} symbol ${i}`).toBe(symbols[i]);
        dec.consume(cum, f[symbol]);
      }
      // Coded size stays within a few bytes of the tables' own entropy.
      expect(stream.length * 8, `seed ${seed}`).toBeLessThanOrEqual(bits * 1.001 + 64);
      expect(stream.length * 8, `seed ${seed}`).toBeGreaterThanOrEqual(bits - 64);
    }
  });

  test('empty stream decodes nothing and costs zero bytes', () => {
    expect(new RangeEncoder().finish().length).toBe(0);
  });

  test('raw bits round-trip', () => {
    const enc = new RangeEncoder();
    const values = [0, 1, 65535, 1234, 7];
    for (const v of values) enc.encodeBits(v, 16);
    const dec = new RangeDecoder(enc.finish());
    expect(values.map(() => dec.decodeBits(16))).toEqual(values);
  });
});

describe('quantizer', () => {
  test('every symbol gets a frequency ≥ 1 and the table sums to the total', () => {
    const rand = prng(42);
    const V = 50257;
    const q = new Quantizer(V);
    const out = new Uint32Array(V);
    for (let k = 0; k < 5; k++) {
      const logits = Float32Array.from({ length: V }, () => (rand() - 0.5) * 40 * (k + 1));
      const t = q.quantize(logits, 0, out);
      expect(Math.min(...out)).toBeGreaterThanOrEqual(1);
      expect(out.reduce((a, b) => a + b, 0)).toBe(t.total);
    }
  });

  test('degenerate logits (NaN, -inf) fall back to a valid uniform table', () => {
    const q = new Quantizer(10);
    const out = new Uint32Array(10);
    const t = q.quantize(new Float32Array(10).fill(NaN), 0, out);
    expect(t.uniform).toBe(true);
    expect(out.reduce((a, b) => a + b, 0)).toBe(t.total);
  });

  test('is a pure function of the logits (same input, same table)', () => {
    const rand = prng(3);
    const logits = Float32Array.from({ length: 1000 }, () => rand() * 20);
    const a = new Quantizer(1000).quantize(logits, 0, new Uint32Array(1000)).freq.slice();
    const b = new Quantizer(1000).quantize(logits, 0, new Uint32Array(1000)).freq.slice();
    expect(b).toEqual(a);
  });
});
