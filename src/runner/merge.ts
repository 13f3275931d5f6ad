/**
 * `merge`: the partial records of one sharded run → one record. Every part must be of the
 * same work (inputs, chunk size, compressors with their settings and model hashes), from the
 * same harness version, and together they must hold every unit exactly once; anything else is
 * refused with one line naming the shard or unit at fault. The sums come from `sumChunks`, the
 * same function a single-process run uses, so the merged record equals that run's in sizes.
 */
import { describeUnit, inShard, keyOfChunk, sumChunks, unitKey, unitsOf, workDiff } from './chunks.js';
import { RECORD_VERSION, runtimesOf, type ChunkResult, type RunRecord } from '../records/run-record.js';
import { runtimesOfResults } from '../records/write.js';

export class MergeError extends Error {}

export interface Partial {
  path: string;
  record: RunRecord;
}

export function mergeRecords(parts: Partial[], argv: string[]): RunRecord {
  if (parts.length === 0) throw new MergeError('merge: no partial records given');
  const [first] = parts;
  for (const { path, record } of parts) {
    if (!record.work || !record.shard) throw new MergeError(`merge: ${path} is not a shard record (made without --shard); merge takes the partial records of one sharded run`);
    if (record.recordVersion !== RECORD_VERSION) throw new MergeError(`merge: ${path} has record version ${record.recordVersion}; this build merges version ${RECORD_VERSION}`);
    if (record.harness?.version !== first.record.harness?.version) {
      throw new MergeError(`merge: ${path} was made by compress-bench ${record.harness?.version}, ${first.path} by ${first.record.harness?.version}; all shards must come from one harness version`);
    }
    const diff = workDiff(first.record.work!, record.work);
    if (diff) throw new MergeError(`merge: ${path} is of other work than ${first.path} (${diff})`);
    if (record.suite?.protocolHash !== first.record.suite?.protocolHash) {
      throw new MergeError(`merge: ${path} was run under suite protocol ${record.suite?.protocolHash ?? 'none'}, ${first.path} under ${first.record.suite?.protocolHash ?? 'none'}; give the shards of one run`);
    }
    if (record.shard.count !== first.record.shard!.count) {
      throw new MergeError(`merge: ${path} is shard ${record.shard.index}/${record.shard.count}, ${first.path} is of ${first.record.shard!.count} shards; give the shards of one run`);
    }
  }
  const work = first.record.work!;
  const count = first.record.shard!.count;
  const byIndex = new Map<number, string[]>();
  for (const { path, record } of parts) byIndex.set(record.shard!.index, [...(byIndex.get(record.shard!.index) ?? []), path]);
  const twice = [...byIndex].filter(([, paths]) => paths.length > 1);
  if (twice.length) throw new MergeError(`merge: ${twice.map(([i, paths]) => `shard ${i}/${count} given ${paths.length} times (${paths.join(', ')})`).join('; ')}`);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) throw new MergeError(`merge: missing ${missing.length === 1 ? 'shard' : 'shards'} ${missing.map((i) => `${i}/${count}`).join(', ')} (given ${parts.length} of ${count}); run ${missing.length === 1 ? 'it' : 'them'} with --shard I/${count} and merge again`);

  const units = unitsOf(work);
  const chunks: ChunkResult[] = [];
  for (const { path, record } of parts) {
    const shard = record.shard!;
    const held = new Map<string, ChunkResult>();
    for (const r of record.chunks ?? []) {
      const key = keyOfChunk(r);
      if (held.has(key)) throw new MergeError(`merge: ${path} holds ${r.compressor} on ${r.file} chunk ${r.chunk.index + 1}/${r.chunk.count} twice`);
      held.set(key, r);
    }
    const mine = units.filter((u) => inShard(u, shard));
    const absent = mine.filter((u) => !held.has(unitKey(work.compressors[u.compressor].name, work.inputs[u.input], u.chunk)));
    if (absent.length) {
      throw new MergeError(
        `merge: ${path} (shard ${shard.index}/${count}) is incomplete: ${absent.length} of its ${mine.length} units missing, first ${describeUnit(work, absent[0])}; rerun it with --shard ${shard.index}/${count} (it resumes from its last chunk)`,
      );
    }
    if (held.size !== mine.length) {
      const foreign = [...held.values()].find((r) => !mine.some((u) => keyOfChunk(r) === unitKey(work.compressors[u.compressor].name, work.inputs[u.input], u.chunk)))!;
      throw new MergeError(`merge: ${path} (shard ${shard.index}/${count}) holds ${foreign.compressor} on ${foreign.file} chunk ${foreign.chunk.index + 1}/${foreign.chunk.count}, which is not part of it`);
    }
    chunks.push(...held.values());
  }
  // The order a single process writes: input by input, chunk by chunk, compressor by compressor.
  const order = new Map(units.map((u) => [unitKey(work.compressors[u.compressor].name, work.inputs[u.input], u.chunk), u.n]));
  chunks.sort((a, b) => order.get(keyOfChunk(a))! - order.get(keyOfChunk(b))!);
  const startedAt = parts.map((p) => p.record.startedAt).sort()[0];
  const byShard = [...parts].sort((a, b) => a.record.shard!.index - b.record.shard!.index);
  return {
    recordVersion: RECORD_VERSION,
    startedAt,
    harness: first.record.harness,
    // Shards may run on different machines: the top level stays shard 0's (what readers of
    // records without `shards` expect), and every shard's own is kept beside it.
    environment: { ...environmentOf(byShard[0].record), shards: byShard.map(shardEnvironment) },
    argv,
    complete: true,
    // Shards run in their own processes: the merged peak is the largest one's.
    ...(parts.some((p) => p.record.peakRssBytes) ? { peakRssBytes: Math.max(...parts.map((p) => p.record.peakRssBytes ?? 0)) } : {}),
    ...(first.record.suite ? { suite: first.record.suite } : {}),
    results: sumChunks(work, chunks),
    work,
    chunks,
  };
}

/** A record's environment without `shards` (a shard record has none; they are never nested). */
function environmentOf(record: RunRecord): Omit<RunRecord['environment'], 'shards'> {
  const { shards: _, ...env } = record.environment;
  return env;
}

/**
 * One shard's environment. Its `runtimes` also come from its chunks: a shard rarely holds every
 * chunk of an input, so its record often has no summed results for `saveRunRecord` to read them from.
 */
function shardEnvironment({ record }: Partial): NonNullable<RunRecord['environment']['shards']>[number] {
  const env = environmentOf(record);
  const all = { ...runtimesOf(env), ...runtimesOfResults(record.chunks ?? []) };
  const runtimes = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  return { index: record.shard!.index, ...env, runtimes };
}
