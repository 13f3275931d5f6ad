/** The numbers the HTML charts plot, embedded in the page as JSON (valid results only). */
import type { RunRecord } from '../records/run-record.js';
import { groupByInput, settingsNote, shortLabel, toRows } from './results.js';

export interface ChartPoint {
  compressor: string;
  /** The point's label on scatter charts. */
  pointLabel: string;
  family: string;
  isModel: boolean;
  input: string;
  inputBytes: number;
  outputBytes: number;
  bpb: number;
  idealBpb: number | null;
  decompressorBytes: number;
  totalBytes: number;
  totalBpb: number;
  /** Input bytes per second; null when the time was not measured (0 s). */
  encodeBytesPerSecond: number | null;
  decodeBytesPerSecond: number | null;
  note: string | null;
}

export interface ChartData {
  /** Category order for the x axis. */
  inputs: string[];
  /** Series order, shared by every chart so a compressor keeps its colour. */
  compressors: string[];
  points: ChartPoint[];
}

export function buildChartData(records: RunRecord[]): ChartData {
  const groups = groupByInput(toRows(records));
  const points: ChartPoint[] = [];
  for (const group of groups) {
    for (const row of group.rows) {
      if (!row.valid) continue;
      const r = row.result;
      points.push({
        compressor: row.label,
        pointLabel: shortLabel(r),
        family: r.family,
        isModel: row.isModel,
        input: group.name,
        inputBytes: r.inputBytes,
        outputBytes: r.outputBytes,
        bpb: row.bpb,
        idealBpb: r.idealBitsPerByte ?? null,
        decompressorBytes: r.decompressor.bytes,
        totalBytes: r.totalBytes,
        totalBpb: r.totalBitsPerByte ?? NaN,
        encodeBytesPerSecond: r.encodeSeconds > 0 ? r.inputBytes / r.encodeSeconds : null,
        decodeBytesPerSecond: r.decodeSeconds > 0 ? r.inputBytes / r.decodeSeconds : null,
        note: settingsNote(r) ?? null,
      });
    }
  }
  // Classic compressors first, then models; each group by best bpb seen, so legends read sensibly.
  const best = new Map<string, { bpb: number; isModel: boolean }>();
  for (const p of points) {
    const b = best.get(p.compressor);
    if (!b || p.bpb < b.bpb) best.set(p.compressor, { bpb: p.bpb, isModel: p.isModel });
  }
  const compressors = [...best.entries()].sort(([, a], [, b]) => Number(a.isModel) - Number(b.isModel) || a.bpb - b.bpb).map(([name]) => name);
  return { inputs: groups.map((g) => g.name).filter((name) => points.some((p) => p.input === name)), compressors, points };
}
