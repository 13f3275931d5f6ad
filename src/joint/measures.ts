/**
 * The arithmetic of joint compression, on coded sizes in bytes. Pure functions: the sizes come
 * from real, verified codings elsewhere (see `verified-size.ts`); nothing here compresses.
 *
 *   joint gain      G(A,B)    = C(A) + C(B) − C(A‖B)           (bytes saved by coding A and B together)
 *   conditional     C(B|A)    = C(A‖B) − C(A)                  (what B costs once A is known)
 *   NCD             NCD(A,B)  = (C(A‖B) − min(C(A),C(B))) / max(C(A),C(B))
 *
 * Every archive carries a fixed container cost h (gzip 18 B of header and trailer, an LM
 * archive ~150 B naming its model). C(A‖B) pays it once, C(A) + C(B) twice, so G ≥ h even for
 * unrelated inputs; on small inputs that artefact can dominate (an LM "finds" 10 % joint gain in
 * noise). The `net` variants subtract h from every size first, so they measure shared
 * structure only: G − h, and NCD on C − h.
 */

export interface Gain {
  bytes: number;
  /** Of C(A) + C(B); 0 when both are empty. */
  percent: number;
}

export function jointGain(cA: number, cB: number, cAB: number): Gain {
  const bytes = cA + cB - cAB;
  const both = cA + cB;
  return { bytes, percent: both > 0 ? (100 * bytes) / both : 0 };
}

/** C(B|A) by concatenation: what B adds once A has been coded (the two containers cancel). */
export function conditionalSize(cA: number, cAB: number): number {
  return cAB - cA;
}

/** Normalized compression distance: ≈0 for identical inputs, ≈1 for unrelated ones (can exceed 1 a little). */
export function ncd(cA: number, cB: number, cAB: number): number {
  const max = Math.max(cA, cB);
  return max > 0 ? (cAB - Math.min(cA, cB)) / max : 0;
}

/** The same measures on sizes net of the container overhead `h` (each archive minus h). */
export function netGain(cA: number, cB: number, cAB: number, h: number): Gain {
  return jointGain(cA - h, cB - h, cAB - h);
}

export function netNcd(cA: number, cB: number, cAB: number, h: number): number {
  return ncd(cA - h, cB - h, cAB - h);
}

/**
 * A symmetric distance from an ordered one: d(A,B) = (m[A][B] + m[B][A]) / 2, 0 on the diagonal.
 * C(A‖B) and C(B‖A) differ (order matters to every compressor), so NCD is only nearly symmetric;
 * clustering needs a symmetric matrix.
 */
export function symmetrise(m: readonly (readonly (number | null)[])[]): number[][] {
  return m.map((row, i) =>
    row.map((_, j) => {
      if (i === j) return 0;
      const a = m[i][j];
      const b = m[j][i];
      if (a === null && b === null) throw new Error(`no distance between ${i} and ${j}`);
      return a === null ? b! : b === null ? a : (a + b) / 2;
    }),
  );
}

/** How far-back input a compressor can use, against one input's size (in the compressor's unit). */
export interface Visibility {
  /** Size of the earlier input in the compressor's reach unit (bytes, or tokens for LMs). */
  size: number;
  /** At most this much of it is inside the window when the next input starts. */
  visible: number;
  fraction: number;
}

export function visibility(size: number, window: number): Visibility {
  const visible = Math.min(size, window);
  return { size, visible, fraction: size > 0 ? visible / size : 1 };
}
