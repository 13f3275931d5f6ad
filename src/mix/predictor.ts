/**
 * The mixing predictor of one segment: everything it has learned and the two calls the coding
 * loop makes per token, `predict` (the mixed integer table from the LM's) and `learn` (the
 * coded token). Encoder and decoder call them with the same values in the same order, so they
 * hold the same state.
 *
 * Experts: the LM, order 0, hashed contexts of the last 1, 2, 4 and 6 tokens, four record
 * contexts over the bytes (record-model.ts), and match models of 3, 6, 12 and 24 tokens
 * (token-models.ts). Four mixers each pick a weight set by their own context — match length ×
 * the LM's confidence × how much orders 2 and 6 have seen; how sure four contexts are; the
 * last token; the column within the record — and a final mixer weighs their mixtures. All are
 * linear, so the final distribution is one weighted sum of the experts' (one O(V) pass).
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

const T = FREQUENCY_TOTAL;
/** Table mass held back from rounding, so Σ floor(q·scale) can never exceed the total; it goes to the likeliest token. */
const MARGIN = 4096;

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
   * Fill `q` with the mixture (Σ q = 1) and `out` with its integer table; O(V). `maxFreq`: the
   * LM table's largest frequency. `symbol` ≥ 0 (the encoder's): returns the cumulative
   * frequency below it, found in the same pass (else 0; the decoder searches `out`).
   */
  predict(lmFreq: Uint32Array, maxFreq: number, q: Float64Array, out: Uint32Array, symbol = -1): number {
    const V = lmFreq.length;
    const { K, C } = this;
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
      const at = this.sets[m] * this.E;
      const vm = v[this.finalSet * this.mixers.length + m];
      for (let i = 0; i < this.E; i++) cw[i] += vm * w[at + i];
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
    const wLm = cw[0];
    const a = wLm / T;
    const counts = this.unigram.counts;
    // One pass over the vocabulary for the dense experts (LM, order 0): q, its integer table
    // (a floor of 1 for every token), their sum, the likeliest token and the encoder's
    // cumulative frequency. The sparse experts then touch a few tokens each, and only those
    // entries are recomputed: the table a second full pass would give (up to which of tied
    // likeliest tokens takes the leftover), at O(slots) instead of O(V).
    const scale = T - V - MARGIN;
    const b0 = n0 > 0 ? cw[1] / n0 : 0;
    const split = symbol < 0 ? 0 : symbol;
    let assigned = 0;
    let best = 0;
    let cum = 0;
    let qTop = -1;
    for (let i = 0; i < split; i++) {
      const x = a * lmFreq[i] + b0 * counts[i];
      q[i] = x;
      const f = 1 + Math.floor(x * scale);
      out[i] = f;
      cum += f;
      if (x > qTop) {
        qTop = x;
        best = i;
      }
    }
    assigned = cum;
    for (let i = split; i < V; i++) {
      const x = a * lmFreq[i] + b0 * counts[i];
      q[i] = x;
      const f = 1 + Math.floor(x * scale);
      out[i] = f;
      assigned += f;
      if (x > qTop) {
        qTop = x;
        best = i;
      }
    }
    const touch = (token: number, w: number) => {
      const x = (q[token] += w);
      const f = 1 + Math.floor(x * scale);
      const d = f - out[token];
      out[token] = f;
      assigned += d;
      if (token < split) cum += d;
      if (x > q[best]) best = token; // q[best] may itself have grown
    };
    for (let c = 0; c < C; c++) {
      const b = e[c];
      if (b < 0) continue;
      const f = cw[2 + c] / totalOf(t, b);
      const used = usedOf(t, b);
      for (let j = 0; j < used; j++) touch(tokenAt(t, b, j), f * countAt(t, b, j));
    }
    for (let j = 0; j < this.matches.length; j++) if (this.predicted[j] >= 0) touch(this.predicted[j], cw[C + 2 + j]);
    // Rounding's leftover goes to the likeliest token.
    out[best] += T - assigned;
    if (best < split) cum += T - assigned;
    return cum;
  }

  /** Learn the coded token: mixer weights first (from this step's prediction), then every model. */
  learn(token: number, lmFreq: Uint32Array, q: Float64Array): void {
    const C = this.C;
    const p = this.p;
    p[0] = lmFreq[token] / T;
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
