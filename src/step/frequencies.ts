/**
 * Deterministic float → integer frequency quantization: the bridge between a model's
 * logits and the range coder. Encoder and decoder run exactly this code on exactly the
 * same logits, so they build identical tables.
 *
 * Every symbol gets a frequency ≥ 1 (any byte sequence stays codable, however unlikely),
 * the table sums to exactly `total`, and the leftover of rounding goes to the most likely
 * symbol. With total = 2^28 and a 50k vocabulary the floor of 1 costs ≈ 50257/2^28 of the
 * mass: ≈ 0.0003 bits per token.
 */
/**
 * Every table's total: the range coder's MAX_TOTAL (coding/range-coder.ts; lm-codec.ts asserts the
 * two agree), kept here so the coding step does not depend on the codec above it.
 */
export const FREQUENCY_TOTAL = 2 ** 28;

/**
 * Logits this far below the maximum count as probability 0 before the floor of 1:
 * e^-30·2^28 < 1e-4, so rounding would give them nothing anyway, and the softmax sum moves
 * by < 1e-8 relative. Both sides apply the same cut, so the tables stay identical.
 */
const CUT_NATS = 30;

/**
 * exp(x) for x in [-CUT_NATS, 0], deterministic and ~3× faster than Math.exp: a table of
 * exp(-j/64) times a degree-4 Taylor polynomial on the remaining [0, 1/64) (relative error
 * < 1e-11). Softmax over a 50k vocabulary per token is the hot path outside the model, and
 * small models leave nearly every logit within 20 nats of the maximum, so no cut saves it.
 */
const EXP_STEPS = 64;
const EXP_TABLE = Float64Array.from({ length: CUT_NATS * EXP_STEPS + 2 }, (_, j) => Math.exp(-j / EXP_STEPS));
function expNonPositive(x: number): number {
  const i = Math.floor(x * EXP_STEPS); // ≤ 0
  const r = x - i / EXP_STEPS; // [0, 1/64)
  return EXP_TABLE[-i] * (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24)))));
}

export interface FrequencyTable {
  /** freq[i] ≥ 1 for every symbol; Σ freq = total. */
  freq: Uint32Array;
  total: number;
  /** log2 of the model's (unquantized) softmax denominator, to score ideal bits. */
  log2Norm: number;
  /** The logit maximum used for normalisation. */
  max: number;
  /** The symbol holding it: its frequency is the table's largest (it also takes rounding's leftover). */
  argmax: number;
  /** True when the logits were unusable and the table is uniform. */
  uniform: boolean;
}

/** Scratch space reused across calls (one per vocabulary size). */
export class Quantizer {
  private readonly exps: Float64Array;
  constructor(readonly vocabSize: number, readonly total = FREQUENCY_TOTAL) {
    if (vocabSize >= total) throw new Error(`vocabulary of ${vocabSize} does not fit a frequency total of ${total}`);
    this.exps = new Float64Array(vocabSize);
  }

  /** Quantize `logits[offset .. offset+vocabSize)` into `out`. */
  quantize(logits: Float32Array, offset: number, out: Uint32Array): FrequencyTable {
    const V = this.vocabSize;
    const exps = this.exps;
    let max = -Infinity;
    let argmax = 0;
    for (let i = 0; i < V; i++) {
      const l = logits[offset + i];
      if (l > max) {
        max = l;
        argmax = i;
      }
    }
    if (!Number.isFinite(max)) {
      // Degenerate output (all -inf or NaN): fall back to uniform, identically on both sides.
      return this.uniform(out);
    }
    const cut = max - CUT_NATS;
    let sum = 0;
    for (let i = 0; i < V; i++) {
      const l = logits[offset + i];
      // `l >= cut` is false for NaN too, so a NaN logit just gets the floor.
      const e = l >= cut ? expNonPositive(l - max) : 0;
      exps[i] = e;
      sum += e;
    }
    const scale = (this.total - V) / sum;
    let assigned = 0;
    for (let i = 0; i < V; i++) {
      const f = 1 + Math.floor(exps[i] * scale);
      out[i] = f;
      assigned += f;
    }
    out[argmax] += this.total - assigned;
    return { freq: out, total: this.total, log2Norm: Math.log2(sum), max, argmax, uniform: false };
  }

  private uniform(out: Uint32Array): FrequencyTable {
    const V = this.vocabSize;
    const base = Math.floor(this.total / V);
    out.fill(base);
    out[0] += this.total - base * V;
    return { freq: out, total: this.total, log2Norm: Math.log2(V), max: 0, argmax: 0, uniform: true };
  }
}

/** −log2 p(symbol) under the model's own softmax (not the quantized table). */
export function idealBits(logits: Float32Array, offset: number, symbol: number, table: FrequencyTable): number {
  if (table.uniform) return table.log2Norm;
  return table.log2Norm - (logits[offset + symbol] - table.max) * Math.LOG2E;
}

/** Cumulative frequency below `symbol` (encoder side). */
export function cumulativeBelow(freq: Uint32Array, symbol: number): number {
  let cum = 0;
  for (let i = 0; i < symbol; i++) cum += freq[i];
  return cum;
}

/** The symbol whose interval holds `target`, and its cumulative start (decoder side). */
export function findSymbol(freq: Uint32Array, target: number): { symbol: number; cum: number } {
  let cum = 0;
  const last = freq.length - 1;
  for (let i = 0; i < last; i++) {
    const next = cum + freq[i];
    if (target < next) return { symbol: i, cum };
    cum = next;
  }
  return { symbol: last, cum };
}
