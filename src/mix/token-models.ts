/**
 * The online token models the mixer combines with the LM. Each learns from the tokens coded
 * so far in its segment, after every token, in integer arithmetic: encoder and decoder see
 * the same tokens in the same order, so they hold the same counts.
 *
 * - `MatchModel`: the token that followed the latest earlier occurrence of the last
 *   `matchMin` tokens (a hash of them → the position after them; the mix runs several lengths), kept while it keeps being
 *   right. It reaches back over the whole segment, far beyond the LM's window.
 * - `ContextCounts`: for one order k, a hash of the last k tokens → a few (token, count) slots.
 * - `UnigramCounts`: order 0, one count per vocabulary entry.
 */

/** Growable token history of one segment. */
export class History {
  data = new Int32Array(1024);
  length = 0;
  push(token: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = token;
  }
  /** Token `back` positions before the end (1 = the last), or −1 before the start. */
  last(back: number): number {
    const i = this.length - back;
    return i >= 0 ? this.data[i] : -1;
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

/** Slots per context: the few tokens seen most after it (a sparse prediction, O(SLOTS) per token). */
const SLOTS = 12;
/** Counts are halved when one reaches this, so old statistics fade (non-stationary inputs). */
const COUNT_LIMIT = 1024;

export class ContextEntry {
  readonly tokens = new Int32Array(SLOTS);
  readonly counts = new Int32Array(SLOTS);
  used = 0;
  total = 0;

  countOf(token: number): number {
    for (let i = 0; i < this.used; i++) if (this.tokens[i] === token) return this.counts[i];
    return 0;
  }

  add(token: number): void {
    let i = 0;
    while (i < this.used && this.tokens[i] !== token) i++;
    if (i === this.used) {
      if (this.used < SLOTS) this.used++;
      else {
        // Full: the least counted slot (the first of equals) makes room.
        i = 0;
        for (let j = 1; j < SLOTS; j++) if (this.counts[j] < this.counts[i]) i = j;
        this.total -= this.counts[i];
      }
      this.tokens[i] = token;
      this.counts[i] = 0;
    }
    this.counts[i]++;
    this.total++;
    if (this.counts[i] >= COUNT_LIMIT) {
      this.total = 0;
      for (let j = 0; j < this.used; j++) this.total += this.counts[j] = (this.counts[j] + 1) >> 1;
    }
  }
}

export class ContextCounts {
  private readonly table = new Map<number, ContextEntry>();

  get(hash: number): ContextEntry | undefined {
    return this.table.get(hash);
  }

  add(hash: number, token: number): void {
    let e = this.table.get(hash);
    if (!e) this.table.set(hash, (e = new ContextEntry()));
    e.add(token);
  }
}

export class UnigramCounts {
  readonly counts: Uint32Array;
  total = 0;
  constructor(vocabSize: number) {
    this.counts = new Uint32Array(vocabSize);
  }
  add(token: number): void {
    this.counts[token]++;
    this.total++;
  }
}

/** Longest match length verified backwards (enough to tell short from long matches). */
const MAX_VERIFY = 400;

/** Misses in a row after which a match is dropped rather than followed on. */
const MAX_MISSES = 8;

export class MatchModel {
  private readonly table: Int32Array;
  private readonly mask: number;
  /** Index in the history of the predicted token, or −1 when no match. */
  private ptr = -1;
  /** Tokens the current match has agreed on since its last miss. */
  length = 0;
  /** Misses in a row: after a miss the match is followed on at the same distance (records
   * that differ in one field, as LZMA's repeated distance), until a verified match replaces it. */
  misses = 0;

  constructor(
    private readonly history: History,
    private readonly minLength: number,
    tableBits = 20,
  ) {
    this.table = new Int32Array(1 << tableBits).fill(-1);
    this.mask = (1 << tableBits) - 1;
  }

  /** The predicted next token, or −1. */
  predicted(): number {
    return this.ptr >= 0 ? this.history.data[this.ptr] : -1;
  }

  /** After `token` was pushed onto the history: follow or drop the match, then index the new position. */
  update(token: number): void {
    const h = this.history;
    if (this.ptr >= 0) {
      if (h.data[this.ptr] === token) {
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
    const slot = contextHash(h, this.minLength) & this.mask;
    if (this.length < this.minLength) {
      const cand = this.table[slot];
      if (cand >= 0 && cand !== this.ptr) {
        // Verify backwards: a hash collision gives length < minLength and is not taken.
        let n = 0;
        while (n < MAX_VERIFY && cand - 1 - n >= 0 && h.data[cand - 1 - n] === h.data[h.length - 1 - n]) n++;
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
