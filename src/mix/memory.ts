/**
 * The mix's memory budget (`--mix-memory MB`, recorded in the archive's coding step) and how it
 * is split among the tables: every table has a fixed size, so the mix's memory does not grow
 * with the input. The split is a function of the budget, the segment count, the match models
 * and the vocabulary only (all known to the decoder from the archive), so both sides build the
 * same tables.
 *
 *  - history: per row, a ring of the last tokens (the match models' reach): an eighth of the budget
 *    over the rows, rounded down to a power of two of tokens;
 *  - match tables: hash of the last m tokens → position, one per match model, shared by the rows:
 *    an eighth of the budget, each rounded down to a power of two of entries;
 *  - context table (context-table.ts), shared by all contexts and rows: the rest, after the
 *    per-row fixed part (mixer weights, order-0 counts).
 */
import { BUCKET_BYTES } from './context-table.js';
import { SettingError } from '../common/setting-error.js';

/** Default budget; measured in docs/mix.md ("Memory"). */
export const DEFAULT_MIX_MEMORY_MB = 256;
export const MIN_MIX_MEMORY_MB = 4;
/** Above this one typed array would pass what V8 allocates (and a crafted header could ask the decoder for it). */
export const MAX_MIX_MEMORY_MB = 4096;

/** Fewest history tokens per row: the match models verify up to 400 back and the contexts read 8. */
const MIN_HISTORY = 1024;
const MIN_MATCH_ENTRIES = 1024;

export interface MixTableSizes {
  /** Tokens of history per row (a power of two). */
  historyTokens: number;
  /** Entries per match table (a power of two). */
  matchEntries: number;
  /** Buckets of the shared context table. */
  contextBuckets: number;
  /** Bytes all tables take together (≤ the budget). */
  bytes: number;
}

const floorPow2 = (x: number) => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/** The tables' sizes for `memoryMB` over `rows` rows; `fixedPerRow`: bytes each row holds besides them. */
export function mixTableSizes(memoryMB: number, rows: number, matchModels: number, fixedPerRow: number): MixTableSizes {
  const budget = memoryMB * 2 ** 20;
  const historyTokens = Math.max(MIN_HISTORY, floorPow2(budget / 8 / rows / 4));
  const matchEntries = Math.max(MIN_MATCH_ENTRIES, floorPow2(budget / 8 / matchModels / 4));
  const rest = budget - rows * (historyTokens * 4 + fixedPerRow) - matchModels * matchEntries * 4;
  const contextBuckets = Math.floor(rest / BUCKET_BYTES);
  if (contextBuckets < 1024) {
    const need = Math.ceil((rows * (MIN_HISTORY * 4 + fixedPerRow) + matchModels * MIN_MATCH_ENTRIES * 4 + 1024 * BUCKET_BYTES) / 2 ** 20);
    throw new SettingError('mixMemory', String(memoryMB), `too small for ${rows} segment${rows > 1 ? 's' : ''}: the mix needs at least ${need} MB there`);
  }
  return { historyTokens, matchEntries, contextBuckets, bytes: rows * (historyTokens * 4 + fixedPerRow) + matchModels * matchEntries * 4 + contextBuckets * BUCKET_BYTES };
}
