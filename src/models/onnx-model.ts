/**
 * The ONNX backend: any causal LM exported in the transformers.js layout (config.json,
 * tokenizer.json, onnx/model*.onnx with a KV cache), loaded by @huggingface/transformers on
 * onnxruntime-node. We drive the ONNX session ourselves so that encoder and decoder make
 * the identical sequence of calls with identical shapes (see coding/lm-codec.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-common';
import type { InferenceSession } from 'onnxruntime-common';
import type { LanguageModel, ModelBatch, ModelIdentity, LosslessTokenizer } from './language-model.js';
import { HfLosslessTokenizer } from './hf-tokenizer.js';
import { sha256, sha256File } from '../hash.js';

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
  const tokenizerPath = join(opts.dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) throw new CausalLmError(`model ${opts.id} has no tokenizer.json in ${opts.dir}`);

  if (opts.device === 'cuda' && process.platform === 'linux') await assertCudaProvider();
  const tf = await import('@huggingface/transformers');
  // Load strictly from the folder: lookup and downloads are done by models/lookup.ts.
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = join(opts.dir, '..') + '/';
  const name = opts.dir.split('/').filter(Boolean).pop()!;

  let model: { sessions: Record<string, InferenceSession>; dispose(): Promise<unknown> };
  try {
    model = (await tf.AutoModelForCausalLM.from_pretrained(name, {
      dtype: opts.dtype as 'fp32',
      device: opts.device,
      session_options: {
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
        // Spinning pool threads fight the JS thread, which quantizes between model steps:
        // measured 3.9 → 1.9 ms per step for gpt2-docmix-7m on a busy 2-core machine.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      },
    } as Parameters<typeof tf.AutoModelForCausalLM.from_pretrained>[1])) as unknown as typeof model;
  } catch (e) {
    throw explainLoadError(e, opts);
  }
  const session = model.sessions.model;
  if (!session || !session.outputNames.includes('logits')) {
    throw new CausalLmError(`model ${opts.id} has no causal LM head (no "logits" output): not usable as a compressor`);
  }
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
  const modelContext = config.n_positions ?? config.max_position_embeddings ?? 2048;
  const vocabSize = (session.outputMetadata as unknown as { name: string; shape: (number | string)[] }[])
    .find((m) => m.name === 'logits')?.shape.at(-1);
  return new OnnxLanguageModel(
    session,
    model,
    identity,
    tokenizer,
    Math.min(modelContext, opts.maxContext ?? Infinity),
    typeof vocabSize === 'number' ? vocabSize : config.vocab_size,
    config.bos_token_id ?? config.eos_token_id ?? 0,
  );
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

  constructor(
    readonly session: InferenceSession,
    private readonly owner: { dispose(): Promise<unknown> },
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
    this.hasPositionIds = session.inputNames.includes('position_ids');
  }

  open(batch: number): ModelBatch {
    return new OnnxBatch(this, batch);
  }

  async dispose(): Promise<void> {
    await this.owner.dispose();
  }
}

class OnnxBatch implements ModelBatch {
  private pastLength = 0;
  private cache: Record<string, Tensor> = {};

  constructor(
    private readonly model: OnnxLanguageModel,
    private readonly batch: number,
  ) {}

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array> {
    const { batch, model } = this;
    if (reset || this.pastLength === 0) this.resetCache();
    const total = this.pastLength + n;
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(tokens, BigInt), [batch, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(batch * total).fill(1n), [batch, total]),
      ...this.cache,
    };
    if (model.hasPositionIds) {
      const pos = new BigInt64Array(batch * n);
      for (let r = 0; r < batch; r++) for (let i = 0; i < n; i++) pos[r * n + i] = BigInt(this.pastLength + i);
      feeds.position_ids = new Tensor('int64', pos, [batch, n]);
    }
    const out = await model.session.run(feeds);
    for (const p of model.past) this.cache[p.name] = out[p.output] as Tensor;
    this.pastLength = total;
    return lastPositionLogits(out.logits as Tensor, batch, n, model.vocabSize);
  }

  private resetCache(): void {
    this.pastLength = 0;
    for (const p of this.model.past) {
      const data = p.type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
      this.cache[p.name] = new Tensor(p.type, data, [this.batch, p.heads, 0, p.headDim]);
    }
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
