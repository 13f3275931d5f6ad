/**
 * The `LanguageModel` boundary: all the LM codec knows about a model. Any backend (ONNX via
 * transformers.js, the order-k context model, a future llama.cpp binding) fits behind it
 * without touching the coder.
 */
export interface LanguageModel {
  readonly identity: ModelIdentity;
  /**
   * How names and reports group it: `lm` (a neural model, named `lm:ID[:DTYPE]`; the default),
   * `order-k` (adaptive counts, named by its id), `mix` (`mix:ID[:DTYPE]`).
   */
  readonly family?: ModelFamily;
  /**
   * Segments for `segments: auto` when the model needs a fixed count (the mix: 1, its match
   * model reaches over its whole segment). Absent: the codec's rule (one per 4096 tokens).
   */
  readonly defaultSegments?: number;
  /**
   * What shipping the decompressor costs when the weight files do not say it (order-k: its
   * source, no weights). Absent: the bytes of `identity.files`, measured.
   */
  readonly decompressorSize?: { bytes: number; source: string };
  /** What the model sees beyond its context window, for the record's reach note (the mix's match model). */
  readonly reachNote?: string;
  /** Most positions one forward may attend to (past + new); `Infinity` when unbounded. */
  readonly contextLength: number;
  /** Width of each logits row (may exceed the tokenizer's vocabulary, e.g. padded heads). */
  readonly vocabSize: number;
  /** Fed before the first symbol of every segment, so the first token is predicted too. */
  readonly startToken: number;
  readonly tokenizer: LosslessTokenizer;
  /**
   * The coding steps this model can run, preferred first: e.g. `onnx-graph/1` (computed
   * inside the runtime's graph) and `js-quantizer/1` (logits turned into tables in JS).
   * Archives record the one used; decoding with another is refused.
   */
  readonly codingSteps: readonly string[];
  /**
   * Which coding step slides the window how, where a runtime offers a choice (`--context-shift`):
   * `reprime` recomputes the kept tokens, `kv` moves their cache cells (llama.cpp). Absent: every
   * step re-primes.
   */
  readonly contextShifts?: { reprime: string; kv: string };
  /** Open `batch` independent sequences (segments) stepped together, with one coding step. */
  open(batch: number, codingStep?: string): ModelBatch;
  /**
   * Optional: the raw next-token logits of `batch` rows (the runtime half of `js-quantizer/1`),
   * for compressors that combine the LM's whole distribution with other models (`mix:`).
   */
  openLogits?(batch: number): LogitsBatch;
  /**
   * Optional: the coding step whose whole integer tables `openTables` returns (the ONNX
   * static-KV graph's `onnx-graph-static-kv-cum/1`). Absent: no tables, only `openLogits`.
   */
  readonly tableStep?: string;
  /** Optional: `batch` rows' whole next-token tables computed in the runtime (the mix's fast path). */
  openTables?(batch: number): TableBatch;
  dispose(): Promise<void>;
}

export type ModelFamily = 'lm' | 'order-k' | 'mix';

/**
 * The one shared coding step (docs/design.md): feed `n` tokens per row (`tokens` is batch × n,
 * row-major; with `reset` the cache is dropped first and `tokens` is a fresh prefix, as when
 * re-priming a sliding window), then for every active row return the interval of a symbol
 * in the integer frequency table (total `FREQUENCY_TOTAL`) built from the model's
 * next-token distribution. The encoder asks for given symbols; the decoder gives −1 and the
 * coder's target, and gets the symbol whose interval holds it. Encoder and decoder make the
 * same calls with the same shapes, so they build the same tables.
 */
export interface ModelBatch {
  readonly codingStep: string;
  step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer>;
  /** Seconds spent inside the runtime's own call (e.g. `session.run`), for the bench. */
  readonly runSeconds?: number;
  /** Free native state now (the codec calls it when its run ends); runtimes whose memory the GC frees leave it out. */
  dispose?(): void;
}

export interface CodingQuery {
  /** Per row: the symbol to code (encoder), or −1 to find it from `targets` (decoder). */
  symbols: Int32Array;
  /** Per row: the decoder's target in [0, total); ignored where a symbol is given. */
  targets: Int32Array;
  /** Per row: 0 for rows past their end (stepped for shape only; answers ignored). */
  active: Uint8Array;
}

/** Per row: the symbol, its interval [low, low + freq) and log2 p under the model's own softmax. */
export interface CodingAnswer {
  symbols: Int32Array;
  low: Int32Array;
  freq: Int32Array;
  log2p: Float64Array;
}

/** A runtime that returns logits; `js-quantizer` turns them into the coding step. */
export interface LogitsBatch {
  /** Logits predicting the next token of every row: batch × vocabSize, row-major. */
  forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array>;
  /** Where the last `forward`'s logits lie in native memory, if they do (worker threads read them there). */
  logitsAddress?(): bigint | undefined;
  dispose?(): void;
}

/**
 * A runtime's integer tables, whole: for every row the next-token frequencies (each ≥ 1,
 * Σ = FREQUENCY_TOTAL) as cumulative sums. The same `step` contract as `ModelBatch` (same
 * calls, same shapes on both sides), without the symbol lookup: the caller (the mix) combines
 * the tables with its own models first.
 */
export interface TableBatch {
  /** The step that made the tables, as archives record it (`onnx-graph-static-kv-cum/1`, `js-quantizer/1`). */
  readonly codingStep: string;
  /**
   * `reads` (the encoder's: per row its symbol and one other token ≥ 0): the step may return
   * only those two intervals per row (`low`/`freq`, `low2`/`freq2`) instead of whole rows, which
   * is all an encoder reads; without them (the decoder) it returns whole rows (`cum`). Either
   * from the same tables.
   */
  forward(tokens: Int32Array, n: number, reset: boolean, reads?: TableReads): Promise<TableRows>;
  /** Seconds inside the runtime's own call. */
  readonly runSeconds?: number;
  dispose?(): void;
}

/**
 * One `TableBatch.forward`. Whole rows: row r's table is `cum[r·stride + s]` = Σ freq(i) for
 * i ≤ s, s < V (stride ≥ V); the last symbol's interval always ends at FREQUENCY_TOTAL
 * (rounding's leftover is its own, whatever `cum` holds there), so below(s) = s > 0 ? cum[s − 1]
 * : 0 in O(1). Or, for given symbols, per row `low` = below(symbol) and its `freq` (the last
 * symbol's with the leftover), and `low2`/`freq2` of the other token read. `max`: per row, the LM's confidence (about its largest frequency;
 * each step says how it takes it).
 */
export interface TableRows {
  max: Uint32Array;
  cum?: Uint32Array;
  stride?: number;
  low?: Int32Array;
  freq?: Int32Array;
  low2?: Int32Array;
  freq2?: Int32Array;
}

/** The encoder's reads of a `TableBatch.forward`: per row its symbol, and one other token. */
export interface TableReads {
  symbols: Int32Array;
  others: Int32Array;
}

export interface ModelIdentity {
  /** As the user named it (`gpt2`, a Hub id, a folder name, `order-k:3`). */
  id: string;
  /** SHA-256 of the weight file(s) as stored (for weightless models: of their settings). */
  weightsSha256: string;
  tokenizerSha256: string;
  dtype: string;
  device: string;
  /** e.g. `onnxruntime-node 1.30.0 cpu`, `typescript order-k`: floating point may differ elsewhere. */
  runtime: string;
  /**
   * The runtime packages that computed the model's numbers and their versions, filled by the
   * backend (`{ "onnxruntime-node": "1.30.0" }`, `{ "node-llama-cpp": "3.21.1", … }`); records
   * keep their union as `environment.runtimes`. Absent: none (order-k is plain TypeScript).
   */
  runtimes?: Record<string, string>;
  /** Bytes a decompressor must ship: weights + tokenizer files (Hutter accounting). */
  weightsBytes: number;
  files: string[];
  parameters?: number;
}

/**
 * Bytes ⇄ token ids, lossless for every byte sequence: decode(encode(x)) === x for binary
 * data, invalid UTF-8, NUL bytes, CRLF. Decoding never re-tokenizes, it maps ids to bytes.
 */
export interface LosslessTokenizer {
  readonly sha256: string;
  encode(bytes: Uint8Array): Int32Array;
  decode(ids: Int32Array): Uint8Array;
  /** About the last `encode`: bytes coded as single-byte tokens because the tokenizer could not reproduce them. */
  readonly lastStats?: { bytes: number; tokens: number; byteFallbackBytes: number };
}
