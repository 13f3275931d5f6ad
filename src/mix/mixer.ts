/**
 * A mixer: p = Σ wᵢ pᵢ over the experts (the LM, order 0, the contexts, the match models),
 * a linear mixture whose weights live in sets chosen by a small context (the predictor runs
 * several, each with its own context, and a final mixer over their mixtures) and are learned
 * online from the coding loss. For −log p(x) the exponentiated-gradient step, linearised, is
 *
 *   wᵢ ← wᵢ · (1 + η (pᵢ(x)/p(x) − 1))
 *
 * which keeps Σ wᵢ = 1 and every wᵢ > 0 for η < 1 (it is Bayes' rule for η = 1). η starts at
 * 1/2 and falls as 1/(n+2) with the set's use count n, down to 1/rate.
 *
 * Determinism: only +, −, ×, ÷ and comparisons on doubles (IEEE 754 rounds these exactly the
 * same in every engine) and Math.floor; no exp/log/pow. The decoder reproduces every weight
 * bit for bit because it performs the same operations on the same values.
 */
const WEIGHT_FLOOR = 1 / 4096;

export class Mixer {
  readonly weights: Float64Array;
  private readonly uses: Uint32Array;

  constructor(
    readonly experts: number,
    readonly sets: number,
    private readonly minRate: number,
    initial: readonly number[],
  ) {
    this.weights = new Float64Array(experts * sets);
    this.uses = new Uint32Array(sets);
    const sum = initial.reduce((a, b) => a + b, 0);
    for (let s = 0; s < sets; s++) for (let i = 0; i < experts; i++) this.weights[s * experts + i] = initial[i] / sum;
  }

  /** The mixture's probability of the coded token, Σ wᵢ pᵢ, under weight set `set`. */
  mixture(set: number, p: Float64Array): number {
    const at = set * this.experts;
    let m = 0;
    for (let i = 0; i < this.experts; i++) m += this.weights[at + i] * p[i];
    return m;
  }

  /** `p` = each expert's probability of the coded token, `mixed` = the mixture's (Σ wᵢ pᵢ). */
  update(set: number, p: Float64Array, mixed: number): void {
    const n = this.experts;
    const at = set * n;
    const uses = this.uses[set]++;
    const eta = Math.max(this.minRate, 1 / (uses + 2));
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let w = this.weights[at + i] * (1 + eta * (p[i] / mixed - 1));
      if (w < WEIGHT_FLOOR) w = WEIGHT_FLOOR;
      this.weights[at + i] = w;
      sum += w;
    }
    for (let i = 0; i < n; i++) this.weights[at + i] /= sum;
  }
}
