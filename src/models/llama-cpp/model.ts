/**
 * The llama.cpp backend: a GGUF file on node-llama-cpp's prebuilt binaries, behind the same
 * `LanguageModel` interface as the ONNX models.
 *
 * node-llama-cpp loads llama.cpp (its prebuilt npm packages; never a build or a download) and
 * reads the GGUF metadata; the model, the context and every decode go through llama.cpp's C
 * API directly (llama-api.ts), because node-llama-cpp's public API schedules sequences itself
 * and its binding returns a distribution only as a sorted 2·V-element JS array. For a codec the
 * encoder and the decoder must make the identical calls: per coding step one `llama_decode`
 * holding every row's tokens (one sequence per row), an output at each row's last token, and
 * the logits read in place from llama.cpp's buffer into the JS quantizer (`js-quantizer/1`).
 *
 * The tokenizer is the GGUF's own (`llama_tokenize`), wrapped by the same lossless layer as the
 * Hugging Face tokenizers; the id → bytes table comes from the GGUF's `tokenizer.ggml.tokens`.
 *
 * The backend's files: model.ts (this: the binding, loading, the model), vocab.ts (the GGUF →
 * tokenizer.json adapter), context.ts (contexts and the batch's decode), llama-api.ts (the C API).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { LanguageModel, LogitsBatch, ModelBatch, ModelIdentity } from '../../step/language-model.js';
import { sha256File } from '../../common/hash.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../../step/js-quantizer-step.js';
import { LLAMA_RELEASE, llamaApi } from './llama-api.js';
import { availableParallelism } from 'node:os';
import { GgufModelError } from './errors.js';
import { SettingError } from '../../common/setting-error.js';
import { ggufTokenizer } from './vocab.js';
import { LlamaCppBatch, canShift, type ContextSettings } from './context.js';

export { GgufModelError };

/**
 * `js-quantizer/1` with the window slid by llama.cpp's KV shift (`--context-shift kv`): the
 * kept tokens' cells move to the window's start instead of being recomputed. Offered where
 * llama.cpp can shift the model's cache. Its bits equal re-priming's on rotary positions (the
 * kept keys are re-rotated: +0.005% on the Llama test model), not on learned absolute ones (the
 * kept keys keep the positions they were computed at: +0.9% on alice29.txt with GPT-2's 7m).
 */
export const KV_SHIFT_KIND = 'llama-kv-shift/1';

/** `llama_model_rope_type` of a model without rotary positions (LLAMA_ROPE_TYPE_NONE). */
const ROPE_NONE = -1;

export interface GgufModelOptions {
  /** A `.gguf` file, or a folder holding exactly one. */
  path: string;
  /** Name to record (what the user typed). */
  id: string;
  device: 'cpu' | 'cuda' | 'vulkan';
  maxContext?: number;
  /** llama.cpp threads (default: node-llama-cpp's count of math cores, less one). */
  threads?: number;
}

/** `general.file_type` (llama_ftype) → a dtype name, for the common ones. */
const FILE_TYPES: Record<number, string> = { 0: 'f32', 1: 'f16', 2: 'q4_0', 3: 'q4_1', 7: 'q8_0', 8: 'q5_0', 9: 'q5_1', 10: 'q2_k', 12: 'q4_k_m', 15: 'q4_k_m', 17: 'q5_k_m', 18: 'q6_k', 32: 'bf16' };

/** A `.gguf` path: the file itself, or the one `.gguf` in a folder. */
export function resolveGgufPath(path: string): string {
  if (!existsSync(path)) throw new SettingError('model', path, 'no such file or folder');
  if (statSync(path).isFile()) return path;
  const found = readdirSync(path).filter((f) => f.endsWith('.gguf'));
  if (found.length === 1) return join(path, found[0]);
  throw new SettingError('model', path, found.length === 0 ? 'this folder holds no .gguf file' : `this folder holds ${found.length} .gguf files (${found.join(', ')}); name one`);
}

export const isGgufPath = (path: string): boolean =>
  path.endsWith('.gguf') || (existsSync(path) && statSync(path).isDirectory() && readdirSync(path).some((f) => f.endsWith('.gguf')) && !existsSync(join(path, 'config.json')));

/** The installed node-llama-cpp's version (its package.json, which its `exports` do not expose). */
function nodeLlamaCppVersion(): string {
  const entry = createRequire(import.meta.url).resolve('node-llama-cpp'); // …/node-llama-cpp/dist/index.js
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

type Llama = Awaited<ReturnType<typeof import('node-llama-cpp').getLlama>>;

/**
 * The bins folder of node-llama-cpp's prebuilt package for this platform and GPU (e.g.
 * `@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal`): where its libllama is found on
 * platforms without /proc/self/maps. Undefined when that package is not installed.
 */
function prebuiltBinsDir(gpu: Llama['gpu']): string | undefined {
  const platform = ({ linux: 'linux', darwin: 'mac', win32: 'win' } as Record<string, string>)[process.platform];
  const arch = process.arch === 'arm' ? 'armv7l' : process.arch;
  const name = `${platform}-${arch}${gpu ? `-${gpu}` : ''}`;
  try {
    const entry = createRequire(import.meta.url).resolve(`@node-llama-cpp/${name}`); // …/dist/index.js
    return join(dirname(entry), '..', 'bins', name);
  } catch {
    return undefined;
  }
}
/** One `Llama` (the loaded binding) per device for the whole process: disposing one frees the binding's backends for all. */
const llamas = new Map<string, Promise<Llama>>();

function llamaFor(device: GgufModelOptions['device']): Promise<Llama> {
  let llama = llamas.get(device);
  if (!llama) {
    llama = (async () => {
      const nlc = await import('node-llama-cpp');
      try {
        // Never build or download llama.cpp at run time: the prebuilt binary packages or nothing.
        return await nlc.getLlama({
          gpu: device === 'cpu' ? false : device,
          build: 'never',
          skipDownload: true,
          usePrebuiltBinaries: true,
          progressLogs: false,
          logLevel: nlc.LlamaLogLevel.error,
          logger: () => {},
        });
      } catch (e) {
        llamas.delete(device);
        throw new SettingError('device', device, `llama.cpp (node-llama-cpp) is not usable here: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
      }
    })();
    llamas.set(device, llama);
  }
  return llama;
}

export async function loadGgufModel(opts: GgufModelOptions): Promise<LanguageModel> {
  const file = resolveGgufPath(opts.path);
  const llama = await llamaFor(opts.device);
  const nlc = await import('node-llama-cpp');
  if (llama.llamaCppRelease.release !== LLAMA_RELEASE) {
    throw new GgufModelError(`llama.cpp ${llama.llamaCppRelease.release} is loaded, but this backend declares the C API of ${LLAMA_RELEASE} (node-llama-cpp must be 3.21.1)`);
  }
  const api = llamaApi(prebuiltBinsDir(llama.gpu));
  const gpu = llama.gpu || 'cpu';
  const device = opts.device === 'cpu' ? 'cpu' : gpu;
  const params = api.modelDefaults();
  params.n_gpu_layers = device === 'cpu' ? 0 : -1;
  const model = api.loadModel(file, params);
  if (!model) throw new GgufModelError(`model ${opts.id} failed to load in llama.cpp (not a GGUF it can read: ${file})`);
  const vocab = api.vocab(model);
  const meta = (await nlc.readGgufFileInfo(file, { readTensorInfo: false })).metadata as unknown as {
    general: { file_type?: number; architecture: string };
    tokenizer?: { ggml?: { model?: string; pre?: string; tokens?: string[]; token_type?: number[]; merges?: string[] } };
  };
  const tok = meta.tokenizer?.ggml;
  if (!tok?.tokens?.length) {
    api.freeModel(model);
    throw new GgufModelError(`model ${opts.id}: the GGUF has no tokenizer (tokenizer.ggml.tokens)`);
  }
  const tokenizer = ggufTokenizer(api, vocab, { ...tok, tokens: tok.tokens });
  const tokenizerSha256 = tokenizer.sha256;

  const fileType = meta.general.file_type;
  // Flash attention and the KV cache's type change the numbers: both are fixed here and named in the runtime.
  const flashAttention = device !== 'cpu';
  const identity: ModelIdentity = {
    id: opts.id,
    weightsSha256: await sha256File(file),
    tokenizerSha256,
    dtype: fileType === undefined ? 'unknown' : (FILE_TYPES[fileType] ?? `ftype-${fileType}`),
    device,
    runtime: `node-llama-cpp ${nodeLlamaCppVersion()} llama.cpp ${LLAMA_RELEASE} (${llama.buildType}) ${device} kv-f16${flashAttention ? ' flash-attn' : ''}`,
    runtimes: { 'node-llama-cpp': nodeLlamaCppVersion(), 'llama.cpp': LLAMA_RELEASE },
    weightsBytes: (await stat(file)).size,
    files: [file],
  };
  const bos = api.bos(vocab);
  const startToken = bos >= 0 ? bos : api.eos(vocab);
  const contextLength = Math.min(api.nCtxTrain(model), opts.maxContext ?? Infinity);
  // One core is left to JavaScript: the quantizer runs between decodes while llama.cpp's
  // workers spin-wait, and on 2 cores shared with another process 2 threads ran at 23–152
  // tokens/s where 1 thread ran at ~1,000 (7m, 4 rows).
  const threads = opts.threads ?? Math.max(1, llama.cpuMathCores - 1);
  const vocabSize = api.nTokens(vocab);
  const settings: ContextSettings = { contextLength, vocabSize, threads, flashAttention };
  // KV shift is the default where positions are rotary (the shifted keys are re-rotated: bits
  // as re-priming's, measured) and only offered where they are learned (GPT-2: +0.9% bits).
  const shifts = canShift(api, model, threads);
  const rotary = api.ropeType(model) !== ROPE_NONE;
  const codingSteps = !shifts ? [JS_QUANTIZER_KIND] : rotary ? [KV_SHIFT_KIND, JS_QUANTIZER_KIND] : [JS_QUANTIZER_KIND, KV_SHIFT_KIND];
  // Batches not yet disposed by their codec run (an error mid-run): freed before the model.
  const live = new Set<LlamaCppBatch>();
  let disposed = false;

  return {
    identity,
    contextLength,
    vocabSize,
    startToken,
    tokenizer,
    codingSteps,
    ...(shifts ? { contextShifts: { reprime: JS_QUANTIZER_KIND, kv: KV_SHIFT_KIND } } : {}),
    open(batch: number, codingStep = codingSteps[0]): ModelBatch {
      if (!codingSteps.includes(codingStep)) throw new GgufModelError(`model ${opts.id} (llama.cpp) cannot run coding step ${codingStep} (it has: ${codingSteps.join(', ')})`);
      if (disposed) throw new GgufModelError(`model ${opts.id} was disposed`);
      const logits = new LlamaCppBatch(api, model, batch, settings, live, codingStep === KV_SHIFT_KIND);
      return new JsQuantizerBatch(logits, batch, vocabSize, codingStep, tableThreads());
    },
    /** Logits with re-priming slides: what `js-quantizer/1` runs on, for the mix. */
    openLogits(batch: number): LogitsBatch {
      if (disposed) throw new GgufModelError(`model ${opts.id} was disposed`);
      return new LlamaCppBatch(api, model, batch, settings, live, false);
    },
    async dispose() {
      // Only the model: the `Llama` is shared (llamaFor).
      if (disposed) return;
      for (const b of live) b.dispose();
      api.freeModel(model);
      disposed = true;
    },
  };
}

/**
 * Threads building the tables: every core by default, since llama.cpp is idle while they are
 * built (env COMPRESS_BENCH_TABLE_THREADS overrides; 1: the main thread alone). The tables are the
 * same whichever thread builds a row.
 */
function tableThreads(): number {
  const env = Number(process.env.COMPRESS_BENCH_TABLE_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : availableParallelism();
}

