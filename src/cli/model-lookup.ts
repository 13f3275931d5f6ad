/**
 * `loadModel` with the CLI's account of a model that is not there: which folders were searched
 * (each --model-dir, COMPRESS_BENCH_MODEL_DIR, the download cache) and what to pass instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../step/language-model.js';
import { MODEL_ALIASES, ModelNotFoundError, cacheDir, findLocalModel, loadModel, modelDirsFromEnv, type ModelRequest } from '../models/lookup.js';
import { MIX_PREFIX, ModelSpecError, formatModelSpec, parseModelSpec, type ModelSpec } from '../common/model-spec.js';
import { UsageError } from './options.js';
import { cliMessage } from './setting-flags.js';
import { MixModel } from '../mix/mix-model.js';
import { STATIC_KV_CUM_KIND } from '../models/onnx/coding-graph.js';
import { DEFAULT_MIX_SETTINGS, type MixSettings } from '../mix/settings.js';

/** `mix:<model>` names the mix compressor over that model (src/mix/); the grammar is common/model-spec.ts. */
export { MIX_PREFIX };

/** `parseModelSpec` with its errors as usage errors (`-m TEXT: …`). */
export function modelSpecOf(text: string | undefined): ModelSpec {
  try {
    return parseModelSpec(text);
  } catch (e) {
    if (e instanceof ModelSpecError) throw new UsageError(`-m ${e.message}`);
    throw e;
  }
}

/**
 * `loadModelExplained`, and for `mix:<model>` that model wrapped as the mix (an ONNX model is
 * loaded with its table graph, the mix's fast path; without one the mix quantizes its logits).
 * `settings`: the mixer an archive names.
 */
export async function loadModelOrMix(req: ModelRequest & { mixMemoryMB?: number }, hint?: string, settings?: MixSettings): Promise<LanguageModel> {
  const spec = modelSpecOf(req.model);
  if (spec.kind !== 'mix') return loadModelExplained(req, hint);
  const model = await loadModelExplained({ ...req, model: formatModelSpec(spec.inner), codingStep: STATIC_KV_CUM_KIND }, hint);
  try {
    return new MixModel(model, settings ?? { ...DEFAULT_MIX_SETTINGS, memoryMB: req.mixMemoryMB ?? DEFAULT_MIX_SETTINGS.memoryMB });
  } catch (e) {
    await model.dispose();
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * `--context N` above what the model was built for is refused (exit 2), never clamped silently:
 * the model was loaded with `maxContext: N`, so a smaller `contextLength` is the model's own limit.
 */
export async function requireContext(model: LanguageModel, context: number | undefined): Promise<void> {
  if (context === undefined || !(model.contextLength < context)) return;
  const limit = model.contextLength;
  await model.dispose();
  throw new UsageError(`--context ${context} exceeds ${model.identity.id}'s context of ${limit} tokens; accepted values: 2 to ${limit}`);
}

/** Where a model id was looked for, as one phrase: `/a/gpt2, /b/gpt2 (COMPRESS_BENCH_MODEL_DIR), ~/.cache/…/hub/gpt2 (cache)`. */
export function searchedPlaces(id: string, modelDirs: string[]): string {
  const names = [id, MODEL_ALIASES[id]].filter((n): n is string => !!n);
  const env = modelDirsFromEnv();
  const places = [
    ...modelDirs.map((d) => ({ d, why: '--model-dir' })),
    ...env.map((d) => ({ d, why: 'COMPRESS_BENCH_MODEL_DIR' })),
    { d: join(cacheDir(), 'hub'), why: 'download cache' },
  ];
  return places.map(({ d, why }) => `${names.map((n) => join(d, n)).join(' or ')} (${why})`).join(', ');
}

/** `hint`: how the user allows a download when this request was made offline (default: drop --offline). */
export async function loadModelExplained(req: ModelRequest, hint?: string): Promise<LanguageModel> {
  const spec = modelSpecOf(req.model);
  if (spec.kind === 'none') throw new UsageError(`-m ${req.model}: baselines only; it names no model to load`);
  if (spec.kind === 'mix') return loadModelOrMix(req, hint);
  if (spec.kind !== 'named' || existsSync(spec.name)) return loadModel(req);
  const id = spec.name;
  if (id.endsWith('.gguf')) throw new UsageError(`--model ${id}: no such GGUF file`);
  const dirs = [...(req.modelDirs ?? []), ...modelDirsFromEnv()];
  if (findLocalModel(id, dirs)) return loadModel(req);

  const looked = `looked for ${searchedPlaces(id, req.modelDirs ?? [])}`;
  const pass = `pass --model-dir DIR holding DIR/${id}/ (transformers.js layout), or a folder path`;
  if (req.offline || process.env.HF_HUB_OFFLINE === '1') {
    const why = req.offline ? '--offline' : 'HF_HUB_OFFLINE=1';
    throw new UsageError(`unknown model "${id}": not found offline; ${looked}; ${pass}, or allow the Hub download (${hint ?? `drop ${why}`})`);
  }
  try {
    return await loadModel(req);
  } catch (e) {
    // Downloaded but unusable (no causal LM head, …): that message is the one to show.
    if (findLocalModel(id, dirs)) throw e;
    const cause = e instanceof ModelNotFoundError && e.downloadFailure !== undefined ? e.downloadFailure : cliMessage(e).split('\n')[0];
    throw new UsageError(
      `unknown model "${id}": not found locally (${looked}) and the Hugging Face Hub download of ${MODEL_ALIASES[id] ?? id} failed (${cause}); ${pass}`,
    );
  }
}
