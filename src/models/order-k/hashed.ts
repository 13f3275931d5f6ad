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

export const HASHED_STEP_PREFIX = 'order-k-hash/1:';
/** The coding step that names this model and its table size, e.g. `order-k-hash/1:64MiB`. */
export const hashedStep = (memoryMiB: number) => `${HASHED_STEP_PREFIX}${memoryMiB}MiB`;

const BUCKET = 16; // uint32 per bucket: tag + 15 nibble-tree nodes
/** A node's counts halve when one reaches this, so recent statistics weigh more (and fit 16 bits). */
const LIMIT = 1 << 15;

/** murmur3's finalizer: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class HashedOrderKBatch implements ModelBatch {
  readonly codingStep: string;
  private readonly table: Uint32Array;
  private readonly shift: number;
  /** Per row: the last 8 bytes (lo: the 4 newest, newest lowest), bytes seen, the context hash per order. */
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly seen: Float64Array;
  private readonly ctx: Int32Array;
  /** Per row: the byte whose counts the last answer already updated (−1: none), checked when it is fed. */
  private readonly pending: Int32Array;
  /** Per order: the base of its bucket for the nibble being coded. */
  private readonly base: Int32Array;
  /** Per order: the base of its high-nibble bucket (its slot 0 counts the context's distinct bytes), and its blend weight. */
  private readonly rootBase: Int32Array;
  private readonly weight: Float64Array;
  private readonly answer: CodingAnswer;

  constructor(
    private readonly order: number,
    readonly memoryMiB: number,
    private readonly batch: number,
  ) {
    this.codingStep = hashedStep(memoryMiB);
    const entries = (memoryMiB * 1024 * 1024) / 4;
    // A fresh typed array is zero pages from the OS: RSS grows with the buckets touched, up to the table.
    this.table = new Uint32Array(entries);
    this.shift = 32 - Math.log2(entries / BUCKET);
    this.lo = new Int32Array(batch);
    this.hi = new Int32Array(batch);
    this.seen = new Float64Array(batch);
    this.ctx = new Int32Array(batch * (order + 1));
    this.pending = new Int32Array(batch).fill(-1);
    this.base = new Int32Array(order + 1);
    this.rootBase = new Int32Array(order + 1);
    this.weight = new Float64Array(order + 1);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
    for (let r = 0; r < batch; r++) this.hashContexts(r);
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    for (let r = 0; r < this.batch; r++) {
      if (reset) this.resetRow(r);
      for (let i = 0; i < n; i++) this.feed(r, tokens[r * n + i]);
      if (query.active[r]) this.code(r, query.symbols[r], query.targets[r]);
    }
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
    if (pending < 0) this.walk(r, token, 0); // a primer byte: counted, not coded
    this.hi[r] = (this.hi[r] << 8) | (this.lo[r] >>> 24);
    this.lo[r] = (this.lo[r] << 8) | token;
    this.seen[r]++;
    this.hashContexts(r);
  }

  /** The context hash of every order usable at row r's position (orders longer than the history are skipped). */
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
      // Orders past the history get tag 0: never stored, so never read (see `bucket`).
      this.ctx[r * (k + 1) + j] = j <= usable ? fmix(h + 0x165667b1) | 1 : 0;
    }
  }

  /** The base of the bucket for `key` (odd), found or taken over; slot 0 holds its check tag (low 16 bits) and the context's distinct-byte count. */
  private bucket(key: number): number {
    const t = this.table;
    const tag = key & 0xffff; // odd: never an empty slot's 0
    const a = (key >>> this.shift) * BUCKET;
    if (t[a] >>> 16 === tag) return a;
    const b = a ^ BUCKET;
    if (t[b] >>> 16 === tag) return b;
    // Take the one whose root node has seen fewer bytes (an empty one has seen none).
    const ra = (t[a + 1] & 0xffff) + (t[a + 1] >>> 16);
    const rb = (t[b + 1] & 0xffff) + (t[b + 1] >>> 16);
    const v = rb < ra ? b : a;
    t.fill(0, v, v + BUCKET);
    t[v] = tag << 16;
    return v;
  }

  /** Row r's nibble buckets for every usable order: the high nibble's (`hi` < 0) or the low one's under `hi`. */
  private findBuckets(r: number, hi: number): number {
    const k = this.order;
    let usable = -1;
    for (let j = 0; j <= k; j++) {
      const key = this.ctx[r * (k + 1) + j];
      if (key === 0) break;
      if (hi < 0) this.base[j] = this.rootBase[j] = this.bucket(key);
      else this.base[j] = this.bucket(fmix(key + Math.imul(hi + 1, 0x27d4eb2f)) | 1);
      usable = j;
    }
    return usable;
  }

  /** Row r's answer; its byte's counts are updated at once, so its feed next step only moves the history. */
  private code(r: number, symbol: number, target: number): void {
    this.pending[r] = this.walk(r, symbol, target, true);
  }

  /**
   * Walk row r's byte tree along `symbol` (encoder, or a fed byte), or along the bits under
   * `target` (decoder: symbol −1), updating every order's counts on the way; with `answer`,
   * write the byte's interval and log2 p into the answer. Returns the byte.
   */
  private walk(r: number, symbol: number, target: number, answer = false): number {
    const t = this.table;
    const base = this.base;
    const w = this.weight;
    let usable = this.findBuckets(r, -1);
    // Byte-level Witten–Bell weights from each context's root: p(x) = Σ_j w_j·c_j(x) + w_{-1}/256.
    let rest = 1; // Π over higher orders of u_i / (n_i + u_i): the mass they pass down
    for (let j = usable; j >= 0; j--) {
      const root = t[base[j] + 1];
      const n = (root & 0xffff) + (root >>> 16);
      if (n === 0) {
        w[j] = 0;
        continue;
      }
      const u = Math.max(1, t[base[j]] & 0xffff);
      w[j] = rest / (n + u);
      rest = (rest * u) / (n + u);
    }
    let low = 0;
    let range = FREQUENCY_TOTAL;
    let p = 1;
    let byte = 0;
    for (let level = 0; level < 8; level++) {
      if (level === 4) usable = this.findBuckets(r, byte);
      const node = level < 4 ? (1 << level) | byte : (1 << (level - 4)) | (byte & ((1 << (level - 4)) - 1)); // 1..15 in the nibble's tree
      const half = 128 >>> level; // bytes below each child
      // P(left) / P(node) under the blend: each order's subtree counts plus the uniform share.
      let left = (rest * half) / 256;
      let all = left + left;
      for (let j = 0; j <= usable; j++) {
        const v = t[base[j] + node];
        const c0 = v & 0xffff;
        left += w[j] * c0;
        all += w[j] * (c0 + (v >>> 16));
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
      for (let j = 0; j <= usable; j++) {
        const i = base[j] + node;
        const v = t[i];
        let c0 = v & 0xffff;
        let c1 = v >>> 16;
        // A byte never seen in this context (its leaf was empty) adds to the context's distinct count.
        if (level === 7 && (bit === 0 ? c0 : c1) === 0 && (t[this.rootBase[j]] & 0xffff) < 0xffff) t[this.rootBase[j]]++;
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
    if (answer) {
      const a = this.answer;
      a.symbols[r] = byte;
      a.low[r] = low;
      a.freq[r] = range;
      a.log2p[r] = Math.log2(p);
    }
    return byte;
  }
}
