/**
 * The order-k model in bounded memory (`order-k-hash/2:<MiB>` archives): the same Witten–Bell
 * blend of orders 0..k, taken bit by bit over a byte's binary tree and stored in fixed-size
 * tables, as paq does. Its memory is the `memory` setting (recorded in the coding step's name)
 * plus 273 KiB, whatever the input's size or the segment count.
 *
 * A byte is coded as 8 binary decisions, most significant bit first. At each node of the tree
 * (the bits so far), every order j has counts c_j(0), c_j(1) seen there after the last j bytes,
 * and the blend is Witten–Bell's, on two symbols instead of 256:
 *   q_j = (c_j(0) + u_j · q_{j-1}) / (n_j + u_j),  q_{-1} = 1/2,
 * with n_j = c_j(0) + c_j(1) and u_j the number of distinct bytes seen in the context (an unseen
 * context leaves q unchanged). q_k splits the node's share of the 2^28 frequency total between
 * its two children, each keeping at least one unit per byte below it, so every byte stays codable
 * and the 256 intervals tile the total exactly. Both sides walk the same tree with the same
 * integer-exact hashing and the same IEEE double arithmetic (+ − × ÷ and floor only), so they
 * split identically: the model gives the coder its interval directly, with no 256-entry table
 * and no logits (O(8·(k+1)) per byte instead of O(256·(k+1))).
 *
 * Storage, one buffer: orders 0 and 1 (257 contexts) in a direct table; order 2 hashed in a
 * quarter of `memory` (all of it when k ≤ 2), one bucket of 16 int32 (a 64-byte line) per
 * (context, nibble): slot 0 a check tag and, for a high nibble, the context's distinct-byte
 * count, slots 1..15 the nibble tree's nodes as two 15-bit counts; orders 3 and up hashed in the
 * rest, in buckets of 16 uint16 (two per line) with 7-bit counts, halved sooner. A context hashes
 * to a pair of neighbouring buckets; a miss takes the one whose root has seen less and clears it.
 * Orders 0..2 are shared by all rows (segments) of a batch: one model of the whole input, one
 * copy in the cache. Orders 3 and up are each row's own (its segment's recent text). Rows are
 * updated in the same order on both sides, so sharing keeps them identical. (Version 1 kept
 * every order per row in 64-byte buckets: 6% more bits on 10 MB of text, half the speed.)
 */
import type { CodingAnswer, CodingQuery, ModelBatch } from '../../step/language-model.js';
import { FREQUENCY_TOTAL } from '../../step/frequencies.js';
import { START } from './legacy.js';
import { fmix } from '../../common/int-hash.js';

export const HASHED_STEP_PREFIX = 'order-k-hash/2:';
/** The coding step that names this model and its table size, e.g. `order-k-hash/2:64MiB`. */
export const hashedStep = (memoryMiB: number) => `${HASHED_STEP_PREFIX}${memoryMiB}MiB`;

const BUCKET = 16; // slots per bucket: tag + 15 nibble-tree nodes
/** A context's buckets in the direct table: its high nibble's, then one per high nibble. */
const CONTEXT = 17 * BUCKET;
/** Orders below this live in the direct table (257 contexts: order 0's and order 1's 256). */
const DIRECT_ORDERS = 2;
/** Orders below this are shared by every row of the batch (int32 nodes); the rest are per row (uint16 nodes). */
const SHARED_ORDERS = 3;
/** The direct table's size in int32. */
const DIRECT_WORDS = 257 * CONTEXT;
/** The fixed memory beside the hashed tables (orders 0 and 1): 273 KiB. */
export const DIRECT_BYTES = DIRECT_WORDS * 4;
/** A shared node's two 15-bit counts halve when one reaches 2^15 (the flag bits), so recent statistics weigh more. */
const FULL = 0x80008000;
/** A per-row node's two 7-bit counts halve when one reaches 2^7: a segment's own recent text. */
const ROW_FULL = 0x8080;
/** Buckets of one 4 KiB page: a low nibble's bucket lies in its high nibble's page. */
const PAGE_SHARED = 64;
const PAGE_ROW = 128;

/**
 * Where the tables start in their buffer: glibc hands out a large block 16 bytes past a page
 * boundary, so 48 bytes more puts every bucket on a cache line of its own (a pair of per-row
 * buckets on one). Only speed depends on it: the tables' contents are the same anywhere.
 */
const ALIGN_PAD = 48;

/** Bucket `key` maps to among `n`: multiply-shift on its top 24 bits (exact in doubles). */
function indexOf(key: number, n: number): number {
  return Math.floor(((key >>> 8) * n) / 16777216);
}

/** The check tag of `key`, from other bits than its index (16 bits; a per-row high nibble keeps the top 8). */
function tagOf(key: number): number {
  return Math.imul(key, 0x2c1b3c6d) >>> 16;
}

/** log2 of 1 + i/4096, for `log2`. */
const LOG2_TABLE = Float64Array.from({ length: 4097 }, (_, i) => Math.log2(1 + i / 4096));
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Which word of a double holds its sign, exponent and top mantissa bits (1 on little-endian machines). */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * log2 of a positive normal double from its exponent and a table of its top 12 mantissa bits,
 * interpolated by the other 40 (error < 1e-8): the answer's log2 p, a statistic beside the coded
 * interval (never part of it), at a fraction of Math.log2's cost.
 */
function log2(x: number): number {
  F64[0] = x;
  const high = U32[HIGH];
  const i = (high >>> 8) & 4095;
  const f = ((high & 255) * 4294967296 + U32[1 - HIGH]) / 1099511627776;
  const a = LOG2_TABLE[i];
  return (high >>> 20) - 1023 + a + f * (LOG2_TABLE[i + 1] - a);
}

export class HashedOrderKBatch implements ModelBatch {
  readonly codingStep: string;
  /** One buffer: per-row buckets (uint16 nodes, 32 bytes), shared buckets (int32 nodes, 64 bytes), the direct table (int32). */
  private readonly t32: Int32Array;
  private readonly t16: Uint16Array;
  /** The model's memory: the tables, fixed whatever the input or the segment count. */
  readonly tableBytes: number;
  /** Bucket counts of the hashed tables, and where the shared and direct ones start (int32 units). */
  private readonly rowBuckets: number;
  private readonly sharedBuckets: number;
  private readonly sharedStart: number;
  private readonly directStart: number;
  /** Per-row slots in the per-order arrays: k + 1, at least 4 (orders 0..3 are always read; see `scratch`). */
  private readonly k1: number;
  /** A bucket outside the tables that stands for orders 1 and 2 before a row has seen enough bytes: weight 0, so its counts never matter. */
  private readonly scratch: number;
  /** Per row: the last 8 bytes (lo: the 4 newest, newest lowest) and how many bytes it has seen. */
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly seen: Float64Array;
  /** Per row: the byte whose counts the last answer already updated (−1: none), checked when it is fed. */
  private readonly pending: Int32Array;
  /** Per row, orders usable (highest order with enough history). */
  private readonly usable: Int32Array;
  /**
   * Per row and order (r·(k+1) + j): a hashed context's key and bucket number (in its table) for
   * the nibble being coded, that nibble's bucket (int32 or uint16 units), the high nibble's
   * bucket, the blend weight.
   */
  private readonly key: Int32Array;
  private readonly index: Int32Array;
  private readonly base: Int32Array;
  private readonly rootBase: Int32Array;
  private readonly weight: Float64Array;
  /** Per row, the byte being coded: the mass passed to uniform, its interval so far, its probability, its bits so far. */
  private readonly rest: Float64Array;
  private readonly low: Float64Array;
  private readonly range: Float64Array;
  private readonly prob: Float64Array;
  private readonly bits: Int32Array;
  private readonly answer: CodingAnswer;
  /** Where the early reads of the next buckets go (kept so they are not optimised away). */
  private sink = 0;

  constructor(
    private readonly order: number,
    readonly memoryMiB: number,
    private readonly batch: number,
  ) {
    this.codingStep = hashedStep(memoryMiB);
    const bytes = memoryMiB * 1024 * 1024;
    // Order 2 (shared) gets a quarter, the per-row orders the rest; with k ≤ 2 order 2 gets it all.
    const sharedBytes = order >= SHARED_ORDERS ? bytes / 4 : bytes;
    this.sharedBuckets = Math.floor(sharedBytes / 64 / PAGE_SHARED) * PAGE_SHARED;
    this.rowBuckets = Math.floor((bytes - sharedBytes) / 32 / PAGE_ROW) * PAGE_ROW;
    this.sharedStart = this.rowBuckets * 8;
    this.directStart = this.sharedStart + this.sharedBuckets * BUCKET;
    // A fresh buffer is zero pages from the OS: RSS grows with the buckets touched, up to the tables.
    const words = this.directStart + DIRECT_WORDS;
    const buffer = new ArrayBuffer((words + BUCKET) * 4 + ALIGN_PAD);
    this.t32 = new Int32Array(buffer, ALIGN_PAD, words + BUCKET);
    this.t16 = new Uint16Array(buffer, ALIGN_PAD, (words + BUCKET) * 2);
    this.tableBytes = words * 4;
    this.k1 = Math.max(order + 1, SHARED_ORDERS + 1);
    this.scratch = words;
    this.lo = new Int32Array(batch);
    this.hi = new Int32Array(batch);
    this.seen = new Float64Array(batch);
    this.pending = new Int32Array(batch).fill(-1);
    this.usable = new Int32Array(batch);
    this.key = new Int32Array(batch * this.k1);
    this.index = new Int32Array(batch * this.k1);
    this.base = new Int32Array(batch * this.k1);
    this.rootBase = new Int32Array(batch * this.k1);
    this.weight = new Float64Array(batch * this.k1);
    this.rest = new Float64Array(batch);
    this.low = new Float64Array(batch);
    this.range = new Float64Array(batch);
    this.prob = new Float64Array(batch);
    this.bits = new Int32Array(batch);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
  }

  /**
   * Rows are coded in phases (all rows' high nibbles, then all low nibbles). Before each phase a
   * tight loop reads the first word of every bucket it will need (a prefetch: it changes
   * nothing), so the table's cache misses of all rows overlap instead of queueing behind each
   * row's arithmetic. The phases are the same on both sides, so is every update's order.
   */
  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    const { active, symbols, targets } = query;
    for (let r = 0; r < this.batch; r++) {
      if (reset) this.resetRow(r);
      for (let i = 0; i < n; i++) this.feed(r, tokens[r * n + i]);
      if (active[r]) this.prepareHigh(r);
    }
    let sink = this.prefetch(active);
    for (let r = 0; r < this.batch; r++) {
      if (!active[r]) continue;
      this.beginByte(r);
      this.codeNibble(r, 0, symbols[r], targets[r]);
      this.prepareLow(r);
    }
    sink += this.prefetch(active);
    const a = this.answer;
    for (let r = 0; r < this.batch; r++) {
      if (!active[r]) continue;
      this.findLow(r);
      this.codeNibble(r, 4, symbols[r], targets[r]);
      a.symbols[r] = this.bits[r];
      a.low[r] = this.low[r];
      a.freq[r] = this.range[r];
      a.log2p[r] = log2(this.prob[r]);
      this.pending[r] = this.bits[r]; // counted already: its feed next step only moves the history
    }
    this.sink = sink;
    return a;
  }

  /** Read the first word of every active row's next hashed buckets (both of a shared pair; a per-row pair is one line), all in one loop so the misses overlap. */
  private prefetch(active: Uint8Array): number {
    const t32 = this.t32;
    const t16 = this.t16;
    const index = this.index;
    const k1 = this.k1;
    const shared = this.sharedStart;
    let sum = 0;
    for (let r = 0, r0 = 0; r < this.batch; r++, r0 += k1) {
      if (!active[r]) continue;
      const top = r0 + this.usable[r];
      if (top < r0 + DIRECT_ORDERS) continue;
      const a = shared + index[r0 + DIRECT_ORDERS] * BUCKET;
      sum += t32[a] + t32[a ^ BUCKET];
      for (let rj = r0 + SHARED_ORDERS; rj <= top; rj++) sum += t16[index[rj] * BUCKET];
    }
    return sum;
  }

  private resetRow(r: number): void {
    this.lo[r] = this.hi[r] = this.seen[r] = 0;
    this.pending[r] = -1;
  }

  /** Feed one token of row r: its counts are updated (unless its answer already did) and it joins the history. */
  private feed(r: number, token: number): void {
    if (token === START) return;
    const pending = this.pending[r];
    this.pending[r] = -1;
    if (pending >= 0 && pending !== token) throw new Error(`order-k: fed byte ${token} after coding ${pending}`);
    if (pending < 0) {
      // A primer byte: counted, not coded.
      this.prepareHigh(r);
      this.beginByte(r);
      this.codeNibble(r, 0, token, 0);
      this.prepareLow(r);
      this.findLow(r);
      this.codeNibble(r, 4, token, 0);
    }
    this.hi[r] = (this.hi[r] << 8) | (this.lo[r] >>> 24);
    this.lo[r] = (this.lo[r] << 8) | token;
    this.seen[r]++;
  }

  /** Row r's high-nibble buckets: each usable order's base in the direct table, or its hashed key and bucket number. */
  private prepareHigh(r: number): void {
    const r0 = r * this.k1;
    const usable = Math.min(this.order, this.seen[r]);
    this.usable[r] = usable;
    const lo = this.lo[r];
    const hi = this.hi[r];
    this.base[r0] = this.directStart;
    this.base[r0 + 1] = usable >= 1 ? this.directStart + (1 + (lo & 255)) * CONTEXT : this.scratch;
    if (usable < DIRECT_ORDERS) this.base[r0 + DIRECT_ORDERS] = this.scratch;
    const salt = Math.imul(r + 1, 0x9e3779b1);
    for (let j = DIRECT_ORDERS; j <= usable; j++) {
      // The last j bytes, the order, and for per-row orders the row.
      let h = j < 4 ? lo & ((1 << (8 * j)) - 1) : lo;
      h = fmix((Math.imul(h, 0x2c1b3c6d) + j) | 0);
      if (j > 4) h = fmix((h + (hi & ((1 << (8 * (j - 4))) - 1))) | 0);
      if (j >= SHARED_ORDERS) h = fmix(h ^ salt);
      this.key[r0 + j] = h;
      this.index[r0 + j] = indexOf(h, j >= SHARED_ORDERS ? this.rowBuckets : this.sharedBuckets);
    }
  }

  /**
   * Row r's low-nibble buckets under the high nibble just coded: direct orders' bases, hashed
   * orders' keys and bucket numbers. A hashed one lies in the same 4 KiB page as its high
   * nibble's bucket, so a byte costs one page walk per order, not two.
   */
  private prepareLow(r: number): void {
    const r0 = r * this.k1;
    const usable = this.usable[r];
    const h = this.bits[r] + 1; // 1..16
    this.base[r0] = this.rootBase[r0] + h * BUCKET;
    if (usable >= 1) this.base[r0 + 1] = this.rootBase[r0 + 1] + h * BUCKET;
    // (below that, orders 1 and 2 keep the scratch bucket from prepareHigh)
    const mix = Math.imul(h, 0x27d4eb2f);
    for (let rj = r0 + DIRECT_ORDERS; rj <= r0 + usable; rj++) {
      const key = fmix((this.key[rj] + mix) | 0);
      const page = rj - r0 >= SHARED_ORDERS ? PAGE_ROW : PAGE_SHARED;
      this.key[rj] = key;
      this.index[rj] = (this.index[rj] & -page) | ((key >>> 8) & (page - 1));
    }
  }

  /**
   * The base (int32 units) of shared bucket `index` or its neighbour holding `key`'s tag, or of the
   * one taken over for it (the one whose root node has seen fewer bytes). Slot 0: the tag in its
   * top 16 bits and, for a high nibble, the context's distinct-byte count in its low 16.
   */
  private sharedBucket(key: number, index: number): number {
    const t = this.t32;
    const tag = tagOf(key);
    const a = this.sharedStart + index * BUCKET;
    if (t[a] >>> 16 === tag) return a;
    const b = a ^ BUCKET;
    if (t[b] >>> 16 === tag) return b;
    const ra = (t[a + 1] & 0xffff) + (t[a + 1] >>> 16);
    const rb = (t[b + 1] & 0xffff) + (t[b + 1] >>> 16);
    const v = rb < ra ? b : a;
    t[v] = tag << 16;
    for (let i = 1; i < BUCKET; i++) t[v + i] = 0;
    return v;
  }

  /**
   * The same for a per-row bucket (uint16 units; the pair shares one cache line). Slot 0: a high
   * nibble's 8-bit tag over its distinct-byte count (at most 255), a low nibble's 16-bit tag.
   */
  private rowBucket(key: number, index: number, high: boolean): number {
    const t = this.t16;
    const tag = high ? (tagOf(key) >>> 8) << 8 : tagOf(key);
    const mask = high ? 0xff00 : 0xffff;
    const a = index * BUCKET;
    if ((t[a] & mask) === tag) return a;
    const b = a ^ BUCKET;
    if ((t[b] & mask) === tag) return b;
    const ra = (t[a + 1] & 0xff) + (t[a + 1] >>> 8);
    const rb = (t[b + 1] & 0xff) + (t[b + 1] >>> 8);
    const v = rb < ra ? b : a;
    t[v] = tag;
    for (let i = 1; i < BUCKET; i++) t[v + i] = 0;
    return v;
  }

  /** Row r's hashed low-nibble buckets, as `prepareLow` keyed them. */
  private findLow(r: number): void {
    const r0 = r * this.k1;
    const top = r0 + this.usable[r];
    if (top < r0 + DIRECT_ORDERS) return;
    this.base[r0 + DIRECT_ORDERS] = this.sharedBucket(this.key[r0 + DIRECT_ORDERS], this.index[r0 + DIRECT_ORDERS]);
    for (let rj = r0 + SHARED_ORDERS; rj <= top; rj++) this.base[rj] = this.rowBucket(this.key[rj], this.index[rj], false);
  }

  /** Start row r's byte: its high-nibble buckets and the byte-level Witten–Bell weights, p(x) = Σ_j w_j·c_j(x) + w_{-1}/256. */
  private beginByte(r: number): void {
    const t32 = this.t32;
    const t16 = this.t16;
    const r0 = r * this.k1;
    const top = r0 + this.usable[r];
    if (top >= r0 + DIRECT_ORDERS) this.base[r0 + DIRECT_ORDERS] = this.sharedBucket(this.key[r0 + DIRECT_ORDERS], this.index[r0 + DIRECT_ORDERS]);
    for (let rj = r0 + SHARED_ORDERS; rj <= top; rj++) this.base[rj] = this.rowBucket(this.key[rj], this.index[rj], true);
    const base = this.base;
    const rootBase = this.rootBase;
    const weight = this.weight;
    let rest = 1; // Π over higher orders of u_i / (n_i + u_i): the mass they pass down
    // Highest order first: the per-row orders (uint16), then the shared ones (int32).
    for (let rj = top; rj >= r0 + SHARED_ORDERS; rj--) {
      const b = base[rj];
      rootBase[rj] = b;
      const root = t16[b + 1];
      const n = (root & 0xff) + (root >>> 8);
      const u = t16[b] & 0xff || 1;
      const share = n === 0 ? 0 : rest / (n + u);
      weight[rj] = share;
      if (n !== 0) rest = share * u;
    }
    for (let rj = r0 + SHARED_ORDERS - 1; rj > top; rj--) weight[rj] = 0; // the scratch bucket's
    for (let rj = Math.min(top, r0 + SHARED_ORDERS - 1); rj >= r0; rj--) {
      const b = base[rj];
      rootBase[rj] = b;
      const root = t32[b + 1];
      const n = (root & 0xffff) + (root >>> 16);
      const u = t32[b] & 0xffff || 1;
      const share = n === 0 ? 0 : rest / (n + u);
      weight[rj] = share;
      if (n !== 0) rest = share * u;
    }
    this.rest[r] = rest;
    this.low[r] = 0;
    this.range[r] = FREQUENCY_TOTAL;
    this.prob[r] = 1;
    this.bits[r] = 0;
  }

  /**
   * Levels `from`..`from`+3 of row r's byte tree: split the interval by the blend at each node,
   * follow `symbol`'s bit (encoder, or a fed byte) or the bit under `target` (decoder: symbol
   * −1), and count that bit in every order.
   */
  private codeNibble(r: number, from: number, symbol: number, target: number): void {
    const t32 = this.t32;
    const t16 = this.t16;
    const base = this.base;
    const w = this.weight;
    const r0 = r * this.k1;
    const r1 = r0 + this.usable[r];
    const b0 = base[r0];
    const b1 = base[r0 + 1];
    const b2 = base[r0 + 2];
    const w0 = w[r0];
    const w1 = w[r0 + 1];
    const w2 = w[r0 + 2]; // 0 before a row's third byte (b1, b2: the scratch bucket)
    // Order 3 (the first per-row order) too where usable; else a weight of 0 adds exactly nothing.
    const has3 = r1 >= r0 + SHARED_ORDERS;
    const b3 = has3 ? base[r0 + SHARED_ORDERS] : 0;
    const w3 = has3 ? w[r0 + SHARED_ORDERS] : 0;
    const uniform = this.rest[r] / 256;
    let low = this.low[r];
    let range = this.range[r];
    let p = this.prob[r];
    let node = 1;
    for (let level = from; level < from + 4; level++) {
      const half = 128 >>> level;
      const v0 = t32[b0 + node];
      const v1 = t32[b1 + node];
      const v2 = t32[b2 + node];
      let left = uniform * half;
      let all = left + left;
      const c00 = v0 & 0xffff;
      left += w0 * c00;
      all += w0 * (c00 + (v0 >>> 16));
      const c01 = v1 & 0xffff;
      left += w1 * c01;
      all += w1 * (c01 + (v1 >>> 16));
      const c02 = v2 & 0xffff;
      left += w2 * c02;
      all += w2 * (c02 + (v2 >>> 16));
      const v3 = t16[b3 + node];
      const c03 = v3 & 0xff;
      left += w3 * c03;
      all += w3 * (c03 + (v3 >>> 8));
      for (let rj = r0 + SHARED_ORDERS + 1; rj <= r1; rj++) {
        const v = t16[base[rj] + node];
        const c0 = v & 0xff;
        const wj = w[rj];
        left += wj * c0;
        all += wj * (c0 + (v >>> 8));
      }
      const q = left / all;
      let split = Math.floor(range * q);
      if (split < half) split = half;
      else if (split > range - half) split = range - half;
      const bit = symbol >= 0 ? (symbol >>> (7 - level)) & 1 : target - low >= split ? 1 : 0;
      low += bit * split;
      range = split + bit * (range - split - split);
      p *= q + bit * (1 - q - q);
      const inc = 1 + bit * 0xffff;
      let u0 = (v0 + inc) | 0;
      if ((u0 & FULL) !== 0) u0 = (u0 >>> 1) & 0x7fff7fff;
      t32[b0 + node] = u0;
      let u1 = (v1 + inc) | 0;
      if ((u1 & FULL) !== 0) u1 = (u1 >>> 1) & 0x7fff7fff;
      t32[b1 + node] = u1;
      let u2 = (v2 + inc) | 0; // distinct buckets (two direct, one hashed), or the scratch one at weight 0
      if ((u2 & FULL) !== 0) u2 = (u2 >>> 1) & 0x7fff7fff;
      t32[b2 + node] = u2;
      const inc16 = 1 + bit * 0xff;
      if (has3) {
        let u3 = v3 + inc16;
        if ((u3 & ROW_FULL) !== 0) u3 = (u3 >>> 1) & 0x7f7f;
        t16[b3 + node] = u3;
      }
      for (let rj = r0 + SHARED_ORDERS + 1; rj <= r1; rj++) {
        const i = base[rj] + node;
        let v = t16[i] + inc16;
        if ((v & ROW_FULL) !== 0) v = (v >>> 1) & 0x7f7f;
        t16[i] = v;
      }
      node = (node << 1) | bit;
    }
    this.finishNibble(r, from, node, low, range, p, r0, r1);
  }

  /** After a nibble: row r's interval and bits so far, and after a low nibble, the distinct counts of contexts that saw a new byte. */
  private finishNibble(r: number, from: number, node: number, low: number, range: number, p: number, r0: number, r1: number): void {
    const t32 = this.t32;
    const t16 = this.t16;
    const base = this.base;
    const s1 = Math.min(r1, r0 + SHARED_ORDERS - 1);
    const byte = (this.bits[r] << 4) | (node & 15);
    if (from === 4) {
      // A byte never seen in a context before (its leaf's count is now 1) adds to that context's distinct count.
      const leaf = node >>> 1;
      const bit = byte & 1;
      for (let rj = r0; rj <= s1; rj++) {
        const root = this.rootBase[rj];
        if (((t32[base[rj] + leaf] >>> (bit << 4)) & 0xffff) === 1 && (t32[root] & 0xffff) < 0xffff) t32[root]++;
      }
      for (let rj = s1 + 1; rj <= r1; rj++) {
        const root = this.rootBase[rj];
        if (((t16[base[rj] + leaf] >>> (bit << 3)) & 0xff) === 1 && (t16[root] & 0xff) < 0xff) t16[root]++;
      }
    }
    this.low[r] = low;
    this.range[r] = range;
    this.prob[r] = p;
    this.bits[r] = byte;
  }
}
