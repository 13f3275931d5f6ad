/**
 * The model-spec grammar, in one place: what follows `-m/--model` (and `--mix`), and what a
 * record's model id means (docs/design.md). Pure syntax, no file system: `models/lookup.ts`
 * resolves a `named` spec to a folder, a GGUF file or a Hub download; the mix layer wraps the
 * model a `mix` spec names.
 *
 *   none            baselines only, no model
 *   embedded        the small model that ships in the repo (also: no --model at all)
 *   order-k[:K[:MMiB]]  the adaptive order-K context model (K defaults to 3) in hashed tables of M MiB
 *   mix:SPEC        SPEC's model mixed with online match and context models
 *   anything else   a name: model id, alias, Hub id, folder or .gguf path
 */
export type ModelSpec =
  | { kind: 'none' }
  | { kind: 'embedded' }
  | { kind: 'order-k'; k: number; memoryMiB?: number }
  | { kind: 'mix'; inner: MixableSpec }
  | { kind: 'named'; name: string };

/** What a mix can wrap: one model (not another mix, not `none`). */
export type MixableSpec = Extract<ModelSpec, { kind: 'embedded' | 'order-k' | 'named' }>;

export const NO_MODEL = 'none';
export const EMBEDDED_MODEL_ID = 'embedded';
export const MIX_PREFIX = 'mix:';
export const DEFAULT_ORDER_K = 3;

/** A spec that names no usable model (`mix:` with nothing after it, a mix of a mix). */
export class ModelSpecError extends Error {}

const ORDER_K = /^order-k(?::(\d+)(?::(\d+)MiB)?)?$/;

/** `undefined` (no --model given) is the embedded model. */
export function parseModelSpec(text: string | undefined): ModelSpec {
  if (text === undefined || text === EMBEDDED_MODEL_ID) return { kind: 'embedded' };
  if (text === NO_MODEL) return { kind: 'none' };
  const orderK = ORDER_K.exec(text);
  // The range checks (k 0..6, the table size) are the model's own (models/order-k.ts); no size: its default.
  if (orderK) return { kind: 'order-k', k: orderK[1] === undefined ? DEFAULT_ORDER_K : Number(orderK[1]), ...(orderK[2] === undefined ? {} : { memoryMiB: Number(orderK[2]) }) };
  if (text.startsWith(MIX_PREFIX)) {
    const rest = text.slice(MIX_PREFIX.length);
    if (!rest) throw new ModelSpecError(`${text}: name the model to mix, e.g. mix:gpt2-docmix-7m`);
    const inner = parseModelSpec(rest);
    if (inner.kind === 'mix' || inner.kind === 'none') throw new ModelSpecError(`${text}: a mix wraps one model, not ${rest}`);
    return { kind: 'mix', inner };
  }
  return { kind: 'named', name: text };
}

/** The text that parses back to `spec` (order-k always with its K). */
export function formatModelSpec(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'none':
      return NO_MODEL;
    case 'embedded':
      return EMBEDDED_MODEL_ID;
    case 'order-k':
      return `order-k:${spec.k}${spec.memoryMiB === undefined ? '' : `:${spec.memoryMiB}MiB`}`;
    case 'mix':
      return MIX_PREFIX + formatModelSpec(spec.inner);
    case 'named':
      return spec.name;
  }
}
