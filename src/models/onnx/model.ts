/**
 * The ONNX backend: any causal LM exported in the transformers.js layout (config.json,
 * tokenizer.json, onnx/model*.onnx with a KV cache) on onnxruntime-node. transformers.js
 * supplies the tokenizer; the sessions are ours, so that encoder and decoder make the
 * identical sequence of calls with identical shapes (see coding/lm-codec.ts).
 *
 * Three coding steps, preferred first: `onnx-graph-static-kv/1` runs the derived coding-step
 * graph (coding-graph.ts: last-position head, integer tables and the symbol lookup inside
 * onnxruntime; four numbers per row come back) over a static KV cache that stays in one
 * buffer per layer; `onnx-graph/1` is the same graph with the model's own growing cache
 * (models whose attention the rewrite does not recognise, and older archives);
 * `js-quantizer/1` runs the model as exported and quantizes its logits in JavaScript (the
 * fallback when no graph can be derived, and the reader of v1 archives).
 */
import { copyFile, link, lstat, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tensor } from 'onnxruntime-common';
import type { InferenceSession } from 'onnxruntime-common';
import type { CodingAnswer, CodingQuery, LanguageModel, LogitsBatch, ModelBatch, ModelIdentity, LosslessTokenizer } from '../../step/language-model.js';
import { HfLosslessTokenizer } from '../hf-tokenizer.js';
import { sha256, sha256File } from '../../common/hash.js';
import { cacheDir } from '../../common/cache-dir.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../../step/js-quantizer-step.js';
import { FREQUENCY_TOTAL } from '../../step/frequencies.js';
import { countOnnxParameters } from './parameters.js';
import { CODING_GRAPH_KIND, CODING_INPUTS, CODING_OUTPUTS, STATIC_KV_GRAPH_KIND, deriveCodingGraph, kvNewOutput } from './coding-graph.js';

/** transformers.js' dtype → weight-file suffix (onnx/model{suffix}.onnx). */
export const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

export interface OnnxModelOptions {
  /** Folder in the transformers.js layout. */
  dir: string;
  /** Name to record (the id the user typed). */
  id: string;
  dtype: string;
  device: 'cpu' | 'cuda';
  /** Cap on the context (tokens); defaults to the model's own maximum. */
  maxContext?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per core). */
  threads?: number;
  /** Use the JS quantizer even when the coding-step graph can be derived (bench, tests). */
  codingStep?: string;
  /** One-line warnings (e.g. the fallback to the JS quantizer); default: none printed. */
  warn?: (message: string) => void;
}

export class CausalLmError extends Error {}

/** Load a local transformers.js-layout folder as a `LanguageModel`. */
export async function loadOnnxModel(opts: OnnxModelOptions): Promise<LanguageModel> {
  const suffix = DTYPE_SUFFIX[opts.dtype];
  if (suffix === undefined) {
    throw new CausalLmError(`unknown dtype "${opts.dtype}": expected one of ${Object.keys(DTYPE_SUFFIX).join(', ')}`);
  }
  const weights = join(opts.dir, 'onnx', `model${suffix}.onnx`);
  if (!existsSync(weights)) {
    const have = Object.entries(DTYPE_SUFFIX)
      .filter(([, s]) => existsSync(join(opts.dir, 'onnx', `model${s}.onnx`)))
      .map(([d]) => d);
    throw new CausalLmError(
      `model ${opts.id} has no ${opts.dtype} weights (${weights} is missing); available dtypes: ${have.join(', ') || 'none'}`,
    );
  }
  const config = JSON.parse(await readFile(join(opts.dir, 'config.json'), 'utf8'));
  if (config.is_encoder_decoder) {
    throw new CausalLmError(`model ${opts.id} is an encoder-decoder (config.json: is_encoder_decoder): compress-bench needs a decoder-only causal LM`);
  }
  const tokenizerPath = join(opts.dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) throw new CausalLmError(`model ${opts.id} has no tokenizer.json in ${opts.dir}`);

  if (opts.device === 'cuda' && process.platform === 'linux') await assertCudaProvider();
  const tf = await import('@huggingface/transformers');
  // Load strictly from the folder: lookup and downloads are done by models/lookup.ts.
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = join(opts.dir, '..') + '/';
  const name = opts.dir.split('/').filter(Boolean).pop()!;
  const textTokenizer = await tf.AutoTokenizer.from_pretrained(name);
  const tokenizerJson = JSON.parse(await readFile(tokenizerPath, 'utf8'));
  const externalData = existsSync(weights + '_data') ? [weights + '_data'] : [];
  const files = [weights, ...externalData, tokenizerPath];
  const tokenizer = new HfLosslessTokenizer(
    textTokenizer as unknown as ConstructorParameters<typeof HfLosslessTokenizer>[0],
    tokenizerJson,
    await sha256File(tokenizerPath),
  );
  // One file: its SHA-256. With external data: the SHA-256 of the files' hex digests in order.
  const digests = [await sha256File(weights)];
  for (const extra of externalData) digests.push(await sha256File(extra));
  const weightsSha256 = digests.length === 1 ? digests[0] : sha256(digests.join('\n'));
  let weightsBytes = 0;
  for (const f of files) weightsBytes += (await stat(f)).size;

  const ort = await import('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const options = sessionOptions(opts.device, opts.threads);
  const open = async (path: string | Uint8Array): Promise<InferenceSession> => {
    try {
      return typeof path === 'string'
        ? await ort.InferenceSession.create(path, options)
        : await ort.InferenceSession.create(path, options);
    } catch (e) {
      throw explainLoadError(e, opts);
    }
  };
  const original = await open(weights);
  if (!original.outputNames.includes('logits')) {
    throw new CausalLmError(`model ${opts.id} has no causal LM head (no "logits" output): not usable as a compressor`);
  }
  // A graph can have "logits" and still not be a next-token model (a classifier's, a BERT's).
  const archs: string[] = Array.isArray(config.architectures) ? config.architectures : [];
  if (archs.length && !archs.some((a) => /(ForCausalLM|LMHeadModel|ForConditionalGeneration)$/.test(a))) {
    throw new CausalLmError(`model ${opts.id} is a ${archs.join(', ')} (config.json "architectures"), not a causal LM: not usable as a compressor`);
  }
  const identity: ModelIdentity = {
    id: opts.id,
    weightsSha256,
    tokenizerSha256: tokenizer.sha256,
    dtype: opts.dtype,
    device: opts.device,
    runtime: `onnxruntime-node ${ort.env.versions?.node ?? '?'} ${opts.device}`,
    weightsBytes,
    files,
  };
  // Counting parses the whole protobuf: do it only when a record or report first reads it, never
  // on the compress/decompress path.
  let parameters: number | undefined | null = null;
  Object.defineProperty(identity, 'parameters', {
    enumerable: true,
    get: () => (parameters === null ? (parameters = countOnnxParameters(weights)) : parameters),
  });
  const modelContext = config.n_positions ?? config.max_position_embeddings ?? 2048;
  const vocabSize = (original.outputMetadata as unknown as { name: string; shape: (number | string)[] }[])
    .find((m) => m.name === 'logits')?.shape.at(-1);
  const lm = new OnnxLanguageModel(
    original,
    identity,
    tokenizer,
    Math.min(modelContext, opts.maxContext ?? Infinity),
    typeof vocabSize === 'number' ? vocabSize : config.vocab_size,
    config.bos_token_id ?? config.eos_token_id ?? 0,
  );
  if (opts.codingStep !== JS_QUANTIZER_KIND) {
    // The static-KV graph where the attention rewrite applies, else the plain one; the other
    // graph kinds stay available (derived and opened on demand) for archives that name them.
    const graphFile = (kind: string) => codingGraphFile(weights, weightsSha256, lm.vocabSize, kind);
    const kinds = opts.codingStep ? [opts.codingStep] : [STATIC_KV_GRAPH_KIND, CODING_GRAPH_KIND];
    const failures: string[] = [];
    for (const kind of kinds.filter((k) => k !== JS_QUANTIZER_KIND)) {
      try {
        const session = await open(await graphFile(kind));
        const derivable = kind === STATIC_KV_GRAPH_KIND ? [STATIC_KV_GRAPH_KIND, CODING_GRAPH_KIND] : [kind];
        lm.attachCodingGraph(kind, session, derivable, async (k) => open(await graphFile(k)), () => open(weights));
        break;
      } catch (e) {
        failures.push(e instanceof Error ? e.message.split('\n')[0] : String(e));
      }
    }
    if (lm.codingSteps[0] === JS_QUANTIZER_KIND) {
      opts.warn?.(`model ${opts.id}: no coding-step graph (${failures.at(-1)}); using the JavaScript quantizer, which is slower`);
    }
  }
  return lm;
}

/** The onnxruntime session settings every session of ours uses (the bench's bare loop too). */
export function sessionOptions(device: 'cpu' | 'cuda', threads?: number): InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // onnxruntime's own log lines (coloured, native) stay off stderr: its errors reach us as
    // exceptions, and every failure is one line of ours.
    logSeverityLevel: 4,
    ...(threads ? { intraOpNumThreads: threads } : {}),
    // Spinning pool threads fight the JS thread between steps (measured with the JS quantizer:
    // 3.9 → 1.9 ms per step for gpt2-docmix-7m on a busy 2-core machine).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * The derived coding-step graph for a weight file, built once and cached under the cache
 * dir keyed by the weights' SHA-256 and the derivation's version. External weight data is
 * hard-linked (or copied) beside it under its own name, where onnxruntime looks for it.
 */
async function codingGraphFile(weights: string, weightsSha256: string, vocabSize: number, kind: string): Promise<string> {
  if (kind !== CODING_GRAPH_KIND && kind !== STATIC_KV_GRAPH_KIND) throw new CausalLmError(`unknown coding step ${kind}`);
  const dir = join(cacheDir(), 'coding-graphs', `${weightsSha256.slice(0, 32)}-${kind.replace('/', '-')}`);
  const path = join(dir, 'model.onnx');
  // Earlier builds symlinked external data, which onnxruntime now refuses: derive again then.
  const symlinked = existsSync(dir) && (await Promise.all((await readdir(dir)).map(async (f) => (await lstat(join(dir, f))).isSymbolicLink()))).some(Boolean);
  if (existsSync(path) && !symlinked) return path;
  const derived = deriveCodingGraph(await readFile(weights), FREQUENCY_TOTAL, { vocabSize, staticKv: kind === STATIC_KV_GRAPH_KIND });
  await mkdir(dir, { recursive: true });
  for (const file of derived.externalData) {
    // onnxruntime ≥ 1.20 refuses external data that resolves outside the model's folder,
    // symlinks included: hard-link it there (same file system), else copy it.
    const dest = join(dir, file);
    if (existsSync(dest) && (await lstat(dest)).isSymbolicLink()) await unlink(dest);
    if (!existsSync(dest)) {
      await mkdir(dirname(dest), { recursive: true });
      const src = join(dirname(weights), file);
      await link(src, dest).catch(() => copyFile(src, dest));
    }
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, derived.bytes);
  await rename(tmp, path);
  return path;
}

/**
 * onnxruntime-node ships its CUDA provider only when installed with
 * ONNXRUNTIME_NODE_INSTALL=cuda12 (README, "GPU"); check before ORT prints native errors.
 */
async function assertCudaProvider(): Promise<void> {
  const { createRequire } = await import('node:module');
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const lib = join(pkg, '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(lib)) {
    throw new CausalLmError(
      `--device cuda: the CUDA execution provider is not installed (${lib} is missing). ` +
        'Reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU and internet (README, "GPU").',
    );
  }
}

function explainLoadError(e: unknown, opts: OnnxModelOptions): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (opts.device === 'cuda' && /cuda|provider|libonnxruntime_providers/i.test(msg)) {
    return new CausalLmError(
      `--device cuda: the CUDA execution provider is not available here (${msg.split('\n')[0]}). ` +
        'It needs an NVIDIA GPU and onnxruntime-node installed with its CUDA binaries (see README, "GPU").',
    );
  }
  if (/Unsupported model type|not supported|Could not locate/i.test(msg)) {
    return new CausalLmError(`model ${opts.id} cannot be loaded as a causal LM: ${msg.split('\n')[0]}`);
  }
  return new CausalLmError(`model ${opts.id} failed to load: ${msg.split('\n')[0]}`);
}

/**
 * Inputs some exports add beside the KV cache, and the constant each step feeds:
 * `num_logits_to_keep` (transformers ≥ 4.45; 1: the coder needs the last position only) and
 * a merged decoder's `use_cache_branch` (true: the past is always used, empty at the start).
 */
const EXTRA_INPUTS = new Map<string, () => Tensor>([
  ['num_logits_to_keep', () => new Tensor('int64', BigInt64Array.of(1n), [])],
  ['logits_to_keep', () => new Tensor('int64', BigInt64Array.of(1n), [])],
  ['use_cache_branch', () => new Tensor('bool', Uint8Array.of(1), [1])],
]);

interface PastSpec {
  name: string;
  output: string;
  heads: number;
  headDim: number;
  type: 'float32' | 'float16';
}

class OnnxLanguageModel implements LanguageModel {
  readonly past: PastSpec[];
  readonly hasPositionIds: boolean;
  /** Optional inputs of Optimum/transformers exports that this model has (fed constants). */
  readonly extraInputs: string[];
  /** Derived coding-step graphs by kind, opened on demand after the first. */
  private readonly graphs = new Map<string, Promise<InferenceSession>>();
  private openGraph?: (kind: string) => Promise<InferenceSession>;
  /** The model as exported: kept for `js-quantizer/1`, else released and reopened on demand. */
  private original: Promise<InferenceSession> | null;
  private reopen?: () => Promise<InferenceSession>;
  codingSteps: string[] = [JS_QUANTIZER_KIND];

  constructor(
    session: InferenceSession,
    readonly identity: ModelIdentity,
    readonly tokenizer: LosslessTokenizer,
    readonly contextLength: number,
    readonly vocabSize: number,
    readonly startToken: number,
  ) {
    const meta = session.inputMetadata as unknown as { name: string; type: string; shape: (number | string)[] }[];
    this.past = meta
      .filter((m) => m.name.startsWith('past_key_values.'))
      .map((m) => ({
        name: m.name,
        output: m.name.replace('past_key_values.', 'present.'),
        heads: Number(m.shape[1]),
        headDim: Number(m.shape[3]),
        type: m.type === 'float16' ? 'float16' : 'float32',
      }));
    if (this.past.length === 0) {
      throw new CausalLmError(`model ${identity.id} was exported without a KV cache (no past_key_values inputs)`);
    }
    this.original = Promise.resolve(session);
    this.hasPositionIds = session.inputNames.includes('position_ids');
    this.extraInputs = session.inputNames.filter((n) => EXTRA_INPUTS.has(n));
    const unknown = session.inputNames.filter(
      (n) => !['input_ids', 'attention_mask', 'position_ids', ...EXTRA_INPUTS.keys()].includes(n) && !n.startsWith('past_key_values.'),
    );
    if (unknown.length) {
      throw new CausalLmError(
        `model ${identity.id} needs input${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which a decoder-only causal LM step does not have` +
          (unknown.some((n) => n.startsWith('encoder_')) ? ' (an encoder-decoder export?)' : ''),
      );
    }
  }

  /**
   * Use a derived graph (`kinds`: the graph kinds this model can derive, preferred first); the
   * exported model's session is released (its weights are not held twice).
   */
  attachCodingGraph(
    kind: string,
    graph: InferenceSession,
    kinds: string[],
    openGraph: (kind: string) => Promise<InferenceSession>,
    reopen: () => Promise<InferenceSession>,
  ): void {
    this.graphs.set(kind, Promise.resolve(graph));
    this.openGraph = openGraph;
    this.codingSteps = [...kinds, JS_QUANTIZER_KIND];
    void this.original?.then((s) => s.release());
    this.original = null;
    this.reopen = reopen;
  }

  private graph(kind: string): Promise<InferenceSession> {
    let g = this.graphs.get(kind);
    if (!g) this.graphs.set(kind, (g = this.openGraph!(kind)));
    return g;
  }

  /** The exported model's session, reopened when the JS quantizer is asked for after the graph took over. */
  logitsSession(): Promise<InferenceSession> {
    return (this.original ??= this.reopen!());
  }

  open(batch: number, codingStep = this.codingSteps[0]): ModelBatch {
    if (codingStep === STATIC_KV_GRAPH_KIND && this.codingSteps.includes(codingStep)) {
      return new GraphBatch(codingStep, this.graph(codingStep), new StaticKvFeeds(this, batch), batch);
    }
    if (codingStep === CODING_GRAPH_KIND && this.codingSteps.includes(codingStep)) {
      return new GraphBatch(codingStep, this.graph(codingStep), new OnnxFeeds(this, batch), batch);
    }
    if (codingStep === JS_QUANTIZER_KIND) return new JsQuantizerBatch(new LogitsOnnxBatch(this, batch), batch, this.vocabSize);
    throw new CausalLmError(`model ${this.identity.id} cannot run coding step ${codingStep} here (it has: ${this.codingSteps.join(', ')})`);
  }

  openLogits(batch: number): LogitsBatch {
    return new LogitsOnnxBatch(this, batch);
  }

  async dispose(): Promise<void> {
    await (await this.original)?.release();
    for (const g of this.graphs.values()) await (await g).release();
  }
}

/**
 * Feeds for one batch, reused across steps: int64 inputs are written through Int32 views of
 * their buffers (low word, high word = sign), with no per-element BigInt in the hot path, and
 * the KV cache is handed back to the next call as onnxruntime returned it.
 */
class OnnxFeeds implements StepFeeds {
  private pastLength = 0;
  private cache: Record<string, Tensor> = {};
  private readonly tokens = new TokenInputs();
  private mask = new BigInt64Array(0);

  constructor(
    private readonly model: OnnxLanguageModel,
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

  feeds(model: OnnxLanguageModel, batch: number, tokens: Int32Array, n: number, first: number): Record<string, Tensor> {
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
class StaticKvFeeds implements StepFeeds {
  private length = 0;
  private capacity = 0;
  private cache: (Float32Array | Uint16Array)[] = [];
  private readonly tokens = new TokenInputs();
  private mask = new Int32Array(0);

  constructor(
    private readonly model: OnnxLanguageModel,
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
function int64Tensor(words: Int32Array, values: Int32Array, dims: number[]): Tensor {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    words[2 * i] = v;
    words[2 * i + 1] = v < 0 ? -1 : 0;
  }
  return new Tensor('int64', new BigInt64Array(words.buffer, 0, values.length), dims);
}

/** The feeds of one batch across steps, and what each step's outputs leave for the next. */
interface StepFeeds {
  make(tokens: Int32Array, n: number, reset: boolean): Record<string, Tensor>;
  keep(out: InferenceSession.OnnxValueMapType): void;
}

/** `onnx-graph*`: the whole coding step in one `session.run` of a derived graph. */
class GraphBatch implements ModelBatch {
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

/** `js-quantizer/1`'s runtime half: the model as exported, last-position logits per row. */
class LogitsOnnxBatch implements LogitsBatch {
  private readonly feeds: OnnxFeeds;

  constructor(
    private readonly model: OnnxLanguageModel,
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
