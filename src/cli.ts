#!/usr/bin/env node
/**
 * compress-bench: score language models as lossless compressors.
 * Exit codes: 0 success · 1 verification failed (round trip, regression gate) · 2 bad usage or
 * input (missing file, unknown model, corrupted archive, model mismatch).
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { writeOutput, STDIO_ARG, isStdio } from './common/output.js';
import { RoundTripError } from './joint/verified-size.js';
import { RUNTIMES, type ModelRequest, type Runtime } from './models/lookup.js';
import { MIX_PREFIX, loadModelOrMix, modelSpecOf } from './cli/model-lookup.js';
import { formatModelSpec } from './common/model-spec.js';
import { cliMessage } from './cli/setting-flags.js';
import { isMixStep, parseMixStep } from './mix/settings.js';
import { UsageError, wholeNumber, oneOf, segments, modelNames, byteSize, shardSpec, shardFromEnv, DTYPES, DEVICES } from './cli/options.js';
import { LmCompressor } from './compressors/lm.js';
import { isStoredArchive, packArchive, readStoredArchive } from './compressors/archiver.js';
import { parseBaselines, DEFAULT_BASELINES, BASELINES_SYNTAX } from './compressors/baselines.js';
import { parseExternals, EXTERNAL_SYNTAX } from './compressors/external.js';
import type { Compressor } from './compressors/compressor.js';
import { readArchive } from './coding/container.js';
import { readInput, type LoadedInput } from './runner/inputs.js';
import { runAll } from './runner/run.js';
import { assertSameWork, runChunks, sumChunks, workOf, type Shard } from './runner/chunks.js';
import { mergeRecords, type Partial } from './runner/merge.js';
import { firstLmHeader, isChunkedArchive, packChunked, readChunked, unpackChunked } from './compressors/chunked-archive.js';
import { newRunRecord, saveRunRecord, recordPath } from './records/write.js';
import { join } from 'node:path';
import type { ChunkResult, ResultRecord, RunRecord, SeriesAxis } from './records/run-record.js';
import { progressBar, progressEnabled } from './cli/progress.js';
import { resultsTable } from './cli/table.js';
import { listCorpora, fetchCorpus, resolveInput } from './corpora/index.js';
import type { CodecOptions } from './coding/lm-codec.js';
import { reportCommand, checkCommand, compareCommand, seriesCommand } from './cli/report-commands.js';
import { jointCommand } from './cli/joint-command.js';
import { suiteCommand } from './cli/suite-command.js';
import { requireAvailable, SKIP_MISSING_DESCRIBE } from './cli/available.js';
import { isNpmDatasetSpec, materializeNpmDataset, NPM_DATASETS } from './corpora/npm-datasets.js';
import { generalizationGaps, modelFacts } from './records/generalization.js';
import { buildSeries, parseSeriesAxis, seriesText } from './reports/series.js';

export { UsageError };

const COMMANDS = ['compress', 'decompress', 'merge', 'report', 'check', 'compare', 'series', 'joint', 'corpora', 'suite'];

const modelOptions = (y: Argv) =>
  y
    .option('model-dir', { type: 'string', describe: 'Folder(s) holding DIR/<model id>/ (also env COMPRESS_BENCH_MODEL_DIR, colon-separated)' })
    .option('dtype', { type: 'string', choices: DTYPES, coerce: oneOf('dtype', DTYPES), default: 'fp32', describe: 'Weights variant (must exist in the model folder)' })
    .option('device', { type: 'string', choices: DEVICES, coerce: oneOf('device', DEVICES), default: 'cpu', describe: 'onnxruntime execution provider' })
    .option('offline', { type: 'boolean', default: false, describe: 'Never download models (also HF_HUB_OFFLINE=1)' })
    .option('threads', { type: 'string', coerce: wholeNumber('threads', 1, 'a positive whole number of threads'), describe: 'onnxruntime intra-op threads / llama.cpp threads (default: one per core; llama.cpp one less, for the JS tables)' })
    .option('runtime', { type: 'string', choices: RUNTIMES, coerce: oneOf('runtime', RUNTIMES), describe: 'Model runtime (default: llama.cpp for a .gguf file or folder, else onnxruntime)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress bar' });

const codecOptions = (y: Argv) =>
  y
    .option('segments', { type: 'string', coerce: segments, default: 'auto', describe: 'Independent segments coded as one batch: a positive integer or "auto" (1 per 4096 tokens, ≤ 32 on CPU, ≤ 256 on CUDA)' })
    .option('context', { type: 'string', coerce: wholeNumber('context', 2, 'a whole number of tokens ≥ 2'), describe: 'Context window in tokens (default: the model maximum)' })
    .option('prime', { type: 'string', coerce: wholeNumber('prime', 0, 'a whole number of tokens ≥ 0, below --context'), describe: 'Tokens kept when the window slides (default: half the context)' })
    .option('context-shift', { type: 'string', choices: CONTEXT_SHIFTS, coerce: oneOf('context-shift', CONTEXT_SHIFTS), describe: 'How the window slides: reprime (recompute the kept tokens) or kv (GGUF on llama.cpp: move their KV cells). Default: kv for GGUF models with rotary positions, else reprime' });

const CONTEXT_SHIFTS = ['reprime', 'kv'] as const;

function codecFrom(argv: { segments?: number | 'auto'; context?: number; prime?: number; contextShift?: string }): CodecOptions {
  if (argv.prime !== undefined && argv.context !== undefined && argv.prime >= argv.context) {
    throw new UsageError(`--prime: ${argv.prime} is not accepted with --context ${argv.context}; accepted values: a whole number of tokens below --context`);
  }
  return { segments: argv.segments ?? 'auto', contextLength: argv.context, primeTokens: argv.prime, contextShift: argv.contextShift as CodecOptions['contextShift'] };
}

/** `-m/--model`, validated (repeatable). */
const modelOption = (describe: string) => ({ alias: 'm', type: 'string' as const, coerce: modelNames, describe });

/** Repeatable options arrive as a string once and as an array when repeated. */
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function modelRequest(argv: { dtype: string; device: string; offline: boolean; 'model-dir'?: unknown; threads?: number; runtime?: string; quiet?: boolean }, model?: string): ModelRequest {
  const download = progressBar(`download ${model ?? ''}`.trim(), progressEnabled(!!argv.quiet), { roundTrip: false });
  return {
    model,
    modelDirs: list(argv['model-dir']),
    dtype: argv.dtype,
    device: argv.device as 'cpu' | 'cuda',
    offline: argv.offline,
    threads: argv.threads,
    runtime: argv.runtime as Runtime | undefined,
    download,
    warn: (message) => process.stderr.write(`compress-bench: warning: ${message}\n`),
  };
}

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
      const msg = e instanceof Error ? e.message : String(e);
      // A bare word that is neither a file nor a corpus is most likely a mistyped command.
      if (/^[\w-]+$/.test(spec)) throw new UsageError(`${spec}: unknown command or no such file (commands: ${COMMANDS.join(', ')}; ${msg})`);
      throw new UsageError(msg);
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

/** A record to resume: results saved so far by a run that was interrupted. */
async function readResumable(path: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--resume ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
  try {
    const rec = JSON.parse(text) as RunRecord;
    if (!Array.isArray(rec.results)) throw new Error('no results');
    return rec;
  } catch {
    throw new UsageError(`--resume ${path}: not a compress-bench run record`);
  }
}

async function benchCommand(argv: Record<string, unknown>): Promise<number> {
  const a = argv as unknown as {
    inputs: string[]; corpus?: unknown; model?: unknown; mix?: unknown; baselines: string; external?: unknown; 'external-decompress'?: unknown;
    limit?: number; offset: number; json: boolean; quiet: boolean; record: boolean; 'record-dir': string; resume?: string; 'skip-missing': boolean; series?: 'params' | 'step';
    dtype: string; device: string; offline: boolean; 'model-dir'?: unknown; segments?: number | 'auto'; context?: number; prime?: number;
    chunk?: number; shard?: Shard | 'auto'; 'shard-count'?: number;
  };
  const specs = [...(a.inputs ?? []), ...list(a.corpus)];
  if (!specs.length) {
    // `-m FILE` with nothing after it: yargs took the input as the model's value.
    const file = list(a.model).find((m) => existsSync(m) && !existsSync(`${m}/config.json`));
    if (file) throw new UsageError(`-m/--model ${file}: a file, not a model, and no input files; give -m MODEL before the files (compress-bench -m order-k ${file})`);
    throw new UsageError('no input files: compress-bench [--model M] FILE... (see --help)');
  }
  const codec = codecFrom(a);
  const { usable: classic } = await requireAvailable(
    [...parseBaselines(a.baselines), ...parseExternals(list(a.external), list(a['external-decompress']))],
    a['skip-missing'],
  );
  const inputs = await loadInputs(specs, a.offset, a.limit);
  const compressors: Compressor[] = [];
  const mixes = list(a.mix).map((m) => MIX_PREFIX + m);
  const models = list(a.model);
  if (models.includes(NO_MODEL) && models.length > 1) throw new UsageError(`-m/--model ${NO_MODEL} runs the baselines only; it cannot be combined with other models`);
  // `--mix M` alone runs only the mix row; with -m beside it, both.
  const plain = models.length === 0 ? (mixes.length ? [] : [undefined]) : models[0] === NO_MODEL ? [] : models;
  for (const m of [...plain, ...mixes]) {
    const lm = await loadModelOrMix({ ...modelRequest(a, m), maxContext: a.context });
    usage(() => modelFacts(lm.identity)); // a malformed or stale model card fails here, before any work
    compressors.push(new LmCompressor(lm, codec));
  }
  compressors.push(...classic);

  if (a.chunk !== undefined || a.shard !== undefined) return chunkedBench(a, inputs, compressors);

  const previous = a.resume ? await readResumable(a.resume) : undefined;
  const record = await newRunRecord(process.argv.slice(2), []);
  if (previous) Object.assign(record, { startedAt: previous.startedAt, argv: previous.argv });
  const path = a.resume ?? recordPath(a['record-dir'], record.startedAt, inputs[0]?.record.name ?? 'empty');
  const save = async (results: ResultRecord[], complete: boolean) => {
    if (a.record) await saveRunRecord({ ...record, results, complete, ...derivedFields(results, a.series) }, path);
  };
  // A run killed before its first result still leaves its record (complete: false) to resume.
  if (!previous) await save([], false);
  const results = await runAll(inputs, compressors, progressHooks(a.quiet, save), previous?.results);
  for (const c of compressors) await c.dispose?.();
  await save(results, true);
  if (a.record && !a.json && !a.quiet) process.stderr.write(`record: ${path}\n`);
  printResults(a, record, results);
  return results.every((r) => r.roundtrip) ? 0 : 1;
}

/** Progress bars per result and a record save after each, for the plain and the chunked main job. */
function progressHooks<T>(quiet: boolean, save: (partial: T[], complete: boolean) => Promise<void>) {
  const show = progressEnabled(quiet);
  let bar: ReturnType<typeof progressBar> | undefined;
  return {
    start: (c: Compressor, input: LoadedInput) => (bar = progressBar(`${c.name} ${input.record.name}`, show)),
    done: () => bar?.stop(),
    saved: (partial: T[]) => save(partial, false),
  };
}

/** What a record derives from its results: the generalization gaps, and the series axis asked for. */
function derivedFields(results: ResultRecord[], series: SeriesAxis | undefined): Pick<RunRecord, 'generalization' | 'series'> {
  const gaps = generalizationGaps(results);
  return { ...(gaps.length ? { generalization: gaps } : {}), ...(series ? { series } : {}) };
}

/**
 * The main job's output: JSON, or the results table (and the series table with --series). A
 * shard's record may hold no whole input yet (`extra` = its shard and chunks): no table then.
 */
function printResults(a: { json: boolean; series?: SeriesAxis }, record: RunRecord, results: ResultRecord[], extra: Record<string, unknown> = {}): void {
  const { generalization } = derivedFields(results, undefined);
  if (a.json) process.stdout.write(JSON.stringify({ results, ...(generalization ? { generalization } : {}), ...extra }, null, 2) + '\n');
  else if (results.length || !('chunks' in extra)) {
    process.stdout.write(resultsTable(results) + '\n');
    if (a.series) process.stdout.write('\n' + seriesText(buildSeries([{ ...record, results }], a.series)) + '\n');
  }
}

/**
 * The main job with `--chunk` and/or `--shard`: units of input × chunk × compressor, each saved
 * into the record as it finishes. A shard's record has a fixed name (shard-I-of-N.json) and is
 * resumed when it exists, so a scheduler that retries a killed task continues it, not restarts it.
 */
async function chunkedBench(
  a: { quiet: boolean; json: boolean; record: boolean; 'record-dir': string; resume?: string; chunk?: number; shard?: Shard | 'auto'; 'shard-count'?: number; series?: SeriesAxis },
  inputs: LoadedInput[],
  compressors: Compressor[],
): Promise<number> {
  if (a['shard-count'] !== undefined && a.shard !== 'auto') throw new UsageError('--shard-count goes with --shard auto (with --shard I/N the count is N)');
  const shard = a.shard === 'auto' ? shardFromEnv(process.env, a['shard-count']) : a.shard;
  if (shard && !a.record) throw new UsageError('--shard writes a partial record for merge; it cannot be combined with --no-record');
  const work = workOf(inputs, compressors, a.chunk ?? null);
  const path = a.resume ?? (shard ? join(a['record-dir'], `shard-${shard.index}-of-${shard.count}.json`) : undefined);
  const previous = a.resume || (path && existsSync(path)) ? await readResumable(path!) : undefined;
  if (previous) assertSameWork(previous.work, work, previous.shard, shard, a.resume ? '--resume' : `--shard: ${path} exists and`);
  const record = await newRunRecord(process.argv.slice(2), []);
  if (previous) Object.assign(record, { startedAt: previous.startedAt, argv: previous.argv });
  const recordFile = path ?? recordPath(a['record-dir'], record.startedAt, inputs[0]?.record.name ?? 'empty');
  const save = async (chunks: ChunkResult[], complete: boolean) => {
    const results = sumChunks(work, chunks);
    if (a.record) await saveRunRecord({ ...record, complete, results, ...derivedFields(results, a.series), work, ...(shard ? { shard } : {}), chunks }, recordFile);
  };
  if (!previous) await save([], false);
  const chunks = await runChunks(inputs, compressors, work, shard, progressHooks(a.quiet, save), previous?.chunks);
  for (const c of compressors) await c.dispose?.();
  await save(chunks, true);
  const results = sumChunks(work, chunks);
  if (a.record && !a.json && !a.quiet) {
    process.stderr.write(`record: ${recordFile}` + (shard ? ` (shard ${shard.index}/${shard.count}: ${chunks.length} chunk results; combine all shards with compress-bench merge)` : '') + '\n');
  }
  printResults(a, record, results, shard ? { shard, chunks } : {});
  return chunks.every((r) => r.roundtrip) ? 0 : 1;
}

async function mergeCommand(a: { partials: string[]; output?: string; quiet: boolean; json: boolean }): Promise<number> {
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

/** `-m none`: baselines only, no language model. */
const NO_MODEL = 'none';

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

async function compressCommand(a: { input: string; output?: string; force?: boolean; model?: string[]; quiet: boolean; chunk?: number } & Parameters<typeof modelRequest>[0] & { segments?: number | 'auto'; context?: number; prime?: number }): Promise<number> {
  const output = outputOf(a, 'compress', 'archive');
  const codec = codecFrom(a);
  const [input] = await loadInputs([a.input], 0, undefined);
  const lm = new LmCompressor(await loadModelOrMix({ ...modelRequest(a, single(a.model, 'compress')), maxContext: a.context }), codec);
  if (a.chunk !== undefined) {
    const show = progressEnabled(a.quiet);
    let bar: ReturnType<typeof progressBar> | undefined;
    const packed = await packChunked(lm, input.bytes, a.chunk, (i, n) => {
      bar?.stop();
      return (bar = progressBar(`compress ${a.input} chunk ${i + 1}/${n}`, show, { roundTrip: false }));
    });
    bar?.stop();
    await writeOutput(output, packed.archive, { force: a.force, inputs: [a.input] });
    await lm.dispose();
    const n = input.bytes.length;
    if (!a.quiet) {
      process.stderr.write(
        `${a.input}: ${n} → ${packed.archive.length} bytes, ${n ? ((packed.archive.length * 8) / n).toFixed(3) : 'n/a'} bits/byte, ` +
          `${packed.chunks} chunk${packed.chunks === 1 ? "" : "s"} of ≤ ${a.chunk} bytes${packed.stored ? ` (${packed.stored} stored: the model's code was larger)` : ''}, model ${lm.model.identity.id}\n`,
      );
    }
    return 0;
  }
  const bar = progressBar(`compress ${a.input}`, progressEnabled(a.quiet), { roundTrip: false });
  const { archive, kind, lmBytes } = await packArchive(lm, input.bytes, bar);
  bar.stop();
  await writeOutput(output, archive, { force: a.force, inputs: [a.input] });
  await lm.dispose();
  const stats = lm.lastStats();
  if (!a.quiet) {
    const n = input.bytes.length;
    const bpb = (bytes: number) => (n ? ((bytes * 8) / n).toFixed(3) : 'n/a');
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
  const archive = (await readInput(a.input).catch((e) => {
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
    ? await unpackChunked(archive, lm, (i, n) => {
        bar?.stop();
        return (bar = progressBar(`decompress ${a.input} chunk ${i + 1}/${n}`, show, { roundTrip: false }));
      })
    : await lm!.decompress(archive, (bar = progressBar(`decompress ${a.input}`, show, { roundTrip: false })));
  bar?.stop();
  await writeOutput(output, out, { force: a.force, inputs: [a.input] });
  await lm?.dispose();
  return 0;
}

export function buildCli(args: string[]) {
  return yargs(args)
    .scriptName('compress-bench')
    .command(
      '$0 [inputs..]',
      'Main job: score the model(s) and baselines on each input (files or corpus names)',
      (y) =>
        codecOptions(modelOptions(y))
          .positional('inputs', { type: 'string', array: true, describe: `Files, corpora such as enwik8, enwik8:test, or npm datasets (${NPM_DATASETS.map((d) => `npm:${d.id}`).join(', ')})` })
          .option('model', modelOption('Model id, alias (gpt2), folder, or order-k[:K]; mix:MODEL for the mix; repeatable. Default: the embedded model'))
          .option('mix', { type: 'string', coerce: modelNames, describe: 'Also run mix:MODEL: the model mixed with online match and context models (repeatable; alone: only the mix)' })
          .option('baselines', { type: 'string', default: DEFAULT_BASELINES, describe: BASELINES_SYNTAX })
          .option('external', { type: 'string', describe: EXTERNAL_SYNTAX })
          .option('external-decompress', { type: 'string', describe: 'NAME=TEMPLATE, paired with --external NAME' })
          .option('corpus', { type: 'string', describe: 'A registered corpus or split, e.g. enwik8:test (repeatable; same as giving it as an input)' })
          .option('limit', { type: 'string', coerce: wholeNumber('limit', 1, 'a whole number of bytes ≥ 1'), describe: 'Take at most this many bytes of each input' })
          .option('offset', { type: 'string', coerce: wholeNumber('offset', 0, 'a whole number of bytes ≥ 0, below the input size'), default: 0, describe: 'Skip this many bytes first' })
          .option('skip-missing', { type: 'boolean', default: false, describe: SKIP_MISSING_DESCRIBE })
          .option('json', { type: 'boolean', default: false, describe: 'Print {"results":[...]} (schema in README)' })
          .option('record', { type: 'boolean', default: true, describe: 'Write a run record (--no-record to skip)' })
          .option('record-dir', { type: 'string', default: 'reports/runs', describe: 'Where run records go' })
          .option('resume', { type: 'string', describe: 'Continue an interrupted run: reuse the verified results (or chunks) in this record and keep saving to it' })
          .option('chunk', { type: 'string', coerce: byteSize('chunk'), describe: 'Code each input as independent chunks of this size (8MB, 64KiB), each verified and saved as it finishes; results are sums over chunks' })
          .option('shard', { type: 'string', coerce: shardSpec, describe: 'Run only part I of N (0-based, I/N) of the work (inputs × chunks × models) into RECORD_DIR/shard-I-of-N.json (resumed if it exists); "auto": from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID' })
          .option('shard-count', { type: 'string', coerce: wholeNumber('shard-count', 1, 'a whole number of shards ≥ 1'), describe: 'With --shard auto: the number of shards (the Job\'s completions, the Slurm array\'s size; also env COMPRESS_BENCH_SHARD_COUNT; Slurm default SLURM_ARRAY_TASK_COUNT)' })
          .option('series', { type: 'string', coerce: (v: unknown) => (v === undefined ? undefined : usage(() => parseSeriesAxis(v))), describe: 'params | step: also print bits/byte on seen and unseen inputs along the models\' parameters or training steps' }),
      async (argv) => {
        process.exitCode = await benchCommand(argv as Record<string, unknown>);
      },
    )
    .command(
      'compress <input>',
      'Compress one file with a model into an archive',
      (y) =>
        codecOptions(modelOptions(y))
          .positional('input', { type: 'string', demandOption: true })
          .option('model', modelOption('Default: the embedded model'))
          .option('output', { alias: 'o', type: 'string', describe: 'The archive to write (required; - is stdout). An existing file is kept unless -f; a missing folder is refused, not created' })
          .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Overwrite an existing output file (never the input itself)' })
          .option('chunk', { type: 'string', coerce: byteSize('chunk'), describe: 'Code independent chunks of this size (8MB, 64KiB) into one container; each is verified on decompress' }),
      async (argv) => {
        process.exitCode = await compressCommand(argv as never);
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
          .option('allow-other-runtime', { type: 'boolean', default: false, describe: 'Decode an archive made on another runtime/hardware (the checksum still guards the output)' }),
      async (argv) => {
        process.exitCode = await decompressCommand(argv as never);
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
          .option('quiet', { alias: 'q', type: 'boolean', default: false }),
      async (argv) => {
        process.exitCode = await mergeCommand(argv as never);
      },
    )
    .command(reportCommand)
    .command(checkCommand)
    .command(compareCommand)
    .command(seriesCommand)
    .command(jointCommand)
    .command(suiteCommand)
    .command('corpora', 'Known corpora: list, fetch', (y) =>
      y
        .command('list', 'List registered corpora with sizes and hashes', {}, () => {
          for (const c of listCorpora()) {
            const splits = Object.keys(c.splits);
            process.stdout.write(
              `${c.name.padEnd(28)} ${c.bytes.toLocaleString('en-US').padStart(15)} B  ${c.sha256 ? c.sha256.slice(0, 16) + '…' : 'sha256 unverified'}` +
                `${splits.length ? `  splits: ${splits.join(', ')}` : ''}\n`,
            );
          }
        })
        .command('fetch <names..>', 'Download, verify (SHA-256) and cache corpora', (yy) => yy.positional('names', { type: 'string', array: true }), async (argv) => {
          for (const name of argv.names as string[]) process.stdout.write((await fetchCorpus(name)) + '\n');
        })
        .demandCommand(1, 'corpora list | corpora fetch NAME'),
    )
    .strict()
    .help()
    .version()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
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
  process.once('SIGINT', () => {
    process.stderr.write('compress-bench: interrupted; run records keep every finished result: rerun the same command with --resume RECORD to continue\n');
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
