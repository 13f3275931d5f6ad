/**
 * The order-k model in bounded memory (`order-k-hash/1:<MiB>` archives): the same Witten–Bell
 * blend of orders 0..k, taken bit by bit over a byte's binary tree and stored in one fixed-size
 * hashed table, as paq does. Its memory is the table (the `memory` setting, recorded in the
 * coding step's name), whatever the input's size.
 *
 * A byte is coded as 8 binary decisions, most significant bit first. At each node of the tree
 * (the bits so far), every order j has counts c_j(0), c_j(1) seen there after the last j bytes,
 * and the blend is Witten–Bell's, on two symbols instead of 256:
 *   q_j = (c_j(0) + u_j · q_{j-1}) / (n_j + u_j),  q_{-1} = 1/2,
 * with n_j = c_j(0) + c_j(1) and u_j the number of bits seen there (0, 1 or 2; an unseen node
 * leaves q unchanged). q_k splits the node's share of the 2^28 frequency total between its two
 * children, each keeping at least one unit per byte below it, so every byte stays codable and
 * the 256 intervals tile the total exactly. Both sides walk the same tree with the same
 * integer-exact hashing and the same IEEE double arithmetic (+ − × ÷ and floor only), so they
 * split identically: the model gives the coder its interval directly, with no 256-entry table
 * and no logits (O(8·(k+1)) per byte instead of O(256·(k+1))).
 *
 * Table: buckets of 16 uint32 (one 64-byte cache line), one per (row, order, context, nibble):
 * slot 0 holds a check tag, slots 1..15 the 15 nodes of a nibble's tree as two 16-bit counts.
 * A context hashes to a pair of buckets; a miss takes the one whose root has seen less and
 * clears it. All rows of a batch share the table (their keys include the row), so its size is
 * the model's memory whatever the segment count; rows meet only through collisions, in the
 * same order on both sides.
 */
import type { CodingAnswer, CodingQuery, ModelBatch } from '../../step/language-model.js';
import { FREQUENCY_TOTAL } from '../../step/frequencies.js';
import { START } from './legacy.js';
import { fmix } from '../../common/int-hash.js';

export const HASHED_STEP_PREFIX = 'order-k-hash/1:';
/** The coding step that names this model and its table size, e.g. `order-k-hash/1:64MiB`. */
export const hashedStep = (memoryMiB: number) => `${HASHED_STEP_PREFIX}${memoryMiB}MiB`;

const BUCKET = 16; // uint32 per bucket: tag + 15 nibble-tree nodes
/** A node's counts halve when one reaches this, so recent statistics weigh more (and fit 16 bits). */
const LIMIT = 1 << 15;

export class HashedOrderKBatch implements ModelBatch {
  readonly codingStep: string;
  private readonly table: Uint32Array;
  /** The table's size: the model's memory, fixed whatever the input or the segment count. */
  readonly tableBytes: number;
  private readonly shift: number;
  private readonly k1: number;
  /** Per row: the last 8 bytes (lo: the 4 newest, newest lowest) and how many bytes it has seen. */
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly seen: Float64Array;
  /** Per row: the byte whose counts the last answer already updated (−1: none), checked when it is fed. */
  private readonly pending: Int32Array;
  /** Per row and order (r·(k+1) + j): the context's hash (0 past the history), the bucket of the nibble being coded, the high nibble's bucket, the blend weight. */
  private readonly ctx: Int32Array;
  private readonly base: Int32Array;
  private readonly rootBase: Int32Array;
  private readonly weight: Float64Array;
  /** Per row and order: the next bucket's key (tag in its low 16 bits) and index, from `prepare`. */
  private readonly nextKey: Int32Array;
  private readonly nextIndex: Int32Array;
  /** Per row, the byte being coded: orders usable, the mass passed to uniform, its interval so far, its probability, its bits so far. */
  private readonly usable: Int32Array;
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
    const entries = (memoryMiB * 1024 * 1024) / 4;
    // A fresh typed array is zero pages from the OS: RSS grows with the buckets touched, up to the table.
    this.table = new Uint32Array(entries);
    this.tableBytes = this.table.byteLength;
    this.shift = 32 - Math.log2(entries / BUCKET);
    this.k1 = order + 1;
    this.lo = new Int32Array(batch);
    this.hi = new Int32Array(batch);
    this.seen = new Float64Array(batch);
    this.pending = new Int32Array(batch).fill(-1);
    this.ctx = new Int32Array(batch * this.k1);
    this.base = new Int32Array(batch * this.k1);
    this.rootBase = new Int32Array(batch * this.k1);
    this.weight = new Float64Array(batch * this.k1);
    this.nextKey = new Int32Array(batch * this.k1);
    this.nextIndex = new Int32Array(batch * this.k1);
    this.usable = new Int32Array(batch);
    this.rest = new Float64Array(batch);
    this.low = new Float64Array(batch);
    this.range = new Float64Array(batch);
    this.prob = new Float64Array(batch);
    this.bits = new Int32Array(batch);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
    for (let r = 0; r < batch; r++) this.hashContexts(r);
  }

  /**
   * Rows are coded in phases (all rows' high nibbles, then all low nibbles), each phase first
   * reading the buckets the next one needs, so the table's cache misses of different rows
   * overlap instead of queueing. The phases are the same on both sides, so is every update's order.
   */
  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    const { active, symbols, targets } = query;
    let sink = 0;
    for (let r = 0; r < this.batch; r++) {
      if (reset) this.resetRow(r);
      for (let i = 0; i < n; i++) this.feed(r, tokens[r * n + i]);
      if (active[r]) sink += this.prepare(r, -1);
    }
    for (let r = 0; r < this.batch; r++) {
      if (!active[r]) continue;
      this.beginByte(r);
      this.codeNibble(r, 0, symbols[r], targets[r]);
      sink += this.prepare(r, this.bits[r]);
    }
    for (let r = 0; r < this.batch; r++) {
      if (!active[r]) continue;
      this.findBuckets(r, false);
      this.codeNibble(r, 4, symbols[r], targets[r]);
      const a = this.answer;
      a.symbols[r] = this.bits[r];
      a.low[r] = this.low[r];
      a.freq[r] = this.range[r];
      a.log2p[r] = Math.log2(this.prob[r]);
      this.pending[r] = this.bits[r]; // counted already: its feed next step only moves the history
    }
    this.sink = sink;
    return this.answer;
  }

  private resetRow(r: number): void {
    this.lo[r] = this.hi[r] = this.seen[r] = 0;
    this.pending[r] = -1;
    this.hashContexts(r);
  }

  /** Feed one token of row r: its counts are updated (unless its answer already did) and it joins the history. */
  private feed(r: number, token: number): void {
    if (token === START) return;
    const pending = this.pending[r];
    this.pending[r] = -1;
    if (pending >= 0 && pending !== token) throw new Error(`order-k: fed byte ${token} after coding ${pending}`);
    if (pending < 0) {
      // A primer byte: counted, not coded.
      this.prepare(r, -1);
      this.beginByte(r);
      this.codeNibble(r, 0, token, 0);
      this.prepare(r, this.bits[r]);
      this.findBuckets(r, false);
      this.codeNibble(r, 4, token, 0);
    }
    this.hi[r] = (this.hi[r] << 8) | (this.lo[r] >>> 24);
    this.lo[r] = (this.lo[r] << 8) | token;
    this.seen[r]++;
    this.hashContexts(r);
  }

  /** The context hash of every order usable at row r's position (orders longer than the history get 0). */
  private hashContexts(r: number): void {
    const k = this.order;
    const usable = Math.min(k, this.seen[r]);
    let h = Math.imul(r + 1, 0x9e3779b1);
    const lo = this.lo[r];
    const hi = this.hi[r];
    for (let j = 0; j <= k; j++) {
      if (j > 0) {
        const byte = j <= 4 ? (lo >>> (8 * (j - 1))) & 255 : (hi >>> (8 * (j - 5))) & 255;
        h = fmix(Math.imul(h ^ (byte | (j << 8)), 0x2c1b3c6d) + j);
      }
      this.ctx[r * this.k1 + j] = j <= usable ? fmix(h + 0x165667b1) | 1 : 0;
    }
  }

  /**
   * Key and bucket index of each usable order's next bucket at row r: the high nibble's (`hi` < 0)
   * or the low one's under `hi`, which lies in the same 4 KiB page as its high nibble's bucket (64
   * buckets), so a byte costs one page walk per order, not two. Then read each bucket's first word
   * (a prefetch: it changes nothing), in a loop of its own so the rows' misses overlap.
   */
  private prepare(r: number, hi: number): number {
    const t = this.table;
    const r0 = r * this.k1;
    let end = r0;
    for (let j = 0; j <= this.order; j++, end++) {
      const key = this.ctx[r0 + j];
      if (key === 0) break;
      if (hi < 0) {
        this.nextKey[end] = key;
        this.nextIndex[end] = key >>> this.shift;
      } else {
        const low = fmix(key + Math.imul(hi + 1, 0x27d4eb2f)) | 1;
        this.nextKey[end] = low;
        this.nextIndex[end] = (this.nextIndex[end] & ~63) | ((low >>> this.shift) & 63);
      }
    }
    this.usable[r] = end - r0 - 1;
    let sum = 0;
    for (let rj = r0; rj < end; rj++) sum += t[this.nextIndex[rj] * BUCKET];
    return sum;
  }

  /** The base of bucket `index` or its neighbour holding `key` (odd), or the one taken over for it; slot 0 holds the check tag (the key's low 16 bits) and the context's distinct-byte count. */
  private bucket(key: number, index: number): number {
    const t = this.table;
    const tag = key & 0xffff; // odd: never an empty slot's 0
    const a = index * BUCKET;
    if (t[a] >>> 16 === tag) return a;
    const b = a ^ BUCKET;
    if (t[b] >>> 16 === tag) return b;
    // Take the one whose root node has seen fewer bytes (an empty one has seen none).
    const ra = (t[a + 1] & 0xffff) + (t[a + 1] >>> 16);
    const rb = (t[b + 1] & 0xffff) + (t[b + 1] >>> 16);
    const v = rb < ra ? b : a;
    t[v] = tag << 16;
    for (let i = 1; i < BUCKET; i++) t[v + i] = 0;
    return v;
  }

  /** Row r's buckets for every usable order, as `prepare` keyed them (`high`: the high nibble's). */
  private findBuckets(r: number, high: boolean): void {
    const r0 = r * this.k1;
    for (let rj = r0; rj <= r0 + this.usable[r]; rj++) {
      this.base[rj] = this.bucket(this.nextKey[rj], this.nextIndex[rj]);
      if (high) this.rootBase[rj] = this.base[rj];
    }
  }

  /** Start row r's byte: its high-nibble buckets and the byte-level Witten–Bell weights, p(x) = Σ_j w_j·c_j(x) + w_{-1}/256. */
  private beginByte(r: number): void {
    this.findBuckets(r, true);
    const t = this.table;
    const k1 = this.k1;
    let rest = 1; // Π over higher orders of u_i / (n_i + u_i): the mass they pass down
    for (let j = this.usable[r]; j >= 0; j--) {
      const b = this.base[r * k1 + j];
      const root = t[b + 1];
      const n = (root & 0xffff) + (root >>> 16);
      if (n === 0) {
        this.weight[r * k1 + j] = 0;
        continue;
      }
      const u = Math.max(1, t[b] & 0xffff);
      this.weight[r * k1 + j] = rest / (n + u);
      rest = (rest * u) / (n + u);
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
    const t = this.table;
    const base = this.base;
    const w = this.weight;
    const r0 = r * this.k1;
    const r1 = r0 + this.usable[r];
    const rest = this.rest[r];
    let low = this.low[r];
    let range = this.range[r];
    let p = this.prob[r];
    let byte = this.bits[r];
    for (let level = from; level < from + 4; level++) {
      const depth = level - from;
      const node = (1 << depth) | (byte & ((1 << depth) - 1)); // 1..15 in the nibble's tree
      const half = 128 >>> level; // bytes below each child
      // P(left) / P(node) under the blend: each order's subtree counts plus the uniform share.
      let left = (rest * half) / 256;
      let all = left + left;
      for (let rj = r0; rj <= r1; rj++) {
        const v = t[base[rj] + node];
        const c0 = v & 0xffff;
        left += w[rj] * c0;
        all += w[rj] * (c0 + (v >>> 16));
      }
      const q = left / all;
      // Each child keeps ≥ 1 unit of the total per byte below it.
      let split = Math.floor(range * q);
      if (split < half) split = half;
      else if (split > range - half) split = range - half;
      const bit = symbol >= 0 ? (symbol >>> (7 - level)) & 1 : target - low >= split ? 1 : 0;
      if (bit === 0) {
        range = split;
        p *= q;
      } else {
        low += split;
        range -= split;
        p *= 1 - q;
      }
      for (let rj = r0; rj <= r1; rj++) {
        const i = base[rj] + node;
        const v = t[i];
        let c0 = v & 0xffff;
        let c1 = v >>> 16;
        if (bit === 0) c0++;
        else c1++;
        if (c0 >= LIMIT || c1 >= LIMIT) {
          c0 >>>= 1;
          c1 >>>= 1;
        }
        t[i] = (c1 << 16) | c0;
      }
      byte = (byte << 1) | bit;
    }
    if (from === 4) {
      // A byte never seen in a context before (its leaf's count is now 1) adds to that context's distinct count.
      const leaf = (1 << 3) | ((byte >>> 1) & 7);
      const shift = (byte & 1) << 4;
      for (let rj = r0; rj <= r1; rj++) {
        const root = this.rootBase[rj];
        if (((t[base[rj] + leaf] >>> shift) & 0xffff) === 1 && (t[root] & 0xffff) < 0xffff) t[root]++;
      }
    }
    this.low[r] = low;
    this.range[r] = range;
    this.prob[r] = p;
    this.bits[r] = byte;
  }
}
