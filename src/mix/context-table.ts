/**
 * The mix's context counts in bounded memory: one fixed-size hashed table shared by every
 * context (token orders and record contexts) of every row, as paq and cmix keep theirs. Its size
 * is set by the mix's memory budget (memory.ts), whatever the input; what does not fit is
 * replaced, the same way on both sides.
 *
 * Bucket: 16 uint32 (one 64-byte cache line): a header (the key's 16-bit check tag, slots
 * used), the context's total count, and 14 slots of (token << 11 | count). A key hashes to a
 * pair of buckets; a lookup that matches neither tag finds nothing, and counting under a new
 * key takes the empty bucket of the pair, else the one that has counted less (a context seen
 * once gives way before an established one). Within a bucket, a token not yet there takes a
 * free slot, else the least counted one's (the first of equals); counts halve when one
 * reaches 1,024, so old statistics fade.
 *
 * Integer arithmetic only (the key → pair mapping is `%` on a non-negative 32-bit value,
 * exact in doubles), so encoder and decoder hold the same table.
 */
export const BUCKET_WORDS = 16;
export const SLOTS = 14;
/** Bytes per bucket, for the memory split. */
export const BUCKET_BYTES = BUCKET_WORDS * 4;
const COUNT_BITS = 11;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** Tokens must fit the slot's 21 bits beside the count. */
export const MAX_TABLE_VOCAB = 2 ** (32 - COUNT_BITS);
/** Counts are halved when one reaches this (fits COUNT_BITS). */
const COUNT_LIMIT = 1024;

export class ContextTable {
  /** The buckets: `t[b]` header, `t[b + 1]` total, `t[b + 2 + j]` slot j (see the file comment). */
  readonly t: Uint32Array;
  private readonly pairs: number;

  /** `buckets`: how many the budget affords (rounded down to pairs, at least one pair). */
  constructor(buckets: number) {
    this.pairs = Math.max(1, Math.floor(buckets / 2));
    // A fresh typed array is zero pages from the OS: RSS grows with the buckets touched, up to the table.
    this.t = new Uint32Array(this.pairs * 2 * BUCKET_WORDS);
  }

  get bytes(): number {
    return this.t.byteLength;
  }

  private pairOf(key: number): number {
    return ((key >>> 0) % this.pairs) * 2 * BUCKET_WORDS;
  }

  /** The base of `key`'s bucket, or −1 when the table holds none for it. */
  find(key: number): number {
    const t = this.t;
    const tag = tagOf(key);
    const a = this.pairOf(key);
    if (t[a] >>> 16 === tag) return a;
    if (t[a + BUCKET_WORDS] >>> 16 === tag) return a + BUCKET_WORDS;
    return -1;
  }

  /** Count `token` under `key`, taking a bucket for it when it has none. */
  add(key: number, token: number): void {
    const t = this.t;
    let b = this.find(key);
    if (b < 0) {
      const a = this.pairOf(key);
      const c = a + BUCKET_WORDS;
      b = t[a] === 0 ? a : t[c] === 0 ? c : t[a + 1] <= t[c + 1] ? a : c;
      t.fill(0, b, b + BUCKET_WORDS);
      t[b] = tagOf(key) << 16;
    }
    const used = t[b] & 0xffff;
    let i = 0;
    while (i < used && t[b + 2 + i] >>> COUNT_BITS !== token) i++;
    if (i === used) {
      if (used < SLOTS) t[b]++;
      else {
        // Full: the least counted slot (the first of equals) makes room.
        i = 0;
        for (let j = 1; j < SLOTS; j++) if ((t[b + 2 + j] & COUNT_MASK) < (t[b + 2 + i] & COUNT_MASK)) i = j;
        t[b + 1] -= t[b + 2 + i] & COUNT_MASK;
      }
      t[b + 2 + i] = token << COUNT_BITS;
    }
    const count = (t[b + 2 + i] & COUNT_MASK) + 1;
    t[b + 2 + i]++;
    t[b + 1]++;
    if (count >= COUNT_LIMIT) {
      let total = 0;
      const n = t[b] & 0xffff;
      for (let j = 0; j < n; j++) {
        const v = t[b + 2 + j];
        const half = ((v & COUNT_MASK) + 1) >> 1;
        t[b + 2 + j] = (v & ~COUNT_MASK) | half;
        total += half;
      }
      t[b + 1] = total;
    }
  }
}

/** The check tag: 16 bits of the key, odd so that it is never an empty bucket's 0. */
function tagOf(key: number): number {
  return (key >>> 16) | 1;
}

// Readers of a bucket found by `find` (valid until the next `add`).
export const usedOf = (t: Uint32Array, b: number): number => t[b] & 0xffff;
export const totalOf = (t: Uint32Array, b: number): number => t[b + 1];
export const tokenAt = (t: Uint32Array, b: number, j: number): number => t[b + 2 + j] >>> COUNT_BITS;
export const countAt = (t: Uint32Array, b: number, j: number): number => t[b + 2 + j] & COUNT_MASK;
export function countOf(t: Uint32Array, b: number, token: number): number {
  const n = t[b] & 0xffff;
  for (let j = 0; j < n; j++) if (t[b + 2 + j] >>> COUNT_BITS === token) return t[b + 2 + j] & COUNT_MASK;
  return 0;
}
