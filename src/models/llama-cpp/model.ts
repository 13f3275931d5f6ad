/**
 * The llama.cpp backend: a GGUF file on node-llama-cpp's prebuilt binaries, behind the same
 * `LanguageModel` interface as the ONNX models.
 *
 * node-llama-cpp's public API schedules sequences itself (its batching decides which
 * evaluations share a decode call) and hands back probabilities as a `Map`. For a codec the
 * encoder and the decoder must make the identical calls, so this backend drives the binding
 * underneath (`AddonContext`): per coding step one `decodeBatch` holding every row's tokens
 * (one sequence per row), logits requested at each row's last token, then per active row
 * `sampleToken(i, sampler, true)`, which returns the softmax over the WHOLE vocabulary
 * (llama/addon/AddonContext.cpp, AddonContextSampleTokenWorker: with a sampler chain that
 * changes no logit — greedy only — `cur_p` holds every token of `llama_get_logits_ith`).
 * Those probabilities, as log p, go to the JS quantizer (`js-quantizer/1`): softmax(log p) = p.
 *
 * The tokenizer is the GGUF's own (llama.cpp's `tokenize`), wrapped by the same lossless
 * layer as the Hugging Face tokenizers; the id → bytes table comes from the GGUF's
 * `tokenizer.ggml.tokens`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { LanguageModel, LogitsBatch, ModelBatch, ModelIdentity } from '../language-model.js';
import { HfLosslessTokenizer, type TextTokenizer } from '../hf-tokenizer.js';
import { sha256, sha256File } from '../../hash.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../../coding/js-quantizer-step.js';

export class GgufModelError extends Error {}

export interface GgufModelOptions {
  /** A `.gguf` file, or a folder holding exactly one. */
  path: string;
  /** Name to record (what the user typed). */
  id: string;
  device: 'cpu' | 'cuda' | 'vulkan';
  maxContext?: number;
  /** llama.cpp threads (default: node-llama-cpp's count of math cores). */
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

/** The minimum of node-llama-cpp's binding that this backend uses (dist/bindings/AddonTypes.d.ts). */
interface AddonContext {
  init(): Promise<boolean>;
  dispose(): Promise<void>;
  initBatch(size: number): void;
  addToBatch(sequenceId: number, firstTokenSequenceIndex: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(index: number, sampler: AddonSampler, probabilities: true): Promise<[number, number[] | undefined, number | undefined]>;
  removeTokenCellsFromSequence(sequenceId: number, startPos: number, endPos: number): boolean;
  getThreads(): number;
}
interface AddonSampler {
  applyConfig(config: Record<string, unknown>): void;
  dispose(): void;
}
interface AddonModel {
  tokenize(text: string, specialTokens: boolean): Uint32Array;
  tokenBos(): number;
  tokenEos(): number;
  getTrainContextSize(): number;
}
interface Bindings {
  AddonContext: new (model: AddonModel, params: Record<string, unknown>) => AddonContext;
  AddonSampler: new (model: AddonModel) => AddonSampler;
}

/** The installed node-llama-cpp's version (its package.json, which its `exports` do not expose). */
function nodeLlamaCppVersion(): string {
  const entry = createRequire(import.meta.url).resolve('node-llama-cpp'); // …/node-llama-cpp/dist/index.js
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

type Llama = Awaited<ReturnType<typeof import('node-llama-cpp').getLlama>>;
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
  let model;
  try {
    model = await llama.loadModel({ modelPath: file, gpuLayers: opts.device === 'cpu' ? 0 : 'max' });
  } catch (e) {
    throw new GgufModelError(`model ${opts.id} failed to load in llama.cpp: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
  }
  const addonModel = (model as unknown as { _model: AddonModel })._model;
  const bindings = (llama as unknown as { _bindings: Bindings })._bindings;
  const meta = model.fileInfo.metadata as unknown as {
    general: { file_type?: number; architecture: string };
    tokenizer?: { ggml?: { model?: string; pre?: string; tokens?: string[]; token_type?: number[]; merges?: string[] } };
  };
  const tok = meta.tokenizer?.ggml;
  if (!tok?.tokens?.length) throw new GgufModelError(`model ${opts.id}: the GGUF has no tokenizer (tokenizer.ggml.tokens)`);
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
  const text: TextTokenizer = { encode: (s: string) => Array.from(addonModel.tokenize(s, false)) };
  const tokenizerSha256 = sha256(JSON.stringify({ model: tok.model, pre: tok.pre, tokens, types, merges: tok.merges ?? [] }));
  const tokenizer = new HfLosslessTokenizer(text, json, tokenizerSha256);

  const gpu = llama.gpu || 'cpu';
  const device = opts.device === 'cpu' ? 'cpu' : gpu;
  const release = llama.llamaCppRelease;
  const fileType = meta.general.file_type;
  const identity: ModelIdentity = {
    id: opts.id,
    weightsSha256: await sha256File(file),
    tokenizerSha256,
    dtype: fileType === undefined ? 'unknown' : (FILE_TYPES[fileType] ?? `ftype-${fileType}`),
    device,
    runtime: `node-llama-cpp ${nodeLlamaCppVersion()} llama.cpp ${release.release} (${llama.buildType}) ${device}`,
    weightsBytes: (await stat(file)).size,
    files: [file],
  };
  const bos = addonModel.tokenBos();
  const startToken = bos >= 0 ? bos : addonModel.tokenEos();
  const contextLength = Math.min(addonModel.getTrainContextSize(), opts.maxContext ?? Infinity);
  const threads = opts.threads ?? Math.max(1, llama.cpuMathCores);
  const vocabSize = tokens.length;

  return {
    identity,
    contextLength,
    vocabSize,
    startToken,
    tokenizer,
    codingSteps: [JS_QUANTIZER_KIND],
    open(batch: number, codingStep = JS_QUANTIZER_KIND): ModelBatch {
      if (codingStep !== JS_QUANTIZER_KIND) throw new GgufModelError(`model ${opts.id} (llama.cpp) cannot run coding step ${codingStep} (it has: ${JS_QUANTIZER_KIND})`);
      return new JsQuantizerBatch(new LlamaCppBatch(bindings, addonModel, batch, contextLength, vocabSize, threads), batch, vocabSize);
    },
    async dispose() {
      // Only the model: the `Llama` is shared (llamaFor).
      await model.dispose();
    },
  };
}

/** Tokens per `decodeBatch`: a re-prime of many rows is cut into calls of this size (the same cuts on both sides). */
const MAX_DECODE_TOKENS = 2048;

/**
 * One llama.cpp context with one KV sequence per row. Each step: drop the rows' caches on a
 * reset, add every row's `n` tokens (logits at the last), decode, read every row's full
 * distribution. Rows are stepped even past their end (the coder ignores them) so that every
 * call has the same shape on both sides.
 */
class LlamaCppBatch implements LogitsBatch {
  private ctx?: Promise<AddonContext>;
  private readonly samplers: AddonSampler[];
  private past = 0;
  private readonly out: Float32Array;

  constructor(
    private readonly bindings: Bindings,
    private readonly model: AddonModel,
    private readonly batch: number,
    private readonly contextLength: number,
    private readonly vocabSize: number,
    private readonly threads: number,
  ) {
    // One sampler per row: a sampler keeps a candidates buffer, and rows are sampled concurrently.
    this.samplers = Array.from({ length: batch }, () => {
      const s = new bindings.AddonSampler(model);
      s.applyConfig({ temperature: 0 }); // greedy only: no logit is changed
      return s;
    });
    this.out = new Float32Array(batch * vocabSize);
  }

  private context(): Promise<AddonContext> {
    return (this.ctx ??= (async () => {
      const perRow = Number.isFinite(this.contextLength) ? this.contextLength : 2048;
      const ctx = new this.bindings.AddonContext(this.model, {
        contextSize: Math.ceil((perRow * this.batch) / 256) * 256,
        batchSize: Math.max(perRow, Math.min(MAX_DECODE_TOKENS, perRow * this.batch)),
        sequences: this.batch,
        threads: this.threads,
        flashAttention: false,
      });
      if (!(await ctx.init())) throw new GgufModelError(`llama.cpp could not create a context for ${this.batch} rows of ${perRow} tokens`);
      return ctx;
    })());
  }

  async forward(tokens: Int32Array, n: number, reset: boolean): Promise<Float32Array> {
    const ctx = await this.context();
    const B = this.batch;
    if (reset) {
      if (this.past > 0) for (let r = 0; r < B; r++) ctx.removeTokenCellsFromSequence(r, 0, -1);
      this.past = 0;
    }
    const logitAt = new Int32Array(B);
    // Rows go into decode calls of at most MAX_DECODE_TOKENS tokens, each row whole in one
    // call; a call's logits are read before the next call overwrites them.
    const perCall = Math.max(1, Math.floor(MAX_DECODE_TOKENS / n));
    for (let first = 0; first < B; first += perCall) {
      const last = Math.min(B, first + perCall);
      ctx.initBatch((last - first) * n);
      for (let r = first; r < last; r++) {
        const ids = Uint32Array.from(tokens.subarray(r * n, r * n + n));
        logitAt[r] = ctx.addToBatch(r, this.past, ids, Uint32Array.of(n - 1))[0];
      }
      await ctx.decodeBatch();
      await this.read(ctx, logitAt, first, last);
    }
    this.past += n;
    return this.out;
  }

  /** Rows [from, to)'s full next-token distributions → log p into `out` (0-probability tokens: −∞). */
  private async read(ctx: AddonContext, logitAt: Int32Array, from: number, to: number): Promise<void> {
    const V = this.vocabSize;
    const got = await Promise.all(Array.from({ length: to - from }, (_, k) => ctx.sampleToken(logitAt[from + k], this.samplers[from + k], true)));
    got.forEach(([, probs], k) => {
      if (!probs || probs.length !== 2 * V) throw new GgufModelError(`llama.cpp returned ${probs ? probs.length / 2 : 0} probabilities, expected the whole vocabulary (${V})`);
      const base = (from + k) * V;
      for (let i = 0; i < probs.length; i += 2) this.out[base + probs[i]] = Math.log(probs[i + 1]);
    });
  }
}
