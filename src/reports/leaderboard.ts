/**
 * The leaderboard as plain data (tables of text cells, notes, crossover lines), built once from
 * `RunRecord[]` and rendered by both the Markdown and the HTML report, so they never disagree.
 */
import type { RunRecord } from '../records/run-record.js';
import { hutterCrossover } from './crossover.js';
import { formatBpb, formatInt, formatSeconds, formatSize } from './format.js';
import { byBpb, groupByInput, settingsNote, toRows, type InputGroup, type ResultRow } from './results.js';

export type Align = 'left' | 'right' | 'center';

export interface Table {
  headers: string[];
  align: Align[];
  rows: string[][];
}

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
}

const INPUT_HEADERS = ['#', 'compressor', 'bytes out', 'bpb (coded)', 'ideal bpb', 'decompressor bytes', 'Hutter total bytes', 'total bpb', 'encode s', 'decode s', 'round trip'];
const INPUT_ALIGN: Align[] = ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'center'];

export function buildLeaderboard(records: RunRecord[]): Leaderboard {
  const rows = toRows(records);
  const groups = groupByInput(rows);
  return {
    runs: records.map(describeRun),
    ...buildSummary(rows, groups.length),
    inputs: groups.map(buildInputSection),
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

/** Per compressor across inputs: bytes pooled, the decompressor counted once (Hutter-style). */
function buildSummary(rows: ResultRow[], inputCount: number): { summary: Table; summaryNotes: string[] } {
  const byKey = new Map<string, ResultRow[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  const entries = [...byKey.values()].map((list) => {
    const valid = list.filter((r) => r.valid);
    const inBytes = sum(valid, (r) => r.result.inputBytes);
    const outBytes = sum(valid, (r) => r.result.outputBytes);
    const decompressor = Math.max(0, ...list.map((r) => r.result.decompressor.bytes));
    const total = outBytes + decompressor;
    const inputs = new Set(valid.map((r) => r.result.input.sliceSha256)).size;
    return {
      first: list[0]!,
      bpb: inBytes > 0 ? (8 * outBytes) / inBytes : NaN,
      cells: [
        list[0]!.label,
        `${inputs}/${inputCount}`,
        formatInt(inBytes),
        formatInt(outBytes),
        inBytes > 0 ? formatBpb((8 * outBytes) / inBytes) : '—',
        formatInt(decompressor),
        inBytes > 0 ? formatInt(total) : '—',
        inBytes > 0 ? formatBpb((8 * total) / inBytes) : '—',
        formatSeconds(sum(valid, (r) => r.result.encodeSeconds)),
        formatSeconds(sum(valid, (r) => r.result.decodeSeconds)),
        `${list.filter((r) => r.result.roundtrip && !r.result.error).length}/${list.length}`,
      ],
    };
  });
  entries.sort((a, b) => (Number.isNaN(a.bpb) ? 1 : Number.isNaN(b.bpb) ? -1 : a.bpb - b.bpb || byBpb(a.first, b.first)));
  const partial = entries.some((e) => !e.cells[1]!.startsWith(`${inputCount}/`));
  return {
    summary: {
      headers: ['compressor', 'inputs', 'input bytes', 'bytes out', 'bpb (pooled)', 'decompressor bytes', 'Hutter total bytes', 'total bpb', 'encode s', 'decode s', 'round trips'],
      align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'center'],
      rows: entries.map((e) => e.cells),
    },
    summaryNotes: [
      'bpb (pooled) = 8 · Σ bytes out / Σ input bytes over the inputs a compressor ran on; the Hutter total adds its decompressor once.',
      ...(partial ? ['Compressors that did not run on every input are not directly comparable here; see the per-input tables.'] : []),
    ],
  };
}

function sum(rows: ResultRow[], f: (r: ResultRow) => number): number {
  return rows.reduce((n, r) => n + f(r), 0);
}
