/**
 * The mixer's settings and how an archive names them. A mix archive's coding step is
 * `mix/<version>+<the LM's table step>` under the default settings, e.g.
 * `mix/4+onnx-graph-static-kv-cum/1` (every archive's header carries it: on small inputs its
 * bytes show), and `mix/<version>:o<orders>:m<match min>:r<rate>:mem<MB>+<step>` under any
 * other, e.g. `mix/4:o1.2.4.6:m3.6.12.24:r512:mem64+js-quantizer/1`. One spelling per setting:
 * decoding with another version, other settings, another memory budget or another LM step
 * builds other tables, so it is refused (the step names differ).
 */
import { DEFAULT_MIX_MEMORY_MB, MAX_MIX_MEMORY_MB, MIN_MIX_MEMORY_MB } from './memory.js';
import { MixSettingsError } from './settings-error.js';

/**
 * 4: the mixed table as a cumulative C(s) = s + ⌊G(s)·scale⌋ read in O(contexts) from the LM's
 * cumulative table (version 3 built the whole table per token, O(V) in JavaScript); an APM on
 * the longest match's token; the name of the default settings shortened to `mix/4`.
 * 3: fixed-size hashed tables under a memory budget (version 2's grew with the input), and the
 * LM's tables from the static-KV graph where the model has one.
 */
export const MIX_VERSION = 4;

export interface MixSettings {
  /** Orders (tokens of context) of the hashed token-context models, e.g. [1, 2, 3]. */
  orders: number[];
  /** Per match model, tokens hashed to find an earlier occurrence (its shortest match), rising. */
  matchMin: number[];
  /** The mixer's learning rate never drops below 1/rate. */
  rate: number;
  /** The tables' memory budget in MiB, all segments together (memory.ts splits it). */
  memoryMB: number;
}

export const DEFAULT_MIX_SETTINGS: MixSettings = { orders: [1, 2, 4, 6], matchMin: [3, 6, 12, 24], rate: 512, memoryMB: DEFAULT_MIX_MEMORY_MB };

export { MixSettingsError };

export function checkMixSettings(s: MixSettings): MixSettings {
  const bad = (why: string) => new MixSettingsError(`mixer settings: ${why}`);
  if (s.orders.length < 2 || s.orders.length > 4) throw bad(`2 to 4 context orders, got ${s.orders.length}`);
  s.orders.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1 || k > 8 || (i > 0 && k <= s.orders[i - 1])) throw bad(`orders must rise within 1..8, got ${s.orders.join(',')}`);
  });
  if (s.matchMin.length < 1 || s.matchMin.length > 4) throw bad(`1 to 4 match models, got ${s.matchMin.length}`);
  s.matchMin.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 1 || m > 32 || (i > 0 && m <= s.matchMin[i - 1])) throw bad(`match minimums must rise within 1..32 tokens, got ${s.matchMin.join(',')}`);
  });
  if (!Number.isInteger(s.rate) || s.rate < 2 || s.rate > 65536) throw bad(`rate must be 2..65536, got ${s.rate}`);
  if (!Number.isInteger(s.memoryMB) || s.memoryMB < MIN_MIX_MEMORY_MB || s.memoryMB > MAX_MIX_MEMORY_MB) {
    throw bad(`memory must be a whole number of MB from ${MIN_MIX_MEMORY_MB} to ${MAX_MIX_MEMORY_MB}, got ${s.memoryMB}`);
  }
  return s;
}

const spelled = (s: MixSettings) => `o${s.orders.join('.')}:m${s.matchMin.join('.')}:r${s.rate}:mem${s.memoryMB}`;

/** The mixer half of the coding-step name: `mix/4` under the defaults, else `mix/4:o1.2.4.6:m3.6.12.24:r512:mem64`. */
export function mixerName(s: MixSettings): string {
  const settings = spelled(s);
  return settings === spelled(DEFAULT_MIX_SETTINGS) ? `mix/${MIX_VERSION}` : `mix/${MIX_VERSION}:${settings}`;
}

export { isMixStep } from '../step/coding-steps.js';

/** Split a mix coding step into its mixer settings and the LM's step; throws on other versions, naming both steps. */
export function parseMixStep(step: string): { settings: MixSettings; lmStep: string } {
  const version = /^mix\/(\d+)[:+]/.exec(step)?.[1];
  if (version !== undefined && Number(version) !== MIX_VERSION) {
    throw new MixSettingsError(
      `archive's coding step ${step} is mixer version ${version}; this build mixes with version ${MIX_VERSION} (${mixerName(DEFAULT_MIX_SETTINGS)}+…): decode it with the release that made it`,
    );
  }
  const plain = /^mix\/\d+\+(.+)$/.exec(step);
  if (plain) return { settings: { ...DEFAULT_MIX_SETTINGS, orders: [...DEFAULT_MIX_SETTINGS.orders], matchMin: [...DEFAULT_MIX_SETTINGS.matchMin] }, lmStep: plain[1] };
  const m = /^mix\/\d+:o([\d.]+):m([\d.]+):r(\d+):mem(\d+)\+(.+)$/.exec(step);
  if (!m) throw new MixSettingsError(`not a mix coding step: ${step}`);
  const settings = checkMixSettings({ orders: m[1].split('.').map(Number), matchMin: m[2].split('.').map(Number), rate: Number(m[3]), memoryMB: Number(m[4]) });
  if (mixerName(settings) !== step.slice(0, step.indexOf('+'))) throw new MixSettingsError(`not a mix coding step: ${step} (these are the default settings, spelled ${mixerName(settings)})`);
  return { settings, lmStep: m[5] };
}
