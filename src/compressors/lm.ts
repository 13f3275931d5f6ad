/**
 * The LM compressor: a `LanguageModel` + the LM codec + the archive container, as a
 * `Compressor`. Its archive carries the model's identity; decompressing with another model,
 * tokenizer or dtype is refused with both hashes named.
 */
import type { ConditionalCompressor, CompressStats, DecompressorSize, ProgressHooks, Reach } from './compressor.js';
import type { LanguageModel, LosslessTokenizer, ModelIdentity } from '../step/language-model.js';
import { MAX_SEGMENTS, decodeTokens, encodeTokens, resolveSettings, type CodecOptions } from '../coding/lm-codec.js';
import { ArchiveError, crc32Of, readArchive, writeArchive, type ArchiveHeader } from '../coding/container.js';
import { FREQUENCY_TOTAL } from '../step/frequencies.js';
import { isMixStep } from '../step/coding-steps.js';

const FREQUENCY_BITS = Math.log2(FREQUENCY_TOTAL);

export class ModelMismatchError extends Error {}

export interface LmOptions extends CodecOptions {
  /**
   * Decode an archive made on another runtime (onnxruntime version, device, CPU architecture
   * or OS). Off by default: floating point may differ there. The original's checksum still
   * turns any difference into an error, never into wrong output.
   */
  allowOtherRuntime?: boolean;
}

/** What the archive records as the runtime: floating point is only promised equal on the same one. */
export function runtimeOf(model: LanguageModel): string {
  return `${model.identity.runtime} ${process.arch} ${process.platform}`;
}

export class LmCompressor implements ConditionalCompressor {
  readonly family: string;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly reach: Reach;
  private stats?: CompressStats;

  constructor(
    readonly model: LanguageModel,
    private readonly options: LmOptions = {},
  ) {
    const id = model.identity;
    if (model.defaultSegments !== undefined && (options.segments === undefined || options.segments === 'auto')) this.options = options = { ...options, segments: model.defaultSegments };
    this.family = model.family ?? 'lm';
    const dtype = id.dtype === 'fp32' || id.dtype === 'none' ? '' : `:${id.dtype}`;
    this.name = this.family === 'order-k' ? id.id : `${this.family}:${id.id}${dtype}`;
    const { allowOtherRuntime: _, ...codec } = options;
    this.settings = { model: id.id, dtype: id.dtype, device: id.device, codingStep: model.codingSteps[0], ...codec };
    const window = Math.min(options.contextLength ?? Infinity, model.contextLength);
    this.reach = {
      unit: 'tokens',
      window,
      note: Number.isFinite(window)
        ? `${window} tokens of context; the window slides keeping ${options.primeTokens ?? Math.floor(window / 2)} tokens` +
          (model.reachNote ? `; ${model.reachNote}` : '')
        : 'unbounded: adaptive statistics over everything seen in the segment',
    };
  }

  get modelIdentity(): ModelIdentity {
    return this.model.identity;
  }

  get tokenizer(): LosslessTokenizer {
    return this.model.tokenizer;
  }

  async decompressorSize(): Promise<DecompressorSize> {
    const id = this.model.identity;
    if (this.model.decompressorSize) return this.model.decompressorSize;
    return { bytes: id.weightsBytes, source: `measured: ${id.files.map((f) => f.split('/').slice(-2).join('/')).join(' + ')}` };
  }

  lastStats(): CompressStats | undefined {
    return this.stats;
  }

  async compress(input: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array> {
    return this.compressAfter(input, new Uint8Array(0), hooks);
  }

  async decompress(archive: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array> {
    return this.decompressAfter(archive, new Uint8Array(0), hooks);
  }

  /** The primer's tokens: the last `primerTokens` tokens of `context` (0 = none). */
  primerOf(context: Uint8Array, primerTokens: number): Int32Array {
    if (primerTokens <= 0 || context.length === 0) return new Int32Array(0);
    const tokens = this.model.tokenizer.encode(context);
    return tokens.slice(Math.max(0, tokens.length - primerTokens));
  }

  /**
   * Conditional compression C(input | context): code `input` after the model has seen the
   * tail of `context` (up to `primerTokens` tokens, or --prime-context), which is not charged.
   * The same context must be given to `decompressAfter`.
   */
  async compressAfter(input: Uint8Array, context: Uint8Array, hooks?: ProgressHooks, primerTokens = this.options.primerTokens ?? 0): Promise<Uint8Array> {
    const primer = this.primerOf(context, primerTokens);
    const t0 = performance.now();
    const tokens = this.model.tokenizer.encode(input);
    const tokenize = (performance.now() - t0) / 1000;
    // Every token stands for ≥ 1 byte: the decoder relies on it to bound untrusted token counts.
    if (tokens.length > input.length) throw new Error(`tokenizer produced ${tokens.length} tokens for ${input.length} bytes`);
    const settings = resolveSettings(this.model, tokens.length, this.options, primer);
    const enc = await encodeTokens(this.model, tokens, settings, (d, t) => hooks?.progress?.(d, t, 'encode'));
    const t1 = performance.now();
    const id = this.model.identity;
    const header: ArchiveHeader = {
      originalLength: input.length,
      originalCrc32: crc32Of(input),
      modelId: id.id,
      weightsSha256: id.weightsSha256,
      tokenizerSha256: id.tokenizerSha256,
      dtype: id.dtype,
      runtime: runtimeOf(this.model),
      codingStep: enc.settings.codingStep!,
      frequencyBits: FREQUENCY_BITS,
      contextLength: settings.contextLength,
      primeTokens: settings.primeTokens,
      startToken: this.model.startToken,
      primerTokens: primer.length,
      primerCrc32: crc32Of(new Uint8Array(primer.buffer, primer.byteOffset, primer.byteLength)),
      segments: enc.lengths.map((tokens, i) => ({ tokens, bytes: enc.streams[i].length })),
    };
    const archive = writeArchive(header, enc.streams);
    const payloadBytes = enc.streams.reduce((a, s) => a + s.length, 0);
    this.stats = {
      idealBits: enc.idealBits,
      tokens: tokens.length,
      // Bytes the tokenizer could not reproduce, coded as single-byte tokens (~0 on plain text).
      ...(this.model.tokenizer.lastStats ? { byteFallbackBytes: this.model.tokenizer.lastStats.byteFallbackBytes } : {}),
      timing: { tokenize, ...enc.timing, container: (performance.now() - t1) / 1000 },
      codec: { codingStep: enc.settings.codingStep, segments: settings.segments, contextLength: settings.contextLength, primeTokens: settings.primeTokens, primerTokens: primer.length, payloadBytes, containerBytes: archive.length - payloadBytes, tableBits: enc.tableBits },
    };
    return archive;
  }

  async decompressAfter(archive: Uint8Array, context: Uint8Array, hooks?: ProgressHooks): Promise<Uint8Array> {
    const { header, streams } = readArchive(archive);
    assertSameModel(header, this.model, this.options.allowOtherRuntime);
    validateHeader(header, this.model);
    const primer = this.primerOf(context, header.primerTokens);
    if (primer.length !== header.primerTokens || crc32Of(new Uint8Array(primer.buffer, primer.byteOffset, primer.byteLength)) !== header.primerCrc32) {
      throw new ArchiveError(
        `archive was coded after a context of ${header.primerTokens} tokens; the context given does not match it`,
      );
    }
    if (header.frequencyBits !== FREQUENCY_BITS) {
      throw new ArchiveError(`archive uses ${header.frequencyBits}-bit frequencies; this build codes ${FREQUENCY_BITS}-bit`);
    }
    const lengths = header.segments.map((s) => s.tokens);
    const settings = {
      segments: lengths.length,
      contextLength: header.contextLength,
      primeTokens: header.primeTokens,
      codingStep: header.codingStep,
      ...(primer.length ? { primer } : {}),
    };
    const { tokens, timing } = await decodeTokens(this.model, streams, lengths, settings, (d, t) =>
      hooks?.progress?.(d, t, 'decode'),
    );
    const t0 = performance.now();
    const out = this.model.tokenizer.decode(tokens);
    if (this.stats) this.stats.decodeTiming = { ...timing, detokenize: (performance.now() - t0) / 1000 };
    if (out.length !== header.originalLength || crc32Of(out) !== header.originalCrc32) {
      const here = runtimeOf(this.model);
      throw new ArchiveError(
        here === header.runtime
          ? 'archive is corrupt: its coded payload does not decode to the original (checksum mismatch with the same model and runtime as the encoder)'
          : `decoded data fails its checksum: the model computed different probabilities than when encoding ` +
              `(encoded with ${header.runtime}; decoding with ${here}). Decode on the same runtime and hardware.`,
      );
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** The LM compressor as the boundary sees it: for callers (the runner's job, joint) that need no more. */
export function lmCompressor(model: LanguageModel, options: LmOptions = {}): ConditionalCompressor {
  return new LmCompressor(model, options);
}

/**
 * An archive's header is untrusted (a CRC can be recomputed): check every field against what
 * the input and the model allow before any model call, so a crafted header cannot make the
 * decoder run for minutes, grow without bound, or reach the runtime with impossible shapes.
 */
export function validateHeader(header: ArchiveHeader, model: LanguageModel): void {
  const bad = (why: string) => new ArchiveError(`archive header is invalid: ${why}`);
  const tokens = header.segments.reduce((a, s) => a + s.tokens, 0);
  if (tokens > header.originalLength) throw bad(`${tokens} tokens cannot decode to ${header.originalLength} bytes (each token is at least one byte)`);
  if (header.originalLength > 0 && header.segments.length === 0) throw bad(`${header.originalLength} bytes but no segments`);
  if (header.segments.some((s) => s.tokens === 0)) throw bad('a segment holds no tokens');
  if (header.segments.length > MAX_SEGMENTS) throw bad(`${header.segments.length} segments (at most ${MAX_SEGMENTS})`);
  const ctx = header.contextLength;
  if (Number.isFinite(model.contextLength) ? !(ctx >= 2 && ctx <= model.contextLength) : Number.isFinite(ctx)) {
    throw bad(`context of ${ctx} tokens (this model allows 2 to ${model.contextLength})`);
  }
  if (Number.isFinite(ctx) && !(header.primeTokens >= 1 && header.primeTokens < ctx)) {
    throw bad(`prime of ${header.primeTokens} tokens must be between 1 and ${ctx - 1}`);
  }
  if (Number.isFinite(ctx) && header.primerTokens + 1 >= ctx) throw bad(`a primer of ${header.primerTokens} tokens does not fit a context of ${ctx}`);
}

export function assertSameModel(header: ArchiveHeader, model: LanguageModel, allowOtherRuntime = false): void {
  const id = model.identity;
  const problems: string[] = [];
  if (header.weightsSha256 !== id.weightsSha256) {
    problems.push(`weights: archive expects ${header.weightsSha256}, found ${id.weightsSha256}`);
  }
  if (header.tokenizerSha256 !== id.tokenizerSha256) {
    problems.push(`tokenizer: archive expects ${header.tokenizerSha256}, found ${id.tokenizerSha256}`);
  }
  if (header.startToken !== model.startToken) problems.push(`start token: archive expects ${header.startToken}`);
  if (!allowOtherRuntime && header.runtime !== runtimeOf(model)) {
    problems.push(`runtime: archive was coded with ${header.runtime}, this is ${runtimeOf(model)} (--allow-other-runtime to try anyway; the checksum still guards the output)`);
  }
  if (!model.codingSteps.includes(header.codingStep)) {
    const hint = isMixStep(header.codingStep) && model.family !== 'mix' ? ' (a mix: archive: decode it with mix:' + header.modelId + ')' : '';
    problems.push(`coding step: archive expects ${header.codingStep}, this model runs ${model.codingSteps.join(' or ')}${hint}`);
  }
  if (problems.length) {
    throw new ModelMismatchError(
      `archive was made with model ${header.modelId} (${header.dtype}) but ${id.id} (${id.dtype}) is loaded: ${problems.join('; ')}`,
    );
  }
}
