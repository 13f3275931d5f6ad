/**
 * The JavaScript reference coding step: a runtime's logits turned into integer tables by
 * `Quantizer` (frequencies.ts). Used by runtimes that only return logits (order-k) and as
 * the fallback for ONNX graphs the coding-step derivation cannot handle. It costs O(V) of
 * JavaScript per row and token, which is why ONNX models normally run `onnx-graph/1`.
 */
import type { CodingAnswer, CodingQuery, LogitsBatch, ModelBatch } from '../models/language-model.js';
import { Quantizer, cumulativeBelow, findSymbol, idealBits } from './frequencies.js';

export const JS_QUANTIZER_KIND = 'js-quantizer/1';

export class JsQuantizerBatch implements ModelBatch {
  private readonly quantizer: Quantizer;
  private readonly freq: Uint32Array;
  private readonly answer: CodingAnswer;
  runSeconds = 0;
  /** Seconds spent quantizing (outside the runtime). */
  quantizeSeconds = 0;

  constructor(
    private readonly logits: LogitsBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
    /** The name archives record: this step, or a runtime's variant of it (e.g. a different window slide). */
    readonly codingStep = JS_QUANTIZER_KIND,
  ) {
    this.quantizer = new Quantizer(vocabSize);
    this.freq = new Uint32Array(vocabSize);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
  }

  dispose(): void {
    this.logits.dispose?.();
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    const t0 = performance.now();
    const logits = await this.logits.forward(tokens, n, reset);
    const t1 = performance.now();
    const V = this.vocabSize;
    const a = this.answer;
    for (let r = 0; r < this.batch; r++) {
      if (!query.active[r]) continue;
      const table = this.quantizer.quantize(logits, r * V, this.freq);
      let symbol = query.symbols[r];
      let low: number;
      if (symbol < 0) ({ symbol, cum: low } = findSymbol(this.freq, query.targets[r]));
      else low = cumulativeBelow(this.freq, symbol);
      a.symbols[r] = symbol;
      a.low[r] = low;
      a.freq[r] = this.freq[symbol];
      a.log2p[r] = -idealBits(logits, r * V, symbol, table);
    }
    this.runSeconds += (t1 - t0) / 1000;
    this.quantizeSeconds += (performance.now() - t1) / 1000;
    return a;
  }
}
