/**
 * The joint report: what `joint --json` prints and the HTML page draws. The schema is
 * documented in docs/joint.md; bump JOINT_REPORT_VERSION on any incompatible change.
 * All sizes are bytes of real archives whose round trips were verified.
 */
import type { ClusterNode } from './cluster.js';
import type { JointInputRecord } from './inputs.js';

export const JOINT_REPORT_VERSION = 1;

export interface JointReport {
  report: 'compress-bench joint';
  version: typeof JOINT_REPORT_VERSION;
  createdAt: string;
  argv: string[];
  options: JointOptionsRecord;
  inputs: JointInputRecord[];
  compressors: CompressorJoint[];
  /** Requested compressors that could not run here (missing CLI tool). */
  skipped: { name: string; reason: string }[];
}

export interface JointOptionsRecord {
  /** Bytes per input; null = whole inputs. */
  limit: number | null;
  /** Requested primer for direct conditional coding; null = half of each model's context. */
  primerTokens: number | null;
  self: boolean;
  reachSplit: boolean;
  conditional: boolean;
}

export interface CompressorJoint {
  compressor: string;
  family: string;
  settings: Record<string, unknown>;
  /** `window` is null when unbounded (JSON has no Infinity). */
  reach: { unit: 'bytes' | 'tokens'; window: number | null; note: string };
  /** h: estimated container cost of one archive, C(one byte) − 1. */
  overheadBytes: number;
  inputs: InputFigures[];
  /** Every ordered pair A ≠ B (and A = A with --self), A coded first. */
  pairs: PairFigures[];
  /** [i][j] over `inputs` order, row A, column B; null where not measured (the diagonal without --self). */
  matrices: {
    ncd: (number | null)[][];
    netNcd: (number | null)[][];
    gainPercent: (number | null)[][];
    netGainPercent: (number | null)[][];
    /** Symmetrised net NCD, (d[A][B] + d[B][A]) / 2: what the clustering uses. */
    distance: number[][];
  };
  /** Average-linkage (UPGMA) clustering on `matrices.distance`. */
  dendrogram: ClusterNode;
  /** Verified compress + decompress round trips made for this compressor. */
  codings: number;
  seconds: number;
}

export interface InputFigures {
  input: string;
  /** C(X). */
  codedBytes: number;
  payloadBytes?: number;
  tokens?: number;
  /** X's size in the reach unit (bytes, or the model's tokens). */
  size: number;
  /** At most this much of X is in the window when a following input starts. */
  visible: number;
  visibleFraction: number;
  /** Present when X exceeds the reach and the split was measured: X's last `window` units. */
  tail?: { bytes: number; codedBytes: number };
}

export interface PairFigures {
  a: string;
  b: string;
  cA: number;
  cB: number;
  /** C(A‖B): A then B in one archive. */
  cAB: number;
  /** C(B‖A). */
  cBA: number;
  /** C(A) + C(B) − C(A‖B), and as % of C(A) + C(B). */
  gainBytes: number;
  gainPercent: number;
  /** The same with every size net of h: shared structure only. */
  netGainBytes: number;
  netGainPercent: number;
  /** C(B|A) = C(A‖B) − C(A). */
  conditionalBytes: number;
  ncd: number;
  netNcd: number;
  reach: PairReach;
  /** LMs: B coded directly after a primer of A's last tokens (`compressAfter`). */
  direct?: DirectConditional;
}

export interface PairReach {
  /** Of A, in the reach unit. */
  visible: number;
  visibleFraction: number;
  /** True when A exceeded the reach and C(A_tail‖B) was coded. */
  measured: boolean;
  /** C(A_tail‖B), when measured. */
  cTailB: number | null;
  /**
   * Net gain attributable to the part of A within reach: C(A_tail) + C(B) − C(A_tail‖B) − h;
   * the whole net gain when A fits the window; null when A exceeds it and the split was skipped.
   */
  gainWithinReach: number | null;
  /** Net gain − within: what the rest of A adds (≈ 0 for hard windows; boundary effects otherwise). */
  gainBeyondReach: number | null;
}

export interface DirectConditional {
  /** Tokens of A actually primed. */
  primerTokens: number;
  /** The archive of B | A_tail, header included. */
  archiveBytes: number;
  /** Its coded stream alone: comparable to `conditionalBytes`, where the headers cancel. */
  payloadBytes: number;
  /** Payload of B coded alone. */
  bPayloadBytes: number;
  /** bPayloadBytes − payloadBytes. */
  gainBytes: number;
}
