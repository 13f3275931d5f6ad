/**
 * `mix:<model>`: a `LanguageModel` whose next-token table mixes the wrapped LM's distribution
 * with online token models (match, order 0, hashed context orders) that learn the segment as
 * it is coded. It plugs into the unchanged LM codec and container: its one coding step is
 * named `mix/1:…+js-quantizer/1` (settings.ts), so a mix archive records the mixer, and the
 * LM's identity as usual, and decoding with another model, mixer or step is refused.
 *
 * The LM's whole distribution is needed per row, so the mix runs the LM's logits path
 * (`LanguageModel.openLogits`) and the JS `Quantizer` — the `js-quantizer/1` step — and
 * mixes that integer table; the in-graph steps return only the coded symbol's interval.
 *
 * History: each row (segment) mixes over its own tokens so far, primer included. Rows are
 * coded in lockstep, so a copy in another segment sits at the same step as its source and
 * could not be predicted from it; the `mix:` compressor therefore codes one segment by
 * default, and its match model sees the whole input.
 *
 * Cost per token and row: the LM step, the JS quantizer (O(V)), one O(V) mixing pass and
 * one O(V) table pass, plus O(orders × slots) for the sparse models.
 */
import type { CodingAnswer, CodingQuery, LanguageModel, LogitsBatch, ModelBatch } from '../models/language-model.js';
import { FREQUENCY_TOTAL, Quantizer } from '../coding/frequencies.js';
import { JS_QUANTIZER_KIND, answerFromTable } from '../coding/js-quantizer-step.js';
import { Mixer } from './mixer.js';
import { checkMixSettings, mixerName, DEFAULT_MIX_SETTINGS, type MixSettings } from './settings.js';
import { ContextCounts, History, MatchModel, UnigramCounts, contextHash, type ContextEntry } from './token-models.js';

export class MixUnsupportedError extends Error {}

const T = FREQUENCY_TOTAL;
/** Table mass held back from rounding, so Σ floor(q·scale) can never exceed the total; it goes to the likeliest token. */
const MARGIN = 4096;

/** Buckets of the mixer's weight-set context. */
const MATCH_BUCKETS = 7;
const LM_BUCKETS = 4;
const MID_BUCKETS = 4;
const TOP_BUCKETS = 3;
const SETS = MATCH_BUCKETS * LM_BUCKETS * MID_BUCKETS * TOP_BUCKETS;

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

/** Everything one segment has learned. */
class RowState {
  readonly history = new History();
  readonly unigram: UnigramCounts;
  readonly contexts: ContextCounts[];
  readonly match: MatchModel;
  readonly mixer: Mixer;
  // This step's prediction, kept for the update once the token is known.
  private set = 0;
  private readonly hashes: Int32Array;
  private readonly entries: (ContextEntry | undefined)[];
  private predicted = -1;
  private readonly p: Float64Array;
  /** This step's effective weights (after lending), and per order (then match) whom it lent to. */
  private readonly cw: Float64Array;
  private readonly proxy: Int32Array;

  constructor(
    vocabSize: number,
    private readonly settings: MixSettings,
  ) {
    const K = settings.orders.length;
    this.unigram = new UnigramCounts(vocabSize);
    this.contexts = settings.orders.map((k) => new ContextCounts(k));
    this.match = new MatchModel(this.history, settings.matchMin);
    // Experts: LM, order 0, the context orders, match. The LM starts with most of the weight.
    this.mixer = new Mixer(K + 3, SETS, 1 / settings.rate, [0.7, 0.05, ...settings.orders.map(() => 0.05), 0.1]);
    this.hashes = new Int32Array(K);
    this.entries = new Array(K);
    this.p = new Float64Array(K + 3);
    this.cw = new Float64Array(K + 3);
    this.proxy = new Int32Array(K + 1);
  }

  /** Fill `q` with the mixture (Σ q = 1) and `out` with its integer table; O(V). `maxFreq`: the LM table's largest frequency. */
  predict(lmFreq: Uint32Array, maxFreq: number, q: Float64Array, out: Uint32Array): void {
    const V = lmFreq.length;
    const K = this.settings.orders.length;
    for (let k = 0; k < K; k++) {
      this.hashes[k] = contextHash(this.history, this.settings.orders[k]);
      this.entries[k] = this.contexts[k].get(this.hashes[k]);
    }
    this.predicted = this.match.predicted();
    const mid = this.entries[Math.min(1, K - 1)]?.total ?? 0;
    const top = this.entries[K - 1]?.total ?? 0;
    this.set = ((matchBucket(this.predicted >= 0, this.match.length) * LM_BUCKETS + lmBucket(maxFreq)) * MID_BUCKETS + midBucket(mid)) * TOP_BUCKETS + topBucket(top);
    const w = this.mixer.weights;
    const at = this.set * (K + 3);
    // An expert with nothing to say (empty context, no match) lends its weight to the next
    // model down that has something: a lower order, order 0, else the LM (PPM's back-off).
    const cw = this.cw;
    for (let i = 0; i < K + 3; i++) cw[i] = w[at + i];
    const n0 = this.unigram.total;
    let below = n0 > 0 ? 1 : 0;
    for (let k = 0; k < K; k++) {
      this.proxy[k] = below;
      if (this.entries[k]) below = 2 + k;
      else cw[below] += cw[2 + k];
    }
    this.proxy[K] = below;
    if (this.predicted < 0) cw[below] += cw[K + 2];
    if (n0 === 0) cw[0] += cw[1];
    const wLm = cw[0];
    const a = wLm / T;
    const counts = this.unigram.counts;
    if (n0 > 0) {
      const b = cw[1] / n0;
      for (let i = 0; i < V; i++) q[i] = a * lmFreq[i] + b * counts[i];
    } else for (let i = 0; i < V; i++) q[i] = a * lmFreq[i];
    for (let k = 0; k < K; k++) {
      const e = this.entries[k];
      if (!e) continue;
      const c = cw[2 + k] / e.total;
      for (let j = 0; j < e.used; j++) q[e.tokens[j]] += c * e.counts[j];
    }
    if (this.predicted >= 0) q[this.predicted] += cw[K + 2];
    // Integer table: a floor of 1 for every token, rounding's leftover to the likeliest one.
    const scale = T - V - MARGIN;
    let assigned = 0;
    let best = 0;
    for (let i = 0; i < V; i++) {
      const f = 1 + Math.floor(q[i] * scale);
      out[i] = f;
      assigned += f;
      if (q[i] > q[best]) best = i;
    }
    out[best] += T - assigned;
  }

  /** Learn the coded token: mixer weights first (from this step's prediction), then every model. */
  learn(token: number, lmFreq: Uint32Array, q: Float64Array): void {
    const K = this.settings.orders.length;
    const p = this.p;
    p[0] = lmFreq[token] / T;
    p[1] = this.unigram.total > 0 ? this.unigram.counts[token] / this.unigram.total : p[0];
    // An expert that lent its weight is scored as the model it lent to (computed lowest first).
    for (let k = 0; k < K; k++) {
      const e = this.entries[k];
      p[2 + k] = e ? e.countOf(token) / e.total : p[this.proxy[k]];
    }
    p[K + 2] = this.predicted < 0 ? p[this.proxy[K]] : this.predicted === token ? 1 : 0;
    this.mixer.update(this.set, p, q[token]);
    this.unigram.add(token);
    for (let k = 0; k < K; k++) this.contexts[k].add(this.hashes[k], token);
    this.history.push(token);
    this.match.update(token);
  }

  /** Context known to both sides before the first coded token (a primer): learned, not coded. */
  prime(token: number): void {
    this.unigram.add(token);
    for (let k = 0; k < this.contexts.length; k++) this.contexts[k].add(contextHash(this.history, this.settings.orders[k]), token);
    this.history.push(token);
    this.match.update(token);
  }
}

class MixBatch implements ModelBatch {
  runSeconds = 0;
  private readonly quantizer: Quantizer;
  private readonly lmFreq: Uint32Array;
  private readonly q: Float64Array;
  private readonly freq: Uint32Array;
  private readonly rows: RowState[];
  private started = false;
  private readonly answer: CodingAnswer;

  constructor(
    readonly codingStep: string,
    private readonly logits: LogitsBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
    settings: MixSettings,
  ) {
    this.quantizer = new Quantizer(vocabSize);
    this.lmFreq = new Uint32Array(vocabSize);
    this.q = new Float64Array(vocabSize);
    this.freq = new Uint32Array(vocabSize);
    this.rows = Array.from({ length: batch }, () => new RowState(vocabSize, settings));
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
  }

  dispose(): void {
    this.logits.dispose?.();
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    if (!this.started) {
      // The first call feeds [start token, …primer] per row (lm-codec's SegmentStepper).
      for (let r = 0; r < this.batch; r++) for (let i = 1; i < n; i++) this.rows[r].prime(tokens[r * n + i]);
      this.started = true;
    }
    const t0 = performance.now();
    const logits = await this.logits.forward(tokens, n, reset);
    this.runSeconds += (performance.now() - t0) / 1000;
    const V = this.vocabSize;
    const a = this.answer;
    for (let r = 0; r < this.batch; r++) {
      if (!query.active[r]) continue;
      const { argmax } = this.quantizer.quantize(logits, r * V, this.lmFreq);
      const row = this.rows[r];
      row.predict(this.lmFreq, this.lmFreq[argmax], this.q, this.freq);
      const symbol = answerFromTable(this.freq, r, query, a);
      a.log2p[r] = Math.log2(this.q[symbol]); // statistics only: never feeds a table
      row.learn(symbol, this.lmFreq, this.q);
    }
    return a;
  }
}

/** Wrap `inner` as the mix (throws when its runtime returns no logits). */
export class MixModel implements LanguageModel {
  readonly codingSteps: readonly string[];
  readonly settings: MixSettings;

  constructor(
    readonly inner: LanguageModel,
    settings: MixSettings = DEFAULT_MIX_SETTINGS,
  ) {
    if (!inner.openLogits) {
      throw new MixUnsupportedError(`mix:${inner.identity.id}: this model's runtime (${inner.identity.runtime}) returns no logits, which the mix needs`);
    }
    this.settings = checkMixSettings({ ...settings, orders: [...settings.orders] });
    this.codingSteps = [`${mixerName(this.settings)}+${JS_QUANTIZER_KIND}`];
  }

  get identity() {
    return this.inner.identity;
  }
  get contextLength() {
    return this.inner.contextLength;
  }
  get vocabSize() {
    return this.inner.vocabSize;
  }
  get startToken() {
    return this.inner.startToken;
  }
  get tokenizer() {
    return this.inner.tokenizer;
  }

  open(batch: number, codingStep = this.codingSteps[0]): ModelBatch {
    if (codingStep !== this.codingSteps[0]) throw new MixUnsupportedError(`mix:${this.identity.id} runs coding step ${this.codingSteps[0]}, not ${codingStep}`);
    return new MixBatch(codingStep, this.inner.openLogits!(batch), batch, this.vocabSize, this.settings);
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
