/**
 * The `Compressor` boundary: everything the runner, `joint` and reports need from a
 * compressor, classic or model-driven; nothing outside `src/compressors/` names a concrete
 * compressor class (docs/design.md). What a model adds is optional here: `modelIdentity`,
 * `tokenizer`, and the conditional interface behind `isConditional`. Every compressor must be lossless:
 * `decompress(await compress(x))` returns exactly `x`, for any bytes (empty included).
 */
import type { ProgressHooks } from '../common/progress.js';
import type { LosslessTokenizer, ModelIdentity } from '../step/language-model.js';

export interface Compressor {
  /** Stable, human-readable name used in tables and records, e.g. `gzip:9`, `zstd:19:long`, `lm:gpt2-docmix-7m`. */
  readonly name: string;
  /** Family for grouping in reports: `gzip`, `zstd`, `brotli`, `xz`, `bzip2`, `external`, `lm`, `order-k`. */
  readonly family: string;
  /** Settings that produced `name` (level, window, model id...), recorded verbatim in run records. */
  readonly settings: Record<string, unknown>;
  /**
   * What shipping the decompressor costs, for Hutter-style totals:
   * for LMs the weight file(s) plus tokenizer; for classic compressors a documented constant
   * or a measured binary. `source` says which.
   */
  decompressorSize(): Promise<DecompressorSize>;
  /** How much earlier input this compressor can still use when coding later bytes (gzip: 32 KiB). */
  readonly reach: Reach;
  compress(input: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array>;
  decompress(archive: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array>;
  /** Extra per-run facts (ideal bits, tokens, time split) from the last compress call, if any. */
  lastStats?(): CompressStats | undefined;
  /** Release native resources (model sessions). */
  dispose?(): Promise<void>;
  /**
   * Model-driven compressors: the model's identity (id, hashes, dtype, runtime, files), from
   * which the runner builds the result's `model` record and the `seen` facts. Absent: a
   * compressor without a model (classic, external).
   */
  readonly modelIdentity?: ModelIdentity;
  /** When `reach.unit` is `tokens`: the tokenizer whose tokens the window counts (joint's reach split). */
  readonly tokenizer?: LosslessTokenizer;
}

/**
 * A compressor that can code an input after an uncharged context, C(input | context) (the LM
 * compressor primes its model with the context's last tokens). `joint` measures direct
 * conditional sizes through this; test for it with `isConditional`, never a concrete class.
 */
export interface ConditionalCompressor extends Compressor {
  /** Code `input` after the last `primerTokens` tokens of `context` (default: the compressor's setting). */
  compressAfter(input: Uint8Array, context: Uint8Array, hooks?: ProgressHooks, primerTokens?: number): Promise<Uint8Array>;
  /** The inverse: `context` must be the one given to `compressAfter`. */
  decompressAfter(archive: Uint8Array, context: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array>;
  lastStats(): CompressStats | undefined;
}

export function isConditional(c: Compressor): c is ConditionalCompressor {
  const x = c as Partial<ConditionalCompressor>;
  return typeof x.compressAfter === 'function' && typeof x.decompressAfter === 'function' && typeof x.lastStats === 'function';
}

export interface DecompressorSize {
  bytes: number;
  /** e.g. `measured: onnx/model.onnx + tokenizer.json` or `constant: zstd 1.5 static binary (documented)` */
  source: string;
}

/** How far back the compressor can see; `bytes` or `tokens` is the window, `Infinity` for unbounded. */
export interface Reach {
  unit: 'bytes' | 'tokens';
  window: number;
  note: string;
}

export interface CompressStats {
  /** Σ −log2 p over coded symbols: the ideal code length the coded stream is measured against. */
  idealBits?: number;
  tokens?: number;
  /** Input bytes coded as single-byte tokens because the tokenizer could not reproduce them. */
  byteFallbackBytes?: number;
  /** Seconds split by where time went (model forward, tokenizer, coder...). */
  timing?: Record<string, number>;
  /** The same split for the last decompress call. */
  decodeTiming?: Record<string, number>;
  /** Codec parameters that affect size (segments, context, prime), for the record. */
  codec?: Record<string, unknown>;
}

export type { ProgressHooks } from '../common/progress.js';
