/**
 * The JavaScript reference coding step: a runtime's logits turned into integer tables by
 * `Quantizer` (frequencies.ts). Used by runtimes that only return logits (order-k, llama.cpp)
 * and as the fallback for ONNX graphs the coding-step derivation cannot handle. It costs O(V)
 * of JavaScript per row and token, which is why ONNX models normally run `onnx-graph/1`; where
 * the logits sit in native memory, rows are spread over worker threads (table-workers.ts).
 */
import type { CodingAnswer, CodingQuery, LogitsBatch, ModelBatch, TableBatch, TableRows } from './language-model.js';
import { Quantizer, cumulativeBelow, findSymbol, idealBits } from './frequencies.js';
import { TableWorkers } from './table-workers.js';

export { Quantizer };

export const JS_QUANTIZER_KIND = 'js-quantizer/1';

/**
 * Row r's answer from its logits at `offset`: the table, then the encoder's given symbol or the
 * decoder's symbol under its target, with its interval and log2 p. The one function every thread
 * runs, so the tables do not depend on which thread builds them.
 */
export function answerRow(
  q: Quantizer,
  freq: Uint32Array,
  logits: Float32Array,
  offset: number,
  r: number,
  query: Pick<CodingQuery, 'symbols' | 'targets'>,
  out: Pick<CodingAnswer, 'symbols' | 'low' | 'freq' | 'log2p'>,
): void {
  const table = q.quantize(logits, offset, freq);
  const symbol = answerFromTable(freq, r, query, out);
  out.log2p[r] = -idealBits(logits, offset, symbol, table);
}

/** Row r's symbol (the encoder's, or the decoder's under its target) and its interval in `freq`. */
export function answerFromTable(freq: Uint32Array, r: number, query: Pick<CodingQuery, 'symbols' | 'targets'>, out: Pick<CodingAnswer, 'symbols' | 'low' | 'freq'>): number {
  let symbol = query.symbols[r];
  let low: number;
  if (symbol < 0) ({ symbol, cum: low } = findSymbol(freq, query.targets[r]));
  else low = cumulativeBelow(freq, symbol);
  out.symbols[r] = symbol;
  out.low[r] = low;
  out.freq[r] = freq[symbol];
  return symbol;
}

/** `js-quantizer/1` as whole tables (`TableBatch`): a runtime's logits quantized row by row in JavaScript. */
export class JsQuantizerTables implements TableBatch {
  readonly codingStep = JS_QUANTIZER_KIND;
  runSeconds = 0;
  private readonly quantizer: Quantizer;
  /** One row's table, summed into `rows.cum`. */
  private readonly table: Uint32Array;
  private readonly rows: Required<Pick<TableRows, 'cum' | 'stride' | 'max'>>;

  constructor(
    private readonly logits: LogitsBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
  ) {
    this.quantizer = new Quantizer(vocabSize);
    this.table = new Uint32Array(vocabSize);
    this.rows = { cum: new Uint32Array(batch * vocabSize), stride: vocabSize, max: new Uint32Array(batch) };
  }

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<TableRows> {
    const t0 = performance.now();
    const logits = await this.logits.forward(tokens, n, reset);
    this.runSeconds += (performance.now() - t0) / 1000;
    const V = this.vocabSize;
    const { cum, max } = this.rows;
    const table = this.table;
    for (let r = 0; r < this.batch; r++) {
      const { argmax } = this.quantizer.quantize(logits, r * V, table);
      max[r] = table[argmax]; // the likeliest token's entry, rounding's leftover included
      let c = 0;
      for (let i = 0, at = r * V; i < V; i++) cum[at + i] = c += table[i];
    }
    return this.rows;
  }

  dispose(): void {
    this.logits.dispose?.();
  }
}

export class JsQuantizerBatch implements ModelBatch {
  private readonly quantizer: Quantizer;
  private readonly freq: Uint32Array;
  private readonly answer: CodingAnswer;
  private workers?: TableWorkers;
  runSeconds = 0;
  /** Seconds spent quantizing (outside the runtime). */
  quantizeSeconds = 0;

  constructor(
    private readonly logits: LogitsBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
    /** The name archives record: this step, or a runtime's variant of it (e.g. a different window slide). */
    readonly codingStep = JS_QUANTIZER_KIND,
    /** Worker threads for the tables when the runtime's logits have a native address (1: none). */
    threads = 1,
  ) {
    this.quantizer = new Quantizer(vocabSize);
    this.freq = new Uint32Array(vocabSize);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
    const workers = Math.min(threads, batch);
    if (workers > 1 && logits.logitsAddress) this.workers = new TableWorkers(workers, batch, vocabSize);
  }

  dispose(): void {
    this.logits.dispose?.();
    void this.workers?.dispose();
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    const t0 = performance.now();
    const logits = await this.logits.forward(tokens, n, reset);
    const t1 = performance.now();
    const address = this.workers ? this.logits.logitsAddress?.() : undefined;
    if (address !== undefined) await this.workers!.answer(address, query, this.answer);
    else {
      const V = this.vocabSize;
      for (let r = 0; r < this.batch; r++) if (query.active[r]) answerRow(this.quantizer, this.freq, logits, r * V, r, query, this.answer);
    }
    this.runSeconds += (t1 - t0) / 1000;
    this.quantizeSeconds += (performance.now() - t1) / 1000;
    return this.answer;
  }
}
