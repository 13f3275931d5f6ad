/**
 * An adaptive probability map (paq's APM / SSE) on one event: "the next token is x*", x* the
 * longest predicting match's token. It maps the mixture's probability of that event, under a
 * small context, to a learned one. Nodes sit at u = 1 − p = 2⁻ᵏ (k = 0 … NODES − 1), so the
 * map is finest where a match is nearly sure; between two nodes it interpolates linearly, and
 * both learn from the coded outcome in proportion to their share. Only + − × ÷ and comparisons
 * on doubles (no log/exp), so both sides hold the same map.
 */
const NODES = 21;
const RATE = 1 / 48;

export class Apm {
  private readonly map: Float64Array;
  private node = 0;
  private share = 0;
  private at = 0;

  constructor(contexts: number) {
    this.map = new Float64Array(contexts * NODES);
    for (let c = 0; c < contexts; c++) for (let k = 0; k < NODES; k++) this.map[c * NODES + k] = 2 ** -k;
  }

  /** The refined 1 − p for `u` = 1 − p (in (0, 1]) under `context`; remembers where, for `update`. */
  refine(u: number, context: number): number {
    let k = 0;
    let high = 1; // u_k = 2^-k
    while (k < NODES - 2 && u < high / 2) {
      high /= 2;
      k++;
    }
    const low = high / 2; // u_{k+1}
    let w = (u - low) / (high - low); // 1 at node k, 0 at node k + 1
    if (w < 0) w = 0;
    this.at = context * NODES;
    this.node = k;
    this.share = w;
    return w * this.map[this.at + k] + (1 - w) * this.map[this.at + k + 1];
  }

  /** Learn the outcome of the last `refine`'s event (true: x* was coded). */
  update(happened: boolean): void {
    const target = happened ? 0 : 1;
    const i = this.at + this.node;
    const out = this.share * this.map[i] + (1 - this.share) * this.map[i + 1];
    const err = (target - out) * RATE;
    this.map[i] += err * this.share;
    this.map[i + 1] += err * (1 - this.share);
  }
}
