/**
 * Chunked and sharded runs. An input is cut into chunks of a fixed size, each coded on its own
 * (a fresh model context, its own verified archive), so a run saves and resumes chunk by chunk
 * and its units of work (input × chunk × compressor) can run anywhere. Per-input results are
 * sums over chunks; one function makes them, for a single process and for `merge` alike, so
 * the two agree byte for byte.
 */
import type { Compressor } from '../compressors/compressor.js';
import { sha256 } from '../common/hash.js';
import type { ChunkResult, ResultRecord, WorkRecord } from '../records/run-record.js';
import type { LoadedInput } from './inputs.js';
import { bytesDefiningSettings, modelRecord, settingsDiff } from './run.js';

export interface Shard {
  index: number;
  count: number;
}

export function chunkCount(bytes: number, chunkSize: number | null): number {
  // An empty input is one empty chunk: its round trip is verified like any other.
  return chunkSize === null ? 1 : Math.max(1, Math.ceil(bytes / chunkSize));
}

/** The work of a run, as recorded: what must be covered exactly once by its shards. */
export function workOf(inputs: LoadedInput[], compressors: Compressor[], chunkSize: number | null): WorkRecord {
  return {
    chunkSize,
    inputs: inputs.map((i) => ({ name: i.record.name, sliceSha256: i.record.sliceSha256, bytes: i.size, chunks: chunkCount(i.size, chunkSize) })),
    compressors: compressors.map((c) => {
      const m = c.modelIdentity ? modelRecord(c.modelIdentity) : undefined;
      return {
        name: c.name,
        settings: chunkSize === null ? c.settings : { ...c.settings, chunk: chunkSize },
        ...(m ? { model: { id: m.id, weightsSha256: m.weightsSha256, tokenizerSha256: m.tokenizerSha256, dtype: m.dtype, ...(m.runtime ? { runtime: m.runtime } : {}) } } : {}),
      };
    }),
  };
}

export interface Unit {
  /** Position in the whole work: shard I of N takes the units with n % N = I. */
  n: number;
  input: number;
  chunk: number;
  compressor: number;
}

/** Every unit in order: input by input, chunk by chunk, compressor by compressor. */
export function unitsOf(work: WorkRecord): Unit[] {
  const out: Unit[] = [];
  work.inputs.forEach((inp, input) => {
    for (let chunk = 0; chunk < inp.chunks; chunk++) {
      for (let compressor = 0; compressor < work.compressors.length; compressor++) out.push({ n: out.length, input, chunk, compressor });
    }
  });
  return out;
}

/**
 * Round robin rather than contiguous blocks: neighbouring chunks (and the compressors of one
 * chunk) land on different shards, so shards stay even when inputs and models differ in cost.
 */
export const inShard = (u: Unit, shard?: Shard) => !shard || u.n % shard.count === shard.index;

export const unitKey = (compressor: string, input: { name: string; sliceSha256: string }, chunk: number) =>
  `${compressor}\u0000${input.name}\u0000${input.sliceSha256}\u0000${chunk}`;
export const keyOfChunk = (r: ChunkResult) => unitKey(r.compressor, { name: r.file, sliceSha256: r.input.sliceSha256 }, r.chunk.index);
export const describeUnit = (work: WorkRecord, u: Unit) =>
  `${work.compressors[u.compressor].name} on ${work.inputs[u.input].name} chunk ${u.chunk + 1}/${work.inputs[u.input].chunks}`;

/** The first way two works differ, as `what: then → now`, or '' when they are the same work. */
export function workDiff(then: WorkRecord, now: WorkRecord): string {
  if (then.chunkSize !== now.chunkSize) return `chunk size: ${then.chunkSize ?? 'none'} → ${now.chunkSize ?? 'none'}`;
  const inputs = (w: WorkRecord) => w.inputs.map((i) => `${i.name} (${i.bytes} bytes, sha256 ${i.sliceSha256.slice(0, 12)}…)`).join(', ');
  if (inputs(then) !== inputs(now)) return `inputs: ${inputs(then)} → ${inputs(now)}`;
  const names = (w: WorkRecord) => w.compressors.map((c) => c.name).join(', ');
  if (names(then) !== names(now)) return `compressors: ${names(then)} → ${names(now)}`;
  for (let i = 0; i < now.compressors.length; i++) {
    const diff = settingsDiff(bytesDefiningSettings(then.compressors[i]), bytesDefiningSettings(now.compressors[i]));
    if (diff) return `${now.compressors[i].name} settings: ${diff}`;
  }
  return '';
}

/** Bytes [start, end) of an input of `size` bytes that chunk `chunk` codes (all of it when unchunked). */
export function chunkRange(chunk: number, chunkSize: number | null, size: number): [number, number] {
  if (chunkSize === null) return [0, size];
  return [Math.min(size, chunk * chunkSize), Math.min(size, (chunk + 1) * chunkSize)];
}

/** One result per input × compressor whose chunks are all present, summed; others are left out. */
export function sumChunks(work: WorkRecord, chunks: ChunkResult[]): ResultRecord[] {
  const byKey = new Map(chunks.map((r) => [keyOfChunk(r), r]));
  const results: ResultRecord[] = [];
  for (const spec of work.inputs) {
    for (const c of work.compressors) {
      const parts = Array.from({ length: spec.chunks }, (_, i) => byKey.get(unitKey(c.name, spec, i)));
      if (parts.every((p): p is ChunkResult => p !== undefined)) results.push(sumResult(parts, work.chunkSize));
    }
  }
  return results;
}

const total = (parts: ChunkResult[], f: (r: ChunkResult) => number | undefined): number | undefined =>
  parts.every((p) => f(p) !== undefined) ? parts.reduce((a, p) => a + f(p)!, 0) : undefined;

function sumNumbers(records: (Record<string, unknown> | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r ?? {})) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * The whole input's result from its chunks: bytes, bits, tokens and seconds add up; the
 * decompressor is shipped once, so it is counted once in the Hutter total.
 */
function sumResult(parts: ChunkResult[], chunkSize: number | null): ResultRecord {
  const first = parts[0];
  const n = total(parts, (p) => p.inputBytes)!;
  const out = total(parts, (p) => p.outputBytes)!;
  const idealBits = total(parts, (p) => p.idealBits);
  const tokens = total(parts, (p) => p.tokens);
  const byteFallbackBytes = total(parts, (p) => p.byteFallbackBytes);
  const bpb = (bytes: number) => (n === 0 ? null : (bytes * 8) / n);
  const encodeSeconds = total(parts, (p) => p.encodeSeconds)!;
  const decodeSeconds = total(parts, (p) => p.decodeSeconds)!;
  // Sizes that add up across chunks; the rest of the codec description is the same for all.
  const codecSums = sumNumbers(parts.map((p) => ({ payloadBytes: p.codec?.payloadBytes, containerBytes: p.codec?.containerBytes, tableBits: p.codec?.tableBits })));
  return {
    compressor: first.compressor,
    family: first.family,
    settings: first.settings,
    ...(first.model ? { model: first.model } : {}),
    file: first.file,
    input: first.input,
    inputBytes: n,
    outputBytes: out,
    bitsPerByte: bpb(out),
    ...(idealBits !== undefined ? { idealBits, idealBitsPerByte: n === 0 ? null : idealBits / n } : {}),
    ...(tokens !== undefined ? { tokens } : {}),
    ...(byteFallbackBytes !== undefined ? { byteFallbackBytes } : {}),
    encodeSeconds,
    decodeSeconds,
    seconds: encodeSeconds + decodeSeconds,
    roundtrip: parts.every((p) => p.roundtrip),
    ...chunkFailure(parts),
    decompressor: first.decompressor,
    totalBytes: out + first.decompressor.bytes,
    totalBitsPerByte: bpb(out + first.decompressor.bytes),
    ...(parts.some((p) => p.timing) ? { timing: sumNumbers(parts.map((p) => p.timing)) } : {}),
    ...(first.codec ? { codec: { ...first.codec, ...codecSums } } : {}),
    ...('seen' in first ? { seen: parts.every((p) => p.seen === first.seen) ? first.seen : null } : {}),
    ...(first.lmZlibRatio !== undefined ? { lmZlibRatio: chunkedLmZlibRatio(parts) } : {}),
    chunks: { size: chunkSize, count: parts.length },
  };
}

/** The first failed chunk's mismatch, placed in the input (its offsets are the chunk's own). */
function chunkFailure(parts: ChunkResult[]): Pick<ResultRecord, 'roundtripFailure'> {
  const bad = parts.find((p) => !p.roundtrip);
  return bad ? { roundtripFailure: `chunk ${bad.chunk.index + 1}/${bad.chunk.count} (input bytes from ${bad.chunk.offset}): ${bad.roundtripFailure ?? 'differs'}` } : {};
}

/** LM payload ÷ deflate -9 over all chunks: each chunk's deflate size is its payload ÷ its ratio. */
function chunkedLmZlibRatio(parts: ChunkResult[]): number | null {
  let payload = 0;
  let deflate = 0;
  for (const p of parts) {
    const bytes = p.codec?.payloadBytes;
    if (typeof bytes !== 'number' || !p.lmZlibRatio) continue; // empty chunks: no ratio, nothing to add
    payload += bytes;
    deflate += bytes / p.lmZlibRatio;
  }
  return deflate > 0 ? payload / deflate : null;
}
