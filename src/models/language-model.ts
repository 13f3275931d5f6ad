/**
 * The `LanguageModel` boundary: all the LM codec knows about a model. Any backend (ONNX via
 * transformers.js, the order-k context model, a future llama.cpp binding) fits behind it
 * without touching the coder.
 */
export interface LanguageModel {
  readonly identity: ModelIdentity;
  /** Most positions one forward may attend to (past + new); `Infinity` when unbounded. */
  readonly contextLength: number;
  /** Width of each logits row (may exceed the tokenizer's vocabulary, e.g. padded heads). */
  readonly vocabSize: number;
  /** Fed before the first symbol of every segment, so the first token is predicted too. */
  readonly startToken: number;
  readonly tokenizer: LosslessTokenizer;
  /** Open `batch` independent sequences (segments) that are stepped together. */
  open(batch: number): ModelBatch;
  dispose(): Promise<void>;
}

export interface ModelBatch {
  /**
   * Feed `n` tokens per row (`tokens` is batch × n, row-major) and return the logits that
   * predict the next token of every row (batch × vocabSize, row-major). With `reset`, the
   * cache is discarded first and `tokens` is a fresh prefix (re-priming a sliding window).
   */
  forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array>;
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
