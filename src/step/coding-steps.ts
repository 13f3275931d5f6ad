/**
 * Names of coding steps that the layers above must recognise in an archive header without
 * knowing the model that made them (the LM compressor's hint for a mix: archive).
 */

/** A mix's coding step: `mix/VERSION:…+INNER_STEP` (mix/settings.ts builds it). */
export function isMixStep(step: string): boolean {
  return step.startsWith('mix/');
}
