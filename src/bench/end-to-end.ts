/**
 * `npm run bench`: where the LM codec's time goes, side by side in one run, per model:
 *  - the harness: encode and decode tokens/s through the coding step (and, for comparison,
 *    encode with the JS quantizer, the coding step of the previous release);
 *  - a bare onnxruntime-node loop replaying the harness's exact calls (same batch, steps and
 *    re-primes, recorded during the encode) on the model as exported, outputs discarded;
 *  - a stride-512 full-window scoring pass over the same tokens (lm-eval's rolling
 *    log-likelihood: no coder, every token scored once, computed about twice; log-softmax
 *    not even counted), the cost of scoring without a code;
 *  - the ratios, the share of encode time outside `session.run`, peak RSS, and coded bytes
 *    vs the ideal vs the quantized tables.
 * Each model runs in a child process so that its peak RSS is its own.
 *
 * `--mix`: mix:<model> beside the pure model at the same segment counts (`--mix-segments`, default 1,
 * the mix's default), encode + decode, and the mix's peak RSS, each model's mix in a child
 * process of its own loaded as the CLI loads it (ONNX: with its table graph).
 *
 * A `.gguf` model (--model PATH.gguf) runs on llama.cpp; it has no bare loop or scorer row. With
 * the default (shared) models, or `--gguf`, their GGUF exports (f32 and q8_0) run too, in the same run.
 *
 *   npm run bench -- [--file F] [--limit N] [--model M ...] [--model-dir D] [--segments S|auto]
 *                    [--no-js] [--batch-sweep] [--mix [--mix-segments S ...]] [--no-gguf]
 * Defaults: gpt2-docmix-7m and -30m when a COMPRESS_BENCH_MODEL_DIR folder holds them, else the
 * embedded model; alice29.txt when a COMPRESS_BENCH_DATA_DIR folder holds it, else the shipped sample. Each model's raw figures go to stderr as JSON as soon
 * as they exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadModel, modelDirsFromEnv } from '../models/lookup.js';
import { openExportedSession } from '../models/onnx/load.js';
import { LmCompressor } from '../compressors/lm.js';
import { parseBaselines } from '../compressors/baselines.js';
import { bytesEqual } from '../runner/run.js';
import type { CodecOptions } from '../coding/lm-codec.js';
import type { LanguageModel, ModelBatch } from '../step/language-model.js';
import { JS_QUANTIZER_KIND } from '../step/js-quantizer-step.js';
import { cacheDir } from '../common/cache-dir.js';
import { dataDirsFromEnv } from '../corpora/index.js';
import { MixModel } from '../mix/mix-model.js';
import { STATIC_KV_CUM_KIND } from '../models/onnx/coding-graph.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The docmix models and alice29.txt are found where the user points (no path is built in).
const docmixDir = modelDirsFromEnv().find((d) => existsSync(join(d, 'gpt2-docmix-7m')));
const haveShared = docmixDir !== undefined;
const alice = dataDirsFromEnv().map((d) => join(d, 'alice29.txt')).find((p) => existsSync(p));

const argv = yargs(hideBin(process.argv))
  .option('file', { type: 'string', default: alice ?? join(ROOT, 'corpora/samples/gpl-3.0.txt') })
  .option('limit', { type: 'number' })
  .option('model', { type: 'string', array: true, default: haveShared ? ['gpt2-docmix-7m', 'gpt2-docmix-30m'] : ['embedded'] })
  .option('gguf', { type: 'boolean', describe: 'Also the docmix models\' GGUF exports (f32, q8_0) on llama.cpp, exported into the cache when missing (default: with the default models)' })
  .option('model-dir', { type: 'string', default: docmixDir ?? join(cacheDir(), 'hub') })
  .option('segments', { type: 'string', default: 'auto' })
  .option('threads', { type: 'number' })
  .option('js', { type: 'boolean', default: true, describe: 'Also encode with the JS quantizer (the first release\'s coding step)' })
  .option('mix', { type: 'boolean', default: false, describe: 'Also code with mix:<model> beside the pure model at the same segments (--mix-segments)' })
  .option('mix-segments', { type: 'number', array: true, default: [1], describe: 'Segment counts for --mix (1: the mix\'s default)' })
  .option('one-mix', { type: 'string', hidden: true, describe: 'internal: run one model\'s --mix rows and print their JSON' })
  .option('batch-sweep', { type: 'boolean', default: false, describe: 'Encode tokens/s against batch size (the default coding step)' })
  .option('sweep', { type: 'boolean', default: false, describe: 'Coded bpb against the segment count (real encodes of the whole input)' })
  .option('sweep-segments', { type: 'number', array: true, default: [1, 8, 16, 32, 64], describe: 'Segment counts for --sweep' })
  .option('one', { type: 'string', hidden: true, describe: 'internal: run one model and print its JSON' })
  .strict()
  .parseSync();

const data = new Uint8Array(readFileSync(argv.file)).subarray(0, argv.limit ?? Infinity);
const n = data.length;

interface ModelFigures {
  model: string;
  tokens: number;
  segments: number;
  codingStep: string;
  archiveBytes: number;
  payloadBytes: number;
  idealBits: number;
  tableBits: number;
  encodeS: number;
  decodeS: number;
  encodeRunS: number;
  roundTrip: boolean;
  /** Encode seconds with the model's other coding steps (same batch), e.g. the plain graph. */
  otherSteps: { step: string; encodeS: number }[];
  bareS: number;
  bareSteps: number;
  scoreS: number;
  /** The runtime, as archives record it (onnxruntime-node or node-llama-cpp). */
  runtime: string;
  /** Seconds building integer tables outside the runtime (`js-quantizer/1`; ~0 with `onnx-graph/1`). */
  tablesS: number;
  /** Peak RSS after the harness's encode + decode, before the comparison loops ran. */
  harnessRssMiB: number;
  peakRssMiB: number;
  sweep?: { batch: number; tokens: number; tokPerS: number; outside: number }[];
  /** `--mix`: per segment count, the pure model and the mix, encode + decode; the mix child's peak RSS. */
  mix?: MixFigures;
  bpbSweep?: { segments: number; archiveBytes: number; tokPerS: number }[];
}

/** Parent: one child process per model, then the tables. */
/** A model as the tables name it: a GGUF by its file name. */
const label = (model: string) => model.replace(/^.*\/(.*\.gguf)$/, '$1');

/** The default models' GGUF exports (scripts/gguf/export-shared.sh writes them into the cache when missing). */
function ggufModels(): string[] {
  const dir = join(cacheDir(), 'gguf');
  const wanted = argv.model.flatMap((m) => ['f32', 'q8_0'].map((t) => join(dir, `${m}-${t}.gguf`)));
  const missing = argv.model.filter((m) => wanted.some((w) => w.includes(`/${m}-`) && !existsSync(w)));
  if (missing.length) {
    console.log(`exporting GGUF files of ${missing.join(', ')} into ${dir} (scripts/gguf/export-shared.sh)`);
    execFileSync('bash', [join(ROOT, 'scripts/gguf/export-shared.sh'), argv['model-dir'], ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return wanted;
}

async function main(): Promise<void> {
  console.log(`input: ${argv.file} (${n} bytes), segments ${argv.segments}${haveShared ? '' : '  [no gpt2-docmix-7m in COMPRESS_BENCH_MODEL_DIR: embedded model]'}\n`);
  const figures: ModelFigures[] = [];
  const modelGiven = hideBin(process.argv).some((a) => a === '--model' || a.startsWith('--model='));
  const gguf = (argv.gguf ?? (haveShared && !modelGiven)) && argv.model.every((m) => m.startsWith('gpt2-docmix-'));
  const models = gguf ? [...argv.model, ...ggufModels()] : argv.model;
  for (const id of models) {
    const args = [fileURLToPath(import.meta.url), '--one', id, '--file', argv.file, '--model-dir', argv['model-dir'], '--segments', argv.segments];
    if (argv.limit !== undefined) args.push('--limit', String(argv.limit));
    if (argv.threads !== undefined) args.push('--threads', String(argv.threads));
    if (!argv.js) args.push('--no-js');
    if (argv['batch-sweep']) args.push('--batch-sweep');
    if (argv.sweep) args.push('--sweep', '--sweep-segments', ...argv['sweep-segments'].map(String));
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    figures.push(JSON.parse(out.trim().split('\n').at(-1)!));
    if (argv.mix) {
      // The mix in a process of its own: its peak RSS is the mix's (model + tables), not the pure runs'.
      const mixArgs = [fileURLToPath(import.meta.url), '--one-mix', id, '--file', argv.file, '--model-dir', argv['model-dir'], '--mix-segments', ...argv['mix-segments'].map(String)];
      if (argv.limit !== undefined) mixArgs.push('--limit', String(argv.limit));
      if (argv.threads !== undefined) mixArgs.push('--threads', String(argv.threads));
      const mixOut = execFileSync(process.execPath, mixArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
      figures.at(-1)!.mix = JSON.parse(mixOut.trim().split('\n').at(-1)!);
    }
    // Each model's raw figures as soon as they exist: a long run loses nothing when stopped.
    process.stderr.write(`${JSON.stringify(figures.at(-1))}\n`);
  }

  const f1 = (x: number) => x.toFixed(0);
  const bpb = (bits: number) => (bits / n).toFixed(4);
  printTable(
    ['model', 'runtime', 'tokens', 'batch', 'coding step', 'enc tok/s', 'dec tok/s', 'bare loop tok/s', 'enc/bare', 'dec/bare', 'stride-512 scorer tok/s', 'enc/scorer', 'outside run', 'other steps, enc tok/s', 'tables µs/row', 'harness peak RSS MiB'],
    figures.map((f) => [
      label(f.model),
      f.runtime.split(' ')[0],
      String(f.tokens),
      String(f.segments),
      f.codingStep,
      f1(f.tokens / f.encodeS),
      f1(f.tokens / f.decodeS),
      ...(f.bareS ? [f1(f.tokens / f.bareS), (f.bareS / f.encodeS).toFixed(2), (f.bareS / f.decodeS).toFixed(2)] : ['-', '-', '-']),
      ...(f.scoreS ? [f1(f.tokens / f.scoreS), (f.scoreS / f.encodeS).toFixed(2)] : ['-', '-']),
      `${((100 * (f.encodeS - f.encodeRunS)) / f.encodeS).toFixed(1)}%`,
      f.otherSteps.map((o) => `${o.step} ${f1(f.tokens / o.encodeS)}`).join(', ') || '-',
      f.codingStep === JS_QUANTIZER_KIND ? f1((1e6 * f.tablesS) / f.tokens) : '-',
      f1(f.harnessRssMiB),
    ]),
  );
  console.log('');
  printTable(
    ['model', 'archive B', 'coded bpb', 'ideal bpb', 'tables bpb', 'payload/ideal', 'payload/tables', 'round trip'],
    figures.map((f) => [
      label(f.model),
      String(f.archiveBytes),
      bpb(f.archiveBytes * 8),
      bpb(f.idealBits),
      bpb(f.tableBits),
      ((f.payloadBytes * 8) / f.idealBits).toFixed(5),
      ((f.payloadBytes * 8) / f.tableBits).toFixed(5),
      f.roundTrip ? '✓' : '✗',
    ]),
  );
  for (const f of figures.filter((f) => f.bpbSweep)) {
    console.log(`\ncoded bpb against segments, ${label(f.model)} (whole input, encode):`);
    const one = f.bpbSweep![0].archiveBytes;
    printTable(['segments', 'archive B', 'coded bpb', 'vs 1 segment', 'enc tok/s'], f.bpbSweep!.map((s) => [String(s.segments), String(s.archiveBytes), bpb(s.archiveBytes * 8), `${(100 * (s.archiveBytes / one - 1)).toFixed(2)}%`, f1(s.tokPerS)]));
  }
  const mixed = figures.filter((f) => f.mix);
  if (mixed.length) {
    console.log('\nmix:<model> beside the pure model at the same segments (encode + decode; mix peak RSS: its own process, model + tables):');
    printTable(
      ['model', 'segments', 'mix coding step', 'pure enc tok/s', 'mix enc tok/s', 'mix/pure enc time', 'pure dec tok/s', 'mix dec tok/s', 'pure bpb', 'mix bpb', 'mix peak RSS MiB', 'round trips'],
      mixed.flatMap(({ model, tokens, mix }) =>
        mix!.rows.map(({ segments, pure, mix: m }) => [
          label(model),
          String(segments),
          mix!.codingStep,
          f1(tokens / pure.encodeS),
          f1(tokens / m.encodeS),
          (m.encodeS / pure.encodeS).toFixed(2),
          f1(tokens / pure.decodeS),
          f1(tokens / m.decodeS),
          bpb(pure.archiveBytes * 8),
          bpb(m.archiveBytes * 8),
          f1(mix!.peakRssMiB),
          pure.roundTrip && m.roundTrip ? '✓' : '✗',
        ]),
      ),
    );
  }
  for (const f of figures.filter((f) => f.sweep)) {
    console.log(`\nbatch sweep, ${label(f.model)} (encode, the default coding step):`);
    printTable(['batch', 'tokens', 'tok/s', 'outside run'], f.sweep!.map((s) => [String(s.batch), String(s.tokens), f1(s.tokPerS), `${(100 * s.outside).toFixed(1)}%`]));
  }
  const baselineRows: string[][] = [];
  for (const c of parseBaselines('gzip:9,zstd:19')) {
    const out = await c.compress(data);
    baselineRows.push([c.name, String(out.length), bpb(out.length * 8)]);
  }
  console.log('');
  printTable(['baseline', 'bytes', 'bpb'], baselineRows);
}

/** One model, in this (child) process. */
async function measure(id: string): Promise<ModelFigures> {
  const model = await loadModel({ model: id, modelDirs: [argv['model-dir']], offline: true, threads: argv.threads });
  const codec: CodecOptions = { segments: argv.segments === 'auto' ? 'auto' : Number(argv.segments) };
  const recorder = new CallRecorder(model);
  const lm = new LmCompressor(recorder, codec);
  const t0 = performance.now();
  const archive = await lm.compress(data);
  const t1 = performance.now();
  const back = await lm.decompress(archive);
  const t2 = performance.now();
  const s = lm.lastStats()!;
  const harnessRssMiB = process.resourceUsage().maxRSS / 1024;
  const tokens = model.tokenizer.encode(data);

  const otherSteps: ModelFigures['otherSteps'] = [];
  for (const step of model.codingSteps.slice(1).filter((st) => argv.js || st !== JS_QUANTIZER_KIND)) {
    const other = new LmCompressor(model, { ...codec, codingStep: step });
    const j0 = performance.now();
    await other.compress(data);
    otherSteps.push({ step, encodeS: (performance.now() - j0) / 1000 - other.lastStats()!.timing!.tokenize });
  }
  // The bare loop and the scorer run the ONNX file on onnxruntime: not for a GGUF (0: "-" in the table).
  const onnx = model.identity.runtime.startsWith('onnxruntime');
  const bareS = onnx ? await bareLoop(model, recorder.calls) : 0;
  const scoreS = onnx ? await strideScorer(model, tokens) : 0;
  const sweep = argv['batch-sweep'] ? await batchSweep(model, tokens) : undefined;
  const bpbSweep = argv.sweep ? await segmentSweep(model) : undefined;
  const figures: ModelFigures = {
    model: id,
    tokens: s.tokens!,
    segments: s.codec!.segments as number,
    codingStep: s.codec!.codingStep as string,
    archiveBytes: archive.length,
    payloadBytes: s.codec!.payloadBytes as number,
    idealBits: s.idealBits!,
    tableBits: s.codec!.tableBits as number,
    encodeS: (t1 - t0) / 1000 - s.timing!.tokenize,
    decodeS: (t2 - t1) / 1000,
    encodeRunS: s.timing!.forward,
    roundTrip: bytesEqual(back, data),
    otherSteps,
    bareS,
    bareSteps: recorder.calls.length,
    scoreS,
    runtime: model.identity.runtime,
    tablesS: s.timing!.quantize,
    harnessRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    sweep,
    bpbSweep,
  };
  await model.dispose();
  return figures;
}

interface MixFigures {
  codingStep: string;
  /** Peak RSS of the mix's own process, after its encodes and decodes (the pure runs come after). */
  peakRssMiB: number;
  rows: { segments: number; pure: OneSegment; mix: OneSegment }[];
}

/**
 * `--mix`, in this (child) process: the model loaded as the CLI loads it for the mix (ONNX:
 * with its table graph), the mix at every segment count, then the pure model at the same.
 */
async function measureMix(id: string): Promise<MixFigures> {
  const model = await loadModel({ model: id, modelDirs: [argv['model-dir']], offline: true, threads: argv.threads, codingStep: STATIC_KV_CUM_KIND });
  const mix = new MixModel(model);
  const mixed = [];
  for (const segments of argv['mix-segments']) mixed.push(await oneSegment(mix, segments));
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const rows = [];
  for (const [i, segments] of argv['mix-segments'].entries()) rows.push({ segments, pure: await oneSegment(model, segments), mix: mixed[i] });
  await model.dispose();
  return { codingStep: mix.codingSteps[0], peakRssMiB, rows };
}

interface OneSegment {
  archiveBytes: number;
  encodeS: number;
  decodeS: number;
  roundTrip: boolean;
}

/** Encode + decode at `segments` segments, tokenizing excluded. */
async function oneSegment(model: LanguageModel, segments = 1): Promise<OneSegment> {
  const lm = new LmCompressor(model, { segments });
  const t0 = performance.now();
  const archive = await lm.compress(data);
  const t1 = performance.now();
  const back = await lm.decompress(archive);
  return { archiveBytes: archive.length, encodeS: (t1 - t0) / 1000 - lm.lastStats()!.timing!.tokenize, decodeS: (performance.now() - t1) / 1000, roundTrip: bytesEqual(back, data) };
}

interface Call {
  batch: number;
  tokens: Int32Array;
  n: number;
  reset: boolean;
}

/** A `LanguageModel` that records every coding-step call of the first batch opened. */
class CallRecorder implements LanguageModel {
  readonly calls: Call[] = [];
  private recording = true;
  constructor(private readonly inner: LanguageModel) {}
  get identity() { return this.inner.identity; }
  get contextLength() { return this.inner.contextLength; }
  get vocabSize() { return this.inner.vocabSize; }
  get startToken() { return this.inner.startToken; }
  get tokenizer() { return this.inner.tokenizer; }
  get codingSteps() { return this.inner.codingSteps; }
  open(batch: number, codingStep?: string): ModelBatch {
    const inner = this.inner.open(batch, codingStep);
    const record = this.recording;
    this.recording = false;
    const calls = this.calls;
    return {
      codingStep: inner.codingStep,
      get runSeconds() { return inner.runSeconds; },
      step(tokens, n, reset, query) {
        if (record) calls.push({ batch, tokens: tokens.slice(), n, reset });
        return inner.step(tokens, n, reset, query);
      },
      dispose: () => inner.dispose?.(),
    };
  }
  dispose() { return this.inner.dispose(); }
}

/** The model as exported, on onnxruntime-node with our session settings, fed by the backend's own feeds. */
function openExported(model: LanguageModel) {
  return openExportedSession(model.identity.files[0], model.identity.id, argv.threads);
}

/** onnxruntime-node alone: the model as exported, the recorded calls, outputs discarded. */
async function bareLoop(model: LanguageModel, calls: Call[]): Promise<number> {
  const { session, feeds } = await openExported(model);
  const t0 = performance.now();
  const perBatch = new Map<number, ReturnType<typeof feeds>>();
  for (const { batch: B, tokens, n, reset } of calls) {
    let f = perBatch.get(B);
    if (!f) perBatch.set(B, (f = feeds(B)));
    f.keep(await session.run(f.make(tokens, n, reset)));
  }
  const secs = (performance.now() - t0) / 1000;
  await session.release();
  return secs;
}

/** lm-eval-style rolling scoring: windows of the full context, stride half of it, one window per call. */
async function strideScorer(model: LanguageModel, tokens: Int32Array): Promise<number> {
  const { session, feeds } = await openExported(model);
  const W = Math.min(model.contextLength, 1024);
  const stride = W / 2;
  const t0 = performance.now();
  const windows: [number, number][] = [[0, Math.min(W, tokens.length)]];
  while (windows.at(-1)![1] < tokens.length) {
    const end = Math.min(windows.at(-1)![1] + stride, tokens.length);
    windows.push([Math.max(0, end - W), end]);
  }
  // Every window from an empty cache (`reset`), outputs discarded.
  const one = feeds(1);
  for (const [from, to] of windows) {
    const win = tokens.subarray(from, to);
    await session.run(one.make(win, win.length, true));
  }
  const secs = (performance.now() - t0) / 1000;
  await session.release();
  return secs;
}

/** Encode tokens/s against batch: 128 steps per row at each batch size (the model's default coding step). */
async function batchSweep(model: LanguageModel, tokens: Int32Array): Promise<ModelFigures['sweep']> {
  const { encodeTokens, resolveSettings } = await import('../coding/lm-codec.js');
  const out: NonNullable<ModelFigures['sweep']> = [];
  for (const batch of [1, 2, 4, 8, 16, 32, 64, 128]) {
    const count = Math.min(tokens.length, batch * 128);
    const slice = tokens.subarray(0, count);
    const settings = resolveSettings(model, count, { segments: batch });
    const t0 = performance.now();
    const enc = await encodeTokens(model, slice, settings);
    const secs = (performance.now() - t0) / 1000;
    out.push({ batch, tokens: count, tokPerS: count / secs, outside: (secs - enc.timing.forward) / secs });
  }
  return out;
}

/** Coded size of the whole input at 1, 8, 16, 32 and 64 segments: what the batch costs in bpb. */
async function segmentSweep(model: LanguageModel): Promise<ModelFigures['bpbSweep']> {
  const out: NonNullable<ModelFigures['bpbSweep']> = [];
  for (const segments of argv['sweep-segments']) {
    const lm = new LmCompressor(model, { segments });
    const t0 = performance.now();
    const archive = await lm.compress(data);
    out.push({ segments, archiveBytes: archive.length, tokPerS: lm.lastStats()!.tokens! / ((performance.now() - t0) / 1000) });
  }
  return out;
}

function printTable(head: string[], body: string[][]) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  console.log([line(head), line(w.map((x) => '-'.repeat(x))), ...body.map(line)].join('\n'));
}

if (argv.one) console.log(JSON.stringify(await measure(argv.one)));
else if (argv['one-mix']) console.log(JSON.stringify(await measureMix(argv['one-mix'])));
else await main();
