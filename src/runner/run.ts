/**
 * The runner: inputs × compressors → verified, timed `ResultRecord`s. Every result comes
 * from a real compress and a real decompress whose output is compared byte for byte.
 */
import type { Compressor, ProgressHooks } from '../compressors/compressor.js';
import type { ModelRecord, ResultRecord } from '../records/run-record.js';
import type { InputBytes } from './inputs.js';
import type { ModelIdentity } from '../step/language-model.js';
import { deflate9Bytes, lmZlibRatio, modelFacts, seenFor } from '../records/generalization.js';

export interface RunHooks {
  /** Called before each compressor × input, with a progress sink for long ones. */
  start?(compressor: Compressor, input: InputBytes): ProgressHooks | undefined;
  done?(result: ResultRecord): void;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * Where a decoded copy departs from the original, for the one line a failed round trip prints:
 * both lengths and the first differing byte offset (the shorter length when one is a prefix).
 */
export function describeMismatch(original: Uint8Array, decoded: Uint8Array): string {
  const n = Math.min(original.length, decoded.length);
  let i = 0;
  while (i < n && original[i] === decoded[i]) i++;
  const end = i === n ? ` (the ${decoded.length < original.length ? 'decoded copy' : 'original'} ends there)` : '';
  return `decoded ${decoded.length} bytes, expected ${original.length}; first difference at byte ${i}${end}`;
}

export async function runOne(compressor: Compressor, input: InputBytes, hooks?: RunHooks): Promise<ResultRecord> {
  const progress = hooks?.start?.(compressor, input);
  const n = input.bytes.length;
  const t0 = performance.now();
  const archive = await compressor.compress(input.bytes, progress);
  const t1 = performance.now();
  const back = await compressor.decompress(archive, progress);
  const t2 = performance.now();
  const stats = compressor.lastStats?.();
  const decompressor = await compressor.decompressorSize();
  // An empty input has no bits per byte: null (shown as n/a), never a score of 0.
  const bpb = (bytes: number) => (n === 0 ? null : (bytes * 8) / n);
  const roundtrip = bytesEqual(back, input.bytes);
  const result: ResultRecord = {
    compressor: compressor.name,
    family: compressor.family,
    settings: compressor.settings,
    ...(compressor.modelIdentity ? { model: modelRecord(compressor.modelIdentity) } : {}),
    file: input.record.name,
    input: input.record,
    inputBytes: n,
    outputBytes: archive.length,
    bitsPerByte: bpb(archive.length),
    ...(stats?.idealBits !== undefined
      ? { idealBits: stats.idealBits, idealBitsPerByte: n === 0 ? null : stats.idealBits / n }
      : {}),
    ...(stats?.tokens !== undefined ? { tokens: stats.tokens } : {}),
    ...(stats?.byteFallbackBytes !== undefined ? { byteFallbackBytes: stats.byteFallbackBytes } : {}),
    encodeSeconds: (t1 - t0) / 1000,
    decodeSeconds: (t2 - t1) / 1000,
    seconds: (t2 - t0) / 1000,
    roundtrip,
    ...(roundtrip ? {} : { roundtripFailure: describeMismatch(input.bytes, back) }),
    seen: seenFor(compressor.modelIdentity ? modelFacts(compressor.modelIdentity) : null, input.record),
    ...(compressor.modelIdentity ? { lmZlibRatio: lmZlibRatio(lmPayloadBytes(stats?.codec, archive.length), deflate9Bytes(input.bytes), n) } : {}),
    decompressor,
    totalBytes: archive.length + decompressor.bytes,
    totalBitsPerByte: bpb(archive.length + decompressor.bytes),
    ...(stats?.timing ? { timing: stats.timing } : {}),
    ...(stats?.codec ? { codec: stats.codec } : {}),
  };
  hooks?.done?.(result);
  return result;
}

/** The range-coded payload (container header excluded) when the codec reports it, else the archive. */
function lmPayloadBytes(codec: Record<string, unknown> | undefined, archiveBytes: number): number {
  return typeof codec?.payloadBytes === 'number' ? codec.payloadBytes : archiveBytes;
}

/** The result's `model` record, from the identity a model-driven compressor declares. */
export function modelRecord(id: ModelIdentity): ModelRecord {
  const facts = modelFacts(id);
  return {
    id: id.id,
    weightsSha256: id.weightsSha256,
    tokenizerSha256: id.tokenizerSha256,
    dtype: id.dtype,
    device: id.device,
    runtime: id.runtime,
    ...(id.runtimes ? { runtimes: id.runtimes } : {}),
    weightsBytes: id.weightsBytes,
    ...(facts.parameters ? { parameters: facts.parameters } : {}),
    ...(facts.step !== undefined ? { step: facts.step } : {}),
    ...(facts.card ? { card: facts.card.path } : {}),
  };
}

/** A `--resume` record whose result was made with other settings than this run's. */
export class ResumeMismatchError extends Error {}

/** What changes the bytes of a result, flattened: the compressor's settings and, for a model, its weights, dtype and runtime. */
export function bytesDefiningSettings(r: { settings?: Record<string, unknown>; model?: Pick<ModelRecord, 'weightsSha256' | 'dtype' | 'runtime'> }): Map<string, string> {
  const m = r.model;
  const flat = new Map<string, string>();
  for (const [k, v] of Object.entries(r.settings ?? {})) if (v !== undefined) flat.set(k, JSON.stringify(v));
  if (m) for (const k of ['weightsSha256', 'dtype', 'runtime'] as const) flat.set(`model ${k}`, JSON.stringify(m[k]));
  return flat;
}

/** `key: then → now` for every setting that differs, or '' when none does. */
export function settingsDiff(then: Map<string, string>, now: Map<string, string>): string {
  const keys = [...new Set([...then.keys(), ...now.keys()])].sort();
  return keys
    .filter((k) => then.get(k) !== now.get(k))
    .map((k) => `${k}: ${then.get(k) ?? 'unset'} → ${now.get(k) ?? 'unset'}`)
    .join(', ');
}
