/**
 * The mixer's settings and how an archive names them. A mix archive's coding step is
 * `mix/<version>:o<orders>:m<match min>:r<rate>+<the LM's own step>`, e.g.
 * `mix/1:o1.2.3:m4:r512+js-quantizer/1`: decoding with another version, other settings or
 * another LM step builds other tables, so it is refused (the step names differ).
 */
export const MIX_VERSION = 1;

export interface MixSettings {
  /** Orders (tokens of context) of the hashed token-context models, e.g. [1, 2, 3]. */
  orders: number[];
  /** Tokens hashed to find an earlier occurrence: the match model's shortest match. */
  matchMin: number;
  /** The mixer's learning rate never drops below 1/rate. */
  rate: number;
}

export const DEFAULT_MIX_SETTINGS: MixSettings = { orders: [1, 2, 3], matchMin: 4, rate: 512 };

export class MixSettingsError extends Error {}

export function checkMixSettings(s: MixSettings): MixSettings {
  const bad = (why: string) => new MixSettingsError(`mixer settings: ${why}`);
  if (s.orders.length < 2 || s.orders.length > 4) throw bad(`2 to 4 context orders, got ${s.orders.length}`);
  s.orders.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 1 || k > 8 || (i > 0 && k <= s.orders[i - 1])) throw bad(`orders must rise within 1..8, got ${s.orders.join(',')}`);
  });
  if (!Number.isInteger(s.matchMin) || s.matchMin < 1 || s.matchMin > 32) throw bad(`match minimum must be 1..32 tokens, got ${s.matchMin}`);
  if (!Number.isInteger(s.rate) || s.rate < 2 || s.rate > 65536) throw bad(`rate must be 2..65536, got ${s.rate}`);
  return s;
}

/** `mix/1:o1.2.3:m4:r512`: the mixer half of the coding-step name. */
export function mixerName(s: MixSettings): string {
  return `mix/${MIX_VERSION}:o${s.orders.join('.')}:m${s.matchMin}:r${s.rate}`;
}

export function isMixStep(step: string): boolean {
  return step.startsWith('mix/');
}

/** Split a mix coding step into its mixer settings and the LM's step; throws on other versions. */
export function parseMixStep(step: string): { settings: MixSettings; lmStep: string } {
  const m = /^mix\/(\d+):o([\d.]+):m(\d+):r(\d+)\+(.+)$/.exec(step);
  if (!m) throw new MixSettingsError(`not a mix coding step: ${step}`);
  if (Number(m[1]) !== MIX_VERSION) throw new MixSettingsError(`mixer version ${m[1]} is not supported (this build mixes with version ${MIX_VERSION})`);
  const settings = checkMixSettings({ orders: m[2].split('.').map(Number), matchMin: Number(m[3]), rate: Number(m[4]) });
  return { settings, lmStep: m[5] };
}
