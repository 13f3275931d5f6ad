/**
 * Row-by-row bpb comparison of two sets of run records: the regression gate (baseline vs current)
 * and dtype studies (fp32 vs q8 vs q4 of one model) are the same table.
 */
import type { ResultRecord, RunRecord } from '../records/run-record.js';
import { formatBpb, formatPercent } from './format.js';
import type { Table } from './leaderboard.js';
import { markdownTable } from './markdown.js';
import { compressorLabel } from './results.js';
import { seenLabel } from '../records/generalization.js';

export type ComparisonStatus = 'ok' | 'improved' | 'regressed' | 'failed' | 'new' | 'missing';

export interface ComparisonRow {
  input: string;
  compressor: string;
  /** bpb in `a` (the baseline / reference); null when absent or unusable there. */
  aBpb: number | null;
  /** bpb in `b` (the current / candidate run). */
  bBpb: number | null;
  /** (b − a) / a as a fraction; null without both figures. */
  delta: number | null;
  status: ComparisonStatus;
  /** e.g. `dtype fp32 → q8`, `matched by name: input bytes differ`, an error message. */
  note?: string;
  /** Was the input training data of the model (the current side's record; null = unknown)? */
  seen?: boolean | null;
}

export interface CompareOptions {
  /** Allowed relative bpb increase before a row counts as regressed (fraction, default 0). */
  tolerance?: number;
  /**
   * `compressor` (default): rows match on compressor name. `model`: LM rows match on model id,
   * so one model's dtypes line up even when their compressor names differ.
   */
  matchBy?: 'compressor' | 'model';
  /** Column labels for the two sides, default `baseline` and `current`. */
  labels?: [string, string];
}

export interface Comparison {
  rows: ComparisonRow[];
  /** Markdown table of `rows`. */
  table: string;
  /** Rows present (and usable) on both sides. */
  overlapping: number;
}

const asArray = (x: RunRecord | RunRecord[]) => (Array.isArray(x) ? x : [x]);
const usable = (r: ResultRecord) => r.error === undefined && r.roundtrip && Number.isFinite(r.bitsPerByte);

export function compareRecords(a: RunRecord | RunRecord[], b: RunRecord | RunRecord[], options: CompareOptions = {}): Comparison {
  const tolerance = options.tolerance ?? 0;
  const matchKey = (r: ResultRecord) => (options.matchBy === 'model' && r.model ? `model:${r.model.id}` : r.compressor);
  // An empty input has no bits/byte (null): there is nothing to compare on it.
  const rated = (r: ResultRecord) => r.inputBytes > 0;
  const aResults = asArray(a).flatMap((rec) => rec.results).filter(rated);
  const bResults = asArray(b).flatMap((rec) => rec.results).filter(rated);

  // Later results win: a re-run in the same file supersedes the earlier one.
  const sliceKey = (r: ResultRecord) => `${r.input.sliceSha256}\u0000${matchKey(r)}`;
  const nameKey = (r: ResultRecord) => `${r.input.name}\u0000${matchKey(r)}`;
  const latest = (results: ResultRecord[]) => {
    const map = new Map<string, ResultRecord>();
    for (const r of results) {
      map.delete(sliceKey(r));
      map.set(sliceKey(r), r);
    }
    return map;
  };
  const bySlice = latest(aResults);
  const byName = new Map([...bySlice.values()].map((r) => [nameKey(r), r]));

  const matched = new Set<ResultRecord>();
  const rows: ComparisonRow[] = [];
  for (const cur of latest(bResults).values()) {
    const viaSlice = bySlice.get(sliceKey(cur));
    const ref = viaSlice ?? byName.get(nameKey(cur));
    if (ref) matched.add(ref);
    const notes: string[] = [];
    if (ref && !viaSlice) notes.push('matched by name: input bytes differ');
    if (ref?.model && cur.model && ref.model.dtype !== cur.model.dtype) notes.push(`dtype ${ref.model.dtype} → ${cur.model.dtype}`);
    if (ref && ref.seen !== undefined && cur.seen !== undefined && ref.seen !== cur.seen) notes.push(`seen ${seenLabel(ref.seen)} → ${seenLabel(cur.seen)}`);
    rows.push({ ...compareOne(ref, cur, tolerance, notes, options), seen: cur.seen ?? null });
  }
  for (const ref of bySlice.values()) {
    if (matched.has(ref)) continue;
    rows.push({ input: ref.input.name, compressor: labelOf(ref, options), aBpb: usable(ref) ? ref.bitsPerByte! : null, bBpb: null, delta: null, status: 'missing', seen: ref.seen ?? null });
  }
  const overlapping = rows.filter((r) => r.aBpb !== null && r.bBpb !== null).length;
  return { rows, table: comparisonTable(rows, options.labels ?? ['baseline', 'current']), overlapping };
}

function labelOf(r: ResultRecord, options: CompareOptions): string {
  return options.matchBy === 'model' && r.model ? r.model.id : compressorLabel(r);
}

function compareOne(ref: ResultRecord | undefined, cur: ResultRecord, tolerance: number, notes: string[], options: CompareOptions): ComparisonRow {
  const base = { input: cur.input.name, compressor: labelOf(cur, options) };
  const aBpb = ref && usable(ref) ? ref.bitsPerByte! : null;
  if (!usable(cur)) {
    notes.push(cur.error ? `error: ${cur.error}` : 'round trip FAILED');
    // A result that worked before and fails now is a regression; one that never worked is just new.
    return { ...base, aBpb, bBpb: null, delta: null, status: aBpb === null ? 'new' : 'failed', note: notes.join('; ') };
  }
  const bBpb = cur.bitsPerByte!; // usable: a finite number
  if (aBpb === null) return { ...base, aBpb, bBpb, delta: null, status: 'new', ...(notes.length ? { note: notes.join('; ') } : {}) };
  const delta = aBpb === 0 ? (bBpb === 0 ? 0 : Infinity) : (bBpb - aBpb) / aBpb;
  const status: ComparisonStatus = bBpb > aBpb * (1 + tolerance) ? 'regressed' : bBpb < aBpb * (1 - tolerance) ? 'improved' : 'ok';
  return { ...base, aBpb, bBpb, delta, status, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

export function comparisonTable(rows: ComparisonRow[], labels: [string, string]): string {
  const table: Table = {
    headers: ['input', 'compressor', 'seen', `${labels[0]} bpb`, `${labels[1]} bpb`, 'Δ%', 'status', 'note'],
    align: ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'left'],
    rows: rows.map((r) => [r.input, r.compressor, seenLabel(r.seen), formatBpb(r.aBpb), formatBpb(r.bBpb), formatPercent(r.delta), r.status === 'regressed' || r.status === 'failed' ? `**${r.status.toUpperCase()}**` : r.status, r.note ?? '']),
  };
  return markdownTable(table);
}
