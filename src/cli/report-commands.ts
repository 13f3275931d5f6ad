/** `report` (leaderboards from run records) and `check` (the regression gate) commands. */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CommandModule } from 'yargs';
import type { RunRecord, ResultRecord } from '../records/run-record.js';
import { newRunRecord } from '../records/write.js';
import { writeFileAtomic } from '../common/atomic.js';
import { oneOf } from './options.js';
import { leaderboardHtml, leaderboardMarkdown, checkAgainstBaseline, parseTolerance, compareRecords, recordProblem, newestRuns, labelRuns } from '../reports/index.js';
import { buildSeries, parseSeriesAxis, seriesText, SERIES_AXES } from '../reports/series.js';
import type { SeriesAxis } from '../records/run-record.js';

export class ReportInputError extends Error {}

/** Record files from paths (files or folders of *.json); JSON that is not a record is an error. */
export async function readRecords(paths: string[]): Promise<RunRecord[]> {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new ReportInputError(`${p}: no such file or folder`);
    if (statSync(p).isDirectory()) {
      for (const f of (await readdir(p)).filter((f) => f.endsWith('.json')).sort()) files.push(join(p, f));
    } else files.push(p);
  }
  const records: RunRecord[] = [];
  for (const f of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(f, 'utf8'));
    } catch (e) {
      throw new ReportInputError(`${f}: not valid JSON (${(e as Error).message})`);
    }
    const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    for (const [i, r] of list.entries()) {
      const where = list.length > 1 ? `${f} record ${i + 1}` : f;
      const problem = recordProblem(r, where) ?? reportFieldsProblem(r as RunRecord, where);
      if (problem) throw new ReportInputError(problem);
      records.push(r as RunRecord);
    }
  }
  return records;
}

/** What the reports read beyond what the gate needs (run facts, per-result sizes and settings). */
function reportFieldsProblem(rec: RunRecord, where: string): string | undefined {
  const isObject = (v: unknown) => typeof v === 'object' && v !== null;
  if (typeof rec.startedAt !== 'string' || !Array.isArray(rec.argv) || !isObject(rec.harness) || !isObject(rec.environment)) {
    return `${where} is not a RunRecord (it lacks startedAt, argv, harness or environment)`;
  }
  const j = rec.results.findIndex((r) => !isObject(r.settings) || typeof r.inputBytes !== 'number' || typeof r.outputBytes !== 'number' || !isObject(r.decompressor));
  return j < 0 ? undefined : `${where}: results[${j}] lacks settings, inputBytes, outputBytes or decompressor`;
}

/**
 * Figures are pooled only under one protocol: runs outside any suite, or one suite's runs under
 * one protocol hash. Suite runs beside others are left out, named, and pointed at `suite report`
 * (which ranks each suite under its own protocol); several suites with no plain run are refused.
 */
function oneProtocol(records: RunRecord[]): RunRecord[] {
  const key = (r: RunRecord) => (r.suite ? `suite ${r.suite.name} (protocol ${r.suite.protocolHash})` : '');
  const keys = [...new Set(records.map(key))];
  if (keys.length <= 1) return records;
  const kept = keys.includes('') ? '' : undefined;
  const others = keys.filter((k) => k !== kept);
  if (kept === undefined) {
    throw new ReportInputError(`report: these records come from ${others.length} suite protocols (${others.join('; ')}), which are never pooled; rank them with \`compress-bench suite report\`, or give one suite's records`);
  }
  const left = records.filter((r) => key(r) !== kept);
  process.stderr.write(`compress-bench: report: ${left.length} suite record${left.length === 1 ? '' : 's'} left out (${others.join('; ')}): suite runs are pooled only under their own protocol; see \`compress-bench suite report\`\n`);
  return records.filter((r) => key(r) === kept);
}

export const reportCommand: CommandModule = {
  command: 'report [records..]',
  describe: 'Build the leaderboard (Markdown + one self-contained HTML page) from run records',
  builder: (y) =>
    y
      .positional('records', { type: 'string', array: true, describe: 'Record files or folders (default: reports/runs)' })
      .option('out', { type: 'string', default: 'reports/leaderboard', describe: 'Output path without extension: writes OUT.md and OUT.html' })
      .option('title', { type: 'string', default: 'compress-bench leaderboard' })
      .option('series', { type: 'string', describe: `${SERIES_AXES.join(' | ')}: draw bits/byte on seen and unseen inputs along the models' parameters or training steps (default: the records' own --series)` })
      .option('all-runs', { type: 'boolean', default: false, describe: 'Keep every run\'s row where several runs hold the same compressor and settings on one input, each labelled with its run (default: the newest run only)' })
      .example('$0 report reports/runs --out reports/leaderboard', 'one row per compressor and settings per input: the newest run of each'),
  handler: async (argv) => {
    const series = seriesOption(argv.series);
    const paths = (argv.records as string[] | undefined)?.length ? (argv.records as string[]) : ['reports/runs'];
    const read = await readRecords(paths);
    if (read.length === 0) throw new ReportInputError(`no run records in ${paths.join(', ')}`);
    const pooled = oneProtocol(read);
    const records = argv['all-runs'] ? labelRuns(pooled) : newestRuns(pooled);
    const dropped = pooled.reduce((n, r) => n + r.results.length, 0) - records.reduce((n, r) => n + r.results.length, 0);
    if (dropped) process.stderr.write(`compress-bench: report: ${dropped} row${dropped === 1 ? '' : 's'} of older runs left out (a newer run has the same compressor and settings on that input; --all-runs keeps them)\n`);
    const out = argv.out as string;
    await writeFileAtomic(`${out}.md`, leaderboardMarkdown(records, { series }));
    await writeFileAtomic(`${out}.html`, leaderboardHtml(records, { title: argv.title as string, series }));
    process.stdout.write(`${out}.md\n${out}.html\n`);
  },
};

function seriesOption(v: unknown): SeriesAxis | undefined {
  if (v === undefined) return undefined;
  try {
    return parseSeriesAxis(v);
  } catch (e) {
    throw new ReportInputError((e as Error).message);
  }
}

/** `series`: the compare-style text table of models along an axis, from records. */
export const seriesCommand: CommandModule = {
  command: 'series <records..>',
  describe: 'Bits/byte on seen and unseen inputs per model, along parameters or training step (text table)',
  builder: (y) =>
    y
      .positional('records', { type: 'string', array: true, describe: 'Record files or folders' })
      .option('series', { type: 'string', default: 'params', describe: SERIES_AXES.join(' | ') })
      .option('json', { type: 'boolean', default: false })
      .example('$0 series reports/records --series params', 'the committed suite records along model size'),
  handler: async (argv) => {
    const records = await readRecords(argv.records as string[]);
    const s = buildSeries(records, seriesOption(argv.series)!);
    if (s.points.length === 0) throw new ReportInputError(`no model in these records has results on inputs it is known to have seen or not seen${s.skipped.length ? ` (${s.skipped.join('; ')})` : ''}`);
    process.stdout.write((argv.json ? JSON.stringify(s, null, 2) : seriesText(s)) + '\n');
  },
};

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/** Re-run the command line a baseline record was made with (plus extra args such as --model-dir). */
async function rerun(baseline: RunRecord, extra: string[]): Promise<RunRecord> {
  const argv = [...baseline.argv.filter((a) => a !== '--json'), ...extra, '--json', '--no-record', '--quiet'];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...argv], { maxBuffer: 1 << 28 });
    const results = (JSON.parse(stdout) as { results: ResultRecord[] }).results;
    return newRunRecord(argv, results);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new ReportInputError(`re-running the baseline's command failed: ${(err.stderr || err.message).trim().split('\n').pop()}`);
  }
}

export const checkCommand: CommandModule = {
  command: 'check [records..]',
  describe: 'Regression gate: compare bpb with a baseline record (exit 0 ok, 1 regression, 2 unusable baseline)',
  builder: (y) =>
    y
      .positional('records', { type: 'string', array: true, describe: 'Current run records; none = re-run the baseline\'s own command line' })
      .option('baseline', { type: 'string', demandOption: true, describe: 'Baseline record, e.g. baselines/embedded.alice29.json' })
      .option('tolerance', { type: 'string', default: '0.5%', describe: 'Allowed bpb increase: 0.5% or 0.005' })
      .option('model-dir', { type: 'string', describe: 'Passed to the re-run' })
      .option('allow-missing', { type: 'boolean', default: false, describe: 'Pass even when baseline rows have no counterpart in the run (default: exit 1)' })
      .option('json', { type: 'boolean', default: false })
      .example('$0 check --baseline baselines/embedded.alice29.json', "re-run the baseline's own command line and gate on it")
      .example('$0 check --baseline baselines/embedded.alice29.json reports/runs', 'gate records you already have (every baseline row must be there)'),
  handler: async (argv) => {
    let baselineText: string;
    try {
      baselineText = await readFile(argv.baseline as string, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a record file' : `cannot read (${code})`;
      process.stderr.write(`compress-bench: --baseline ${argv.baseline}: ${why}\n`);
      process.exitCode = 2;
      return;
    }
    const tolerance = parseTolerance(argv.tolerance as string);
    const paths = (argv.records as string[] | undefined) ?? [];
    let current: RunRecord[];
    if (paths.length) current = await readRecords(paths);
    else {
      let baseline: RunRecord;
      try {
        baseline = JSON.parse(baselineText);
      } catch {
        baseline = { argv: [] } as unknown as RunRecord;
      }
      if (!Array.isArray(baseline.argv) || baseline.argv.length === 0) {
        process.stderr.write(`compress-bench: baseline ${argv.baseline} has no command line to re-run; pass current records\n`);
        process.exitCode = 2;
        return;
      }
      const extra = argv['model-dir'] ? ['--model-dir', argv['model-dir'] as string] : [];
      // A suite baseline re-runs exactly its suite and protocol: a changed suite file is refused, not compared.
      if (baseline.suite) extra.push('--expect-protocol', baseline.suite.protocolHash);
      current = [await rerun(baseline, extra)];
    }
    const result = checkAgainstBaseline(current, baselineText, { tolerance, allowMissing: argv['allow-missing'] as boolean });
    if (argv.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else {
      // The table is the report (stdout); the verdict lines are messages (stderr, each once).
      if (result.table) process.stdout.write(`${result.table}\n`);
      process.stderr.write(result.message.split('\n').map((l) => `compress-bench: check: ${l}\n`).join(''));
    }
    process.exitCode = result.exitCode;
  },
};

export const compareCommand: CommandModule = {
  command: 'compare <a> <b>',
  describe: 'Compare two run records side by side (e.g. fp32 vs q8 of one model): bpb and Δ%',
  builder: (y) =>
    y
      .positional('a', { type: 'string', demandOption: true })
      .positional('b', { type: 'string', demandOption: true })
      .option('by', { type: 'string', choices: ['compressor', 'model'], coerce: oneOf('by', ['compressor', 'model'] as const), default: 'model', describe: 'Match rows by compressor name, or by model family ignoring dtype' })
      .option('tolerance', { type: 'string', default: '0.5%', describe: 'Differences within this are reported as unchanged' })
      .example('$0 compare baselines/dtypes/gpt2-docmix-7m.fp32.json baselines/dtypes/gpt2-docmix-7m.q8.json', 'fp32 against q8 of one model'),
  handler: async (argv) => {
    const [a, b] = [await readRecords([argv.a as string]), await readRecords([argv.b as string])];
    const labels: [string, string] = [String(argv.a).split('/').pop()!, String(argv.b).split('/').pop()!];
    const cmp = compareRecords(a, b, { matchBy: argv.by as 'model' | 'compressor', labels, tolerance: parseTolerance(argv.tolerance as string) });
    if (cmp.overlapping === 0) throw new ReportInputError('the two records have no rows in common');
    process.stdout.write(cmp.table + '\n');
  },
};
