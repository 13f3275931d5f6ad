/**
 * llama.cpp contexts: one per batch with one KV sequence per row (`LlamaCppBatch`, the logits
 * the JS quantizer reads in place), and the probe of whether a model's cache can shift.
 */
import type { LogitsBatch } from '../../step/language-model.js';
import { addressOf, allocBatch, viewOf, type BatchViews, type LlamaApi } from './llama-api.js';
import { GgufModelError } from './errors.js';

/** Whether llama.cpp can shift this model's KV cache (asked of a one-row context). */
export function canShift(api: LlamaApi, model: unknown, threads: number): boolean {
  const p = api.contextDefaults();
  Object.assign(p, { n_ctx: 256, n_batch: 256, n_ubatch: 256, n_seq_max: 1, n_threads: threads, n_threads_batch: threads, no_perf: true });
  const ctx = api.initContext(model, p);
  if (!ctx) return false;
  try {
    return api.canShift(api.memory(ctx));
  } finally {
    api.freeContext(ctx);
  }
}

export interface ContextSettings {
  contextLength: number;
  vocabSize: number;
  threads: number;
  flashAttention: boolean;
}

/** Tokens per `llama_decode`: a re-prime of many rows is cut into calls of this size (the same cuts on both sides). */
const MAX_DECODE_TOKENS = 2048;

/**
 * One llama.cpp context with one KV sequence per row. Each step: drop the rows' caches on a
 * reset, add every row's `n` tokens (an output at the last), decode, and hand the rows' logits
 * to the quantizer. Rows are stepped even past their end (the coder ignores them) so that every
 * call has the same shape on both sides.
 */
export class LlamaCppBatch implements LogitsBatch {
  private ctx: unknown;
  private batchViews?: BatchViews;
  private past = 0;
  private out?: Float32Array;
  /** Native address of the last forward's logits, when one decode call held every row. */
  private address?: bigint;

  constructor(
    private readonly api: LlamaApi,
    private readonly model: unknown,
    private readonly batch: number,
    private readonly settings: ContextSettings,
    private readonly live: Set<LlamaCppBatch>,
    private readonly shift: boolean,
  ) {}

  dispose(): void {
    if (!this.ctx) return;
    this.api.batchFree(this.batchViews!.value);
    this.api.freeContext(this.ctx);
    this.ctx = this.batchViews = undefined;
    this.live.delete(this);
  }

  private context(): unknown {
    if (this.ctx) return this.ctx;
    const { contextLength, threads, flashAttention } = this.settings;
    const perRow = Number.isFinite(contextLength) ? contextLength : 2048;
    const p = this.api.contextDefaults();
    Object.assign(p, {
      n_ctx: Math.ceil((perRow * this.batch) / 256) * 256,
      n_batch: Math.max(perRow, Math.min(MAX_DECODE_TOKENS, perRow * this.batch)),
      n_seq_max: this.batch,
      n_threads: threads,
      n_threads_batch: threads,
      flash_attn_type: flashAttention ? 1 : 0,
      kv_unified: false, // one KV stream per row: rows never attend to each other's cells
      no_perf: true,
    });
    p.n_ubatch = Math.min(p.n_ubatch, p.n_batch);
    this.ctx = this.api.initContext(this.model, p);
    if (!this.ctx) throw new GgufModelError(`llama.cpp could not create a context for ${this.batch} rows of ${perRow} tokens`);
    this.batchViews = allocBatch(this.api, p.n_batch);
    this.live.add(this);
    return this.ctx;
  }

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array> {
    const ctx = this.context();
    const b = this.batchViews!;
    const B = this.batch;
    const V = this.settings.vocabSize;
    if (reset && this.shift && this.past > 0 && n > 1) {
      // A slide, by llama.cpp's KV shift: the window's first n − 1 tokens are the cache's
      // last n − 1 cells (the codec feeds exactly the history it re-primes from), so those
      // cells move to positions 0 … n − 2 and only the last token is decoded.
      const mem = this.api.memory(ctx);
      const keep = this.past - (n - 1);
      for (let r = 0; r < B; r++) {
        this.api.seqRm(mem, r, 0, keep);
        this.api.seqAdd(mem, r, keep, -1, -keep);
      }
      const last = new Int32Array(B);
      for (let r = 0; r < B; r++) last[r] = tokens[r * n + n - 1];
      this.past = n - 1;
      return this.forward(last, 1, false);
    }
    if (reset) {
      const mem = this.api.memory(ctx);
      if (this.past > 0) for (let r = 0; r < B; r++) this.api.seqRm(mem, r, -1, -1);
      this.past = 0;
    }
    // Rows go into decode calls of at most the batch's capacity, each row whole in one call; a
    // call's logits are read before the next call overwrites them.
    const perCall = Math.max(1, Math.floor(b.capacity / n));
    let logits: Float32Array | undefined;
    for (let first = 0; first < B; first += perCall) {
      const last = Math.min(B, first + perCall);
      let k = 0;
      for (let r = first; r < last; r++) {
        for (let i = 0; i < n; i++, k++) {
          b.token[k] = tokens[r * n + i];
          b.pos[k] = this.past + i;
          b.nSeqId[k] = 1;
          b.seqId[k][0] = r;
          b.logits[k] = i === n - 1 ? 1 : 0;
        }
      }
      b.value.n_tokens = k;
      const rc = this.api.decode(ctx, b.value);
      if (rc !== 0) throw new GgufModelError(`llama_decode failed (${rc}) for ${last - first} rows of ${n} tokens`);
      const pointer = this.api.logits(ctx);
      const view = viewOf(pointer, 4 * V * (last - first), Float32Array);
      this.address = undefined;
      if (first === 0 && last === B) [logits, this.address] = [view, addressOf(pointer)];
      else (this.out ??= new Float32Array(B * V)).set(view, first * V);
    }
    this.past += n;
    return logits ?? this.out!;
  }

  logitsAddress(): bigint | undefined {
    return this.address;
  }
}
