/**
 * The first order-k model (`js-quantizer/1` archives): exact byte contexts in Maps, Witten–Bell
 * interpolation over 256 bytes, log-probabilities handed to the JavaScript quantizer. Kept
 * unchanged so archives it made still decode byte-exact; its memory grows with the input
 * (~0.5 KB per distinct context), which is why new archives use the hashed model (hashed.ts).
 *
 *   p_j(x) = (c_j(x) + u_j · p_{j-1}(x)) / (n_j + u_j),  p_{-1} = uniform over 256 bytes,
 * where c_j are the byte counts seen after the last j bytes, n_j their sum and u_j the number
 * of distinct bytes seen there. Counts halve when they grow large, so recent statistics weigh more.
 */
import type { LogitsBatch } from '../../step/language-model.js';

const BYTES = 256;
/** The start symbol fed before the first byte (never coded). */
export const START = 256;
export const VOCAB = 257;
const MAX_COUNT = 1 << 14;

class Counts {
  readonly c = new Uint16Array(BYTES);
  n = 0;
  distinct = 0;

  add(x: number): void {
    if (this.c[x] === 0) this.distinct++;
    this.c[x]++;
    this.n++;
    if (this.c[x] >= MAX_COUNT) this.halve();
  }

  private halve(): void {
    this.n = 0;
    this.distinct = 0;
    for (let i = 0; i < BYTES; i++) {
      this.c[i] >>= 1;
      this.n += this.c[i];
      if (this.c[i]) this.distinct++;
    }
  }
}

/** One segment's adaptive state: context tables for each order and the recent history. */
class OrderKState {
  private readonly tables: Map<number, Counts>[];
  private history: number[] = [];
  private readonly p = new Float64Array(BYTES);

  constructor(private readonly order: number) {
    this.tables = Array.from({ length: order + 1 }, () => new Map());
  }

  /** Context key of the last j bytes (exact: j ≤ 6 bytes fit in a double's 53 bits). */
  private key(j: number): number {
    let k = 0;
    const h = this.history;
    for (let i = h.length - j; i < h.length; i++) k = k * 256 + h[i];
    return k;
  }

  feed(token: number): void {
    if (token === START) return;
    const usable = Math.min(this.order, this.history.length);
    for (let j = 0; j <= usable; j++) {
      const t = this.tables[j];
      const key = this.key(j);
      let counts = t.get(key);
      if (!counts) t.set(key, (counts = new Counts()));
      counts.add(token);
    }
    this.history.push(token);
    if (this.history.length > 64) this.history = this.history.slice(this.history.length - this.order);
  }

  /** Log-probabilities of the next byte, written as "logits" (softmax of log p is p). */
  predict(out: Float32Array, offset: number): void {
    const p = this.p.fill(1 / BYTES);
    const usable = Math.min(this.order, this.history.length);
    for (let j = 0; j <= usable; j++) {
      const counts = this.tables[j].get(this.key(j));
      if (!counts || counts.n === 0) continue;
      const u = counts.distinct;
      const denom = counts.n + u;
      for (let x = 0; x < BYTES; x++) p[x] = (counts.c[x] + u * p[x]) / denom;
    }
    for (let x = 0; x < BYTES; x++) out[offset + x] = Math.log(p[x]);
    out[offset + START] = -Infinity; // the start symbol is never coded
  }
}

/** The legacy model's logits for `batch` rows (the runtime half of `js-quantizer/1`). */
export function openLegacyLogits(order: number, batch: number): LogitsBatch {
  const rows = Array.from({ length: batch }, () => new OrderKState(order));
  return {
    async forward(tokens: Int32Array, n: number) {
      const out = new Float32Array(batch * VOCAB);
      rows.forEach((row, r) => {
        for (let i = 0; i < n; i++) row.feed(tokens[r * n + i]);
        row.predict(out, r * VOCAB);
      });
      return out;
    },
  };
}
