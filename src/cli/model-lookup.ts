/**
 * `loadModel` with the CLI's account of a model that is not there: which folders were searched
 * (each --model-dir, COMPRESS_BENCH_MODEL_DIR, the download cache) and what to pass instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../step/language-model.js';
import { parseOrderKSpec } from '../models/order-k.js';
import { EMBEDDED_MODEL_ID, MODEL_ALIASES, cacheDir, findLocalModel, loadModel, modelDirsFromEnv, type ModelRequest } from '../models/lookup.js';
import { UsageError } from './options.js';
import { MixModel } from '../mix/mix-model.js';
import { JS_QUANTIZER_KIND } from '../step/js-quantizer-step.js';
import type { MixSettings } from '../mix/settings.js';

/** `mix:<model>` names the mix compressor over that model (src/mix/). */
export const MIX_PREFIX = 'mix:';

/**
 * `loadModelExplained`, and for `mix:<model>` that model wrapped as the mix (loaded for its
 * logits path: no coding graph is derived). `settings`: the mixer an archive names.
 */
export async function loadModelOrMix(req: ModelRequest, hint?: string, settings?: MixSettings): Promise<LanguageModel> {
  if (!req.model?.startsWith(MIX_PREFIX)) return loadModelExplained(req, hint);
  const inner = req.model.slice(MIX_PREFIX.length);
  if (!inner) throw new UsageError(`-m ${req.model}: name the model to mix, e.g. mix:gpt2-docmix-7m`);
  const model = await loadModelExplained({ ...req, model: inner, codingStep: JS_QUANTIZER_KIND }, hint);
  try {
    return new MixModel(model, settings);
  } catch (e) {
    await model.dispose();
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

const isOrderK = (id: string) => parseOrderKSpec(id) !== null;

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
  const id = req.model ?? EMBEDDED_MODEL_ID;
  if (id === EMBEDDED_MODEL_ID || isOrderK(id) || existsSync(id)) return loadModel(req);
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
    const msg = e instanceof Error ? e.message : String(e);
    const cause = /download of \S+ failed \((.*)\)\./.exec(msg)?.[1] ?? msg.split('\n')[0];
    throw new UsageError(
      `unknown model "${id}": not found locally (${looked}) and the Hugging Face Hub download of ${MODEL_ALIASES[id] ?? id} failed (${cause}); ${pass}`,
    );
  }
}
