/**
 * `mix:<model>`: a `LanguageModel` whose next-token table mixes the wrapped LM's distribution
 * with online models (matches, order 0, hashed token contexts, record contexts over the
 * tokens' bytes; predictor.ts) that learn the segment as it is coded. It plugs into the
 * unchanged LM codec and container: its one coding step is named `mix/2:…+js-quantizer/1`
 * (settings.ts), so a mix archive records the mixer, and the LM's identity as usual, and
 * decoding with another model, mixer or step is refused.
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
 * one O(V) table pass, plus O(contexts × slots) for the sparse models and O(256) per byte
 * for the record-length search.
 */
import type { CodingAnswer, CodingQuery, LanguageModel, LogitsBatch, ModelBatch } from '../step/language-model.js';
import { Quantizer } from '../step/frequencies.js';
import { JS_QUANTIZER_KIND, answerFromTable } from '../step/js-quantizer-step.js';
import { MixPredictor } from './predictor.js';
import { checkMixSettings, mixerName, DEFAULT_MIX_SETTINGS, type MixSettings } from './settings.js';

export class MixUnsupportedError extends Error {}

class MixBatch implements ModelBatch {
  runSeconds = 0;
  private readonly quantizer: Quantizer;
  private readonly lmFreq: Uint32Array;
  private readonly q: Float64Array;
  private readonly freq: Uint32Array;
  private readonly rows: MixPredictor[];
  private started = false;
  private readonly answer: CodingAnswer;

  constructor(
    readonly codingStep: string,
    private readonly logits: LogitsBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
    settings: MixSettings,
    tokenBytes: readonly Uint8Array[],
  ) {
    this.quantizer = new Quantizer(vocabSize);
    this.lmFreq = new Uint32Array(vocabSize);
    this.q = new Float64Array(vocabSize);
    this.freq = new Uint32Array(vocabSize);
    this.rows = Array.from({ length: batch }, () => new MixPredictor(vocabSize, settings, (t) => tokenBytes[t]));
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
    this.settings = checkMixSettings({ ...settings, orders: [...settings.orders], matchMin: [...settings.matchMin] });
    this.codingSteps = [`${mixerName(this.settings)}+${JS_QUANTIZER_KIND}`];
  }

  readonly family = 'mix';
  /** The match model reaches over its whole segment: `auto` means one segment. */
  readonly defaultSegments = 1;
  readonly reachNote = 'the mixed match and context models see the whole segment';

  get identity() {
    return this.inner.identity;
  }
  get decompressorSize() {
    return this.inner.decompressorSize;
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

  private bytesOfTokens?: Uint8Array[];
  /** Every token id's bytes (the record contexts' byte stream), decoded once per model; ids the tokenizer cannot decode alone (padding) have none. */
  private tokenBytes(): Uint8Array[] {
    if (!this.bytesOfTokens) {
      const id = new Int32Array(1);
      this.bytesOfTokens = Array.from({ length: this.vocabSize }, (_, t) => {
        id[0] = t;
        try {
          return this.tokenizer.decode(id);
        } catch {
          return new Uint8Array(0);
        }
      });
    }
    return this.bytesOfTokens;
  }

  open(batch: number, codingStep = this.codingSteps[0]): ModelBatch {
    if (codingStep !== this.codingSteps[0]) throw new MixUnsupportedError(`mix:${this.identity.id} runs coding step ${this.codingSteps[0]}, not ${codingStep}`);
    return new MixBatch(codingStep, this.inner.openLogits!(batch), batch, this.vocabSize, this.settings, this.tokenBytes());
  }

  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
