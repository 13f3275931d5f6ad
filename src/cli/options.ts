/**
 * Strict option values. Every check throws a `UsageError` whose one line names the option,
 * what was given and what is accepted; the CLI prints it and exits 2. yargs' own `choices`
 * and `number` checks are not used for this: their messages span lines, and `number` turns
 * "abc" into NaN silently.
 */
import { DEFAULT_MIX_MEMORY_MB, MAX_MIX_MEMORY_MB, MIN_MIX_MEMORY_MB } from '../mix/memory.js';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { Shard } from '../runner/chunks.js';
import { RUNTIMES, type ModelRequest, type Runtime } from '../models/lookup.js';
import type { CodecOptions } from '../coding/lm-codec.js';
import { progressBar, progressEnabled } from './progress.js';

/** A failure the user caused or can fix: one line on stderr, exit 2. */
export class UsageError extends Error {}

const shown = (v: unknown) => (v === '' ? 'an empty value' : `"${String(v)}"`);

/** Repeated options arrive as arrays: yargs then gives the last value to a scalar option. */
const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

/**
 * A whole number ≥ `min`, typed as digits (no signs, exponents, fractions or hex).
 * `what` finishes "accepted values: …", e.g. "a whole number of bytes ≥ 0".
 */
export function wholeNumber(option: string, min: number, what: string) {
  return (raw: unknown): number | undefined => {
    const v = last(raw);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min) return v; // a default
    const s = String(v).trim();
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
      throw new UsageError(`--${option}: ${shown(v)} is not accepted; accepted values: ${what}`);
    }
    return Number(s);
  };
}

/** One of a fixed list. yargs' `choices` still documents the list in --help. */
export function oneOf<T extends string>(option: string, values: readonly T[]) {
  return (raw: unknown): T => {
    const v = last(raw);
    if (!values.includes(v as T)) {
      throw new UsageError(`--${option}: ${shown(v ?? '')} is not accepted; accepted values: ${values.join(', ')}`);
    }
    return v as T;
  };
}

/** `--segments`: a positive integer or `auto`. */
export function segments(raw: unknown): number | 'auto' {
  const v = last(raw);
  if (v === undefined || v === 'auto') return 'auto';
  const s = String(v).trim();
  if (!/^\d+$/.test(s) || Number(s) < 1) {
    throw new UsageError(`--segments: ${shown(v)} is not accepted; accepted values: a positive integer (1, 2, …) or auto`);
  }
  return Number(s);
}

export const MODEL_SYNTAX = 'a model id (gpt2-docmix-7m), an alias (gpt2), a Hub id (Xenova/gpt2), a folder path, embedded, order-k[:K], or none (baselines only)';

/** `-m/--model` (repeatable): every value non-empty. `-m` as the last word yields "". */
export function modelNames(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v : String(v)));
  for (const v of values) {
    if (v.trim() === '') throw new UsageError(`-m/--model needs a value; accepted values: ${MODEL_SYNTAX}`);
  }
  return values;
}

export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export const DEVICES = ['cpu', 'cuda'] as const;

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** A byte size: digits with an optional unit, `8MB` (10⁶) or `64KiB` (2¹⁰); ≥ 1 byte. */
export function byteSize(option: string) {
  return (raw: unknown): number | undefined => {
    const v = last(raw);
    if (v === undefined) return undefined;
    const m = /^(\d+)\s*([kmg]i?b|b)?$/i.exec(String(v).trim());
    const n = m ? Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`--${option}: ${shown(v)} is not accepted; accepted values: a whole number of bytes ≥ 1, optionally with a unit: B, KB, MB, GB (powers of 1000), KiB, MiB, GiB (powers of 1024), e.g. 8MB`);
    }
    return n;
  };
}


const SHARD_ACCEPTED = 'I/N with 0 ≤ I < N (e.g. 0/4), or auto (JOB_COMPLETION_INDEX with --shard-count or COMPRESS_BENCH_SHARD_COUNT; or SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT or --shard-count)';

/** `--shard I/N` (0-based, as Kubernetes and Slurm number their tasks) or `auto`, kept raw: `auto` needs the environment. */
export function shardSpec(raw: unknown): Shard | 'auto' | undefined {
  const v = last(raw);
  if (v === undefined) return undefined;
  if (v === 'auto') return 'auto';
  const m = /^(\d+)\/(\d+)$/.exec(String(v).trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard: ${shown(v)} is not accepted; accepted values: ${SHARD_ACCEPTED}`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * `--shard auto`: the task index the scheduler gives. A Kubernetes Indexed Job sets only
 * JOB_COMPLETION_INDEX (its `completions` is not in the pod's environment), so the count comes
 * from --shard-count or COMPRESS_BENCH_SHARD_COUNT. A Slurm array task's index is its
 * SLURM_ARRAY_TASK_ID (arrays numbered from 0); the count is --shard-count, else
 * COMPRESS_BENCH_SHARD_COUNT, else SLURM_ARRAY_TASK_COUNT — which describes the array as
 * submitted, so a lone task resubmitted with `--array=3` needs the count given explicitly.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, count?: number): Shard {
  const int = (name: string, value: string | undefined) => {
    if (value === undefined || !/^\d+$/.test(value.trim())) throw new UsageError(`--shard auto: ${name}=${value === undefined ? '(unset)' : shown(value)} is not a whole number`);
    return Number(value);
  };
  let shard: Shard;
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const n = count ?? (env.COMPRESS_BENCH_SHARD_COUNT !== undefined ? int('COMPRESS_BENCH_SHARD_COUNT', env.COMPRESS_BENCH_SHARD_COUNT) : undefined);
    if (n === undefined) throw new UsageError('--shard auto: JOB_COMPLETION_INDEX is set but not the number of shards; give --shard-count N (the Job\'s completions) or COMPRESS_BENCH_SHARD_COUNT');
    shard = { index: int('JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX), count: n };
  } else if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const n =
      count ??
      (env.COMPRESS_BENCH_SHARD_COUNT !== undefined ? int('COMPRESS_BENCH_SHARD_COUNT', env.COMPRESS_BENCH_SHARD_COUNT) : int('SLURM_ARRAY_TASK_COUNT', env.SLURM_ARRAY_TASK_COUNT));
    shard = { index: int('SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID), count: n };
  } else {
    throw new UsageError(`--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) is set; accepted values: ${SHARD_ACCEPTED}`);
  }
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count) throw new UsageError(`--shard auto: shard ${shard.index} of ${shard.count} is out of range (0 ≤ index < count; number Slurm arrays from 0, --array=0-${shard.count - 1}, and give --shard-count N when resubmitting single tasks)`);
  return shard;
}

/** The options a yargs builder declares (a `CommandModule`'s second type argument). */
export type OptionsOf<B extends (y: Argv) => Argv<unknown>> = ReturnType<B> extends Argv<infer T> ? T : never;
/** The parsed arguments a builder declares, as its handler receives them (camelCase keys too). */
export type ArgsOf<B extends (y: Argv) => Argv<unknown>> = ArgumentsCamelCase<OptionsOf<B>>;

/** Repeatable options arrive as a string once and as an array when repeated. */
export const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** `--shard I/N`, or `auto` resolved from the scheduler's environment; `--shard-count` only with auto. */
export function resolveShard(shard: Shard | 'auto' | undefined, count: number | undefined): Shard | undefined {
  if (count !== undefined && shard !== 'auto') throw new UsageError('--shard-count goes with --shard auto (with --shard I/N the count is N)');
  return shard === 'auto' ? shardFromEnv(process.env, count) : shard;
}

/** The model options every command that loads a model shares: the main job, `suite`, `joint`, `compress`, `decompress`. */
export const modelOptions = <T>(y: Argv<T>) =>
  y
    .option('model-dir', { type: 'string', describe: 'Folder(s) holding DIR/<model id>/ (also env COMPRESS_BENCH_MODEL_DIR, colon-separated)' })
    .option('dtype', { type: 'string', choices: DTYPES, coerce: oneOf('dtype', DTYPES), default: 'fp32', describe: 'Weights variant (must exist in the model folder)' })
    .option('device', { type: 'string', choices: DEVICES, coerce: oneOf('device', DEVICES), default: 'cpu', describe: 'onnxruntime execution provider' })
    .option('offline', { type: 'boolean', default: false, describe: 'Never download models (also HF_HUB_OFFLINE=1)' })
    .option('threads', { type: 'string', coerce: wholeNumber('threads', 1, 'a positive whole number of threads'), describe: 'onnxruntime intra-op threads / llama.cpp threads (default: one per core; llama.cpp one less, for the JS tables)' })
    .option('runtime', { type: 'string', choices: RUNTIMES, coerce: oneOf('runtime', RUNTIMES), describe: 'Model runtime (default: llama.cpp for a .gguf file or folder, else onnxruntime)' })
    .option('mix-memory', { type: 'string', coerce: wholeNumber('mix-memory', MIN_MIX_MEMORY_MB, `a whole number of MB from ${MIN_MIX_MEMORY_MB} to ${MAX_MIX_MEMORY_MB}`), describe: `mix: the tables' memory budget in MB, all segments together, recorded in the archive (default ${DEFAULT_MIX_MEMORY_MB})` })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress bar' });

const CONTEXT_SHIFTS = ['reprime', 'kv'] as const;

/** How the LM codec runs: segments, context window, prime, how the window slides. */
export const codecOptions = <T>(y: Argv<T>) =>
  y
    .option('segments', { type: 'string', coerce: segments, default: 'auto', describe: 'Independent segments coded as one batch: a positive integer or "auto" (1 per 4096 tokens, ≤ 32 on CPU, ≤ 256 on CUDA)' })
    .option('context', { type: 'string', coerce: wholeNumber('context', 2, 'a whole number of tokens ≥ 2'), describe: 'Context window in tokens (default: the model maximum)' })
    .option('prime', { type: 'string', coerce: wholeNumber('prime', 0, 'a whole number of tokens ≥ 0, below --context'), describe: 'Tokens kept when the window slides (default: half the context)' })
    .option('context-shift', { type: 'string', choices: CONTEXT_SHIFTS, coerce: oneOf('context-shift', CONTEXT_SHIFTS), describe: 'How the window slides: reprime (recompute the kept tokens) or kv (GGUF on llama.cpp: move their KV cells). Default: kv for GGUF models with rotary positions, else reprime' });

export function codecFrom(argv: { segments?: number | 'auto'; context?: number; prime?: number; contextShift?: CodecOptions['contextShift'] }): CodecOptions {
  if (argv.prime !== undefined && argv.context !== undefined && argv.prime >= argv.context) {
    throw new UsageError(`--prime: ${argv.prime} is not accepted with --context ${argv.context}; accepted values: a whole number of tokens below --context`);
  }
  return { segments: argv.segments ?? 'auto', contextLength: argv.context, primeTokens: argv.prime, contextShift: argv.contextShift };
}

/** The shared model options as parsed (see `modelOptions`). */
export interface ModelArgs {
  dtype?: string;
  device?: 'cpu' | 'cuda';
  offline?: boolean;
  modelDir?: unknown;
  threads?: number;
  runtime?: Runtime;
  quiet?: boolean;
  mixMemory?: number;
}

/** What `loadModelOrMix` needs, from the shared model options. */
export function modelRequest(argv: ModelArgs, model?: string): ModelRequest & { mixMemoryMB?: number } {
  const download = progressBar(`download ${model ?? ''}`.trim(), progressEnabled(!!argv.quiet), { roundTrip: false });
  return {
    model,
    modelDirs: list(argv.modelDir),
    dtype: argv.dtype ?? 'fp32',
    device: argv.device ?? 'cpu',
    offline: !!argv.offline,
    threads: argv.threads,
    runtime: argv.runtime,
    ...(argv.mixMemory !== undefined ? { mixMemoryMB: argv.mixMemory } : {}),
    download,
    warn: (message) => process.stderr.write(`compress-bench: warning: ${message}\n`),
  };
}
