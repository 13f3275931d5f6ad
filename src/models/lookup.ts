/**
 * Model lookup: turn what the user typed after --model into a `LanguageModel`.
 *
 * Order: the embedded default (no --model, or `embedded`) → `order-k[:K[:MEMMiB]]` → an existing
 * folder path → DIR/<id> for each --model-dir / COMPRESS_BENCH_MODEL_DIR entry (aliases
 * tried too) → the cache (CACHE/hub/<owner>/<name>) → a download from the Hugging Face Hub
 * (or COMPRESS_BENCH_HUB_URL / HF_ENDPOINT) into that cache, unless offline.
 * Models are data in the transformers.js layout; no model is special-cased.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LanguageModel } from '../step/language-model.js';
import { loadOnnxModel, CausalLmError, DTYPE_SUFFIX } from './onnx/load.js';
import { downloadHubModel } from './hub-download.js';
import type { ProgressHooks } from '../common/progress.js';
import { cacheDir } from '../common/cache-dir.js';
import { EMBEDDED_MODEL_ID, ModelSpecError, parseModelSpec } from '../common/model-spec.js';
import { SettingError } from '../common/setting-error.js';
import { createOrderKModel } from './order-k.js';
import { isGgufPath, loadGgufModel } from './llama-cpp/model.js';

/** Runtimes a model can run on: chosen by the model's format (a `.gguf` → llama.cpp), or by --runtime. */
export const RUNTIMES = ['onnxruntime', 'llama.cpp'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** What users type → the transformers.js export on the Hub. */
export const MODEL_ALIASES: Record<string, string> = {
  gpt2: 'Xenova/gpt2',
  distilgpt2: 'Xenova/distilgpt2',
  'gpt2-medium': 'Xenova/gpt2-medium',
  'smollm-135m': 'HuggingFaceTB/SmolLM-135M',
  'smollm2-135m': 'HuggingFaceTB/SmolLM2-135M',
  'qwen2.5-0.5b': 'onnx-community/Qwen2.5-0.5B',
};

export { EMBEDDED_MODEL_ID };
/** The small byte-level model that ships in the repo (models/embedded). */
export const EMBEDDED_MODEL_DIR = fileURLToPath(new URL('../../models/embedded', import.meta.url));

export interface ModelRequest {
  /** Id, alias, folder path, `order-k[:K]`, or undefined for the embedded default. */
  model?: string;
  modelDirs?: string[];
  dtype?: string;
  device?: 'cpu' | 'cuda';
  /** Progress of a Hub download (bytes), e.g. the CLI's bar on a TTY. */
  download?: ProgressHooks;
  /** Never touch the network. Also set by HF_HUB_OFFLINE=1. */
  offline?: boolean;
  maxContext?: number;
  threads?: number;
  /** Default: llama.cpp for a `.gguf` file or a folder of one, else onnxruntime. */
  runtime?: Runtime;
  /** One-line warnings from loading (e.g. a model that falls back to the JS quantizer). */
  warn?: (message: string) => void;
  /** ONNX: the coding step to prepare; `js-quantizer/1` skips deriving a coding graph (the mix runs the logits path). */
  codingStep?: string;
}

export { cacheDir };

/**
 * A model that is neither local nor downloadable. The fields are for callers that explain it
 * their own way (the CLI names its flags), so none has to parse this message.
 */
export class ModelNotFoundError extends CausalLmError {
  constructor(
    message: string,
    readonly id: string,
    /** Why the Hub download failed (first line); absent when none was tried (offline). */
    readonly downloadFailure?: string,
  ) {
    super(message);
  }
}

export function modelDirsFromEnv(): string[] {
  return (process.env.COMPRESS_BENCH_MODEL_DIR ?? '').split(':').filter(Boolean);
}

const isModelFolder = (dir: string) => existsSync(join(dir, 'config.json')) && statSync(dir).isDirectory();

/** Where a model id resolves locally, or null. */
export function findLocalModel(id: string, modelDirs: string[]): string | null {
  if (id === EMBEDDED_MODEL_ID) return EMBEDDED_MODEL_DIR;
  if (existsSync(id) && isModelFolder(resolve(id))) return resolve(id);
  const names = [id, MODEL_ALIASES[id]].filter((n): n is string => !!n);
  for (const dir of [...modelDirs, join(cacheDir(), 'hub')]) {
    for (const name of names) if (isModelFolder(join(dir, name))) return join(dir, name);
  }
  return null;
}

export async function loadModel(req: ModelRequest): Promise<LanguageModel> {
  const spec = parseModelSpec(req.model);
  if (spec.kind === 'order-k') return createOrderKModel(spec.k, { memoryMiB: spec.memoryMiB });
  // The mix wraps a loaded model one layer up (src/mix/); `none` is the caller's to skip.
  if (spec.kind === 'mix' || spec.kind === 'none') throw new ModelSpecError(`${req.model}: not a model to load here (${spec.kind === 'none' ? 'baselines only' : 'the mix is built over the model it names'})`);
  const id = spec.kind === 'embedded' ? EMBEDDED_MODEL_ID : spec.name;
  if (req.runtime === 'llama.cpp' || (req.runtime === undefined && isGgufPath(id))) {
    if (!existsSync(id)) throw new SettingError('model', id, 'llama.cpp takes a .gguf file or a folder holding one, and this path does not exist');
    return loadGgufModel({ path: id, id, device: req.device ?? 'cpu', maxContext: req.maxContext, threads: req.threads });
  }
  const modelDirs = [...(req.modelDirs ?? []), ...modelDirsFromEnv()];
  const load = (dir: string) =>
    loadOnnxModel({ dir, id, dtype: req.dtype ?? 'fp32', device: req.device ?? 'cpu', maxContext: req.maxContext, threads: req.threads, warn: req.warn, codingStep: req.codingStep });

  if (existsSync(id) && !isModelFolder(resolve(id))) {
    throw new SettingError('model', id, 'this path is not a model folder (no config.json in it)');
  }
  const local = findLocalModel(id, modelDirs);
  if (local) return load(local);

  const looked = modelDirs.length ? modelDirs.join(', ') : 'no model dirs given';
  const offline = req.offline || process.env.HF_HUB_OFFLINE === '1';
  if (offline) {
    throw new ModelNotFoundError(`unknown model "${id}": not a folder and not found in ${looked} (offline: no download tried)`, id);
  }
  const hubId = MODEL_ALIASES[id] ?? id;
  try {
    const suffix = DTYPE_SUFFIX[req.dtype ?? 'fp32'];
    if (suffix === undefined) throw new Error(`unknown dtype "${req.dtype}"`);
    await downloadHubModel(hubId, `onnx/model${suffix}.onnx`, join(cacheDir(), 'hub', hubId), req.download);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ModelNotFoundError(
      `unknown model "${id}": not a folder, not found in ${looked}, and the Hub download of ${hubId} failed (${why}). ` +
        'Give a model dir DIR holding DIR/<id>/ in the transformers.js layout, or run offline.',
      id,
      why,
    );
  }
  return load(join(cacheDir(), 'hub', hubId));
}
