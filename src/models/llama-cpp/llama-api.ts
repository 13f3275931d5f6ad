/**
 * The part of llama.cpp's C API (`llama.h`) this backend calls, through the koffi FFI, on the
 * very library node-llama-cpp has loaded.
 *
 * Why not node-llama-cpp's own binding: 3.21.1 hands a distribution back only through
 * `sampleToken(…, true)`, which sorts all V candidates and builds a 2·V-element JS array per
 * row (13–27 ms per 50k row here, ~15× the model itself). `llama_get_logits` is a pointer to
 * the logits of the last decode, which a typed-array view reads without a copy.
 *
 * node-llama-cpp stays the provider of the binaries (its prebuilt npm packages), of the GPU
 * detection and backend loading (`getLlama`), and of the GGUF metadata reader. dlopen of a
 * loaded library returns the same handle, so the model and context below share the backends
 * it registered.
 *
 * The struct layouts are those of the llama.cpp release node-llama-cpp 3.21.1 ships
 * (`llama/llama.cpp.info.json`: v0.4.0; its source is the package's `llama/gitRelease.bundle`,
 * `include/llama.h`). That is one reason node-llama-cpp is pinned exactly: another release may
 * move a field. `LLAMA_RELEASE` is checked against the loaded build before anything is called.
 */
import koffi from 'koffi';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The llama.cpp release whose `llama.h` the declarations below follow. */
export const LLAMA_RELEASE = 'v0.4.0';

export class LlamaApiError extends Error {}

type Ptr = unknown;

/** `struct llama_model_params` (llama.h). */
const ModelParams = koffi.struct({
  devices: 'void *',
  tensor_buft_overrides: 'void *',
  n_gpu_layers: 'int32_t',
  split_mode: 'int',
  load_mode: 'int',
  lazy_mode: 'int',
  main_gpu: 'int32_t',
  tensor_split: 'void *',
  progress_callback: 'void *',
  progress_callback_user_data: 'void *',
  kv_overrides: 'void *',
  vocab_only: 'bool',
  check_tensors: 'bool',
  use_extra_bufts: 'bool',
  no_host: 'bool',
  no_alloc: 'bool',
  load_mtp: 'bool',
});

/** `struct llama_context_params` (llama.h). */
const ContextParams = koffi.struct({
  n_ctx: 'uint32_t',
  n_batch: 'uint32_t',
  n_ubatch: 'uint32_t',
  n_seq_max: 'uint32_t',
  n_rs_seq: 'uint32_t',
  n_outputs_max: 'uint32_t',
  n_outputs_max_per_seq: 'uint32_t',
  n_threads: 'int32_t',
  n_threads_batch: 'int32_t',
  ctx_type: 'int',
  rope_scaling_type: 'int',
  pooling_type: 'int',
  attention_type: 'int',
  flash_attn_type: 'int',
  rope_freq_base: 'float',
  rope_freq_scale: 'float',
  yarn_ext_factor: 'float',
  yarn_attn_factor: 'float',
  yarn_beta_fast: 'float',
  yarn_beta_slow: 'float',
  yarn_orig_ctx: 'uint32_t',
  defrag_thold: 'float',
  cb_eval: 'void *',
  cb_eval_user_data: 'void *',
  type_k: 'int',
  type_v: 'int',
  abort_callback: 'void *',
  abort_callback_data: 'void *',
  embeddings: 'bool',
  offload_kqv: 'bool',
  no_perf: 'bool',
  op_offload: 'bool',
  swa_full: 'bool',
  kv_unified: 'bool',
  samplers: 'void *',
  n_samplers: 'size_t',
  ctx_other: 'void *',
});

/** `struct llama_batch` (llama.h); the arrays are llama.cpp's own (`llama_batch_init`). */
const Batch = koffi.struct({
  n_tokens: 'int32_t',
  token: 'void *',
  embd: 'void *',
  pos: 'void *',
  n_seq_id: 'void *',
  seq_id: 'void *',
  logits: 'void *',
});

interface ModelParamsValue {
  n_gpu_layers: number;
  [k: string]: unknown;
}
interface ContextParamsValue {
  n_ctx: number;
  n_batch: number;
  n_ubatch: number;
  n_seq_max: number;
  n_threads: number;
  n_threads_batch: number;
  flash_attn_type: number;
  type_k: number;
  type_v: number;
  kv_unified: boolean;
  no_perf: boolean;
  [k: string]: unknown;
}
interface BatchValue {
  n_tokens: number;
  token: Ptr;
  pos: Ptr;
  n_seq_id: Ptr;
  seq_id: Ptr;
  logits: Ptr;
  [k: string]: unknown;
}

function declare(lib: ReturnType<typeof koffi.load>) {
  // Struct types are passed as objects (not registered names): a test runner may load this module twice.
  type Spec = string | ReturnType<typeof koffi.opaque>;
  const fn = (name: string, ret: Spec, args: Spec[]) => lib.func(name, ret, args);
  return {
    modelDefaults: fn('llama_model_default_params', ModelParams, []) as () => ModelParamsValue,
    contextDefaults: fn('llama_context_default_params', ContextParams, []) as () => ContextParamsValue,
    loadModel: fn('llama_model_load_from_file', 'void *', ['const char *', ModelParams]) as (path: string, p: ModelParamsValue) => Ptr,
    freeModel: fn('llama_model_free', 'void', ['void *']) as (m: Ptr) => void,
    initContext: fn('llama_init_from_model', 'void *', ['void *', ContextParams]) as (m: Ptr, p: ContextParamsValue) => Ptr,
    freeContext: fn('llama_free', 'void', ['void *']) as (c: Ptr) => void,
    vocab: fn('llama_model_get_vocab', 'void *', ['void *']) as (m: Ptr) => Ptr,
    nTokens: fn('llama_vocab_n_tokens', 'int32_t', ['void *']) as (v: Ptr) => number,
    bos: fn('llama_vocab_bos', 'int32_t', ['void *']) as (v: Ptr) => number,
    eos: fn('llama_vocab_eos', 'int32_t', ['void *']) as (v: Ptr) => number,
    nCtxTrain: fn('llama_model_n_ctx_train', 'int32_t', ['void *']) as (m: Ptr) => number,
    tokenize: fn('llama_tokenize', 'int32_t', ['void *', 'const uint8_t *', 'int32_t', 'int32_t *', 'int32_t', 'bool', 'bool']) as (
      v: Ptr,
      text: Uint8Array,
      len: number,
      out: Int32Array,
      max: number,
      addSpecial: boolean,
      parseSpecial: boolean,
    ) => number,
    batchInit: fn('llama_batch_init', Batch, ['int32_t', 'int32_t', 'int32_t']) as (n: number, embd: number, seqs: number) => BatchValue,
    batchFree: fn('llama_batch_free', 'void', [Batch]) as (b: BatchValue) => void,
    decode: fn('llama_decode', 'int32_t', ['void *', Batch]) as (c: Ptr, b: BatchValue) => number,
    logits: fn('llama_get_logits', 'float *', ['void *']) as (c: Ptr) => Ptr,
    memory: fn('llama_get_memory', 'void *', ['void *']) as (c: Ptr) => Ptr,
    seqRm: fn('llama_memory_seq_rm', 'bool', ['void *', 'int32_t', 'int32_t', 'int32_t']) as (m: Ptr, s: number, p0: number, p1: number) => boolean,
    seqAdd: fn('llama_memory_seq_add', 'void', ['void *', 'int32_t', 'int32_t', 'int32_t', 'int32_t']) as (m: Ptr, s: number, p0: number, p1: number, d: number) => void,
    canShift: fn('llama_memory_can_shift', 'bool', ['void *']) as (m: Ptr) => boolean,
    /** `enum llama_rope_type`: −1 (LLAMA_ROPE_TYPE_NONE) for models without rotary positions. */
    ropeType: fn('llama_model_rope_type', 'int', ['void *']) as (m: Ptr) => number,
  };
}
export type LlamaApi = ReturnType<typeof declare>;

/**
 * The libllama node-llama-cpp loaded (call after `getLlama`). On Linux the process's own map
 * says which file that is; elsewhere the prebuilt package's bins folder is searched.
 */
function loadedLibrary(binsDir?: string): string {
  if (process.platform === 'linux') {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    for (const line of maps.split('\n')) {
      const path = line.slice(line.indexOf('/'));
      if (line.includes('/') && /\/libllama[^/]*\.so$/.test(path) && !/libllama-common/.test(path)) return path;
    }
  }
  if (binsDir && existsSync(binsDir)) {
    const found = readdirSync(binsDir).find((f) => /^libllama[^-].*\.(so|dylib|dll)$|^llama\.dll$/.test(f));
    if (found) return join(binsDir, found);
  }
  throw new LlamaApiError('cannot find the libllama that node-llama-cpp loaded');
}

let api: LlamaApi | undefined;
/** The C API on the loaded library (once per process). */
export function llamaApi(binsDir?: string): LlamaApi {
  return (api ??= declare(koffi.load(loadedLibrary(binsDir))));
}

/** A typed view of `bytes` of native memory at `ptr` (valid while llama.cpp keeps it). */
export function viewOf<T extends Int32Array | Int8Array | Float32Array>(ptr: Ptr, bytes: number, Type: { new (b: ArrayBuffer): T }): T {
  return new Type(koffi.view(ptr, bytes));
}

/** The native address of a pointer value, to tell whether llama.cpp moved a buffer. */
export const addressOf = (ptr: Ptr): bigint => koffi.address(ptr);

/** The `llama_batch` arrays as typed views: one sequence id per token. */
export interface BatchViews {
  value: BatchValue;
  capacity: number;
  token: Int32Array;
  pos: Int32Array;
  nSeqId: Int32Array;
  seqId: Int32Array[];
  logits: Int8Array;
}

export function allocBatch(llama: LlamaApi, capacity: number): BatchViews {
  const value = llama.batchInit(capacity, 0, 1);
  const seqPtrs = koffi.decode(value.seq_id, koffi.array('void *', capacity)) as Ptr[];
  return {
    value,
    capacity,
    token: viewOf(value.token, 4 * capacity, Int32Array),
    pos: viewOf(value.pos, 4 * capacity, Int32Array),
    nSeqId: viewOf(value.n_seq_id, 4 * capacity, Int32Array),
    seqId: seqPtrs.map((p) => viewOf(p, 4, Int32Array)),
    logits: viewOf(value.logits, capacity, Int8Array),
  };
}
