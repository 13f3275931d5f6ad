/** The language-model compressors a command asks for (`-m`, `--mix`), loaded and checked before any work. */
import type { Compressor } from '../compressors/compressor.js';
import { lmCompressor } from '../compressors/lm.js';
import type { CodecOptions } from '../coding/lm-codec.js';
import { modelFacts } from '../records/generalization.js';
import { MIX_PREFIX, loadModelOrMix, requireContext } from './model-lookup.js';
import { UsageError, list, modelRequest, type ModelArgs } from './options.js';

import { NO_MODEL, parseModelSpec } from '../common/model-spec.js';

/**
 * One LM compressor per `-m` model and per `--mix` model (as `mix:MODEL`). Without `-m`:
 * `defaultModel` (the embedded model for the main job), unless `--mix` is given alone.
 */
export async function lmCompressors(
  a: ModelArgs & { model?: string[]; mix?: string[] },
  codec: CodecOptions,
  defaultModel: boolean,
): Promise<Compressor[]> {
  const models = list(a.model);
  const mixes = list(a.mix).map((m) => MIX_PREFIX + m);
  const none = models.map((m) => parseModelSpec(m).kind === 'none');
  if (none.includes(true) && models.length > 1) throw new UsageError(`-m/--model ${NO_MODEL} runs the baselines only; it cannot be combined with other models`);
  const plain = models.length === 0 ? (mixes.length || !defaultModel ? [] : [undefined]) : none[0] ? [] : models;
  const out: Compressor[] = [];
  for (const m of [...plain, ...mixes]) {
    const lm = await loadModelOrMix({ ...modelRequest(a, m), maxContext: codec.contextLength });
    await requireContext(lm, codec.contextLength);
    try {
      modelFacts(lm.identity); // a malformed or stale model card fails here, before any work
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    out.push(lmCompressor(lm, codec));
  }
  return out;
}
