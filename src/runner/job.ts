/**
 * The main job as one function: inputs × compressors (× chunks, × shards, a suite's protocol)
 * into one RunRecord, saved atomically after every finished unit, so an interrupted run loses at
 * most the unit it was on. Plain, chunked, sharded and suite runs differ only in the spec.
 *
 * One resume rule for every record: a unit (input × chunk × compressor) is reused only when its
 * input hash, compressor, settings and model identity match; every earlier result is kept (also
 * those this command does not ask for); a command that asks for inputs or compressors the record
 * does not hold, or for other settings, chunking, shard or suite protocol, is refused with one
 * line naming the difference.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Compressor, ProgressHooks } from '../compressors/compressor.js';
import type { ChunkResult, ResultRecord, RunRecord, SeriesAxis, WorkRecord } from '../records/run-record.js';
import { newRunRecord, saveRunRecord } from '../records/write.js';
import { generalizationGaps } from '../records/generalization.js';
import { sha256 } from '../common/hash.js';
import type { SuiteRunRecord } from '../suites/suite.js';
import { chunkRange, inShard, keyOfChunk, sumChunks, unitKey, unitsOf, workOf, type Shard, type Unit } from './chunks.js';
import { InputError, type InputBytes, type LoadedInput } from './inputs.js';
import { bytesDefiningSettings, ResumeMismatchError, runOne, settingsDiff } from './run.js';

export interface JobRecord {
  path: string;
  /**
   * resume: the record must exist (`--resume`); if-present: resumed when it exists (a shard's or
   * a suite's fixed name, so a retried task continues); new: a fresh record.
   */
  open: 'resume' | 'if-present' | 'new';
  /** false: read a record to resume from, write nothing (`--resume R --no-record`). */
  write: boolean;
  /** How messages name the record: `--resume R`, `--shard 0/2: R`. */
  label: string;
}

export interface JobSpec {
  inputs: LoadedInput[];
  compressors: Compressor[];
  /** Chunk size in bytes; null codes each input whole. */
  chunk: number | null;
  /** Record per-unit chunk results beside their sums (chunked, sharded, suite runs); else results only. */
  chunked: boolean;
  shard?: Shard;
  argv: string[];
  /** Where the record goes; absent: nothing is read or written (`--no-record`). */
  record?: JobRecord;
  suite?: SuiteRunRecord;
  series?: SeriesAxis;
}

export interface JobHooks {
  /** Before each unit that runs, with a progress sink for long ones. */
  start?(compressor: Compressor, input: InputBytes): ProgressHooks | undefined;
  done?(result: ResultRecord): void;
  /** Once the record is on disk (or read, when resuming): how many of this command's units were reused. */
  opened?(info: { path: string; open: JobRecord['open']; resumed: boolean; reused: number; units: number }): void;
}

type UnitResult = ResultRecord | ChunkResult;

/** A record to resume, or a one-line refusal. */
async function readRecord(target: JobRecord): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(target.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ResumeMismatchError(`${target.label}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
  try {
    const rec = JSON.parse(text) as RunRecord;
    if (!Array.isArray(rec.results)) throw new Error('no results');
    return rec;
  } catch {
    throw new ResumeMismatchError(`${target.label}: not a compress-bench run record`);
  }
}

/** A plain record made before records carried their work: what its results hold. */
function workFromResults(rec: RunRecord): WorkRecord {
  const inputs: WorkRecord['inputs'] = [];
  const compressors: WorkRecord['compressors'] = [];
  for (const r of rec.results) {
    if (!inputs.some((i) => i.name === r.file && i.sliceSha256 === r.input.sliceSha256)) inputs.push({ name: r.file, sliceSha256: r.input.sliceSha256, bytes: r.inputBytes, chunks: 1 });
    if (!compressors.some((c) => c.name === r.compressor)) {
      const m = r.model;
      compressors.push({ name: r.compressor, settings: r.settings, ...(m ? { model: { id: m.id, weightsSha256: m.weightsSha256, tokenizerSha256: m.tokenizerSha256, dtype: m.dtype, ...(m.runtime ? { runtime: m.runtime } : {}) } } : {}) });
    }
  }
  return { chunkSize: null, inputs, compressors };
}

const sameInput = (a: { name: string; sliceSha256: string }, b: { name: string; sliceSha256: string }) => a.name === b.name && a.sliceSha256 === b.sliceSha256;
const shardText = (s?: Shard) => (s ? `shard ${s.index}/${s.count}` : 'the whole work (no --shard)');

/**
 * The work a resumed record continues: the record's own (its order, its units), once this
 * command is checked to ask for nothing it does not hold.
 */
function resumedWork(previous: RunRecord, asked: WorkRecord, spec: JobSpec, label: string): WorkRecord {
  const refuse = (why: string, advice = 'resume with the same options and inputs, or start a new record') => {
    throw new ResumeMismatchError(`${label}: ${why}; ${advice}`);
  };
  const hash = (s?: SuiteRunRecord) => (s ? `suite ${s.name} protocol ${s.protocolHash}` : 'no suite');
  if (hash(previous.suite) !== hash(spec.suite)) refuse(`the record was made under ${hash(previous.suite)}, this command runs ${hash(spec.suite)}`);
  if (shardText(previous.shard) !== shardText(spec.shard)) refuse(`the record is of ${shardText(previous.shard)}, this command runs ${shardText(spec.shard)}`);
  let then = previous.work ?? workFromResults(previous);
  if (then.chunkSize !== asked.chunkSize) refuse(`the record was made for other work (chunk size: ${then.chunkSize ?? 'none'} → ${asked.chunkSize ?? 'none'})`);
  if ((previous.chunks !== undefined) !== spec.chunked) refuse(`the record ${previous.chunks ? 'is' : 'is not'} of a chunked, sharded or suite run and this command ${spec.chunked ? 'is' : 'is not'}`);
  const otherInputs = asked.inputs.filter((i) => !then.inputs.some((w) => sameInput(w, i)));
  const otherCompressors = asked.compressors.filter((c) => !then.compressors.some((w) => w.name === c.name));
  if (!previous.work && !previous.complete) {
    // An interrupted record from before records carried their work: what the command asks for beyond its results is the rest of that work.
    then = { ...then, inputs: [...then.inputs, ...otherInputs], compressors: [...then.compressors, ...otherCompressors] };
  } else {
    const advice = 'give only inputs and compressors it holds, or start a new record';
    if (otherInputs.length) {
      const described = otherInputs.map((i) => {
        const was = then.inputs.find((w) => w.name === i.name);
        return was ? `${i.name} (its bytes changed: sha256 ${was.sliceSha256.slice(0, 12)}… in the record, ${i.sliceSha256.slice(0, 12)}… now)` : i.name;
      });
      refuse(`the record holds inputs ${then.inputs.map((i) => i.name).join(', ')}; this command asks for ${described.join(', ')}`, advice);
    }
    if (otherCompressors.length) refuse(`the record holds compressors ${then.compressors.map((c) => c.name).join(', ')}; this command asks for ${otherCompressors.map((c) => c.name).join(', ')}`, advice);
  }
  for (const c of asked.compressors) {
    const diff = settingsDiff(bytesDefiningSettings(then.compressors.find((w) => w.name === c.name)!), bytesDefiningSettings(c));
    if (diff) refuse(`${c.name} was recorded with other settings (${diff})`);
  }
  return then;
}

/** The results (or chunks) of a record that this spec asked for: a resumed record may hold more. */
export function resultsAsked<T extends ResultRecord>(spec: Pick<JobSpec, 'inputs' | 'compressors'>, rows: T[]): T[] {
  const names = new Set(spec.compressors.map((c) => c.name));
  return rows.filter((r) => names.has(r.compressor) && spec.inputs.some((i) => sameInput(i.record, { name: r.file, sliceSha256: r.input.sliceSha256 })));
}

/** Runs the job, saving the record after each finished unit; compressors are disposed at the end. */
export async function runJob(spec: JobSpec, hooks: JobHooks = {}): Promise<RunRecord> {
  try {
    return await job(spec, hooks);
  } finally {
    for (const c of spec.compressors) await c.dispose?.();
  }
}

async function job(spec: JobSpec, hooks: JobHooks): Promise<RunRecord> {
  const asked = workOf(spec.inputs, spec.compressors, spec.chunk);
  const target = spec.record;
  const resuming = !!target && (target.open === 'resume' || (target.open === 'if-present' && existsSync(target.path)));
  const previous = resuming ? await readRecord(target) : undefined;
  const work = previous ? resumedWork(previous, asked, spec, target!.label) : asked;

  // This command's inputs and compressors by their place in the (possibly resumed) work.
  const loaded = new Map(spec.inputs.map((i) => [work.inputs.findIndex((w) => sameInput(w, i.record)), i]));
  const compressors = new Map(spec.compressors.map((c) => [work.compressors.findIndex((w) => w.name === c.name), c]));
  const key = (u: Unit) => unitKey(work.compressors[u.compressor].name, work.inputs[u.input], u.chunk);
  const mine = unitsOf(work).filter((u) => inShard(u, spec.shard));
  const todo = mine.filter((u) => loaded.has(u.input) && compressors.has(u.compressor));

  // Every earlier unit is kept, asked for or not; a failed round trip is rerun when asked for.
  const held = new Map<string, UnitResult>();
  for (const r of previous?.chunks ?? []) held.set(keyOfChunk(r), r);
  if (previous && !previous.chunks) for (const r of previous.results) held.set(unitKey(r.compressor, { name: r.file, sliceSha256: r.input.sliceSha256 }, 0), r);
  const reused = todo.filter((u) => held.get(key(u))?.roundtrip).length;

  const base = await newRunRecord(spec.argv, []);
  // A resumed record still describes the run that began it.
  if (previous) Object.assign(base, { startedAt: previous.startedAt, argv: previous.argv, harness: previous.harness ?? base.harness, environment: previous.environment ?? base.environment });
  const series = spec.series ?? previous?.series;
  const build = (): RunRecord => {
    const units = mine.map((u) => held.get(key(u))).filter((r): r is UnitResult => r !== undefined);
    const results = spec.chunked ? sumChunks(work, units as ChunkResult[]) : units;
    const gaps = generalizationGaps(results);
    return {
      ...base,
      ...(spec.suite ? { suite: spec.suite } : {}),
      complete: units.length === mine.length,
      peakRssBytes: Math.max(previous?.peakRssBytes ?? 0, process.resourceUsage().maxRSS * 1024),
      results,
      ...(gaps.length ? { generalization: gaps } : {}),
      ...(series ? { series } : {}),
      work,
      ...(spec.shard ? { shard: spec.shard } : {}),
      ...(spec.chunked ? { chunks: units as ChunkResult[] } : {}),
    };
  };
  const save = async () => {
    if (target?.write) await saveRunRecord(build(), target.path);
  };
  // A run killed before its first unit still leaves its record (complete: false) to resume.
  if (!previous) await save();
  if (target) hooks.opened?.({ path: target.path, open: target.open, resumed: !!previous, reused, units: todo.length });

  let fresh = false;
  for (const u of todo) {
    if (held.get(key(u))?.roundtrip) continue;
    held.set(key(u), await runUnit(work, u, loaded.get(u.input)!, compressors.get(u.compressor)!, spec.chunked, hooks));
    fresh = true;
    await save();
  }
  const record = build();
  // A finished record resumed with nothing new is left byte for byte as it was.
  if (previous && !fresh && previous.complete === record.complete) return record;
  await save();
  return record;
}

/**
 * One unit: a whole input (plain runs) or one chunk of it, verified by a real round trip. Only
 * the unit's bytes are read, at their offset: a chunked run never holds the whole input.
 */
async function runUnit(work: WorkRecord, u: Unit, input: LoadedInput, c: Compressor, chunked: boolean, hooks: JobHooks): Promise<UnitResult> {
  if (!chunked) {
    const bytes = await input.read();
    // The record names the bytes hashed when the input was opened: a file changed since then is refused, not scored under that name.
    if (sha256(bytes) !== input.record.sliceSha256) throw new InputError(`${input.record.name}: changed since it was opened (its SHA-256 differs); rerun on a file that is not being written`);
    return runOne(c, { bytes, record: input.record }, hooks);
  }
  const spec = work.inputs[u.input];
  const [start, end] = chunkRange(u.chunk, work.chunkSize, input.size);
  const bytes = await input.read(start, end);
  const label = spec.chunks > 1 ? `${input.record.name} chunk ${u.chunk + 1}/${spec.chunks}` : input.record.name;
  const r = await runOne(c, { bytes, record: { ...input.record, name: label } }, hooks);
  return {
    ...r,
    settings: work.compressors[u.compressor].settings,
    file: input.record.name,
    input: input.record,
    chunk: { index: u.chunk, count: spec.chunks, offset: start, sha256: sha256(bytes) },
  };
}
