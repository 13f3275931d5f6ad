/**
 * What one ONNX step feeds and what it keeps: token inputs, the exports' constant extras, and
 * the KV cache (the model's own growing one, or the static one of `onnx-graph-static-kv/1`).
 * The bench's bare loop feeds the model as exported through these too.
 */
import { Tensor } from 'onnxruntime-common';
import type { InferenceSession } from 'onnxruntime-common';
import { CausalLmError } from './errors.js';
import { kvNewOutput } from './coding-graph.js';

/**
 * Inputs some exports add beside the KV cache, and the constant each step feeds:
 * `num_logits_to_keep` (transformers ≥ 4.45; 1: the coder needs the last position only) and
 * a merged decoder's `use_cache_branch` (true: the past is always used, empty at the start).
 */
export const EXTRA_INPUTS = new Map<string, () => Tensor>([
  ['num_logits_to_keep', () => new Tensor('int64', BigInt64Array.of(1n), [])],
  ['logits_to_keep', () => new Tensor('int64', BigInt64Array.of(1n), [])],
  ['use_cache_branch', () => new Tensor('bool', Uint8Array.of(1), [1])],
]);

export interface PastSpec {
  name: string;
  output: string;
  heads: number;
  headDim: number;
  type: 'float32' | 'float16';
}

/** What the feeds read of a model: its cache layout and optional inputs (model.ts's `OnnxLanguageModel`). */
export interface FeedLayout {
  readonly past: PastSpec[];
  readonly hasPositionIds: boolean;
  /** Optional inputs of Optimum/transformers exports that this model has (fed constants). */
  readonly extraInputs: string[];
}

/** A model's `FeedLayout`, read from its session's inputs; an input no decoder-only step has is refused. */
export function feedLayoutOf(session: InferenceSession, id: string): FeedLayout {
  const meta = session.inputMetadata as unknown as { name: string; type: string; shape: (number | string)[] }[];
  const past: PastSpec[] = meta
    .filter((m) => m.name.startsWith('past_key_values.'))
    .map((m) => ({
      name: m.name,
      output: m.name.replace('past_key_values.', 'present.'),
      heads: Number(m.shape[1]),
      headDim: Number(m.shape[3]),
      type: m.type === 'float16' ? 'float16' : 'float32',
    }));
  if (past.length === 0) {
    throw new CausalLmError(`model ${id} was exported without a KV cache (no past_key_values inputs)`);
  }
  const unknown = session.inputNames.filter(
    (n) => !['input_ids', 'attention_mask', 'position_ids', ...EXTRA_INPUTS.keys()].includes(n) && !n.startsWith('past_key_values.'),
  );
  if (unknown.length) {
    throw new CausalLmError(
      `model ${id} needs input${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which a decoder-only causal LM step does not have` +
        (unknown.some((n) => n.startsWith('encoder_')) ? ' (an encoder-decoder export?)' : ''),
    );
  }
  return { past, hasPositionIds: session.inputNames.includes('position_ids'), extraInputs: session.inputNames.filter((n) => EXTRA_INPUTS.has(n)) };
}

/**
 * Feeds for one batch, reused across steps: int64 inputs are written through Int32 views of
 * their buffers (low word, high word = sign), with no per-element BigInt in the hot path, and
 * the KV cache is handed back to the next call as onnxruntime returned it.
 */
export class OnnxFeeds implements StepFeeds {
  private pastLength = 0;
  private cache: Record<string, Tensor> = {};
  private readonly tokens = new TokenInputs();
  private mask = new BigInt64Array(0);

  constructor(
    private readonly model: FeedLayout,
    private readonly batch: number,
  ) {}

  /** Build the feeds for `n` new tokens per row (after dropping the cache with `reset`). */
  make(tokens: Int32Array, n: number, reset: boolean): Record<string, Tensor> {
    const { batch, model } = this;
    if (reset || this.pastLength === 0) this.resetCache();
    const total = this.pastLength + n;
    const feeds: Record<string, Tensor> = {
      ...this.tokens.feeds(model, batch, tokens, n, this.pastLength),
      attention_mask: new Tensor('int64', this.ones(batch * total), [batch, total]),
      ...this.cache,
    };
    this.pastLength = total;
    return feeds;
  }

  /** Keep the returned KV cache for the next step. */
  keep(out: InferenceSession.OnnxValueMapType): void {
    for (const p of this.model.past) this.cache[p.name] = out[p.output] as Tensor;
  }

  private ones(count: number): BigInt64Array {
    if (this.mask.length < count) this.mask = new BigInt64Array(Math.max(count, 2 * this.mask.length)).fill(1n);
    return this.mask.subarray(0, count);
  }

  private resetCache(): void {
    this.pastLength = 0;
    for (const p of this.model.past) this.cache[p.name] = new Tensor(p.type, pastBuffer(p, 0), [this.batch, p.heads, 0, p.headDim]);
  }
}

/** A zeroed KV buffer of `elements` values in the cache's element type. */
function pastBuffer(p: PastSpec, elements: number): Float32Array | Uint16Array {
  return p.type === 'float16' ? new Uint16Array(elements) : new Float32Array(elements);
}

/**
 * The token-side inputs every step feeds, whatever the cache: `input_ids`, `position_ids`
 * (positions first, first + 1, …) and the exports' constant extras, from reused buffers.
 */
class TokenInputs {
  private readonly ids = new Map<number, Int32Array>();
  private readonly positions = new Map<number, Int32Array>();

  feeds(model: FeedLayout, batch: number, tokens: Int32Array, n: number, first: number): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = { input_ids: int64Tensor(scratch(this.ids, batch * n), tokens, [batch, n]) };
    if (model.hasPositionIds) {
      const pos = scratch(this.positions, batch * n);
      for (let r = 0; r < batch; r++) for (let i = 0; i < n; i++) pos[2 * (r * n + i)] = first + i;
      feeds.position_ids = new Tensor('int64', new BigInt64Array(pos.buffer), [batch, n]);
    }
    for (const name of model.extraInputs) feeds[name] = EXTRA_INPUTS.get(name)!();
    return feeds;
  }
}

/**
 * Feeds for `onnx-graph-static-kv/1`: one cache buffer per layer, [batch, heads, capacity, dim],
 * passed to every step as is (onnxruntime-node reads input buffers in place). Slots
 * [0, length) hold the window's positions, the rest are masked out; the graph returns only
 * the new positions (`kv_new.*`), written into the next free slots. A re-prime (`reset`)
 * feeds an empty past. The capacity doubles as the window grows, up to the context − 1
 * (the new position is the +1): a function of the call sequence, so the same on both sides.
 */
export class StaticKvFeeds implements StepFeeds {
  private length = 0;
  private capacity = 0;
  private cache: (Float32Array | Uint16Array)[] = [];
  private readonly tokens = new TokenInputs();
  private mask = new Int32Array(0);

  constructor(
    private readonly model: FeedLayout & { readonly contextLength: number },
    private readonly batch: number,
  ) {}

  make(tokens: Int32Array, n: number, reset: boolean): Record<string, Tensor> {
    const { batch, model } = this;
    if (reset) this.length = 0;
    if (this.length > 0 && n !== 1) throw new CausalLmError('the static KV cache takes several tokens only after a reset');
    if (this.length > this.capacity) throw new CausalLmError('the static KV cache is full: the window must be re-primed');
    const past = this.length === 0 ? 0 : this.capacity;
    const feeds = this.tokens.feeds(model, batch, tokens, n, this.length);
    // Mask: the window's slots, not the spare ones, then the n new positions.
    const width = past + n;
    const mask = (this.mask = this.mask.length === 2 * batch * width ? this.mask : new Int32Array(2 * batch * width));
    for (let r = 0; r < batch; r++) {
      const row = 2 * r * width;
      for (let j = 0; j < width; j++) mask[row + 2 * j] = j < this.length || j >= past ? 1 : 0;
    }
    feeds.attention_mask = new Tensor('int64', new BigInt64Array(mask.buffer), [batch, width]);
    model.past.forEach((p, i) => {
      feeds[p.name] = new Tensor(p.type, past ? this.cache[i] : pastBuffer(p, 0), [batch, p.heads, past, p.headDim]);
    });
    return feeds;
  }

  keep(out: InferenceSession.OnnxValueMapType): void {
    const { batch, model } = this;
    const added = Number((out[kvNewOutput(model.past[0].name)] as Tensor).dims[2]);
    const room = model.contextLength - 1;
    if (this.length + added > room) {
      // The window is full: the coder re-primes before the next step, which needs no slot.
      this.length += added;
      return;
    }
    if (this.length + added > this.capacity) this.grow(Math.min(room, Math.max(64, 2 ** Math.ceil(Math.log2(this.length + added)))));
    model.past.forEach((p, i) => {
      const fresh = (out[kvNewOutput(p.name)] as Tensor).data as Float32Array | Uint16Array;
      const cache = this.cache[i];
      const rowFresh = added * p.headDim;
      for (let bh = 0; bh < batch * p.heads; bh++) {
        cache.set(fresh.subarray(bh * rowFresh, (bh + 1) * rowFresh), (bh * this.capacity + this.length) * p.headDim);
      }
    });
    this.length += added;
  }

  /** A larger buffer per layer, with the window's slots copied over (a handful of times per window). */
  private grow(capacity: number): void {
    const { batch, model } = this;
    this.cache = model.past.map((p, i) => {
      const next = pastBuffer(p, batch * p.heads * capacity * p.headDim);
      const old = this.cache[i];
      const used = this.length * p.headDim;
      if (old && used) for (let bh = 0; bh < batch * p.heads; bh++) next.set(old.subarray(bh * this.capacity * p.headDim, bh * this.capacity * p.headDim + used), bh * capacity * p.headDim);
      return next;
    });
    this.capacity = capacity;
  }
}

/** A zeroed Int32 buffer of `2 × count` words (one int64 each), kept per size. */
function scratch(pool: Map<number, Int32Array>, count: number): Int32Array {
  let b = pool.get(count);
  if (!b) pool.set(count, (b = new Int32Array(2 * count)));
  return b;
}

/** int64 tensor from int32 values, written as (low, sign) word pairs into `words`. */
export function int64Tensor(words: Int32Array, values: Int32Array, dims: number[]): Tensor {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    words[2 * i] = v;
    words[2 * i + 1] = v < 0 ? -1 : 0;
  }
  return new Tensor('int64', new BigInt64Array(words.buffer, 0, values.length), dims);
}

/** The feeds of one batch across steps, and what each step's outputs leave for the next. */
export interface StepFeeds {
  make(tokens: Int32Array, n: number, reset: boolean): Record<string, Tensor>;
  keep(out: InferenceSession.OnnxValueMapType): void;
}

