/**
 * One compressor over all inputs: every single, every ordered concatenation, the reach split
 * and (LMs) direct conditional coding, each a verified coding, assembled into `CompressorJoint`.
 */
import { isConditional, type Compressor } from '../compressors/compressor.js';
import { averageLinkage } from './cluster.js';
import type { JointInput } from './inputs.js';
import { conditionalSize, jointGain, ncd, netGain, netNcd, symmetrise } from './measures.js';
import { reachOf } from './reach.js';
import type { CompressorJoint, DirectConditional, PairFigures, PairReach } from './report.js';
import { VerifiedSizer, type CodedSize, type ProgressFactory } from './verified-size.js';

export interface AnalyseOptions {
  /** Also pair every input with itself (A‖A): how much the compressor can copy. */
  self?: boolean;
  /** Measure C(A_tail‖B) when A exceeds the reach (default true). */
  reachSplit?: boolean;
  /** LMs: also code B | A_tail directly with `compressAfter` (default true). */
  conditional?: boolean;
  /** Primer for direct conditional coding; default half the model's context (all of A when unbounded). */
  primerTokens?: number;
  progress?: ProgressFactory;
}

/** The byte whose cost, minus itself, estimates the container: C(ε) would not do (xz and bzip2 special-case empty input). */
const PROBE = Uint8Array.of(0x0a);

export const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** Primer tokens for direct conditional coding, checked against the model's context. */
export function primerFor(lm: Compressor, requested?: number): number {
  const context = lm.reach.window;
  const k = requested ?? (Number.isFinite(context) ? Math.floor(context / 2) : Infinity);
  if (!(k >= 0) || (Number.isFinite(context) && k + 1 >= context)) {
    throw new Error(`--primer-tokens must be between 0 and ${context - 2} for ${lm.name} (context ${context}), got ${k}`);
  }
  return k;
}

export async function analyseCompressor(compressor: Compressor, inputs: readonly JointInput[], opts: AnalyseOptions = {}): Promise<CompressorJoint> {
  const t0 = performance.now();
  const sizer = new VerifiedSizer(compressor, opts.progress);
  const n = inputs.length;
  const h = (await sizer.size(PROBE, 'one byte')).bytes - PROBE.length;
  const lm = isConditional(compressor) && opts.conditional !== false ? compressor : undefined;
  const primer = lm ? primerFor(lm, opts.primerTokens) : 0;

  const singles: CodedSize[] = [];
  for (const x of inputs) singles.push(await sizer.size(x.bytes, x.name));
  const reaches = inputs.map((x) => reachOf(compressor, x.bytes));
  const ordered: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j || opts.self) ordered.push([i, j]);

  const joint = new Map<string, number>();
  for (const [i, j] of ordered) joint.set(`${i},${j}`, (await sizer.size(concat(inputs[i].bytes, inputs[j].bytes), `${inputs[i].name}‖${inputs[j].name}`)).bytes);

  // Reach split: the tail of A (its last `window` units) alone, then before each B.
  const splitting = opts.reachSplit !== false;
  const tails = new Map<number, number>();
  const tailJoint = new Map<string, number>();
  if (splitting) {
    for (const [i, j] of ordered) {
      if (reaches[i].whole) continue;
      const name = `${inputs[i].name} tail`;
      if (!tails.has(i)) tails.set(i, (await sizer.size(reaches[i].tail, name)).bytes);
      tailJoint.set(`${i},${j}`, (await sizer.size(concat(reaches[i].tail, inputs[j].bytes), `${name}‖${inputs[j].name}`)).bytes);
    }
  }

  const direct = new Map<string, DirectConditional>();
  if (lm) {
    for (const [i, j] of ordered) {
      const c = await sizer.conditional(inputs[j].bytes, inputs[i].bytes, primer, `${inputs[j].name}|${inputs[i].name} tail`);
      const bPayload = singles[j].payloadBytes ?? singles[j].bytes;
      direct.set(`${i},${j}`, {
        primerTokens: c.primerTokens,
        archiveBytes: c.bytes,
        payloadBytes: c.payloadBytes ?? c.bytes,
        bPayloadBytes: bPayload,
        gainBytes: bPayload - (c.payloadBytes ?? c.bytes),
      });
    }
  }

  const pairs: PairFigures[] = ordered.map(([i, j]) => {
    const [cA, cB, cAB] = [singles[i].bytes, singles[j].bytes, joint.get(`${i},${j}`)!];
    const cBA = joint.get(`${j},${i}`) ?? cAB;
    const gain = jointGain(cA, cB, cAB);
    const net = netGain(cA, cB, cAB, h);
    const d = direct.get(`${i},${j}`);
    return {
      a: inputs[i].name,
      b: inputs[j].name,
      cA, cB, cAB, cBA,
      gainBytes: gain.bytes,
      gainPercent: gain.percent,
      netGainBytes: net.bytes,
      netGainPercent: net.percent,
      conditionalBytes: conditionalSize(cA, cAB),
      ncd: ncd(cA, cB, cAB),
      netNcd: netNcd(cA, cB, cAB, h),
      reach: pairReach(reaches[i], net.bytes, gain.bytes, tails.get(i), cB, tailJoint.get(`${i},${j}`), h),
      ...(d ? { direct: d } : {}),
    };
  });

  const matrix = (pick: (p: PairFigures) => number) => {
    const m: (number | null)[][] = inputs.map(() => inputs.map(() => null));
    pairs.forEach((p, k) => (m[ordered[k][0]][ordered[k][1]] = pick(p)));
    return m;
  };
  const netNcdMatrix = matrix((p) => p.netNcd);
  const distance = symmetrise(netNcdMatrix);
  const r = compressor.reach;
  return {
    compressor: compressor.name,
    family: compressor.family,
    settings: compressor.settings,
    reach: { unit: r.unit, window: Number.isFinite(r.window) ? r.window : null, note: r.note },
    overheadBytes: h,
    inputs: inputs.map((x, i) => ({
      input: x.name,
      codedBytes: singles[i].bytes,
      ...(singles[i].payloadBytes !== undefined ? { payloadBytes: singles[i].payloadBytes } : {}),
      ...(singles[i].tokens !== undefined ? { tokens: singles[i].tokens } : {}),
      size: reaches[i].size,
      visible: reaches[i].visible,
      visibleFraction: reaches[i].fraction,
      ...(tails.has(i) ? { tail: { bytes: reaches[i].tail.length, codedBytes: tails.get(i)! } } : {}),
    })),
    pairs,
    matrices: {
      ncd: matrix((p) => p.ncd),
      netNcd: netNcdMatrix,
      gainPercent: matrix((p) => p.gainPercent),
      netGainPercent: matrix((p) => p.netGainPercent),
      distance,
    },
    dendrogram: averageLinkage(inputs.map((x) => x.name), distance),
    codings: sizer.codings,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Within vs beyond reach. Definition (docs/joint.md): the within-reach gain is the net gain the
 * tail of A alone gives B, C(A_tail) + C(B) − C(A_tail‖B) − h; beyond = net gain − within.
 * When A fits the window its tail is A, so all of the gain is within reach by definition.
 */
function pairReach(
  reach: ReturnType<typeof reachOf>,
  netGainBytes: number,
  gainBytes: number,
  cTail: number | undefined,
  cB: number,
  cTailB: number | undefined,
  h: number,
): PairReach {
  const base = { visible: reach.visible, visibleFraction: reach.fraction };
  if (reach.whole) return { ...base, measured: false, cTailB: null, gainWithinReach: netGainBytes, gainBeyondReach: 0 };
  if (cTail === undefined || cTailB === undefined) return { ...base, measured: false, cTailB: null, gainWithinReach: null, gainBeyondReach: null };
  const tailGain = cTail + cB - cTailB;
  return { ...base, measured: true, cTailB, gainWithinReach: tailGain - h, gainBeyondReach: gainBytes - tailGain };
}
