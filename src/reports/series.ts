/**
 * Series: several models of one family (a size ladder, or checkpoints of one training run)
 * along an axis — parameters or training step — with their bits/byte on training inputs
 * (`seen`) and on held-out ones (`unseen`), and the gap between. The text table here and the
 * HTML chart (html-charts.ts, `chart-series`) show the same points.
 */
import type { ResultRecord, RunRecord, SeriesAxis } from '../records/run-record.js';
import { formatBpb } from './format.js';
import type { Table } from './table.js';

export const SERIES_AXES: readonly SeriesAxis[] = ['params', 'step'];

/** `--series`: one line naming the accepted values when wrong. */
export function parseSeriesAxis(value: unknown): SeriesAxis {
  const v = String(value);
  if ((SERIES_AXES as readonly string[]).includes(v)) return v as SeriesAxis;
  throw new Error(`--series: "${v}" is not accepted; accepted values: ${SERIES_AXES.join(', ')}`);
}

export interface SeriesPoint {
  /** The model's id as recorded (one point per compressor + weights). */
  model: string;
  /** Parameters or step; NaN without an axis (the plain per-model generalization table). */
  x: number;
  /** Pooled bits/byte (Σ 8·outputBytes / Σ inputBytes) over the model's seen / unseen inputs. */
  seenBpb: number | null;
  unseenBpb: number | null;
  /** unseen − seen. */
  gap: number | null;
  /** Mean LM/zlib ratio over the seen / unseen inputs. */
  seenRatio: number | null;
  unseenRatio: number | null;
  seenInputs: number;
  unseenInputs: number;
}

export interface Series {
  /** null: no axis, one row per model (the leaderboard's generalization table). */
  axis: SeriesAxis | null;
  points: SeriesPoint[];
  /** Models left out, and why (no parameter count, no step). */
  skipped: string[];
  /** Inputs not the same for every point: the lines then mix inputs. */
  notes: string[];
}

const pooled = (rs: ResultRecord[]) => {
  const bytes = rs.reduce((a, r) => a + r.inputBytes, 0);
  return bytes ? (8 * rs.reduce((a, r) => a + r.outputBytes, 0)) / bytes : null;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function axisValue(r: ResultRecord, axis: SeriesAxis | null): number | undefined {
  return axis === null ? NaN : axis === 'params' ? r.model?.parameters : r.model?.step;
}

/** Models with at least one seen or unseen result, as points along `axis` (sorted by it). */
export function buildSeries(records: RunRecord[], axis: SeriesAxis | null): Series {
  // Later results supersede earlier ones on the same model and slice.
  const latest = new Map<string, ResultRecord>();
  for (const r of records.flatMap((rec) => rec.results)) {
    if (!r.model || !r.roundtrip || r.error || r.inputBytes === 0) continue;
    latest.set(`${r.compressor}\0${r.model.weightsSha256}\0${r.input.sliceSha256}`, r);
  }
  const byModel = new Map<string, ResultRecord[]>();
  for (const r of latest.values()) {
    const key = `${r.compressor}\0${r.model!.weightsSha256}`;
    byModel.set(key, [...(byModel.get(key) ?? []), r]);
  }
  const points: SeriesPoint[] = [];
  const skipped: string[] = [];
  const inputSets: string[] = [];
  for (const rs of byModel.values()) {
    const x = axisValue(rs[0], axis);
    const name = rs[0].model!.id;
    if (x === undefined) {
      skipped.push(`${name}: no ${axis === 'params' ? 'parameter count' : 'training step'} (card, weights or folder name)`);
      continue;
    }
    const seen = rs.filter((r) => r.seen === true);
    const unseen = rs.filter((r) => r.seen === false);
    if (!seen.length && !unseen.length) {
      skipped.push(`${name}: no input it is known to have seen or not seen (no model card?)`);
      continue;
    }
    const s = pooled(seen);
    const u = pooled(unseen);
    const ratios = (xs: ResultRecord[]) => mean(xs.map((r) => r.lmZlibRatio).filter((v): v is number => typeof v === 'number'));
    points.push({
      model: name, x, seenBpb: s, unseenBpb: u, gap: s !== null && u !== null ? u - s : null,
      seenRatio: ratios(seen), unseenRatio: ratios(unseen), seenInputs: seen.length, unseenInputs: unseen.length,
    });
    inputSets.push(rs.filter((r) => r.seen !== null && r.seen !== undefined).map((r) => r.input.sliceSha256).sort().join(','));
  }
  if (axis !== null) points.sort((a, b) => a.x - b.x || a.model.localeCompare(b.model));
  const notes = new Set(inputSets).size > 1 ? ['the models did not all run on the same seen/unseen inputs: compare the lines with care'] : [];
  return { axis, points, skipped, notes };
}

const fmtX = (axis: SeriesAxis | null, x: number) => (axis === 'params' ? x.toLocaleString('en-US') : String(x));
const fmtSigned = (v: number | null) => (v === null ? '—' : (v >= 0 ? '+' : '') + v.toFixed(3));
const fmtRatio = (v: number | null) => (v === null ? '—' : v.toFixed(3));

export function seriesTable(series: Series): Table {
  const x = series.axis !== null;
  const t: Table = {
    headers: ['model', series.axis === 'params' ? 'parameters' : 'step', 'seen bpb', 'unseen bpb', 'gap (unseen − seen)', 'LM/zlib seen', 'LM/zlib unseen', 'inputs seen / unseen'],
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    rows: series.points.map((p) => [
      p.model, fmtX(series.axis, p.x), formatBpb(p.seenBpb), formatBpb(p.unseenBpb), fmtSigned(p.gap), fmtRatio(p.seenRatio), fmtRatio(p.unseenRatio), `${p.seenInputs} / ${p.unseenInputs}`,
    ]),
  };
  // Without an axis there is no second column.
  return x ? t : { headers: t.headers.filter((_, i) => i !== 1), align: t.align.filter((_, i) => i !== 1), rows: t.rows.map((r) => r.filter((_, i) => i !== 1)) };
}

/** Plain-text rendering for the terminal (the main job with `--series`). */
export function seriesText(series: Series): string {
  const t = seriesTable(series);
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (t.align[i] === 'left' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const along = series.axis === null ? 'per model' : `series along ${series.axis === 'params' ? 'parameters' : 'training step'}`;
  const out = [`${along} (bits/byte pooled over each model's seen and unseen inputs)`, line(t.headers), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)];
  for (const s of series.skipped) out.push(`skipped: ${s}`);
  for (const n of series.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
