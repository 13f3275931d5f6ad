/**
 * Several runs over one input: a report shows one row per compressor and settings per input,
 * the newest run's (`newestRuns`), or every run's rows labelled by run (`labelRuns`), so a
 * re-run never appears as an unexplained twin of itself.
 */
import type { ResultRecord, RunRecord } from '../records/run-record.js';
import { compressorKey, inputKey } from './results.js';

/** Same input, compressor, settings and model: a later result of this key supersedes an earlier one. */
function rowKey(r: ResultRecord): string {
  const settings = Object.keys(r.settings ?? {})
    .sort()
    .map((k) => [k, r.settings[k]]);
  const model = r.model ? [r.model.id, r.model.weightsSha256, r.model.dtype, r.model.runtime ?? null] : null;
  return JSON.stringify([inputKey(r), compressorKey(r), settings, model]);
}

/** Newest first by start time; records that tie keep their given order (the later one wins). */
function byAge(records: RunRecord[]): number[] {
  return records.map((_, i) => i).sort((a, b) => (records[a]!.startedAt < records[b]!.startedAt ? -1 : records[a]!.startedAt > records[b]!.startedAt ? 1 : a - b));
}

/** Each row from the newest run that has it; a record left with no row is dropped. */
export function newestRuns(records: RunRecord[]): RunRecord[] {
  const winner = new Map<string, number>();
  for (const i of byAge(records)) for (const r of records[i]!.results) winner.set(rowKey(r), i);
  return records
    .map((rec, i) => ({ ...rec, results: rec.results.filter((r) => winner.get(rowKey(r)) === i) }))
    .filter((rec) => rec.results.length > 0);
}

/** `run 2026-12-03 10:19:58` from a record's start time, with `#2`… where two share a second. */
export function runLabels(records: RunRecord[]): string[] {
  const base = records.map((r) => `run ${r.startedAt.replace('T', ' ').replace(/(\.\d+)?Z$/, '')}`);
  const seen = new Map<string, number>();
  return base.map((b) => {
    const n = (seen.get(b) ?? 0) + 1;
    seen.set(b, n);
    return base.filter((x) => x === b).length > 1 ? `${b} #${n}` : b;
  });
}

/**
 * Every run's rows, each compressor named with its run where more than one run holds that row,
 * so the tables (and the pooled summary, which keys on the name) keep the runs apart.
 */
export function labelRuns(records: RunRecord[]): RunRecord[] {
  const labels = runLabels(records);
  const holders = new Map<string, Set<number>>();
  records.forEach((rec, i) => rec.results.forEach((r) => holders.set(rowKey(r), (holders.get(rowKey(r)) ?? new Set()).add(i))));
  return records.map((rec, i) => ({
    ...rec,
    results: rec.results.map((r) => ((holders.get(rowKey(r))?.size ?? 0) > 1 ? { ...r, compressor: `${r.compressor} [${labels[i]}]` } : r)),
  }));
}
