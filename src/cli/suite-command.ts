/**
 * `suite list` and `suite NAME -m MODEL …`: run every input of a suite under its protocol
 * (resumable, shardable), recording the suite name and protocol hash in the RunRecord.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { findSuite, inputLabel, loadSuites, protocolHash, protocolOf, describeProtocol, suiteDirs, type Suite, type SuiteInput, type SuiteRunRecord } from '../suites/suite.js';
import { DEFAULT_SEARCH_DIRS, resolveInput } from '../corpora/index.js';
import { isNpmDatasetSpec, materializeNpmDataset } from '../corpora/npm-datasets.js';
import { readInput, type LoadedInput } from '../runner/inputs.js';
import { assertSameWork, runChunks, sumChunks, workOf, type Shard } from '../runner/chunks.js';
import { LmCompressor } from '../compressors/lm.js';
import { parseBaselines } from '../compressors/baselines.js';
import type { Compressor } from '../compressors/compressor.js';
import { loadModelOrMix } from './model-lookup.js';
import { UsageError, wholeNumber, modelNames, shardSpec, DTYPES, oneOf } from './options.js';
import { requireAvailable } from './available.js';
import { newRunRecord, saveRunRecord } from '../records/write.js';
import type { ChunkResult, RunRecord } from '../records/run-record.js';
import { resultsTable } from './table.js';
import { generalizationGaps } from '../records/generalization.js';
import { writeFileAtomic } from '../common/atomic.js';
import { readRecords } from './report-commands.js';
import { suiteLeaderboardHtml, suiteLeaderboardMarkdown } from '../reports/suite-board.js';

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Data dirs for `file` inputs and extra corpus search dirs: --data-dir, then COMPRESS_BENCH_DATA_DIR (colon-separated). */
function dataDirs(option: unknown): string[] {
  return [...list(option), ...(process.env.COMPRESS_BENCH_DATA_DIR ?? '').split(':').filter(Boolean)];
}

/** One suite input on disk, cut to its slice and the protocol's sample; a one-line error when absent. */
export async function loadSuiteInput(i: SuiteInput, dirs: string[], sample: number | null): Promise<LoadedInput> {
  const cut = (len: number) => Math.min(len, i.limit ?? Infinity, sample ?? Infinity);
  const offset = i.offset ?? 0;
  if (i.file !== undefined) {
    const path = dirs.map((d) => join(d, i.file!)).find((p) => existsSync(p));
    if (!path) throw new UsageError(`${i.file}: not found in the data dirs (${dirs.join(', ') || 'none: give --data-dir or COMPRESS_BENCH_DATA_DIR'})`);
    return readInput(path, { offset, limit: cut(Infinity), name: i.file });
  }
  const spec = i.input!;
  if (isNpmDatasetSpec(spec)) {
    const ds = await materializeNpmDataset(spec).catch((e) => {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    });
    const name = `npm:${ds.dataset.id}`;
    return readInput(ds.path, { offset, limit: cut(Infinity), name, corpus: name });
  }
  const r = await resolveInput(spec, { searchDirs: [...DEFAULT_SEARCH_DIRS, ...dirs] }).catch((e) => {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  });
  return readInput(r.path, { offset: r.offset + offset, limit: cut(r.length - offset), name: r.name, corpus: r.corpus });
}

async function present(i: SuiteInput, dirs: string[]): Promise<string> {
  try {
    const got = await loadSuiteInput(i, dirs, 1);
    return `present (${got.record.path})`;
  } catch (e) {
    return `absent: ${(e as Error).message.split('\n')[0]}`;
  }
}

async function listSuites(dirs: string[]): Promise<void> {
  for (const s of loadSuites(suiteDirs(process.env))) {
    const p = protocolOf(s);
    process.stdout.write(`${s.name}  (protocol ${protocolHash(s, p)}: ${describeProtocol(p)}; baselines ${s.baselines})\n  ${s.description}\n`);
    for (const i of s.inputs) process.stdout.write(`  - ${inputLabel(i).padEnd(36)} ${await present(i, dirs)}\n`);
  }
}

/** File name for a suite run's record: suite, sample, compressors, shard. */
function defaultRecordName(suite: Suite, sample: number | null, compressors: Compressor[], shard?: Shard): string {
  const who = compressors.map((c) => c.name).join('+').replace(/[^A-Za-z0-9._+-]+/g, '_').slice(0, 80);
  return `${suite.name}${sample ? `-sample${sample}` : ''}-${who}${shard ? `-shard-${shard.index}-of-${shard.count}` : ''}.json`;
}

async function runSuite(a: Record<string, unknown>): Promise<number> {
  const suite = findSuite(String(a.name));
  const protocol = protocolOf(suite, a.sample as number | undefined);
  const hash = protocolHash(suite, protocol);
  if (a['expect-protocol'] !== undefined && a['expect-protocol'] !== hash) {
    throw new UsageError(`suite ${suite.name}: its protocol is now ${hash}, the baseline was made under ${a['expect-protocol']}; the suite file changed, so the figures are not comparable`);
  }
  const dirs = dataDirs(a['data-dir']);
  const inputs: LoadedInput[] = [];
  for (const i of suite.inputs) inputs.push(await loadSuiteInput(i, dirs, protocol.sample));
  const baselines = a.baselines === false ? [] : parseBaselines(typeof a.baselines === 'string' ? a.baselines : suite.baselines);
  const { usable: classic } = await requireAvailable(baselines, false);
  const codec = { segments: protocol.segments, contextLength: protocol.context ?? undefined, primeTokens: protocol.prime ?? undefined };
  const compressors: Compressor[] = [];
  const models = list(a.model);
  for (const m of models.filter((m) => m !== 'none')) {
    const lm = await loadModelOrMix({
      model: m, modelDirs: list(a['model-dir']), dtype: String(a.dtype), device: 'cpu', offline: true, threads: a.threads as number | undefined,
      maxContext: codec.contextLength, warn: (msg) => process.stderr.write(`compress-bench: warning: ${msg}\n`),
    });
    compressors.push(new LmCompressor(lm, codec));
  }
  compressors.push(...classic);
  if (!compressors.length) throw new UsageError('suite: nothing to run (give -m MODEL, or keep the baselines)');
  const shard = a.shard as Shard | undefined;
  const work = workOf(inputs, compressors, protocol.chunk);
  const path = (a.output as string | undefined) ?? join(String(a['record-dir']), defaultRecordName(suite, protocol.sample, compressors, shard));
  const previous = a.record && existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as RunRecord) : undefined;
  const suiteRecord: SuiteRunRecord = { name: suite.name, protocolHash: hash, protocol, inputs: suite.inputs.map(inputLabel) };
  if (previous) {
    if (previous.suite?.protocolHash !== hash) throw new UsageError(`suite: ${path} exists and was made under protocol ${previous.suite?.protocolHash ?? 'none'} (this run: ${hash}); remove it or give -o`);
    assertSameWork(previous.work, work, previous.shard, shard, `suite: ${path} exists and`);
  }
  const record = await newRunRecord(process.argv.slice(2), []);
  if (previous) Object.assign(record, { startedAt: previous.startedAt, argv: previous.argv, harness: previous.harness, environment: previous.environment });
  let fresh = false;
  const save = async (chunks: ChunkResult[], complete: boolean) => {
    if (!a.record || !fresh) return; // a finished record resumed with nothing new is left byte for byte as it was
    const results = sumChunks(work, chunks);
    const gaps = generalizationGaps(results);
    await saveRunRecord({ ...record, suite: suiteRecord, complete, results, ...(gaps.length ? { generalization: gaps } : {}), work, ...(shard ? { shard } : {}), chunks }, path);
  };
  const quiet = !!a.quiet;
  const chunks = await runChunks(inputs, compressors, work, shard, {
    start: (c, input) => {
      fresh = true;
      if (!quiet) process.stderr.write(`${suite.name}: ${c.name} on ${input.record.name}\n`);
      return undefined;
    },
    saved: (partial) => save(partial, false),
  }, previous?.chunks);
  for (const c of compressors) await c.dispose?.();
  await save(chunks, true);
  const results = sumChunks(work, chunks);
  if (a.json) process.stdout.write(JSON.stringify({ suite: suiteRecord, results }, null, 2) + '\n');
  else {
    if (a.record && !quiet) process.stderr.write(`record: ${path}${fresh ? '' : ' (complete already: unchanged)'}\n`);
    if (results.length) process.stdout.write(resultsTable(results) + '\n');
  }
  return chunks.every((r) => r.roundtrip) ? 0 : 1;
}

export const suiteCommand: CommandModule = {
  command: 'suite <name> [records..]',
  describe: 'Benchmark suites: `suite list`, `suite NAME -m MODEL …` (run it under its protocol), `suite report RECORDS… --out FILE`',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'list | report | a suite name (suites/*.json)' })
      .positional('records', { type: 'string', array: true, describe: 'report: record files or folders' })
      .option('model', { alias: 'm', type: 'string', coerce: modelNames, describe: 'Model(s) to run (none: the baselines only)' })
      .option('model-dir', { type: 'string', describe: 'Folder(s) holding DIR/<model id>/ (also COMPRESS_BENCH_MODEL_DIR)' })
      .option('data-dir', { type: 'string', describe: 'Where `file` inputs and corpus files are (also COMPRESS_BENCH_DATA_DIR)' })
      .option('dtype', { type: 'string', choices: DTYPES, coerce: oneOf('dtype', DTYPES), default: 'fp32' })
      .option('threads', { type: 'string', coerce: wholeNumber('threads', 1, 'a positive whole number') })
      .option('baselines', { describe: "Baselines spec (default: the suite's); --no-baselines for none" })
      .option('sample', { type: 'string', coerce: wholeNumber('sample', 1, 'a whole number of bytes ≥ 1'), describe: 'Only the first BYTES of each input: part of the protocol (never pooled with whole-file runs)' })
      .option('shard', { type: 'string', coerce: shardSpec, describe: 'Run part I of N (0-based) of the work' })
      .option('record-dir', { type: 'string', default: 'reports/runs' })
      .option('output', { alias: 'o', type: 'string', describe: 'run: the record file (resumed if it exists); report: output path without extension' })
      .option('record', { type: 'boolean', default: true })
      .option('json', { type: 'boolean', default: false })
      .option('quiet', { alias: 'q', type: 'boolean', default: false })
      .option('expect-protocol', { type: 'string', describe: 'Refuse to run unless the suite protocol hash is this (check uses it)' })
      .example('$0 suite list', 'the suites, their protocols and whether their inputs are here')
      .example('$0 suite snappy-mixed -m order-k --sample 4096', 'run a suite under its protocol (its corpus: corpora fetch snappy)')
      .example('$0 suite report reports/records --out reports/leaderboard', 'the suite leaderboard from the committed records'),
  handler: async (argv) => {
    const name = String(argv.name);
    if (name === 'list') return listSuites(dataDirs(argv['data-dir']));
    if (name === 'report') {
      const paths = (argv.records as string[] | undefined)?.length ? (argv.records as string[]) : ['reports/records'];
      const records = await readRecords(paths);
      const out = (argv.output as string | undefined) ?? 'reports/leaderboard';
      await writeFileAtomic(`${out}.md`, suiteLeaderboardMarkdown(records, loadSuites()));
      await writeFileAtomic(`${out}.html`, suiteLeaderboardHtml(records, loadSuites()));
      process.stdout.write(`${out}.md\n${out}.html\n`);
      return;
    }
    process.exitCode = await runSuite(argv as Record<string, unknown>);
  },
};
