/**
 * Strict option values. Every check throws a `UsageError` whose one line names the option,
 * what was given and what is accepted; the CLI prints it and exits 2. yargs' own `choices`
 * and `number` checks are not used for this: their messages span lines, and `number` turns
 * "abc" into NaN silently.
 */

/** A failure the user caused or can fix: one line on stderr, exit 2. */
export class UsageError extends Error {}

const shown = (v: unknown) => (v === '' ? 'an empty value' : `"${String(v)}"`);

/** Repeated options arrive as arrays: yargs then gives the last value to a scalar option. */
const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * A whole number ≥ `min`, typed as digits (no signs, exponents, fractions or hex).
 * `what` finishes "accepted values: …", e.g. "a whole number of bytes ≥ 0".
 */
export function wholeNumber(option: string, min: number, what: string) {
  return (raw: unknown): number | undefined => {
    const v = last(raw);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) return v; // a default
    const s = String(v).trim();
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
      throw new UsageError(`--${option}: ${shown(v)} is not accepted; accepted values: ${what}`);
    }
    return Number(s);
  };
}

/** One of a fixed list. yargs' `choices` still documents the list in --help. */
export function oneOf<T extends string>(option: string, values: readonly T[]) {
  return (raw: unknown): T => {
    const v = last(raw);
    if (!values.includes(v as T)) {
      throw new UsageError(`--${option}: ${shown(v ?? '')} is not accepted; accepted values: ${values.join(', ')}`);
    }
    return v as T;
  };
}

/** `--segments`: a positive integer or `auto`. */
export function segments(raw: unknown): number | 'auto' {
  const v = last(raw);
  if (v === undefined || v === 'auto') return 'auto';
  const s = String(v).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1) {
    throw new UsageError(`--segments: ${shown(v)} is not accepted; accepted values: a positive integer (1, 2, …) or auto`);
  }
  return Number(s);
}

export const MODEL_SYNTAX = 'a model id (gpt2-docmix-7m), an alias (gpt2), a Hub id (Xenova/gpt2), a folder path, embedded, or order-k[:K]';

/** `-m/--model` (repeatable): every value non-empty. `-m` as the last word yields "". */
export function modelNames(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v : String(v)));
  for (const v of values) {
    if (v.trim() === '') throw new UsageError(`-m/--model needs a value; accepted values: ${MODEL_SYNTAX}`);
  }
  return values;
}

export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export const DEVICES = ['cpu', 'cuda'] as const;
