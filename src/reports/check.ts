/**
 * The regression gate: compare this run's bpb with a baseline record, per (input, compressor).
 * Exit 0: nothing worse than baseline·(1+tolerance). 1: a regression (or a newly failing result).
 * 2: the baseline cannot be used — and the reason says why, since a silent pass would be worse.
 */
import { RECORD_VERSION, type RunRecord } from '../records/run-record.js';
import { compareRecords, type ComparisonRow } from './compare.js';
import { formatPercent } from './format.js';

export interface CheckResult {
  exitCode: 0 | 1 | 2;
  /** Markdown diff table; for exit 2, the reason the baseline is unusable. */
  table: string;
  rows: ComparisonRow[];
  /** One-line verdict. */
  message: string;
}

/**
 * `0.5%` → 0.005, `0.005` → 0.005. A bare number ≥ 1 is refused (did you mean a percentage?),
 * as are negatives and anything unparseable.
 */
export function parseTolerance(input: string | number): number {
  const text = String(input).trim();
  const match = /^([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*(%?)$/i.exec(text);
  if (!match) throw new Error(`invalid tolerance "${text}": use a percentage like 0.5% or a fraction like 0.005`);
  const value = Number(match[1]);
  if (match[2] === '%') return value / 100;
  if (value >= 1) throw new Error(`tolerance ${text} would allow ${value * 100}% worse bpb; write ${text}% if you mean ${text} percent`);
  return value;
}

type Parsed = { records: RunRecord[] } | { error: string };

/** Accepts a record, an array of records, JSON text of either, or JSON Lines (one record per line). */
export function parseBaseline(baseline: unknown): Parsed {
  let value = baseline;
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value);
  if (typeof value === 'string') {
    const text = value.trim();
    if (!text) return { error: 'baseline is empty' };
    try {
      value = JSON.parse(text);
    } catch (error) {
      const lines = nonEmptyLines(text);
      const records = lines.length > 1 ? parseJsonLines(lines) : undefined;
      if (!records) return { error: `baseline is not parseable JSON (${(error as Error).message})` };
      value = records;
    }
  }
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return { error: 'baseline holds no records' };
  for (const [i, rec] of list.entries()) {
    const problem = recordProblem(rec, list.length > 1 ? `baseline record ${i + 1}` : 'baseline');
    if (problem) return { error: problem };
  }
  return { records: list as RunRecord[] };
}

/**
 * Why `rec` is not a RunRecord this build can compare, as a phrase starting with `where`, or
 * undefined when it is one. The gate and the reports read records only after this check.
 */
export function recordProblem(rec: unknown, where: string): string | undefined {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return `${where} is not a RunRecord object`;
  const version = (rec as { recordVersion?: unknown }).recordVersion;
  if (version === undefined) return `${where} is not a RunRecord (no recordVersion)`;
  if (version !== RECORD_VERSION) return `${where} has recordVersion ${JSON.stringify(version)}; this build reads recordVersion ${RECORD_VERSION}`;
  const results = (rec as { results?: unknown }).results;
  if (!Array.isArray(results)) return `${where} has no results array`;
  for (const [j, r] of results.entries()) {
    const ok =
      typeof r === 'object' && r !== null &&
      typeof r.compressor === 'string' && (typeof r.bitsPerByte === 'number' || (r.bitsPerByte === null && r.inputBytes === 0)) &&
      typeof r.input === 'object' && r.input !== null && typeof r.input.name === 'string' && typeof r.input.sliceSha256 === 'string';
    if (!ok) return `${where}: results[${j}] lacks compressor, bitsPerByte or input.name/sliceSha256`;
  }
  return undefined;
}

export function checkAgainstBaseline(current: RunRecord[], baseline: unknown, options: { tolerance: number | string; allowMissing?: boolean }): CheckResult {
  const tolerance = parseTolerance(options.tolerance);
  const parsed = parseBaseline(baseline);
  if ('error' in parsed) return unusable(parsed.error, []);

  const comparison = compareRecords(parsed.records, current, { tolerance });
  if (comparison.overlapping === 0) {
    const describe = (records: RunRecord[]) => {
      const pairs = [...new Set(records.flatMap((r) => r.results.map((x) => `${x.input.name} × ${x.compressor}`)))];
      return pairs.length ? pairs.slice(0, 5).join(', ') + (pairs.length > 5 ? `, … (${pairs.length})` : '') : 'nothing';
    };
    return unusable(`baseline has no (input, compressor) rows in common with this run: baseline has ${describe(parsed.records)}; this run has ${describe(current)}`, comparison.rows);
  }
  const bad = comparison.rows.filter((r) => r.status === 'regressed' || r.status === 'failed');
  // A baseline row the run lacks is a model that crashed or was skipped: a gate must not pass it.
  const missing = comparison.rows.filter((r) => r.status === 'missing');
  const tol = `tolerance ${formatPercent(tolerance).replace(/^\+/, '')}`;
  const lines: string[] = [];
  if (bad.length) lines.push(`${bad.length} regression${bad.length === 1 ? '' : 's'} against the baseline (${tol}): ${bad.map((r) => `${r.input} × ${r.compressor}`).join(', ')}`);
  if (missing.length && !options.allowMissing) {
    lines.push(`${missing.length} baseline row${missing.length === 1 ? '' : 's'} missing from the run: ${missing.map((r) => `${r.input} × ${r.compressor}`).join(', ')} (--allow-missing to accept)`);
  }
  lines.push(`compared ${comparison.overlapping}, regressed ${bad.length}, missing ${missing.length}${missing.length && options.allowMissing ? ' (allowed)' : ''} (${tol})`);
  const failed = bad.length > 0 || (missing.length > 0 && !options.allowMissing);
  return { exitCode: failed ? 1 : 0, table: comparison.table, rows: comparison.rows, message: lines.join('\n') };
}

function nonEmptyLines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim());
}

function parseJsonLines(lines: string[]): unknown[] | undefined {
  try {
    return lines.map((l) => JSON.parse(l) as unknown);
  } catch {
    return undefined;
  }
}

function unusable(reason: string, rows: ComparisonRow[]): CheckResult {
  return { exitCode: 2, table: '', rows, message: `baseline unusable: ${reason}` };
}
