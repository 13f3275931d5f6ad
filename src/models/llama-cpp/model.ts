/**
 * The llama.cpp backend: a GGUF file on node-llama-cpp's prebuilt binaries, behind the same
 * `LanguageModel` interface as the ONNX models.
 *
 * node-llama-cpp loads llama.cpp (its prebuilt npm packages; never a build or a download) and
 * reads the GGUF metadata; the model, the context and every decode go through llama.cpp's C
 * API directly (llama-api.ts), because node-llama-cpp's public API schedules sequences itself
 * and its binding returns a distribution only as a sorted 2·V-element JS array. For a codec the
 * encoder and the decoder must make the identical calls: per coding step one `llama_decode`
 * holding every row's tokens (one sequence per row), an output at each row's last token, and
 * the logits read in place from llama.cpp's buffer into the JS quantizer (`js-quantizer/1`).
 *
 * The tokenizer is the GGUF's own (`llama_tokenize`), wrapped by the same lossless layer as the
 * Hugging Face tokenizers; the id → bytes table comes from the GGUF's `tokenizer.ggml.tokens`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { LanguageModel, LogitsBatch, ModelBatch, ModelIdentity } from '../../step/language-model.js';
import { HfLosslessTokenizer, type TextTokenizer } from '../hf-tokenizer.js';
import { sha256, sha256File } from '../../common/hash.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../../step/js-quantizer-step.js';
import { LLAMA_RELEASE, addressOf, allocBatch, llamaApi, viewOf, type BatchViews, type LlamaApi } from './llama-api.js';
import { availableParallelism } from 'node:os';

export class GgufModelError extends Error {}

/**
 * `js-quantizer/1` with the window slid by llama.cpp's KV shift (`--context-shift kv`): the
 * kept tokens' cells move to the window's start instead of being recomputed. Offered where
 * llama.cpp can shift the model's cache. Its bits equal re-priming's on rotary positions (the
 * kept keys are re-rotated: +0.005% on the Llama test model), not on learned absolute ones (the
 * kept keys keep the positions they were computed at: +0.9% on alice29.txt with GPT-2's 7m).
 */
export const KV_SHIFT_KIND = 'llama-kv-shift/1';

/** `llama_model_rope_type` of a model without rotary positions (LLAMA_ROPE_TYPE_NONE). */
const ROPE_NONE = -1;

export interface GgufModelOptions {
  /** A `.gguf` file, or a folder holding exactly one. */
  path: string;
  /** Name to record (what the user typed). */
  id: string;
  device: 'cpu' | 'cuda' | 'vulkan';
  maxContext?: number;
  /** llama.cpp threads (default: node-llama-cpp's count of math cores, less one). */
  threads?: number;
}

/** `general.file_type` (llama_ftype) → a dtype name, for the common ones. */
const FILE_TYPES: Record<number, string> = { 0: 'f32', 1: 'f16', 2: 'q4_0', 3: 'q4_1', 7: 'q8_0', 8: 'q5_0', 9: 'q5_1', 10: 'q2_k', 12: 'q4_k_m', 15: 'q4_k_m', 17: 'q5_k_m', 18: 'q6_k', 32: 'bf16' };

/** A `.gguf` path: the file itself, or the one `.gguf` in a folder. */
export function resolveGgufPath(path: string): string {
  if (!existsSync(path)) throw new GgufModelError(`--model ${path}: no such file or folder`);
  if (statSync(path).isFile()) return path;
  const found = readdirSync(path).filter((f) => f.endsWith('.gguf'));
  if (found.length === 1) return join(path, found[0]);
  throw new GgufModelError(
    found.length === 0 ? `--model ${path}: this folder holds no .gguf file` : `--model ${path}: this folder holds ${found.length} .gguf files (${found.join(', ')}); name one`,
  );
}

export const isGgufPath = (path: string): boolean =>
  path.endsWith('.gguf') || (existsSync(path) && statSync(path).isDirectory() && readdirSync(path).some((f) => f.endsWith('.gguf')) && !existsSync(join(path, 'config.json')));

/** The installed node-llama-cpp's version (its package.json, which its `exports` do not expose). */
function nodeLlamaCppVersion(): string {
  const entry = createRequire(import.meta.url).resolve('node-llama-cpp'); // …/node-llama-cpp/dist/index.js
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

type Llama = Awaited<ReturnType<typeof import('node-llama-cpp').getLlama>>;

/**
 * The bins folder of node-llama-cpp's prebuilt package for this platform and GPU (e.g.
 * `@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal`): where its libllama is found on
 * platforms without /proc/self/maps. Undefined when that package is not installed.
 */
function prebuiltBinsDir(gpu: Llama['gpu']): string | undefined {
  const platform = ({ linux: 'linux', darwin: 'mac', win32: 'win' } as Record<string, string>)[process.platform];
  const arch = process.arch === 'arm' ? 'armv7l' : process.arch;
  const name = `${platform}-${arch}${gpu ? `-${gpu}` : ''}`;
  try {
    const entry = createRequire(import.meta.url).resolve(`@node-llama-cpp/${name}`); // …/dist/index.js
    return join(dirname(entry), '..', 'bins', name);
  } catch {
    return undefined;
  }
}
/** One `Llama` (the loaded binding) per device for the whole process: disposing one frees the binding's backends for all. */
const llamas = new Map<string, Promise<Llama>>();

function llamaFor(device: GgufModelOptions['device']): Promise<Llama> {
  let llama = llamas.get(device);
  if (!llama) {
    llama = (async () => {
      const nlc = await import('node-llama-cpp');
      try {
        // Never build or download llama.cpp at run time: the prebuilt binary packages or nothing.
        return await nlc.getLlama({
          gpu: device === 'cpu' ? false : device,
          build: 'never',
          skipDownload: true,
          usePrebuiltBinaries: true,
          progressLogs: false,
          logLevel: nlc.LlamaLogLevel.error,
          logger: () => {},
        });
      } catch (e) {
        llamas.delete(device);
        throw new GgufModelError(`llama.cpp (node-llama-cpp) is not usable here for --device ${device}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
      }
    })();
    llamas.set(device, llama);
  }
  return llama;
}

export async function loadGgufModel(opts: GgufModelOptions): Promise<LanguageModel> {
  const file = resolveGgufPath(opts.path);
  const llama = await llamaFor(opts.device);
  const nlc = await import('node-llama-cpp');
  if (llama.llamaCppRelease.release !== LLAMA_RELEASE) {
    throw new GgufModelError(`llama.cpp ${llama.llamaCppRelease.release} is loaded, but this backend declares the C API of ${LLAMA_RELEASE} (node-llama-cpp must be 3.21.1)`);
  }
  const api = llamaApi(prebuiltBinsDir(llama.gpu));
  const gpu = llama.gpu || 'cpu';
  const device = opts.device === 'cpu' ? 'cpu' : gpu;
  const params = api.modelDefaults();
  params.n_gpu_layers = device === 'cpu' ? 0 : -1;
  const model = api.loadModel(file, params);
  if (!model) throw new GgufModelError(`model ${opts.id} failed to load in llama.cpp (not a GGUF it can read: ${file})`);
  const vocab = api.vocab(model);
  const meta = (await nlc.readGgufFileInfo(file, { readTensorInfo: false })).metadata as unknown as {
    general: { file_type?: number; architecture: string };
    tokenizer?: { ggml?: { model?: string; pre?: string; tokens?: string[]; token_type?: number[]; merges?: string[] } };
  };
  const tok = meta.tokenizer?.ggml;
  if (!tok?.tokens?.length) {
    api.freeModel(model);
    throw new GgufModelError(`model ${opts.id}: the GGUF has no tokenizer (tokenizer.ggml.tokens)`);
  }
  const tokens = Array.from(tok.tokens);
  const types = Array.from(tok.token_type ?? []);
  // The GGUF's vocabulary as the lossless layer reads tokenizer.json: byte-level BPE (gpt2)
  // maps pieces through GPT-2's byte alphabet; SentencePiece (llama) has "▁" and <0xNN>.
  const byteLevel = tok.model === 'gpt2';
  const json = {
    model: { type: 'BPE', vocab: tokens.map((t) => [t, 0] as [string, number]), byte_fallback: !byteLevel },
    decoder: { type: byteLevel ? 'ByteLevel' : 'Metaspace' },
    // Control (3) and user-defined (4) tokens are emitted verbatim as their text.
    added_tokens: types.flatMap((t, id) => (t === 3 || t === 4 ? [{ id, content: tokens[id] }] : [])),
  };
  let ids = new Int32Array(1024);
  const text: TextTokenizer = {
    encode(s: string) {
      const bytes = Buffer.from(s, 'utf8');
      if (ids.length < bytes.length + 16) ids = new Int32Array(bytes.length + 16);
      let n = api.tokenize(vocab, bytes, bytes.length, ids, ids.length, false, false);
      if (n < 0) {
        ids = new Int32Array(-n);
        n = api.tokenize(vocab, bytes, bytes.length, ids, ids.length, false, false);
      }
      if (n < 0) throw new GgufModelError(`llama.cpp could not tokenize ${bytes.length} bytes`);
      return Array.from(ids.subarray(0, n));
    },
  };
  const tokenizerSha256 = sha256(JSON.stringify({ model: tok.model, pre: tok.pre, tokens, types, merges: tok.merges ?? [] }));
  const tokenizer = new HfLosslessTokenizer(text, json, tokenizerSha256);

  const fileType = meta.general.file_type;
  // Flash attention and the KV cache's type change the numbers: both are fixed here and named in the runtime.
  const flashAttention = device !== 'cpu';
  const identity: ModelIdentity = {
    id: opts.id,
    weightsSha256: await sha256File(file),
    tokenizerSha256,
    dtype: fileType === undefined ? 'unknown' : (FILE_TYPES[fileType] ?? `ftype-${fileType}`),
    device,
    runtime: `node-llama-cpp ${nodeLlamaCppVersion()} llama.cpp ${LLAMA_RELEASE} (${llama.buildType}) ${device} kv-f16${flashAttention ? ' flash-attn' : ''}`,
    weightsBytes: (await stat(file)).size,
    files: [file],
  };
  const bos = api.bos(vocab);
  const startToken = bos >= 0 ? bos : api.eos(vocab);
  const contextLength = Math.min(api.nCtxTrain(model), opts.maxContext ?? Infinity);
  // One core is left to JavaScript: the quantizer runs between decodes while llama.cpp's
  // workers spin-wait, and on 2 cores shared with another process 2 threads ran at 23–152
  // tokens/s where 1 thread ran at ~1,000 (7m, 4 rows).
  const threads = opts.threads ?? Math.max(1, llama.cpuMathCores - 1);
  const vocabSize = api.nTokens(vocab);
  const settings: ContextSettings = { contextLength, vocabSize, threads, flashAttention };
  // KV shift is the default where positions are rotary (the shifted keys are re-rotated: bits
  // as re-priming's, measured) and only offered where they are learned (GPT-2: +0.9% bits).
  const shifts = canShift(api, model, threads);
  const rotary = api.ropeType(model) !== ROPE_NONE;
  const codingSteps = !shifts ? [JS_QUANTIZER_KIND] : rotary ? [KV_SHIFT_KIND, JS_QUANTIZER_KIND] : [JS_QUANTIZER_KIND, KV_SHIFT_KIND];
  // Batches not yet disposed by their codec run (an error mid-run): freed before the model.
  const live = new Set<LlamaCppBatch>();
  let disposed = false;

  return {
    identity,
    contextLength,
    vocabSize,
    startToken,
    tokenizer,
    codingSteps,
    ...(shifts ? { contextShifts: { reprime: JS_QUANTIZER_KIND, kv: KV_SHIFT_KIND } } : {}),
    open(batch: number, codingStep = codingSteps[0]): ModelBatch {
      if (!codingSteps.includes(codingStep)) throw new GgufModelError(`model ${opts.id} (llama.cpp) cannot run coding step ${codingStep} (it has: ${codingSteps.join(', ')})`);
      if (disposed) throw new GgufModelError(`model ${opts.id} was disposed`);
      const logits = new LlamaCppBatch(api, model, batch, settings, live, codingStep === KV_SHIFT_KIND);
      return new JsQuantizerBatch(logits, batch, vocabSize, codingStep, tableThreads());
    },
    /** Logits with re-priming slides: what `js-quantizer/1` runs on, for the mix. */
    openLogits(batch: number): LogitsBatch {
      if (disposed) throw new GgufModelError(`model ${opts.id} was disposed`);
      return new LlamaCppBatch(api, model, batch, settings, live, false);
    },
    async dispose() {
      // Only the model: the `Llama` is shared (llamaFor).
      if (disposed) return;
      for (const b of live) b.dispose();
      api.freeModel(model);
      disposed = true;
    },
  };
}

/** Whether llama.cpp can shift this model's KV cache (asked of a one-row context). */
function canShift(api: LlamaApi, model: unknown, threads: number): boolean {
  const p = api.contextDefaults();
  Object.assign(p, { n_ctx: 256, n_batch: 256, n_ubatch: 256, n_seq_max: 1, n_threads: threads, n_threads_batch: threads, no_perf: true });
  const ctx = api.initContext(model, p);
  if (!ctx) return false;
  try {
    return api.canShift(api.memory(ctx));
  } finally {
    api.freeContext(ctx);
  }
}

/**
 * Threads building the tables: every core by default, since llama.cpp is idle while they are
 * built (env COMPRESS_BENCH_TABLE_THREADS overrides; 1: the main thread alone). The tables are the
 * same whichever thread builds a row.
 */
function tableThreads(): number {
  const env = Number(process.env.COMPRESS_BENCH_TABLE_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : availableParallelism();
}

interface ContextSettings {
  contextLength: number;
  vocabSize: number;
  threads: number;
  flashAttention: boolean;
}

/** Tokens per `llama_decode`: a re-prime of many rows is cut into calls of this size (the same cuts on both sides). */
const MAX_DECODE_TOKENS = 2048;

/**
 * One llama.cpp context with one KV sequence per row. Each step: drop the rows' caches on a
 * reset, add every row's `n` tokens (an output at the last), decode, and hand the rows' logits
 * to the quantizer. Rows are stepped even past their end (the coder ignores them) so that every
 * call has the same shape on both sides.
 */
class LlamaCppBatch implements LogitsBatch {
  private ctx: unknown;
  private batchViews?: BatchViews;
  private past = 0;
  private out?: Float32Array;
  /** Native address of the last forward's logits, when one decode call held every row. */
  private address?: bigint;

  constructor(
    private readonly api: LlamaApi,
    private readonly model: unknown,
    private readonly batch: number,
    private readonly settings: ContextSettings,
    private readonly live: Set<LlamaCppBatch>,
    private readonly shift: boolean,
  ) {}

  dispose(): void {
    if (!this.ctx) return;
    this.api.batchFree(this.batchViews!.value);
    this.api.freeContext(this.ctx);
    this.ctx = this.batchViews = undefined;
    this.live.delete(this);
  }

  private context(): unknown {
    if (this.ctx) return this.ctx;
    const { contextLength, threads, flashAttention } = this.settings;
    const perRow = Number.isFinite(contextLength) ? contextLength : 2048;
    const p = this.api.contextDefaults();
    Object.assign(p, {
      n_ctx: Math.ceil((perRow * this.batch) / 256) * 256,
      n_batch: Math.max(perRow, Math.min(MAX_DECODE_TOKENS, perRow * this.batch)),
      n_seq_max: this.batch,
      n_threads: threads,
      n_threads_batch: threads,
      flash_attn_type: flashAttention ? 1 : 0,
      kv_unified: false, // one KV stream per row: rows never attend to each other's cells
      no_perf: true,
    });
    p.n_ubatch = Math.min(p.n_ubatch, p.n_batch);
    this.ctx = this.api.initContext(this.model, p);
    if (!this.ctx) throw new GgufModelError(`llama.cpp could not create a context for ${this.batch} rows of ${perRow} tokens`);
    this.batchViews = allocBatch(this.api, p.n_batch);
    this.live.add(this);
    return this.ctx;
  }

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array> {
    const ctx = this.context();
    const b = this.batchViews!;
    const B = this.batch;
    const V = this.settings.vocabSize;
    if (reset && this.shift && this.past > 0 && n > 1) {
      // A slide, by llama.cpp's KV shift: the window's first n − 1 tokens are the cache's
      // last n − 1 cells (the codec feeds exactly the history it re-primes from), so those
      // cells move to positions 0 … n − 2 and only the last token is decoded.
      const mem = this.api.memory(ctx);
      const keep = this.past - (n - 1);
      for (let r = 0; r < B; r++) {
        this.api.seqRm(mem, r, 0, keep);
        this.api.seqAdd(mem, r, keep, -1, -keep);
      }
      const last = new Int32Array(B);
      for (let r = 0; r < B; r++) last[r] = tokens[r * n + n - 1];
      this.past = n - 1;
      return this.forward(last, 1, false);
    }
    if (reset) {
      const mem = this.api.memory(ctx);
      if (this.past > 0) for (let r = 0; r < B; r++) this.api.seqRm(mem, r, -1, -1);
      this.past = 0;
    }
    // Rows go into decode calls of at most the batch's capacity, each row whole in one call; a
    // call's logits are read before the next call overwrites them.
    const perCall = Math.max(1, Math.floor(b.capacity / n));
    let logits: Float32Array | undefined;
    for (let first = 0; first < B; first += perCall) {
      const last = Math.min(B, first + perCall);
      let k = 0;
      for (let r = first; r < last; r++) {
        for (let i = 0; i < n; i++, k++) {
          b.token[k] = tokens[r * n + i];
          b.pos[k] = this.past + i;
          b.nSeqId[k] = 1;
          b.seqId[k][0] = r;
          b.logits[k] = i === n - 1 ? 1 : 0;
        }
      }
      b.value.n_tokens = k;
      const rc = this.api.decode(ctx, b.value);
      if (rc !== 0) throw new GgufModelError(`llama_decode failed (${rc}) for ${last - first} rows of ${n} tokens`);
      const pointer = this.api.logits(ctx);
      const view = viewOf(pointer, 4 * V * (last - first), Float32Array);
      this.address = undefined;
      if (first === 0 && last === B) [logits, this.address] = [view, addressOf(pointer)];
      else (this.out ??= new Float32Array(B * V)).set(view, first * V);
    }
    this.past += n;
    return logits ?? this.out!;
  }

  logitsAddress(): bigint | undefined {
    return this.address;
  }
}
