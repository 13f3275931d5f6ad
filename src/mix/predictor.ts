/**
 * The mixing predictor of one segment: everything it has learned and the calls the coding loop
 * makes per token: `predict` (this step's mixture, from the LM's cumulative table), then
 * `cumulative` (the encoder's interval) or `find` (the decoder's token), and `learn` (the coded
 * token). Encoder and decoder call them with the same values in the same order, so they hold
 * the same state.
 *
 * Experts: the LM, order 0, hashed contexts of the last 1, 2, 4 and 6 tokens, four record
 * contexts over the bytes (record-model.ts), and match models of 3, 6, 12 and 24 tokens
 * (token-models.ts). Four mixers each pick a weight set by their own context — match length ×
 * the LM's confidence × how much orders 2 and 6 have seen; how sure four contexts are; the
 * last token; the column within the record — and a final mixer weighs their mixtures. All are
 * linear, so the final distribution is one weighted sum of the experts', and so is its
 * cumulative: the mixed table is never built. Its cumulative frequency below a token is read
 * from the LM's cumulative table, order 0's Fenwick tree and a few context slots (O(contexts ×
 * slots)); the decoder bisects it (O(log V) such reads). No pass over the vocabulary per token.
 * An APM then refines the probability of the longest match's token (refineMatch).
 *
 * Memory: the context counts and the match tables are fixed-size tables shared by the rows
 * (`MixTables`, sized by memory.ts); a row keys its contexts with its own salt. The row's own
 * state is its history ring, order-0 counts, mixer weights and record model, all fixed-size.
 */
import { FREQUENCY_TOTAL } from '../step/frequencies.js';
import { Mixer } from './mixer.js';
import type { MixSettings } from './settings.js';
import { RECORD_CONTEXTS, RecordModel } from './record-model.js';
import { History, MatchModel, UnigramCounts, contextHash } from './token-models.js';
import { ContextTable, countAt, countOf, tokenAt, totalOf, usedOf } from './context-table.js';
import { fmix } from '../common/int-hash.js';
import { Apm } from './apm.js';

const T = FREQUENCY_TOTAL;
/**
 * Table mass held back so that C(V − 1) < T whatever the doubles' rounding (G(V) = Σ weights ≈ 1
 * to within 1e-15; the margin covers far more); it goes to the last token (≈ 2⁻²² of the mass).
 */
const MARGIN = 64;

/** Buckets of the mixer's weight-set context. */
const MATCH_BUCKETS = 7;
const LM_BUCKETS = 4;
const MID_BUCKETS = 4;
const TOP_BUCKETS = 3;
/** Weight sets of each mixer: by match/LM/order totals; by how sure four contexts are; by the last token; by the column in the record. */
const SELECTOR_SETS = [MATCH_BUCKETS * LM_BUCKETS * MID_BUCKETS * TOP_BUCKETS, 6 ** 4, 1025, 257];
const FINAL_SETS = MATCH_BUCKETS * LM_BUCKETS;

/** What a context (its bucket `b` in `t`, −1: none) has seen: nothing, little, one token (few / many times), a clear favourite, a spread. */
function confidence(t: Uint32Array, b: number): number {
  if (b < 0) return 0;
  const total = totalOf(t, b);
  const used = usedOf(t, b);
  if (total < 3) return 1;
  if (used === 1) return total < 8 ? 2 : 3;
  let max = 0;
  for (let j = 0; j < used; j++) if (countAt(t, b, j) > max) max = countAt(t, b, j);
  return max * 4 >= total * 3 ? 4 : 5;
}

/** The tables a batch's rows share (sized by memory.ts): the contexts' counts, one table per match model. */
export interface MixTables {
  contexts: ContextTable;
  matches: Int32Array[];
  /** History ring per row, in tokens. */
  historyTokens: number;
}

/** Weight sets of all mixers, for the memory split (memory.ts's per-row fixed part). */
export const MIXER_SETS = SELECTOR_SETS.reduce((a, b) => a + b, 0) + FINAL_SETS;

/** No match; following on after a miss (agreed on < 4 since); then by length agreed. */
function matchBucket(predicting: boolean, len: number): number {
  return !predicting ? 0 : len < 4 ? 1 : len < 8 ? 2 : len < 16 ? 3 : len < 32 ? 4 : len < 64 ? 5 : 6;
}
/** The LM's largest frequency, as a share of the total: < 0.2, < 0.5, < 0.85, ≥ 0.85 (integer thresholds). */
function lmBucket(maxFreq: number): number {
  return maxFreq < T / 5 ? 0 : maxFreq < T / 2 ? 1 : maxFreq < (T / 20) * 17 ? 2 : 3;
}
function midBucket(total: number): number {
  return total === 0 ? 0 : total < 3 ? 1 : total < 10 ? 2 : 3;
}
function topBucket(total: number): number {
  return total === 0 ? 0 : total < 4 ? 1 : 2;
}

/**
 * The LM's table for one row and step, as `TableRows` gave it: whole (the decoder's: any token),
 * or only the intervals of the encoder's symbol and of the row's match token (all the encoder
 * reads: C at the symbol and the next, the symbol's frequency, the APM's G at x* and x* + 1).
 */
export class LmRow {
  private cum?: Uint32Array;
  private at = 0;
  private symbol = -1;
  private low = 0;
  private high = 0;
  private other = -1;
  private low2 = 0;
  private high2 = 0;
  constructor(private readonly vocabSize: number) {}

  /** Row r of whole cumulative tables (`cum`, row `at` = r·stride). */
  whole(cum: Uint32Array, at: number): this {
    this.cum = cum;
    this.at = at;
    return this;
  }

  /** Only the intervals [low, low + freq) of `symbol` and of `other`. */
  interval(symbol: number, low: number, freq: number, other: number, low2: number, freq2: number): this {
    this.cum = undefined;
    this.symbol = symbol;
    this.low = low;
    this.high = low + freq;
    this.other = other;
    this.low2 = low2;
    this.high2 = low2 + freq2;
    return this;
  }

  /** Σ freq(i) for i < s (0 ≤ s ≤ V; below(V) = T, whatever `cum` holds at V − 1). */
  below(s: number): number {
    if (s >= this.vocabSize) return T;
    if (this.cum) return s > 0 ? this.cum[this.at + s - 1] : 0;
    if (s === this.symbol) return this.low;
    if (s === this.symbol + 1) return this.high;
    if (s === this.other) return this.low2;
    if (s === this.other + 1) return this.high2;
    throw new Error(`internal: the LM row holds only tokens ${this.symbol} and ${this.other}, not the sum below ${s}`);
  }

  /** The LM's frequency of `token` (the last token's interval ends at T). */
  freq(token: number): number {
    return this.below(token + 1) - this.below(token);
  }
}

export class MixPredictor {
  readonly history: History;
  readonly unigram: UnigramCounts;
  /** The counts of every context (token orders, then record contexts), shared with the other rows. */
  private readonly table: ContextTable;
  /** Mixed into every context key, so the rows' contexts stay apart in the shared table. */
  private readonly salt: number;
  /** Match models, shortest minimum first. */
  readonly matches: MatchModel[];
  readonly record = new RecordModel();
  /** Mixers whose weight sets are chosen by different contexts, and the final mixer over their mixtures. */
  readonly mixers: Mixer[];
  readonly final: Mixer;
  /** Token orders K, then all contexts C = K + record contexts. */
  private readonly K: number;
  private readonly C: number;
  // This step's prediction, kept for the update once the token is known.
  private readonly sets: Int32Array;
  private finalSet = 0;
  private readonly mixed: Float64Array;
  private readonly hashes: Int32Array;
  /** This step's table key per context, and its bucket (−1: the context has no counts). */
  private readonly keys: Int32Array;
  private readonly entries: Int32Array;
  private readonly predicted: Int32Array;
  /** Whether this step's record contexts exist (a record length is chosen). */
  private haveRecord = false;
  /** Experts: LM, order 0, the C contexts, the matches. */
  private readonly E: number;
  private readonly vocabSize: number;
  /** C(s) = s + ⌊G(s)·scale⌋: the mass left after the floor of 1 per token and the margin. */
  private readonly scale: number;
  // This step's LM row and each expert's weight per count.
  private lm!: LmRow;
  private lmFactor = 0;
  private unigramFactor = 0;
  private readonly factors: Float64Array;
  private readonly apm = new Apm(MATCH_BUCKETS * LM_BUCKETS);
  private refined = false;
  private refToken = -1;
  private refRatio = 1;
  private refBelow = 0;
  private refAbove = 0;
  private refJump = 0;
  private readonly p: Float64Array;
  /** This step's effective weights (after lending), and per context (then match) whom it lent to. */
  private readonly cw: Float64Array;
  private readonly proxy: Int32Array;

  /** `tokenBytes`: each token's bytes, the record contexts' byte stream; `row`: this row's index in the batch sharing `tables`. */
  constructor(
    vocabSize: number,
    private readonly settings: MixSettings,
    private readonly tokenBytes: (token: number) => Uint8Array,
    tables: MixTables,
    row: number,
  ) {
    const K = (this.K = settings.orders.length);
    const C = (this.C = K + RECORD_CONTEXTS);
    this.unigram = new UnigramCounts(vocabSize);
    this.history = new History(tables.historyTokens);
    this.table = tables.contexts;
    this.salt = Math.imul(row + 1, 0x27d4eb2f);
    this.matches = settings.matchMin.map((m, j) => new MatchModel(this.history, m, tables.matches[j], this.salt));
    this.predicted = new Int32Array(this.matches.length);
    const E = (this.E = C + 2 + this.matches.length);
    this.vocabSize = vocabSize;
    this.scale = T - vocabSize - MARGIN;
    this.factors = new Float64Array(C);
    // Experts: LM, order 0, the contexts, the matches. The LM starts with most of the weight.
    const initial = [0.7, 0.05, ...Array.from({ length: C }, () => 0.05), ...this.matches.map(() => 0.1)];
    this.mixers = SELECTOR_SETS.map((n) => new Mixer(E, n, 1 / settings.rate, initial));
    this.final = new Mixer(SELECTOR_SETS.length, FINAL_SETS, 1 / settings.rate, SELECTOR_SETS.map(() => 1));
    this.sets = new Int32Array(SELECTOR_SETS.length);
    this.mixed = new Float64Array(SELECTOR_SETS.length);
    this.hashes = new Int32Array(C);
    this.keys = new Int32Array(C);
    this.entries = new Int32Array(C);
    this.p = new Float64Array(E);
    this.cw = new Float64Array(E);
    this.proxy = new Int32Array(C + 1);
  }

  /** The longest predicting match's bucket (the longest minimum that predicts). */
  private longestMatchBucket(): number {
    for (let j = this.matches.length - 1; j >= 0; j--) if (this.predicted[j] >= 0) return matchBucket(true, this.matches[j].length);
    return 0;
  }

  /** This step's context hashes and what each context has seen. */
  private findContexts(): void {
    const { K, C } = this;
    for (let k = 0; k < K; k++) this.hashes[k] = contextHash(this.history, this.settings.orders[k]);
    this.haveRecord = this.record.contexts(this.hashes, K);
    for (let c = 0; c < C; c++) {
      this.keys[c] = fmix(this.hashes[c] + this.salt);
      this.entries[c] = c < K || this.haveRecord ? this.table.find(this.keys[c]) : -1;
    }
  }

  /**
   * Set up this step's mixture from the LM's row and its confidence `maxFreq`: contexts, weight
   * sets, the experts' effective weights. O(contexts), never O(V): `cumulative`, `find` and
   * `probability` then read it.
   */
  predict(lm: LmRow, maxFreq: number): void {
    const { K, C } = this;
    this.lm = lm;
    this.findContexts();
    for (let j = 0; j < this.matches.length; j++) this.predicted[j] = this.matches[j].predicted();
    const t = this.table.t;
    const e = this.entries;
    const totalAt = (b: number) => (b < 0 ? 0 : totalOf(t, b));
    const mid = totalAt(e[Math.min(1, K - 1)]);
    const top = totalAt(e[K - 1]);
    const mb = this.longestMatchBucket();
    const lb = lmBucket(maxFreq);
    this.sets[0] = ((mb * LM_BUCKETS + lb) * MID_BUCKETS + midBucket(mid)) * TOP_BUCKETS + topBucket(top);
    this.sets[1] = ((confidence(t, e[Math.min(1, K - 1)]) * 6 + confidence(t, e[K - 1])) * 6 + confidence(t, e[K])) * 6 + confidence(t, e[K + 1]);
    this.sets[2] = this.history.length > 0 ? 1 + (this.history.last(1) & 1023) : 0;
    this.sets[3] = this.record.d1 > 0 ? 1 + (this.record.length % this.record.d1) : 0;
    this.finalSet = mb * LM_BUCKETS + lb;
    // An expert with nothing to say (empty context, no match) lends its weight to the next
    // model down that has something: a lower order, order 0, else the LM (PPM's back-off).
    // Record contexts and the matches lend to the highest token order that has something.
    const cw = this.cw;
    cw.fill(0);
    const v = this.final.weights;
    for (let m = 0; m < this.mixers.length; m++) {
      const w = this.mixers[m].weights;
      const set = this.sets[m] * this.E;
      const vm = v[this.finalSet * this.mixers.length + m];
      for (let i = 0; i < this.E; i++) cw[i] += vm * w[set + i];
    }
    const n0 = this.unigram.total;
    let below = n0 > 0 ? 1 : 0;
    for (let k = 0; k < K; k++) {
      this.proxy[k] = below;
      if (e[k] >= 0) below = 2 + k;
      else cw[below] += cw[2 + k];
    }
    for (let c = K; c <= C; c++) this.proxy[c] = below;
    for (let c = K; c < C; c++) if (e[c] < 0) cw[below] += cw[2 + c];
    for (let j = 0; j < this.matches.length; j++) if (this.predicted[j] < 0) cw[below] += cw[C + 2 + j];
    if (n0 === 0) cw[0] += cw[1];
    // Each expert's weight per count: its share of the mixture is factor × its count.
    this.lmFactor = cw[0] / T;
    this.unigramFactor = n0 > 0 ? cw[1] / n0 : 0;
    for (let c = 0; c < C; c++) this.factors[c] = e[c] >= 0 ? cw[2 + c] / totalOf(t, e[c]) : 0;
    this.refined = false;
    if (mb > 0) this.refineMatch(mb * LM_BUCKETS + lb);
  }

  /** The token the longest predicting match expects, or −1: the APM's event, and the encoder's second LM read (known before the LM's step). */
  matchToken(): number {
    for (let j = this.matches.length - 1; j >= 0; j--) {
      const x = this.matches[j].predicted();
      if (x >= 0) return x;
    }
    return -1;
  }

  /**
   * The APM stage (apm.ts) on "the next token is x*", x* the longest match's token, under match
   * length × LM confidence: x*'s mass p becomes the refined p', every other token's is scaled by
   * (1 − p')/(1 − p). As a cumulative: G'(s) = r·G(s) up to x*, then a jump of p', then r·(G(s) −
   * G(x* + 1)) on top, r = (1 − p')/(1 − p); built from G's own values at x* and x* + 1, so G'
   * never falls either. Skipped where 1 − p < 2⁻²⁰ (r stays ≤ 2²⁰, its rounding far inside the margin).
   */
  private refineMatch(context: number): void {
    const x = this.matchToken();
    if (x < 0) return;
    const a = this.massBelow(x);
    const b = this.massBelow(x + 1);
    const p = b - a;
    const u = 1 - p;
    if (!(u >= 2 ** -20 && u <= 1)) return;
    let v = this.apm.refine(u, context);
    v = (u + 3 * v) / 4; // the map's and the mixture's, as paq averages its SSE stages
    if (v < 2 ** -20) v = 2 ** -20;
    if (v > 1 - 2 ** -20) v = 1 - 2 ** -20;
    this.refined = true;
    this.refToken = x;
    this.refRatio = v / u;
    this.refBelow = a;
    this.refAbove = b;
    this.refJump = this.refRatio * a + (1 - v);
  }

  /**
   * The mixture's mass below `s`, G(s) = Σ over experts of factor × (its count below s): the LM's
   * cumulative table, order 0's Fenwick sum, a few slots per context, the matches' tokens.
   * One formula for every s, summed in one order, from non-negative terms that never fall as s
   * grows: IEEE rounding is monotone, so G never falls either, on either side.
   */
  private massBelow(s: number): number {
    let g = this.lmFactor * this.lm.below(s);
    g += this.unigramFactor * this.unigram.below(s);
    const t = this.table.t;
    for (let c = 0; c < this.C; c++) {
      const b = this.entries[c];
      if (b < 0) continue;
      let n = 0;
      const used = usedOf(t, b);
      for (let j = 0; j < used; j++) if (tokenAt(t, b, j) < s) n += countAt(t, b, j);
      g += this.factors[c] * n;
    }
    for (let j = 0; j < this.matches.length; j++) if (this.predicted[j] >= 0 && this.predicted[j] < s) g += this.cw[this.C + 2 + j];
    return g;
  }

  /**
   * The mixed table's cumulative frequency below `s` (0 ≤ s ≤ V): C(s) = s + ⌊G(s)·scale⌋, and
   * C(V) = T. Rising by ≥ 1 per token (every token codable), exact integers on both sides;
   * what rounding and the margin leave over belongs to the last token, as in the LM's tables.
   */
  cumulative(s: number): number {
    if (s >= this.vocabSize) return T;
    let g = this.massBelow(s);
    if (this.refined) g = s <= this.refToken ? this.refRatio * g : this.refJump + this.refRatio * (g - this.refAbove);
    return s + Math.floor(g * this.scale);
  }

  /** The decoder's token: the one whose interval [C(s), C(s + 1)) holds `target`, by bisection (O(log V) evaluations of C). */
  find(target: number): number {
    let lo = 0; // C(lo) ≤ target
    let hi = this.vocabSize; // C(hi) > target
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative(mid) <= target) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** The mixture's probability of `token` before quantization (the ideal column; statistics only). */
  probability(token: number): number {
    if (this.refined) return token === this.refToken ? this.refJump - this.refRatio * this.refBelow : this.refRatio * this.rawProbability(token);
    return this.rawProbability(token);
  }

  private rawProbability(token: number): number {
    let q = this.lmFactor * this.lm.freq(token) + this.unigramFactor * this.unigram.counts[token];
    const t = this.table.t;
    for (let c = 0; c < this.C; c++) if (this.entries[c] >= 0) q += this.factors[c] * countOf(t, this.entries[c], token);
    for (let j = 0; j < this.matches.length; j++) if (this.predicted[j] === token) q += this.cw[this.C + 2 + j];
    return q;
  }

  /** Learn the coded token: mixer weights first (from this step's prediction), then every model. */
  learn(token: number): void {
    if (this.refined) this.apm.update(token === this.refToken);
    const C = this.C;
    const p = this.p;
    p[0] = this.lm.freq(token) / T;
    p[1] = this.unigram.total > 0 ? this.unigram.counts[token] / this.unigram.total : p[0];
    // An expert that lent its weight is scored as the model it lent to (computed lowest first).
    const t = this.table.t;
    for (let c = 0; c < C; c++) {
      const b = this.entries[c];
      p[2 + c] = b >= 0 ? countOf(t, b, token) / totalOf(t, b) : p[this.proxy[c]];
    }
    for (let j = 0; j < this.matches.length; j++) p[C + 2 + j] = this.predicted[j] < 0 ? p[this.proxy[C]] : this.predicted[j] === token ? 1 : 0;
    // Each mixer learns from its own mixture's probability; the final one from theirs.
    for (let m = 0; m < this.mixers.length; m++) this.mixed[m] = this.mixers[m].mixture(this.sets[m], p);
    for (let m = 0; m < this.mixers.length; m++) this.mixers[m].update(this.sets[m], p, this.mixed[m]);
    this.final.update(this.finalSet, this.mixed, this.final.mixture(this.finalSet, this.mixed));
    this.add(token);
  }

  /** Context known to both sides before the first coded token (a primer): learned, not coded. */
  prime(token: number): void {
    this.findContexts();
    this.add(token);
  }

  /** Count `token` in every model under this step's contexts, then append it. */
  private add(token: number): void {
    this.unigram.add(token);
    for (let c = 0; c < this.C; c++) if (c < this.K || this.haveRecord) this.table.add(this.keys[c], token);
    this.history.push(token);
    for (const m of this.matches) m.update(token);
    this.record.push(this.tokenBytes(token));
  }
}
