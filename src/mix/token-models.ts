/**
 * The online token models the mixer combines with the LM. Each learns from the tokens coded
 * so far in its segment, after every token, in integer arithmetic: encoder and decoder see
 * the same tokens in the same order, so they hold the same counts.
 *
 * - `MatchModel`: the token that followed the latest earlier occurrence of the last
 *   `matchMin` tokens (a hash of them → the position after them, in a fixed-size table the rows
 *   share; the mix runs several lengths), kept while it keeps being right. It reaches back as
 *   far as the row's history ring holds, far beyond the LM's window.
 * - The contexts' counts (a hash of the last k tokens → a few (token, count) slots) live in
 *   context-table.ts's fixed-size table.
 * - `UnigramCounts`: order 0, one count per vocabulary entry (and their sums below any token).
 */
import { fmix } from '../common/int-hash.js';

/**
 * A row's token history as a ring of its last `size` tokens (a power of two): the match models
 * reach back as far as it holds, the contexts read its last few. Positions are absolute (0 = the
 * row's first token); those older than `oldest` are gone.
 */
export class History {
  readonly data: Int32Array;
  private readonly mask: number;
  length = 0;
  constructor(readonly size: number) {
    this.data = new Int32Array(size);
    this.mask = size - 1;
  }
  push(token: number): void {
    this.data[this.length & this.mask] = token;
    this.length++;
  }
  /** Token `back` positions before the end (1 = the last), or −1 before the start. */
  last(back: number): number {
    const i = this.length - back;
    return i >= 0 ? this.data[i & this.mask] : -1;
  }
  /** Token at absolute position `i`, which must lie in [oldest, length). */
  at(i: number): number {
    return this.data[i & this.mask];
  }
  /** The oldest position still held. */
  get oldest(): number {
    return Math.max(0, this.length - this.size);
  }
}

/** 32-bit hash of the last `k` tokens (−1 for positions before the segment's start), seeded by k. */
export function contextHash(h: History, k: number): number {
  let x = hashSeed(k + 1);
  for (let i = 1; i <= k; i++) x = hashStep(x, h.last(i) + 1);
  return x | 0;
}

/** The start and one step of the mix's context hashes (token and record contexts alike). */
export function hashSeed(tag: number): number {
  return Math.imul(tag, 0x9e3779b1);
}
export function hashStep(x: number, value: number): number {
  x = Math.imul(x ^ value, 0x85ebca6b);
  return x ^ (x >>> 15);
}

/** Order 0: a count per vocabulary entry, and a Fenwick tree over them for the count below any token in O(log V). */
export class UnigramCounts {
  readonly counts: Uint32Array;
  /** tree[i] = Σ counts over (i − lowbit(i), i], 1-based. */
  private readonly tree: Uint32Array;
  total = 0;
  constructor(vocabSize: number) {
    this.counts = new Uint32Array(vocabSize);
    this.tree = new Uint32Array(vocabSize + 1);
  }
  add(token: number): void {
    this.counts[token]++;
    this.total++;
    for (let i = token + 1; i < this.tree.length; i += i & -i) this.tree[i]++;
  }
  /** Σ counts[i] for i < token. */
  below(token: number): number {
    let n = 0;
    for (let i = token; i > 0; i -= i & -i) n += this.tree[i];
    return n;
  }
}

/** Longest match length verified backwards (enough to tell short from long matches). */
const MAX_VERIFY = 400;

/** Misses in a row after which a match is dropped rather than followed on. */
const MAX_MISSES = 8;

export class MatchModel {
  private readonly mask: number;
  /** Absolute position in the history of the predicted token, or −1 when no match. */
  private ptr = -1;
  /** Tokens the current match has agreed on since its last miss. */
  length = 0;
  /** Misses in a row: after a miss the match is followed on at the same distance (records
   * that differ in one field, as LZMA's repeated distance), until a verified match replaces it. */
  misses = 0;

  /**
   * `table`: hash → position after it, shared by the rows of a batch (−1: empty; `salt` keeps
   * the rows' keys apart). Another row's position found under a collision fails verification
   * against this row's own history, as any collision does.
   */
  constructor(
    private readonly history: History,
    private readonly minLength: number,
    private readonly table: Int32Array,
    private readonly salt: number,
  ) {
    this.mask = table.length - 1;
  }

  /** The predicted next token, or −1. */
  predicted(): number {
    return this.ptr >= 0 ? this.history.at(this.ptr) : -1;
  }

  /** After `token` was pushed onto the history: follow or drop the match, then index the new position. */
  update(token: number): void {
    const h = this.history;
    if (this.ptr >= 0) {
      if (h.at(this.ptr) === token) {
        if (this.length < MAX_VERIFY) this.length++;
        this.misses = 0;
      } else {
        this.length = 0;
        this.misses++;
      }
      this.ptr++;
      if (this.misses >= MAX_MISSES) {
        this.ptr = -1;
        this.misses = 0;
      }
    }
    if (h.length < this.minLength) return;
    const slot = fmix(contextHash(h, this.minLength) + this.salt) & this.mask;
    if (this.length < this.minLength) {
      const cand = this.table[slot];
      // A candidate the ring still holds, this row's own (a later one is another row's).
      if (cand >= 0 && cand !== this.ptr && cand < h.length && cand > h.oldest) {
        // Verify backwards: a hash collision gives length < minLength and is not taken.
        const end = h.length - 1;
        const limit = Math.min(MAX_VERIFY, cand - h.oldest);
        let n = 0;
        while (n < limit && h.at(cand - 1 - n) === h.at(end - n)) n++;
        if (n >= this.minLength) {
          this.ptr = cand;
          this.length = n;
          this.misses = 0;
        }
      }
    }
    this.table[slot] = h.length;
  }
}
