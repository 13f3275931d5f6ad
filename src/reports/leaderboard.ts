/**
 * The leaderboard as plain data (tables of text cells, notes, crossover lines), built once from
 * `RunRecord[]` and rendered by both the Markdown and the HTML report, so they never disagree.
 */
import type { RunRecord, SeriesAxis } from '../records/run-record.js';
import { seenLabel } from '../records/generalization.js';
import { buildSeries, seriesTable, type Series } from './series.js';
import type { Align, Table } from './table.js';
import { hutterCrossover } from './crossover.js';
import { formatBpb, formatInt, formatSeconds, formatSize } from './format.js';
import { byBpb, groupByInput, inputKey, settingsNote, toRows, type InputGroup, type ResultRow } from './results.js';

export type { Align, Table } from './table.js';

export interface InputSection {
  title: string;
  /** One line of facts about the input (size, hashes). */
  facts: string;
  table: Table;
  /** Footnotes referenced as `[n]` from compressor cells: settings notes (e.g. "trained on enwik8") and errors. */
  notes: string[];
  /** One line per model result; every line is an extrapolation. */
  crossovers: string[];
}

export interface Leaderboard {
  runs: string[];
  summary: Table;
  summaryNotes: string[];
  inputs: InputSection[];
  /** Models run on inputs they were (seen) and were not (unseen) trained on; along an axis when asked. */
  generalization?: { title: string; table: Table; notes: string[]; series: Series };
}

const INPUT_HEADERS = ['#', 'compressor', 'bytes out', 'bpb (coded)', 'ideal bpb', 'decompressor bytes', 'Hutter total bytes', 'total bpb', 'encode s', 'decode s', 'round trip', 'seen', 'LM/zlib'];
const INPUT_ALIGN: Align[] = ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'center', 'center', 'right'];

export interface LeaderboardOptions {
  /** Draw and tabulate the models along this axis; default: the records' own `series`, if any. */
  series?: SeriesAxis;
}

export function buildLeaderboard(records: RunRecord[], options: LeaderboardOptions = {}): Leaderboard {
  const rows = toRows(records);
  const groups = groupByInput(rows);
  const generalization = buildGeneralization(records, options.series ?? records.find((r) => r.series)?.series ?? null);
  return {
    runs: records.map(describeRun),
    ...buildSummary(rows, groups),
    inputs: groups.map(buildInputSection),
    ...(generalization ? { generalization } : {}),
  };
}

const SEEN_NOTE =
  '"seen" inputs were training data of the model (its model card says so): bits/byte on them measure memorisation, not generalisation. ' +
  'LM/zlib = the model\'s coded payload bits ÷ gzip -9 deflate bits on the same bytes (low = memorised).';

function buildGeneralization(records: RunRecord[], axis: SeriesAxis | null): Leaderboard['generalization'] {
  const series = buildSeries(records, axis);
  if (series.points.length === 0) return undefined;
  const title = axis === null ? 'Generalization: seen vs unseen inputs' : `Generalization along ${axis === 'params' ? 'model size (parameters)' : 'training steps'}`;
  return {
    title,
    table: seriesTable(series),
    notes: [SEEN_NOTE, 'gap = unseen − seen bits/byte, each pooled over that model\'s inputs of the kind.', ...series.notes, ...series.skipped.map((s) => `not shown: ${s}`)],
    series,
  };
}

function describeRun(r: RunRecord): string {
  const commit = r.harness.gitCommit ? ` @ ${r.harness.gitCommit.slice(0, 7)}` : '';
  const gpu = r.environment.gpu ? ` · GPU ${r.environment.gpu}` : '';
  const argv = r.argv.length ? ` · argv: ${r.argv.join(' ')}` : '';
  return `${r.startedAt} · ${r.harness.name} ${r.harness.version}${commit} · node ${r.environment.node} · ${r.environment.platform}/${r.environment.arch} · ${r.environment.cpu} ×${r.environment.cpuCount}${gpu}${argv}`;
}

function buildInputSection(group: InputGroup): InputSection {
  const notes: string[] = [];
  const mark = (text: string) => {
    notes.push(text);
    return ` [${notes.length}]`;
  };
  const table: Table = {
    headers: INPUT_HEADERS,
    align: INPUT_ALIGN,
    rows: group.rows.map((row, i) => {
      const r = row.result;
      let label = row.label;
      const note = settingsNote(r);
      if (note) label += mark(`${row.label}: ${note}`);
      if (r.error) label += mark(`${row.label} failed: ${r.error}`);
      else if (!r.roundtrip && r.roundtripFailure) label += mark(`${row.label}: round trip failed: ${r.roundtripFailure}`);
      const usable = r.error === undefined;
      return [
        row.valid ? String(i + 1) : '—',
        label,
        usable ? formatInt(r.outputBytes) : '—',
        r.inputBytes === 0 ? 'n/a' : usable ? formatBpb(r.bitsPerByte) : '—',
        r.inputBytes === 0 ? 'n/a' : formatBpb(r.idealBitsPerByte),
        formatInt(r.decompressor.bytes),
        usable ? formatInt(r.totalBytes) : '—',
        r.inputBytes === 0 ? 'n/a' : usable ? formatBpb(r.totalBitsPerByte) : '—',
        formatSeconds(r.encodeSeconds),
        formatSeconds(r.decodeSeconds),
        r.error ? 'error' : r.roundtrip ? '✓' : '✗ FAILED',
        seenLabel(r.seen),
        typeof r.lmZlibRatio === 'number' ? r.lmZlibRatio.toFixed(3) : '',
      ];
    }),
  };
  const input = group.rows[0]!.result.input;
  const slice = input.limit !== null || input.offset > 0 ? ` · bytes ${formatInt(input.offset)}…${formatInt(input.offset + group.inputBytes)} of ${formatInt(input.fileBytes)}` : '';
  return {
    title: group.name,
    facts: `${formatInt(group.inputBytes)} bytes${slice} · slice sha256 ${group.sliceSha256.slice(0, 16)}…${input.corpus ? ` · corpus ${input.corpus}` : ''}`,
    table,
    notes,
    crossovers: group.rows.filter((r) => r.isModel).map((r) => crossoverLine(r, group)),
  };
}

function crossoverLine(model: ResultRow, group: InputGroup): string {
  const c = hutterCrossover(model, group.rows);
  const bpb = formatBpb(model.result.bitsPerByte);
  if (!model.valid) return `${model.label}: no crossover (no valid result)`;
  if (!c) return `${model.label}: no crossover (no classic baseline on this input)`;
  if (c.kind === 'never') {
    return `${model.label}: none — its ${bpb} bpb is not lower than ${c.bestClassic.label}'s ${formatBpb(c.bestClassic.result.bitsPerByte)} bpb`;
  }
  const already = c.bytes <= group.inputBytes ? ' (this input is already past it)' : '';
  return (
    `${model.label}: total beats every classic baseline from ≈ ${formatSize(c.bytes)} (${formatInt(c.bytes)} bytes)${already} — ` +
    `extrapolation from ${bpb} bpb + ${formatSize(model.result.decompressor.bytes)} decompressor vs ${c.binding.label} at ` +
    `${formatBpb(c.binding.result.bitsPerByte)} bpb + ${formatSize(c.binding.result.decompressor.bytes)}`
  );
}

/**
 * Per compressor, pooled (bytes summed, the decompressor counted once, Hutter-style) over the
 * inputs that EVERY compressor ran with a valid result, so no one ranks first by running only on
 * an easy input. Compressors are ranked by that pooled bpb; other inputs are in the per-input tables.
 */
function buildSummary(rows: ResultRow[], groups: InputGroup[]): { summary: Table; summaryNotes: string[] } {
  const byKey = new Map<string, ResultRow[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  const inputOf = (r: ResultRow) => inputKey(r.result);
  // A compressor with no valid result anywhere cannot be ranked; it does not empty the common set.
  const rankable = [...byKey.values()].filter((list) => list.some((r) => r.valid));
  const common = groups.filter((g) => rankable.every((list) => list.some((r) => r.valid && inputOf(r) === g.key)));
  const commonKeys = new Set(common.map((g) => g.key));
  const entries = [...byKey.values()].map((list) => {
    // Several results on one input (re-runs): the last one counts, as in `compare`.
    const perInput = new Map<string, ResultRow>();
    for (const r of list) if (r.valid && commonKeys.has(inputOf(r))) perInput.set(inputOf(r), r);
    const valid = [...perInput.values()];
    const inBytes = sum(valid, (r) => r.result.inputBytes);
    const outBytes = sum(valid, (r) => r.result.outputBytes);
    const decompressor = Math.max(0, ...list.map((r) => r.result.decompressor.bytes));
    const total = outBytes + decompressor;
    const ran = new Set(list.filter((r) => r.valid).map(inputOf)).size;
    const bpb = inBytes > 0 ? (8 * outBytes) / inBytes : NaN;
    return {
      first: list[0]!,
      bpb,
      cells: [
        '',
        list[0]!.label,
        `${ran}/${groups.length}`,
        // Nothing pooled (no common input): dashes, not zeros that read like results.
        ...(inBytes > 0
          ? [formatInt(inBytes), formatInt(outBytes), formatBpb(bpb)]
          : ['—', '—', '—']),
        formatInt(decompressor),
        ...(inBytes > 0
          ? [formatInt(total), formatBpb((8 * total) / inBytes), formatSeconds(sum(valid, (r) => r.result.encodeSeconds)), formatSeconds(sum(valid, (r) => r.result.decodeSeconds))]
          : ['—', '—', '—', '—']),
        `${list.filter((r) => r.result.roundtrip && !r.result.error).length}/${list.length}`,
      ],
    };
  });
  entries.sort((a, b) => (Number.isNaN(a.bpb) ? 1 : Number.isNaN(b.bpb) ? -1 : a.bpb - b.bpb || byBpb(a.first, b.first)));
  entries.forEach((e, i) => (e.cells[0] = Number.isNaN(e.bpb) ? '—' : String(i + 1)));
  const names = common.map((g) => g.name).join(', ');
  const scope =
    common.length === 0
      ? 'No input was run (with a verified result) by every compressor, so there is no fair pooled ranking: compare them in the per-input tables.'
      : common.length === groups.length
        ? `Ranked over all ${groups.length} input${groups.length === 1 ? '' : 's'}, which every compressor ran: ${names}.`
        : `Ranked only over the ${common.length} of ${groups.length} inputs that every compressor ran (${names}); the other inputs are in the per-input tables. "ran" counts all inputs with a verified result.`;
  return {
    summary: {
      headers: ['#', 'compressor', 'ran', 'input bytes', 'bytes out', 'bpb (pooled)', 'decompressor bytes', 'Hutter total bytes', 'total bpb', 'encode s', 'decode s', 'round trips'],
      align: ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'center'],
      rows: entries.map((e) => e.cells),
    },
    summaryNotes: [
      scope,
      'bpb (pooled) = 8 · Σ bytes out / Σ input bytes over those inputs; the Hutter total adds the decompressor once.',
    ],
  };
}

function sum(rows: ResultRow[], f: (r: ResultRow) => number): number {
  return rows.reduce((n, r) => n + f(r), 0);
}
