/**
 * Hutter crossover: a model pays for its weights once, a classic compressor pays little; per byte
 * the model may be cheaper. Totals are lines in the input size n:
 *   total(n) = decompressorBytes + bpb · n / 8,
 * so from measured bpb we can extrapolate the n beyond which the model's total is below every
 * classic baseline's. This assumes bpb stays constant with n — hence always labelled an extrapolation.
 */
import type { ResultRow } from './results.js';
import { CLASSIC_FAMILIES } from './results.js';

export type Crossover =
  /** The model's total beats every classic total for all n ≥ `bytes` (0: already at any size). */
  | { kind: 'at'; bytes: number; binding: ResultRow }
  /** Some classic has bpb ≤ the model's, so the model's total never catches up. */
  | { kind: 'never'; bestClassic: ResultRow };

/** `undefined` when there is no valid classic result to compare with. */
export function hutterCrossover(model: ResultRow, rows: ResultRow[]): Crossover | undefined {
  const classics = rows.filter((r) => r.valid && CLASSIC_FAMILIES.has(r.result.family));
  if (classics.length === 0 || !model.valid) return undefined;
  const bestBpb = classics.reduce((best, r) => (r.bpb < best.bpb ? r : best));
  const b = model.bpb;
  const d = model.result.decompressor.bytes;
  if (bestBpb.bpb <= b) return { kind: 'never', bestClassic: bestBpb };
  // Beating the lower envelope of all classic lines means beating each: take the latest crossing.
  let bytes = 0;
  let binding = bestBpb;
  for (const c of classics) {
    const n = ((d - c.result.decompressor.bytes) * 8) / (c.bpb - b);
    if (n > bytes) {
      bytes = n;
      binding = c;
    }
  }
  return { kind: 'at', bytes: Math.ceil(bytes), binding };
}

/** Hutter total of a result at input size n, by the same linear model. */
export function totalAt(row: ResultRow, n: number): number {
  return row.result.decompressor.bytes + (row.bpb * n) / 8;
}
