/**
 * `suite list` and `suite NAME -m MODEL …`: run every input of a suite under its protocol
 * (resumable, shardable), recording the suite name and protocol hash in the RunRecord.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { findSuite, inputLabel, loadSuites, protocolHash, protocolOf, describeProtocol, suiteDirs, type Suite, type SuiteInput, type SuiteRunRecord } from '../suites/suite.js';
import { DEFAULT_SEARCH_DIRS, dataDirsFromEnv, resolveInput } from '../corpora/index.js';
import { isNpmDatasetSpec, materializeNpmDataset } from '../corpora/npm-datasets.js';
import { readInput, type LoadedInput } from '../runner/inputs.js';
import type { Shard } from '../runner/chunks.js';
import { resultsAsked, runJob, type JobRecord, type JobSpec } from '../runner/job.js';
import { parseBaselines } from '../compressors/baselines.js';
import type { Compressor } from '../compressors/compressor.js';
import { UsageError, wholeNumber, modelNames, shardSpec, modelOptions, resolveShard, list, type OptionsOf, type ModelArgs } from './options.js';
import { lmCompressors } from './compressors.js';
import { jobHooks } from './job-hooks.js';
import { requireAvailable } from './available.js';
import { resultsTable } from './table.js';
import { writeFileAtomic } from '../common/atomic.js';
import { readRecords } from './report-commands.js';
import { suiteLeaderboardHtml, suiteLeaderboardMarkdown } from '../reports/suite-board.js';

/** Data dirs for `file` inputs and extra corpus search dirs: the global --data-dir (put in front by the CLI), then COMPRESS_BENCH_DATA_DIR. */
function dataDirs(option: unknown): string[] {
  return [...new Set([...list(option), ...dataDirsFromEnv()])];
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

/** What a suite run takes: `suite NAME …` and the main job's `--suite NAME …` alike. */
export interface SuiteRunArgs extends ModelArgs {
  name: string;
  model?: string[];
  mix?: string[];
  /** A baselines spec; false: none (--no-baselines); undefined: the suite's. */
  baselines?: string | boolean;
  skipMissing?: boolean;
  dataDir?: unknown;
  sample?: number;
  shard?: Shard;
  recordDir: string;
  /** The record file, resumed if it exists (`suite -o`). */
  output?: string;
  /** The record file, which must exist (the main job's `--resume`). */
  resume?: string;
  record: boolean;
  json: boolean;
  quiet: boolean;
  expectProtocol?: string;
}

/** Run every input of a suite under its protocol: one `runJob`, its record naming the suite and protocol hash. */
export async function runSuite(a: SuiteRunArgs): Promise<number> {
  const suite = findSuite(a.name);
  const protocol = protocolOf(suite, a.sample);
  const hash = protocolHash(suite, protocol);
  if (a.expectProtocol !== undefined && a.expectProtocol !== hash) {
    throw new UsageError(`suite ${suite.name}: its protocol is now ${hash}, the baseline was made under ${a.expectProtocol}; the suite file changed, so the figures are not comparable`);
  }
  const dirs = dataDirs(a.dataDir);
  const inputs: LoadedInput[] = [];
  for (const i of suite.inputs) inputs.push(await loadSuiteInput(i, dirs, protocol.sample));
  const baselines = a.baselines === false ? [] : parseBaselines(typeof a.baselines === 'string' ? a.baselines : suite.baselines);
  const { usable: classic } = await requireAvailable(baselines, !!a.skipMissing);
  const codec = { segments: protocol.segments, contextLength: protocol.context ?? undefined, primeTokens: protocol.prime ?? undefined };
  const compressors = [...(await lmCompressors(a, codec, false)), ...classic];
  if (!compressors.length) throw new UsageError('suite: nothing to run (give -m MODEL, or keep the baselines)');
  const shard = a.shard;
  const path = a.resume ?? a.output ?? join(a.recordDir, defaultRecordName(suite, protocol.sample, compressors, shard));
  const record: JobRecord | undefined = a.resume
    ? { path, open: 'resume', write: a.record, label: `--resume ${path}` }
    : a.record ? { path, open: 'if-present', write: true, label: `suite ${suite.name}: ${path}` } : undefined;
  const suiteRecord: SuiteRunRecord = { name: suite.name, protocolHash: hash, protocol, inputs: suite.inputs.map(inputLabel) };
  let ran = false;
  const hooks = jobHooks(a.quiet, hideBin(process.argv), { recording: !!record, lines: suite.name });
  const spec: JobSpec = { inputs, compressors, chunk: protocol.chunk, chunked: true, shard, argv: process.argv.slice(2), record, suite: suiteRecord };
  const done = await runJob(spec, { ...hooks, start: (c, input) => ((ran = true), hooks.start!(c, input)) });
  const results = resultsAsked(spec, done.results);
  if (a.json) process.stdout.write(JSON.stringify({ suite: suiteRecord, results }, null, 2) + '\n');
  else {
    if (a.record && !a.quiet) process.stderr.write(`record: ${path}${ran ? '' : ' (every unit reused: unchanged)'}\n`);
    if (results.length) process.stdout.write(resultsTable(results) + '\n');
  }
  return resultsAsked(spec, done.chunks ?? []).every((r) => r.roundtrip) ? 0 : 1;
}

/** The options only a suite run has; the main job takes them beside `--suite`. */
export const suiteRunOptions = <T>(y: Argv<T>) =>
  y
    .option('sample', { type: 'string', coerce: wholeNumber('sample', 1, 'a whole number of bytes ≥ 1'), describe: 'Suites: only the first BYTES of each input: part of the protocol (never pooled with whole-file runs)' })
    .option('expect-protocol', { type: 'string', hidden: true, describe: 'Refuse to run unless the suite protocol hash is this (check uses it)' });

const builder = (y: Argv) =>
  suiteRunOptions(modelOptions(y))
    .positional('name', { type: 'string', demandOption: true, describe: 'list | report | a suite name (suites/*.json)' })
    .positional('records', { type: 'string', array: true, describe: 'report: record files or folders' })
    .option('model', { alias: 'm', type: 'string', coerce: modelNames, describe: 'Model(s) to run (none: the baselines only)' })
    .option('baselines', { describe: "Baselines spec (default: the suite's); --no-baselines for none" })
    .option('shard', { type: 'string', coerce: shardSpec, describe: 'Run part I of N (0-based) of the work, or auto (see the main job\'s --shard)' })
    .option('shard-count', { type: 'string', coerce: wholeNumber('shard-count', 1, 'a whole number of shards ≥ 1'), describe: 'With --shard auto: the number of shards' })
    .option('record-dir', { type: 'string', default: 'reports/runs' })
    .option('output', { alias: ['o', 'out'], type: 'string', describe: 'run: the record file (resumed if it exists); report: output path without extension (needed with RECORDS; without them reports/records → reports/leaderboard)' })
    .option('record', { type: 'boolean', default: true })
    .option('json', { type: 'boolean', default: false });

export const suiteCommand: CommandModule<object, OptionsOf<typeof builder>> = {
  command: 'suite <name> [records..]',
  describe: 'Benchmark suites: `suite list`, `suite NAME -m MODEL …` (run it under its protocol), `suite report [RECORDS… -o OUT]`',
  builder: (y) =>
    builder(y)
      .example('$0 suite list', 'the suites, their protocols and whether their inputs are here')
      .example('$0 suite snappy-mixed -m order-k --sample 4096', 'run a suite under its protocol (its corpus: corpora fetch snappy)')
      .example('$0 suite report reports/runs -o my-board', 'the suite leaderboard of your records: my-board.md and my-board.html'),
  handler: async (argv) => {
    const name = argv.name;
    if (name === 'list') return listSuites(dataDirs(argv.dataDir));
    if (name === 'report') {
      const paths = argv.records?.length ? argv.records : ['reports/records'];
      const records = await readRecords(paths);
      // The committed leaderboard is made from the committed records only: other records need their own -o.
      if (argv.records?.length && argv.output === undefined) throw new UsageError('suite report RECORDS: give -o/--out PATH (without extension) for their leaderboard; reports/leaderboard is made from reports/records');
      const out = argv.output ?? 'reports/leaderboard';
      await writeFileAtomic(`${out}.md`, suiteLeaderboardMarkdown(records, loadSuites()));
      await writeFileAtomic(`${out}.html`, suiteLeaderboardHtml(records, loadSuites()));
      process.stdout.write(`${out}.md\n${out}.html\n`);
      return;
    }
    const baselines = argv.baselines as string | boolean | undefined;
    process.exitCode = await runSuite({ ...argv, name, baselines, shard: resolveShard(argv.shard, argv.shardCount) });
  },
};
