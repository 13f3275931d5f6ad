/** A whole joint run: every compressor over the same inputs, one after another, into a `JointReport`. */
import type { Compressor } from '../compressors/compressor.js';
import { analyseCompressor, type AnalyseOptions } from './analyse.js';
import type { JointInput } from './inputs.js';
import { JOINT_REPORT_VERSION, type JointReport } from './report.js';

export interface JointRunOptions extends AnalyseOptions {
  limit: number | null;
  argv?: string[];
  skipped?: { name: string; reason: string }[];
  /** Called as each compressor finishes (the CLI logs it). */
  done?(compressor: string, seconds: number): void;
}

export async function runJoint(inputs: readonly JointInput[], compressors: readonly Compressor[], opts: JointRunOptions): Promise<JointReport> {
  if (inputs.length < 2) throw new Error(`joint compression needs at least two inputs, got ${inputs.length}`);
  const results = [];
  for (const c of compressors) {
    const r = await analyseCompressor(c, inputs, opts);
    opts.done?.(c.name, r.seconds);
    results.push(r);
  }
  return {
    report: 'compress-bench joint',
    version: JOINT_REPORT_VERSION,
    createdAt: new Date().toISOString(),
    argv: opts.argv ?? [],
    options: {
      limit: opts.limit,
      primerTokens: opts.primerTokens ?? null,
      self: !!opts.self,
      reachSplit: opts.reachSplit !== false,
      conditional: opts.conditional !== false,
    },
    inputs: inputs.map((x) => x.record),
    compressors: results,
    skipped: opts.skipped ?? [],
  };
}
