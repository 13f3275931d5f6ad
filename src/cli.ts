#!/usr/bin/env node
/**
 * compress-bench: score language models as lossless compressors.
 * Exit codes: 0 success · 1 verification failed (round trip, regression gate) · 2 bad usage or
 * input (missing file, unknown model, corrupted archive, model mismatch).
 */
import type { Argv } from 'yargs';
import { yargs, helpWidth, EXIT_CODES_EPILOGUE } from './cli/yargs.js';
import { hideBin } from 'yargs/helpers';
import { readFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { writeOutput, resolveOutput, STDIO_ARG, isStdio } from './common/output.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { RoundTripError } from './joint/verified-size.js';
import { MIX_PREFIX, loadModelOrMix, modelSpecOf, requireContext } from './cli/model-lookup.js';
import { formatModelSpec } from './common/model-spec.js';
import { cliMessage } from './cli/setting-flags.js';
import { isMixStep, parseMixStep } from './mix/settings.js';
import { UsageError, wholeNumber, modelNames, byteSize, shardSpec, list, resolveShard, modelOptions, codecOptions, codecFrom, modelRequest, type ArgsOf } from './cli/options.js';
import { LmCompressor } from './compressors/lm.js';
import { isStoredArchive, packArchive, readStoredArchive } from './compressors/archiver.js';
import { parseBaselines, DEFAULT_BASELINES, BASELINES_SYNTAX } from './compressors/baselines.js';
import { parseExternals, EXTERNAL_SYNTAX } from './compressors/external.js';
import { readArchive } from './coding/container.js';
import { readInput, readInputBytes, type LoadedInput } from './runner/inputs.js';
import { resultsAsked, runJob, type JobRecord, type JobSpec } from './runner/job.js';
import { mergeRecords, type Partial } from './runner/merge.js';
import { chunkedContainer, firstLmHeader, isChunkedArchive, JournalMismatchError, packChunked, readChunked, removeJournal, unpackChunked } from './compressors/chunked-archive.js';
import { saveRunRecord, recordPath } from './records/write.js';
import { join } from 'node:path';
import type { ResultRecord, RunRecord, SeriesAxis } from './records/run-record.js';
import { progressBar, progressEnabled } from './cli/progress.js';
import { resultsTable } from './cli/table.js';
import { resolveInput, useDataDirs } from './corpora/index.js';
import { corporaCommand } from './cli/corpora-command.js';
import { reportCommand, checkCommand, compareCommand, seriesCommand } from './cli/report-commands.js';
import { jointCommand } from './cli/joint-command.js';
import { runSuite, suiteCommand, suiteRunOptions } from './cli/suite-command.js';
import { jobHooks, interruptLine, onInterrupt, shellWord } from './cli/job-hooks.js';
import { lmCompressors } from './cli/compressors.js';
import { requireAvailable, SKIP_MISSING_DESCRIBE } from './cli/available.js';
import { isNpmDatasetSpec, materializeNpmDataset, NPM_DATASETS } from './corpora/npm-datasets.js';
import { generalizationGaps } from './records/generalization.js';
import { buildSeries, parseSeriesAxis, seriesText } from './reports/series.js';

export { UsageError };

/** `-m/--model`, validated (repeatable). */
const modelOption = (describe: string) => ({ alias: 'm', type: 'string' as const, coerce: modelNames, describe });

/** Inputs: files, registered corpora (`enwik8`, `enwik8:test`) present on disk, or npm datasets (`npm:brown`). */
async function loadInputs(specs: string[], offset: number, limit: number | undefined): Promise<LoadedInput[]> {
  const out: LoadedInput[] = [];
  for (const spec of specs) {
    if (isNpmDatasetSpec(spec) && !existsSync(spec)) {
      // Named by the spec and recorded as its corpus, so model cards can match it (`npm:brown`).
      const ds = await materializeNpmDataset(spec).catch((e) => {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      });
      const name = `npm:${ds.dataset.id}`;
      out.push(await readInput(ds.path, { offset, limit, name, corpus: name }));
      continue;
    }
    if (isStdio(spec) || existsSync(spec)) {
      out.push(await readInput(spec, { offset, limit }));
      continue;
    }
    const r = await resolveInput(spec).catch((e) => {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    });
    if (offset >= r.length && r.length > 0) throw new UsageError(`${spec}: --offset ${offset} is beyond its ${r.length} bytes; accepted values: 0 to ${r.length - 1}`);
    out.push(
      await readInput(r.path, {
        offset: r.offset + offset,
        limit: Math.min(r.length - offset, limit ?? Infinity),
        name: r.name,
        corpus: r.corpus,
      }),
    );
  }
  return out;
}

/** The main job's options: inputs, models, baselines, records, chunks and shards, suites. */
const mainJobOptions = (y: Argv) =>
  suiteRunOptions(codecOptions(modelOptions(y)))
    .positional('inputs', { type: 'string', array: true, describe: `Files, corpora such as enwik8, enwik8:test, or npm datasets (${NPM_DATASETS.map((d) => `npm:${d.id}`).join(', ')})` })
    .option('model', modelOption('Model id, alias (gpt2), folder, or order-k[:K]; mix:MODEL for the mix; repeatable. Default: the embedded model'))
    .option('mix', { type: 'string', coerce: modelNames, describe: 'Also run mix:MODEL: the model mixed with online match and context models (repeatable; alone: only the mix)' })
    .option('suite', { type: 'string', describe: 'Run a benchmark suite (suites/*.json) under its protocol instead of inputs: the same as `compress-bench suite NAME`' })
    .option('baselines', { type: 'string', defaultDescription: DEFAULT_BASELINES, describe: `${BASELINES_SYNTAX} (with --suite: the suite's)` })
    .option('external', { type: 'string', describe: EXTERNAL_SYNTAX })
    .option('external-decompress', { type: 'string', describe: 'NAME=TEMPLATE, paired with --external NAME' })
    .option('corpus', { type: 'string', describe: 'A registered corpus or split, e.g. enwik8:test (repeatable; same as giving it as an input)' })
    .option('limit', { type: 'string', coerce: wholeNumber('limit', 1, 'a whole number of bytes ≥ 1'), describe: 'Take at most this many bytes of each input' })
    .option('offset', { type: 'string', coerce: wholeNumber('offset', 0, 'a whole number of bytes ≥ 0, below the input size'), default: 0, describe: 'Skip this many bytes first' })
    .option('skip-missing', { type: 'boolean', default: false, describe: SKIP_MISSING_DESCRIBE })
    .option('json', { type: 'boolean', default: false, describe: 'Print {"results":[...]} (schema: docs/leaderboard.md)' })
    .option('record', { type: 'boolean', default: true, describe: 'Write a run record (--no-record to skip)' })
    .option('record-dir', { type: 'string', default: 'reports/runs', describe: 'Where run records go (default name: a timestamp and the first input, printed at the end and on Ctrl-C)' })
    .option('resume', { type: 'string', describe: 'Continue a run from its record: reuse the units (inputs × compressors × chunks) it holds with the same bytes and settings, run the rest, keep saving to it; other inputs or compressors than it holds are refused' })
    .option('chunk', { type: 'string', coerce: byteSize('chunk'), describe: 'Code each input as independent chunks of this size (8MB, 64KiB), each verified and saved as it finishes; results are sums over chunks' })
    .option('shard', { type: 'string', coerce: shardSpec, describe: 'Run only part I of N (0-based, I/N) of the work (inputs × chunks × models) into RECORD_DIR/shard-I-of-N.json (resumed if it exists); "auto": from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID' })
    .option('shard-count', { type: 'string', coerce: wholeNumber('shard-count', 1, 'a whole number of shards ≥ 1'), describe: 'With --shard auto: the number of shards (the Job\'s completions, the Slurm array\'s size; also env COMPRESS_BENCH_SHARD_COUNT; Slurm default SLURM_ARRAY_TASK_COUNT)' })
    .option('series', { type: 'string', coerce: (v: unknown) => (v === undefined ? undefined : usage(() => parseSeriesAxis(v))), describe: 'params | step: also print bits/byte on seen and unseen inputs along the models\' parameters or training steps' })
    .example('$0 -m order-k --baselines gzip:9,zstd:19 corpora/samples/gpl-3.0.txt', 'score order-k and two baselines on a file, write reports/runs/<time>-gpl-3.0.txt.json')
    .example('$0 -m order-k --chunk 8KiB --shard 0/2 corpora/samples/gpl-3.0.txt', 'half of a chunked run, into reports/runs/shard-0-of-2.json (then merge)')
    .example('$0 --suite canterbury-text -m order-k --sample 4096', 'a suite under its protocol (same as: compress-bench suite canterbury-text …)');

type MainJobArgs = ArgsOf<typeof mainJobOptions>;

/**
 * The main job: parse, build a `JobSpec`, `runJob`, print. A plain run writes a new record
 * (RECORD_DIR/<timestamp>-<first input>.json) unless --resume names one; a shard's record has
 * a fixed name (shard-I-of-N.json) and is resumed when it exists, so a scheduler that retries a
 * killed task continues it, not restarts it.
 */
async function benchCommand(a: MainJobArgs): Promise<number> {
  if (a.suite !== undefined) return suiteFromMainJob(a, a.suite);
  const specs = [...(a.inputs ?? []), ...list(a.corpus)];
  if (!specs.length) {
    // `-m FILE` with nothing after it: yargs took the input as the model's value.
    const file = list(a.model).find((m) => existsSync(m) && !existsSync(`${m}/config.json`));
    if (file) throw new UsageError(`-m/--model ${file}: a file, not a model, and no input files; give -m MODEL before the files (compress-bench -m order-k ${file})`);
    throw new UsageError('no input files: compress-bench [--model M] FILE... (see --help)');
  }
  if (a.sample !== undefined) throw new UsageError('--sample goes with --suite NAME');
  const codec = codecFrom(a);
  const { usable: classic } = await requireAvailable(
    [...parseBaselines(a.baselines ?? DEFAULT_BASELINES), ...parseExternals(list(a.external), list(a.externalDecompress))],
    a.skipMissing,
  );
  const inputs = await loadInputs(specs, a.offset ?? 0, a.limit);
  const compressors = [...(await lmCompressors(a, codec, true)), ...classic];
  const shard = resolveShard(a.shard, a.shardCount);
  if (shard && !a.record) throw new UsageError('--shard writes a partial record for merge; it cannot be combined with --no-record');
  const record: JobRecord | undefined = a.resume
    ? { path: a.resume, open: 'resume', write: a.record, label: `--resume ${a.resume}` }
    : shard
      ? { path: join(a.recordDir, `shard-${shard.index}-of-${shard.count}.json`), open: 'if-present', write: true, label: `--shard ${shard.index}/${shard.count}: ${join(a.recordDir, `shard-${shard.index}-of-${shard.count}.json`)}` }
      : a.record
        ? { path: recordPath(a.recordDir, new Date().toISOString(), inputs[0]?.record.name ?? 'empty'), open: 'new', write: true, label: 'the record' }
        : undefined;
  const chunked = a.chunk !== undefined || shard !== undefined;
  if (a.chunk === undefined) for (const i of inputs) wholeInputHint(i.record.name, i.size, a.quiet || a.json);
  const spec: JobSpec = { inputs, compressors, chunk: a.chunk ?? null, chunked, shard, argv: process.argv.slice(2), record, series: a.series };
  const done = await runJob(spec, jobHooks(a.quiet, hideBin(process.argv), { recording: !!record }));
  const results = resultsAsked(spec, done.results);
  if (record?.write && !a.json && !a.quiet) {
    process.stderr.write(`record: ${record.path}` + (shard ? ` (shard ${shard.index}/${shard.count}: ${done.chunks!.length} chunk results; combine all shards with compress-bench merge)` : '') + '\n');
  }
  printResults(a, done, results, shard ? { shard, chunks: done.chunks } : {});
  return resultsAsked(spec, done.chunks ?? done.results).every((r) => r.roundtrip) ? 0 : 1;
}

/** `--suite NAME` on the main job: the suite command's run, with the main job's record options. */
function suiteFromMainJob(a: MainJobArgs, name: string): Promise<number> {
  const fixed: [string, boolean][] = [
    ['inputs', !!(a.inputs?.length || a.corpus !== undefined)],
    ['--chunk', a.chunk !== undefined],
    ['--segments', a.segments !== 'auto'],
    ['--context', a.context !== undefined],
    ['--prime', a.prime !== undefined],
    ['--context-shift', a.contextShift !== undefined],
    ['--limit', a.limit !== undefined],
    ['--offset', !!a.offset],
    ['--external', a.external !== undefined],
    ['--series', a.series !== undefined],
  ];
  const given = fixed.find(([, g]) => g);
  if (given) throw new UsageError(`--suite ${name}: ${given[0]} cannot be given with a suite: its inputs and protocol (context, prime, segments, chunk) are the suite's`);
  return runSuite({ ...a, name, shard: resolveShard(a.shard, a.shardCount) });
}

/**
 * The main job's output: JSON, or the results table (and the series table with --series). A
 * shard's record may hold no whole input yet (`extra` = its shard and chunks): no table then.
 */
function printResults(a: { json: boolean; series?: SeriesAxis }, record: RunRecord, results: ResultRecord[], extra: Record<string, unknown> = {}): void {
  const generalization = generalizationGaps(results);
  if (a.json) process.stdout.write(JSON.stringify({ results, ...(generalization.length ? { generalization } : {}), ...extra }, null, 2) + '\n');
  else if (results.length || !('chunks' in extra)) {
    process.stdout.write(resultsTable(results) + '\n');
    if (a.series) process.stdout.write('\n' + seriesText(buildSeries([{ ...record, results }], a.series)) + '\n');
  }
}

async function mergeCommand(a: { partials?: string[]; output?: string; quiet: boolean; json: boolean }): Promise<number> {
  const output = outputOf(a, 'merge', 'merged record');
  const parts: Partial[] = [];
  for (const path of a.partials ?? []) {
    let record: RunRecord;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as RunRecord;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`merge: ${path}: ${code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : 'not a JSON run record'}`);
    }
    parts.push({ path, record });
  }
  const merged = mergeRecords(parts, process.argv.slice(2));
  await saveRunRecord(merged, output);
  if (a.json) process.stdout.write(JSON.stringify({ results: merged.results }, null, 2) + '\n');
  else {
    if (!a.quiet) process.stderr.write(`merged ${parts.length} shards (${merged.chunks!.length} chunk results) into ${output}\n`);
    process.stdout.write(resultsTable(merged.results) + '\n');
  }
  return merged.results.every((r) => r.roundtrip) ? 0 : 1;
}

/** Run a parser whose errors are usage errors (exit 2). */
function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** `compress`/`decompress` name their output; yargs would say "Missing required argument: output". */
function outputOf(a: { output?: string }, command: string, what: string): string {
  if (a.output === undefined || a.output === '') throw new UsageError(`${command} needs -o/--output FILE: where to write the ${what}`);
  return a.output;
}

/** One model for compress/decompress: `-m` is not repeatable there. */
function single(models: string[] | undefined, command: string): string | undefined {
  if (models && models.length > 1) throw new UsageError(`${command}: -m/--model given ${models.length} times; it takes one model`);
  return models?.[0];
}

/** Inputs above this are worth chunking: coded whole, the input, its archive and its decoded copy are all in memory. */
const WHOLE_INPUT_HINT_BYTES = 256 * 1024 * 1024;

/** One stderr line for an input that is coded whole but would stream in chunks. */
export function wholeInputHint(name: string, size: number, quiet: boolean): void {
  if (quiet || size <= WHOLE_INPUT_HINT_BYTES) return;
  process.stderr.write(`compress-bench: ${name} is ${(size / 1e6).toFixed(0)} MB and is coded whole (in memory, with its decoded copy); --chunk 8MB reads and codes it in verified chunks instead\n`);
}

async function compressCommand(a: { input: string; output?: string; force?: boolean; resume: boolean; model?: string[]; quiet: boolean; chunk?: number } & Parameters<typeof modelRequest>[0] & { segments?: number | 'auto'; context?: number; prime?: number }): Promise<number> {
  const output = outputOf(a, 'compress', 'archive');
  const codec = codecFrom(a);
  if (a.resume && a.chunk === undefined) throw new UsageError('--resume continues an interrupted `compress --chunk`; an unchunked compress keeps nothing to resume');
  const [input] = await loadInputs([a.input], 0, undefined);
  // Refused outputs are refused now, before the work (and checked again when written).
  const target = await resolveOutput(output, { force: a.force, inputs: [a.input] });
  const model = await loadModelOrMix({ ...modelRequest(a, single(a.model, 'compress')), maxContext: a.context });
  await requireContext(model, a.context);
  const lm = new LmCompressor(model, codec);
  const n = input.size;
  if (a.chunk !== undefined) {
    // The finished chunks are kept beside the output until it is written, so an interrupted run resumes (--resume).
    const keep = target.kind === 'file';
    if (a.resume && !keep) throw new UsageError(`--resume: ${isStdio(output) ? '-o -' : output} keeps no chunks to resume from; resume works for an output file`);
    const journal = keep ? `${target.path}.chunks` : await mkdtemp(join(tmpdir(), 'compress-bench-chunks-'));
    // A temp journal (stdout, a device) goes however the process ends, Ctrl-C included.
    if (!keep) process.once('exit', () => rmSync(journal, { recursive: true, force: true }));
    const args = hideBin(process.argv);
    onInterrupt(() =>
      keep && existsSync(journal)
        ? `compress-bench: interrupted; ${journal} keeps the finished chunks; continue with: ${['compress-bench', ...args, ...(args.includes('--resume') ? [] : ['--resume'])].map(shellWord).join(' ')}`
        : 'compress-bench: interrupted; nothing kept (the output is not a file); rerun the command',
    );
    const show = progressEnabled(a.quiet);
    let bar: ReturnType<typeof progressBar> | undefined;
    let packed;
    try {
      packed = await packChunked(lm, { size: n, sha256: input.record.sliceSha256, read: input.read }, a.chunk, journal, {
        resume: a.resume,
        label: 'compress',
        hooks: (i, count) => {
          bar?.stop();
          return (bar = progressBar(`compress ${a.input} chunk ${i + 1}/${count}`, show, { roundTrip: false }));
        },
      });
    } catch (e) {
      if (!keep) await removeJournal(journal);
      throw e instanceof JournalMismatchError ? new UsageError(e.message) : e;
    } finally {
      bar?.stop();
    }
    let bytes = 0;
    await writeOutput(output, (async function* () {
      for await (const part of chunkedContainer(journal)) {
        bytes += part.length;
        yield part;
      }
    })(), { force: a.force, inputs: [a.input] });
    await removeJournal(journal);
    await lm.dispose();
    if (!a.quiet) {
      process.stderr.write(
        `${a.input}: ${n} → ${bytes} bytes, ${n ? ((bytes * 8) / n).toFixed(3) : 'n/a'} bits/byte, ` +
          `${packed.chunks} chunk${packed.chunks === 1 ? '' : 's'} of ≤ ${a.chunk} bytes${packed.stored ? ` (${packed.stored} stored: the model's code was larger)` : ''}` +
          `${packed.reused ? `, ${packed.reused} reused from the interrupted run` : ''}, model ${lm.model.identity.id}\n`,
      );
    }
    return 0;
  }
  wholeInputHint(a.input, n, a.quiet);
  const bytes = await input.read();
  const bar = progressBar(`compress ${a.input}`, progressEnabled(a.quiet), { roundTrip: false });
  const { archive, kind, lmBytes } = await packArchive(lm, bytes, bar);
  bar.stop();
  await writeOutput(output, archive, { force: a.force, inputs: [a.input] });
  await lm.dispose();
  const stats = lm.lastStats();
  if (!a.quiet) {
    const bpb = (b: number) => (n ? ((b * 8) / n).toFixed(3) : 'n/a');
    process.stderr.write(
      `${a.input}: ${n} → ${archive.length} bytes` +
        (kind === 'stored' ? ` (stored: the model's ${lmBytes}-byte code, ${bpb(lmBytes)} bits/byte, was larger than the input)` : `, ${bpb(archive.length)} bits/byte`) +
        ` (ideal ${n ? ((stats?.idealBits ?? 0) / n).toFixed(3) : 'n/a'}), ${stats?.tokens} tokens, model ${lm.model.identity.id}\n`,
    );
  }
  return 0;
}

async function decompressCommand(a: { input: string; output?: string; force?: boolean; model?: string[]; quiet: boolean; download: boolean; 'allow-other-runtime': boolean } & Parameters<typeof modelRequest>[0]): Promise<number> {
  // Like gunzip: without -o, the archive's name minus `.cbz` (refused if it has no such suffix).
  const output = a.output === undefined && !isStdio(a.input) && a.input.endsWith('.cbz') && a.input.length > 4 ? a.input.slice(0, -4) : outputOf(a, 'decompress', 'restored file');
  // Refused outputs are refused before the (possibly long) decode.
  await resolveOutput(output, { force: a.force, inputs: [a.input] });
  const archive = (await readInputBytes(a.input).catch((e) => {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  })).bytes;
  if (isStoredArchive(archive)) {
    await writeOutput(output, readStoredArchive(archive), { force: a.force, inputs: [a.input] });
    return 0;
  }
  const chunked = isChunkedArchive(archive);
  const header = chunked ? firstLmHeader(readChunked(archive).archives) : readArchive(archive).header;
  let lm: LmCompressor | undefined;
  if (header) {
    // An archive never makes us reach the network on its own: only --download allows the Hub.
    // A mix archive names its mixer: the same mixer is built over the model (another version is refused).
    const mix = isMixStep(header.codingStep) ? usage(() => parseMixStep(header.codingStep)).settings : undefined;
    const given = single(a.model, 'decompress');
    const spec = given === undefined ? undefined : modelSpecOf(given);
    const named = spec ? (spec.kind === 'mix' ? formatModelSpec(spec.inner) : given!) : header.modelId;
    const request = modelRequest({ ...a, dtype: header.dtype, offline: a.offline || !a.download }, (mix ? MIX_PREFIX : '') + named);
    const model = await loadModelOrMix(request, a.download ? undefined : 'pass --download: decompress uses local models only unless told', mix);
    lm = new LmCompressor(model, { allowOtherRuntime: a['allow-other-runtime'] });
  }
  const show = progressEnabled(a.quiet);
  let bar: ReturnType<typeof progressBar> | undefined;
  const out = chunked
    ? unpackChunked(archive, lm, (i, n) => {
        bar?.stop();
        return (bar = progressBar(`decompress ${a.input} chunk ${i + 1}/${n}`, show, { roundTrip: false }));
      })
    : await lm!.decompress(archive, (bar = progressBar(`decompress ${a.input}`, show, { roundTrip: false })));
  // A chunked archive decodes as it is written (one chunk in memory), so the bar stops after the write.
  try {
    await writeOutput(output, out, { force: a.force, inputs: [a.input] });
  } finally {
    bar?.stop();
  }
  await lm?.dispose();
  return 0;
}

export function buildCli(args: string[]) {
  const cli = yargs(args);
  return cli
    .scriptName('compress-bench')
    .option('data-dir', { type: 'string', global: true, describe: 'A folder where corpus files already are, searched after ./corpus/ (repeatable; also env COMPRESS_BENCH_DATA_DIR, colon-separated)' })
    .middleware((argv) => useDataDirs(list(argv['data-dir'])))
    .command('$0 [inputs..]', 'Main job: score the model(s) and baselines on each input (files or corpus names), or a suite (--suite NAME)', mainJobOptions, async (argv) => {
      process.exitCode = await benchCommand(argv);
    })
    .command(
      'compress <input>',
      'Compress one file with a model into an archive',
      (y) =>
        codecOptions(modelOptions(y))
          .positional('input', { type: 'string', demandOption: true })
          .option('model', modelOption('Model id, alias (gpt2), folder, order-k[:K], or mix:MODEL (that model mixed with online match and context models). Default: the embedded model'))
          .option('output', { alias: 'o', type: 'string', describe: 'The archive to write (required; - is stdout). An existing file is kept unless -f; a missing folder is refused, not created' })
          .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Overwrite an existing output file (never the input itself)' })
          .option('chunk', { type: 'string', coerce: byteSize('chunk'), describe: 'Code independent chunks of this size (8MB, 64KiB) into one container, reading one chunk at a time; finished chunks are kept in OUTPUT.chunks/ until the archive is written; each is verified on decompress' })
          .option('resume', { type: 'boolean', default: false, describe: 'With --chunk: continue an interrupted run from OUTPUT.chunks/ (same input and options; other work is refused)' })
          .example('$0 compress corpora/samples/gpl-3.0.txt -m order-k -o gpl.txt.cbz', 'an order-k archive (decompress gpl.txt.cbz restores gpl.txt)')
          .example('cat corpora/samples/gpl-3.0.txt | $0 compress - -m mix:order-k -o - > gpl.cbz', 'stdin to stdout, with the mix over order-k'),
      async (argv) => {
        process.exitCode = await compressCommand(argv);
      },
    )
    .command(
      'decompress <input>',
      'Restore a file from an archive (the model comes from its header; --model-dir to find it)',
      (y) =>
        modelOptions(y)
          .positional('input', { type: 'string', demandOption: true })
          .option('model', modelOption('Override where the model is (must match the archive)'))
          .option('output', { alias: 'o', type: 'string', describe: 'The file to write (- is stdout; default: the archive name minus .cbz). An existing file is kept unless -f; a missing folder is refused' })
          .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Overwrite an existing output file (never the input itself)' })
          .option('download', { type: 'boolean', default: false, describe: "Allow downloading the archive's model from the Hub (off: local models only)" })
          .option('allow-other-runtime', { type: 'boolean', default: false, describe: 'Decode an archive made on another runtime/hardware (the checksum still guards the output)' })
          .example('$0 decompress gpl.txt.cbz', 'restore gpl.txt (refused if it exists; -f to replace it)')
          .example('$0 decompress - -o - < gpl.cbz > gpl.txt', 'stdin to stdout'),
      async (argv) => {
        process.exitCode = await decompressCommand(argv);
      },
    )
    .command(
      'merge <partials..>',
      'Combine the shard records of one --shard run into one record (every shard exactly once)',
      (y) =>
        y
          .positional('partials', { type: 'string', array: true, describe: 'The shard records (shard-I-of-N.json)' })
          .option('output', { alias: 'o', type: 'string', describe: 'The merged record to write (required)' })
          .option('json', { type: 'boolean', default: false, describe: 'Print {"results":[...]}' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false })
          .example('$0 merge reports/runs/shard-0-of-2.json reports/runs/shard-1-of-2.json -o merged.json', 'after both shards of: compress-bench -m order-k --chunk 8KiB --shard I/2 corpora/samples/gpl-3.0.txt'),
      async (argv) => {
        process.exitCode = await mergeCommand(argv);
      },
    )
    .command(reportCommand)
    .command(checkCommand)
    .command(compareCommand)
    .command(seriesCommand)
    .command(jointCommand)
    .command(suiteCommand)
    .command(corporaCommand)
    .strict()
    .help()
    .version()
    .wrap(helpWidth(cli))
    .epilogue(EXIT_CODES_EPILOGUE)
    .fail((msg, err) => {
      // yargs' own messages span lines ("Invalid values:\n  Argument: …"): keep them on one.
      throw err ?? new UsageError(msg.replace(/\s*\n\s*/g, ' '));
    });
}

/**
 * Exit codes: 0 ok · 1 regression, failed round trip or internal error · 2 bad usage or data ·
 * 130 interrupted. Our own errors (plain `Error` and its subclasses) describe bad usage or data;
 * JavaScript's built-in faults (TypeError, RangeError, …) are bugs, so they say so.
 */
const INTERNAL_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

function isInternal(e: unknown): boolean {
  return !(e instanceof Error) || INTERNAL_ERRORS.some((t) => e.constructor === t) || e.name === 'AssertionError';
}

async function main(): Promise<void> {
  const args = hideBin(process.argv);
  const debug = args.includes('--debug') || !!process.env.COMPRESS_BENCH_DEBUG;
  // A reader that stops early (`suite list | head`) closes the pipe: end quietly, as `ls | head` does, not with a stack.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  process.once('SIGINT', () => {
    // One line: the record on disk is valid (saved atomically after each finished unit).
    process.stderr.write(interruptLine() + '\n');
    process.exit(130);
  });
  try {
    await buildCli(args.filter((a) => a !== '--debug').map((arg) => (arg === '-' ? STDIO_ARG : arg))).parseAsync();
  } catch (e) {
    const msg = cliMessage(e);
    const internal = isInternal(e) && !(e instanceof RoundTripError);
    if (internal) {
      process.stderr.write(`compress-bench: internal error: ${msg.split('\n')[0]} (rerun with --debug for the stack)\n`);
    } else {
      process.stderr.write(`compress-bench: ${msg.split('\n')[0]}\n`);
    }
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = internal || e instanceof RoundTripError ? 1 : 2;
  }
}

await main();
