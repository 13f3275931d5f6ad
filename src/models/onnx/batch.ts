/** The ONNX backend's batch kinds: the coding step in a derived graph, its whole tables (for the mix), and the logits for the JS quantizer. */
import type { Tensor } from 'onnxruntime-common';
import type { InferenceSession } from 'onnxruntime-common';
import type { CodingAnswer, CodingQuery, LogitsBatch, ModelBatch, TableBatch, TableReads, TableRows } from '../../step/language-model.js';
import { CODING_INPUTS, CODING_OUTPUTS, CUM_INPUTS, CUM_OUTPUT, CUM_OUTPUTS, TABLE_MAX_OUTPUT } from './coding-graph.js';
import { OnnxFeeds, int64Tensor, type FeedLayout, type StepFeeds } from './kv-feeds.js';

/** What the logits batch reads of its model (model.ts's `OnnxLanguageModel`). */
export interface LogitsSource extends FeedLayout {
  readonly contextLength: number;
  readonly vocabSize: number;
  /** The model as exported (the coding graphs may have replaced it). */
  logitsSession(): Promise<InferenceSession>;
}

/** `onnx-graph*`: the whole coding step in one `session.run` of a derived graph. */
export class GraphBatch implements ModelBatch {
  runSeconds = 0;
  private readonly symbolWords: Int32Array;
  private readonly targetWords: Int32Array;
  private readonly answer: CodingAnswer;

  constructor(
    readonly codingStep: string,
    private readonly session: Promise<InferenceSession>,
    private readonly feeds: StepFeeds,
    private readonly batch: number,
  ) {
    this.symbolWords = new Int32Array(2 * batch);
    this.targetWords = new Int32Array(2 * batch);
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    const B = this.batch;
    const feeds = this.feeds.make(tokens, n, reset);
    feeds[CODING_INPUTS.symbol] = int64Tensor(this.symbolWords, query.symbols, [B, 1]);
    feeds[CODING_INPUTS.target] = int64Tensor(this.targetWords, query.targets, [B, 1]);
    const session = await this.session;
    const t0 = performance.now();
    const out = await session.run(feeds);
    this.runSeconds += (performance.now() - t0) / 1000;
    this.feeds.keep(out);
    const symbols = out[CODING_OUTPUTS.symbol].data as BigInt64Array;
    const a = this.answer;
    for (let r = 0; r < B; r++) a.symbols[r] = Number(symbols[r]);
    a.low.set(out[CODING_OUTPUTS.low].data as Int32Array);
    a.freq.set(out[CODING_OUTPUTS.freq].data as Int32Array);
    a.log2p.set(out[CODING_OUTPUTS.log2p].data as Float64Array);
    return a;
  }
}

/**
 * `onnx-graph-static-kv-cum/1`: one `session.run` of the static-KV coding graph per step. The
 * decoder fetches every row's whole cumulative table (V numbers per row out of onnxruntime and
 * copied into JavaScript: at 4 rows of the 7m that copy cost as much again as the model's own
 * step); the encoder feeds its symbols and the mix's match tokens and fetches only their
 * intervals, out of the same tables.
 */
export class TableGraphBatch implements TableBatch {
  runSeconds = 0;
  private readonly zeros: Int32Array;
  private readonly words: Int32Array;
  private readonly targetWords: Int32Array;
  private readonly otherWords: Int32Array;
  /** Every output but the whole tables: the encoder's fetch. */
  private intervalFetches?: string[];

  constructor(
    readonly codingStep: string,
    private readonly session: Promise<InferenceSession>,
    private readonly feeds: StepFeeds,
    private readonly batch: number,
  ) {
    this.zeros = new Int32Array(batch);
    this.words = new Int32Array(2 * batch);
    this.targetWords = new Int32Array(2 * batch);
    this.otherWords = new Int32Array(2 * batch);
  }

  async forward(tokens: Int32Array, n: number, reset: boolean, reads?: TableReads): Promise<TableRows> {
    const B = this.batch;
    const feeds = this.feeds.make(tokens, n, reset);
    feeds[CODING_INPUTS.symbol] = int64Tensor(this.words, reads?.symbols ?? this.zeros, [B, 1]);
    feeds[CODING_INPUTS.target] = int64Tensor(this.targetWords, this.zeros, [B, 1]);
    feeds[CUM_INPUTS.symbol2] = int64Tensor(this.otherWords, reads?.others ?? this.zeros, [B, 1]);
    const session = await this.session;
    this.intervalFetches ??= session.outputNames.filter((name) => name !== CUM_OUTPUT);
    const t0 = performance.now();
    const out = await (reads ? session.run(feeds, this.intervalFetches) : session.run(feeds));
    this.runSeconds += (performance.now() - t0) / 1000;
    this.feeds.keep(out);
    // Every entry lies in [0, T]: the same bits read unsigned.
    const unsigned = (x: Int32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
    const max = unsigned(out[TABLE_MAX_OUTPUT].data as Int32Array);
    if (reads) {
      const ints = (name: string) => out[name].data as Int32Array;
      return { max, low: ints(CODING_OUTPUTS.low), freq: ints(CODING_OUTPUTS.freq), low2: ints(CUM_OUTPUTS.low2), freq2: ints(CUM_OUTPUTS.freq2) };
    }
    const cum = out[CUM_OUTPUT];
    return { max, cum: unsigned(cum.data as Int32Array), stride: Number(cum.dims[1]) };
  }
}

/** `js-quantizer/1`'s runtime half: the model as exported, last-position logits per row. */
export class LogitsOnnxBatch implements LogitsBatch {
  private readonly feeds: OnnxFeeds;

  constructor(
    private readonly model: LogitsSource,
    private readonly batch: number,
  ) {
    this.feeds = new OnnxFeeds(model, batch);
  }

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array> {
    const session = await this.model.logitsSession();
    const out = await session.run(this.feeds.make(tokens, n, reset));
    this.feeds.keep(out);
    const logits = out.logits as Tensor; // [batch, n, V], or [batch, 1, V] with num_logits_to_keep
    return lastPositionLogits(logits, this.batch, Number(logits.dims[1]), this.model.vocabSize);
  }
}
/** logits [batch, n, V] → the last position of each row, as float32 [batch, V]. */
function lastPositionLogits(logits: Tensor, batch: number, n: number, V: number): Float32Array {
  const out = new Float32Array(batch * V);
  const data = logits.data as Float32Array | Uint16Array;
  for (let r = 0; r < batch; r++) {
    const from = (r * n + n - 1) * V;
    if (data instanceof Float32Array) out.set(data.subarray(from, from + V), r * V);
    else for (let i = 0; i < V; i++) out[r * V + i] = halfToFloat(data[from + i]);
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
