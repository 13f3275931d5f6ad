/**
 * Flattening `RunRecord[]` into the rows reports work with: one per (record, result), labelled,
 * and grouped by input. Both the leaderboard and the gate read records only through here.
 */
import type { ResultRecord, RunRecord } from '../records/run-record.js';
import { parseModelSpec, type ModelSpec } from '../common/model-spec.js';

export interface ResultRow {
  record: RunRecord;
  result: ResultRecord;
  /** Human label: the compressor name, plus model id and dtype for LM rows. */
  label: string;
  /** Identity across inputs and runs: compressor name, plus dtype for models (fp32 and q8 are different entries). */
  key: string;
  isModel: boolean;
  /** A usable figure: no error, a verified round trip, and bytes to rate (an empty input has no bits/byte). */
  valid: boolean;
  /** Coded bits per byte; NaN where the record has none (null: an empty input). */
  bpb: number;
}

export interface InputGroup {
  /** `sliceSha256`, falling back to the name: the same bytes are the same input. */
  key: string;
  name: string;
  inputBytes: number;
  sliceSha256: string;
  rows: ResultRow[];
}

/** Families whose results count as the classic baseline for Hutter crossovers. */
export const CLASSIC_FAMILIES: ReadonlySet<string> = new Set(['gzip', 'zstd', 'brotli', 'xz', 'bzip2']);

export function compressorLabel(result: ResultRecord): string {
  if (!result.model) return result.compressor;
  const { id, dtype } = result.model;
  const variant = modelVariant(result.model);
  return result.compressor.includes(id) ? `${result.compressor} (${variant})` : `${result.compressor} · ${id} (${variant})`;
}

/** A short label for chart points: `lm:gpt2 (q8)`, `order-k:3`, `gzip:9` (the legend has the full one). */
export function shortLabel(result: ResultRecord): string {
  return result.model && result.model.dtype !== 'none' ? `${result.compressor} (${result.model.dtype})` : result.compressor;
}

/** What distinguishes runs of one model: its dtype, or for a weightless model (order-k) its settings. */
function modelVariant(model: NonNullable<ResultRecord['model']>): string {
  if (model.dtype !== 'none') return model.dtype;
  const spec = specOfRecorded(model.id);
  return spec?.kind === 'order-k' ? `orders 0–${spec.k}, Witten–Bell, adaptive` : 'no weights';
}

/** A recorded model id as a spec; a record is data, so an id outside the grammar is just a name. */
function specOfRecorded(id: string): ModelSpec | undefined {
  try {
    return parseModelSpec(id);
  } catch {
    return undefined;
  }
}

export function compressorKey(result: ResultRecord): string {
  return result.model ? `${result.compressor}@${result.model.dtype}` : result.compressor;
}

export function toRows(records: RunRecord[]): ResultRow[] {
  return records.flatMap((record) =>
    record.results.map((result) => ({
      record,
      result,
      label: compressorLabel(result),
      key: compressorKey(result),
      isModel: result.model !== undefined,
      valid: result.error === undefined && result.roundtrip && Number.isFinite(result.bitsPerByte),
      bpb: result.bitsPerByte ?? NaN,
    })),
  );
}

export function inputKey(result: ResultRecord): string {
  return result.input.sliceSha256 || `name:${result.input.name}`;
}

/** Groups in first-seen order; rows inside sorted by coded bpb, failures last. */
export function groupByInput(rows: ResultRow[]): InputGroup[] {
  const groups = new Map<string, InputGroup>();
  for (const row of rows) {
    const key = inputKey(row.result);
    let group = groups.get(key);
    if (!group) {
      group = { key, name: row.result.input.name, inputBytes: row.result.inputBytes, sliceSha256: row.result.input.sliceSha256, rows: [] };
      groups.set(key, group);
    }
    group.rows.push(row);
  }
  const list = [...groups.values()];
  for (const g of list) {
    g.rows.sort(byBpb);
    g.name = sliceName(g.rows[0]!.result, false);
  }
  // Two slices of one corpus split (different --limit): by byte range; the same name and range
  // with different bytes (the file changed between runs): by hash.
  disambiguate(list, (g) => sliceName(g.rows[0]!.result, true));
  disambiguate(list, (g) => `${g.name} #${g.sliceSha256.slice(0, 8)}`);
  return list;
}

function disambiguate(groups: InputGroup[], rename: (g: InputGroup) => string): void {
  const count = new Map<string, number>();
  for (const g of groups) count.set(g.name, (count.get(g.name) ?? 0) + 1);
  for (const g of groups) if ((count.get(g.name) ?? 0) > 1) g.name = rename(g);
}

/**
 * `alice29.txt[0:8192]` for a slice (Python-style byte range), the plain name for a whole file.
 * A corpus split (`enwik8:test`) is a slice by definition: its range is added only when `always`.
 */
export function sliceName(result: ResultRecord, always: boolean): string {
  const { name, offset, fileBytes, corpus } = result.input;
  const whole = offset === 0 && result.inputBytes === fileBytes;
  const split = corpus !== undefined && name.includes(':');
  return whole || (split && !always) ? name : `${name}[${offset}:${offset + result.inputBytes}]`;
}

export function byBpb(a: ResultRow, b: ResultRow): number {
  if (a.valid !== b.valid) return a.valid ? -1 : 1;
  if (!a.valid) return 0;
  return a.bpb - b.bpb;
}

/** `settings.note`, where a run says e.g. that the model was trained on this data. */
export function settingsNote(result: ResultRecord): string | undefined {
  const note = result.settings['note'];
  return typeof note === 'string' && note.trim() ? note.trim() : undefined;
}
