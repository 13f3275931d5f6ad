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
 * Beside them, the mix's `onnx-graph-static-kv-cum/1` (`codingStep` asks for it): the static-KV
 * graph that also returns every row's whole table, which the mix combines with its own models.
 *
 * The backend's files: load.ts (this: a folder → a `LanguageModel`, session settings, load
 * errors), graph-cache.ts (derived coding graphs on disk), model.ts (the model and its
 * sessions), kv-feeds.ts (inputs and KV caches per step), batch.ts (the two batch kinds).
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import type { LanguageModel, ModelIdentity } from '../../step/language-model.js';
import { HfLosslessTokenizer } from '../hf-tokenizer.js';
import { sha256, sha256File } from '../../common/hash.js';
import { JS_QUANTIZER_KIND } from '../../step/js-quantizer-step.js';
import { countOnnxParameters } from './parameters.js';
import { CODING_GRAPH_KIND, STATIC_KV_GRAPH_KIND, STATIC_KV_CUM_KIND } from './coding-graph.js';
import { CausalLmError } from './errors.js';
import { SettingError } from '../../common/setting-error.js';
import { codingGraphFile } from './graph-cache.js';
import { OnnxLanguageModel } from './model.js';
import { OnnxFeeds, feedLayoutOf, type StepFeeds } from './kv-feeds.js';

export { CausalLmError };

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
    runtimes: { 'onnxruntime-node': ort.env.versions?.node ?? '?' },
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
        // The table graph (the mix's, `codingStep: STATIC_KV_CUM_KIND`) is no coding step of
        // the pure model; where it or the static-KV graph derives, so do the other two.
        const staticKv = kind === STATIC_KV_GRAPH_KIND || kind === STATIC_KV_CUM_KIND;
        const derivable = staticKv ? [STATIC_KV_GRAPH_KIND, CODING_GRAPH_KIND] : [kind];
        lm.attachCodingGraph(kind, session, derivable, async (k) => open(await graphFile(k)), () => open(weights), staticKv);
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

/**
 * An exported model file in a session of ours, with the feeds the model's own steps use: for
 * the bench's bare loop, which replays the harness's calls on onnxruntime alone.
 */
export async function openExportedSession(weights: string, id: string, threads?: number): Promise<{ session: InferenceSession; feeds(batch: number): StepFeeds }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(weights, sessionOptions('cpu', threads));
  const layout = feedLayoutOf(session, id);
  return { session, feeds: (batch) => new OnnxFeeds(layout, batch) };
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
 * onnxruntime-node ships its CUDA provider only when installed with
 * ONNXRUNTIME_NODE_INSTALL=cuda12 (README, "GPU"); check before ORT prints native errors.
 */
async function assertCudaProvider(): Promise<void> {
  const { createRequire } = await import('node:module');
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  const lib = join(pkg, '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(lib)) {
    throw new SettingError(
      'device',
      'cuda',
      `the CUDA execution provider is not installed (${lib} is missing). ` +
        'Reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU and internet (README, "GPU").',
    );
  }
}

function explainLoadError(e: unknown, opts: OnnxModelOptions): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (opts.device === 'cuda' && /cuda|provider|libonnxruntime_providers/i.test(msg)) {
    return new SettingError(
      'device',
      'cuda',
      `the CUDA execution provider is not available here (${msg.split('\n')[0]}). ` +
        'It needs an NVIDIA GPU and onnxruntime-node installed with its CUDA binaries (see README, "GPU").',
    );
  }
  if (/Unsupported model type|not supported|Could not locate/i.test(msg)) {
    return new CausalLmError(`model ${opts.id} cannot be loaded as a causal LM: ${msg.split('\n')[0]}`);
  }
  return new CausalLmError(`model ${opts.id} failed to load: ${msg.split('\n')[0]}`);
}
