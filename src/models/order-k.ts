/**
 * A classic adaptive order-k context model (Witten–Bell blending of orders 0..k, no weights)
 * behind the same `LanguageModel` interface as the neural models: a fast reference for tests,
 * a baseline row, and the proof that another backend fits without touching the coder.
 *
 * Two coding steps, named in every archive:
 * - `order-k-hash/2:<MiB>` (new archives): the blend taken bit by bit in fixed-size tables of
 *   `memory` MiB + 273 KiB (order-k/hashed.ts), so memory does not grow with the input, and the
 *   model hands the coder its interval directly (~2 MB/s on 2 shared cores). Archives of the
 *   first hashed step, `order-k-hash/1`, are refused in one line naming both steps.
 * - `js-quantizer/1` (archives made before it): exact byte contexts and 256-entry logits
 *   (order-k/legacy.ts), kept so those archives still decode byte-exact.
 *
 * Spec: `order-k[:K[:MEMMiB]]`, e.g. `order-k`, `order-k:3`, `order-k:4:256MiB`. The id names the
 * memory only when it is not the default, so `order-k:3` stays the row's name.
 */
import type { LanguageModel, LosslessTokenizer, ModelBatch, ModelIdentity } from '../step/language-model.js';
import { sha256 } from '../common/hash.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../step/js-quantizer-step.js';
import { START, VOCAB, openLegacyLogits } from './order-k/legacy.js';
import { HashedOrderKBatch, hashedStep } from './order-k/hashed.js';

export const DEFAULT_ORDER = 3;
/** The hashed tables' default size: on 10 MB of text (32 segments) 16 MiB costs 5.6% more bits, 32 MiB 2.1%, 128 MiB saves 0.8%; 64 MiB of RSS at most. */
export const DEFAULT_MEMORY_MIB = 64;
export const MAX_MEMORY_MIB = 2048;

export const byteTokenizer: LosslessTokenizer = {
  sha256: sha256('bytes'),
  encode: (bytes) => Int32Array.from(bytes),
  decode: (ids) => Uint8Array.from(ids),
};

export interface OrderKOptions {
  /** The hashed table's size in MiB: a power of two from 1 to MAX_MEMORY_MIB. */
  memoryMiB?: number;
}

export function createOrderKModel(order = DEFAULT_ORDER, options: OrderKOptions = {}): LanguageModel {
  const memoryMiB = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
  if (!Number.isInteger(order) || order < 0 || order > 6) throw new Error(`order-k: k must be 0..6, got ${order}`);
  if (!Number.isInteger(memoryMiB) || memoryMiB < 1 || memoryMiB > MAX_MEMORY_MIB || (memoryMiB & (memoryMiB - 1)) !== 0) {
    throw new Error(`order-k: memory must be a power of two from 1 to ${MAX_MEMORY_MIB} MiB, got ${memoryMiB}`);
  }
  const hashed = hashedStep(memoryMiB);
  const identity: ModelIdentity = {
    id: `order-k:${order}` + (memoryMiB === DEFAULT_MEMORY_MIB ? '' : `:${memoryMiB}MiB`),
    // The model's settings (k); the table size is in the coding step's name, which archives record and decoding matches.
    weightsSha256: sha256(`order-k witten-bell v1 k=${order}`),
    tokenizerSha256: byteTokenizer.sha256,
    dtype: 'none',
    device: 'cpu',
    runtime: 'typescript order-k',
    weightsBytes: 0,
    files: [],
  };
  return {
    identity,
    family: 'order-k',
    // Documented constant: the order-k backend ships as ~27 KB of source, no weights.
    decompressorSize: { bytes: 27 * 1024, source: 'constant: the order-k model source (order-k.ts + order-k/hashed.ts, about 27 KB), no weights' },
    contextLength: Infinity,
    vocabSize: VOCAB,
    startToken: START,
    tokenizer: byteTokenizer,
    codingSteps: [hashed, JS_QUANTIZER_KIND],
    open(batch: number, codingStep = hashed): ModelBatch {
      if (codingStep === hashed) return new HashedOrderKBatch(order, memoryMiB, batch);
      if (codingStep === JS_QUANTIZER_KIND) return new JsQuantizerBatch(openLegacyLogits(order, batch), batch, VOCAB);
      throw new Error(`order-k cannot run coding step ${codingStep} (it has: ${hashed}, ${JS_QUANTIZER_KIND})`);
    },
    // The mix reads logits: the legacy model's, so mix: archives keep their meaning.
    openLogits: (batch: number) => openLegacyLogits(order, batch),
    async dispose() {},
  };
}
