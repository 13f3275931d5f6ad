/**
 * The LM codec: tokens ⇄ S range-coded segment streams, driven by a `LanguageModel`.
 *
 * Determinism lives in one place, the model's coding step (`ModelBatch.step`, driven by
 * `SegmentStepper.stepAt`): given the tokens known so far, it makes the model call for
 * position t (a one-token step, or a re-prime of the sliding window) and returns each row's
 * interval in the integer frequency table. The encoder and the decoder both call it for
 * t = 0, 1, 2, … with the same shapes, so they see the same tables; they differ only in
 * asking for a given symbol (encoder) or for the symbol under the coder's target (decoder). Decoding is
 * therefore O(n) model steps, exactly like encoding (no full-sequence pass on one side and
 * cached steps on the other, the numerical trap of LLMZip-style decoders).
 *
 * Segments: the token sequence is cut into S contiguous, independent segments stepped as one
 * batch (throughput), each coded into its own stream. Sliding context: when a row's cache
 * would exceed `contextLength`, the cache is dropped and re-primed with the last
 * `primeTokens` tokens, at the same step t on both sides.
 */
import { SettingError } from '../common/setting-error.js';
import type { CodingAnswer, CodingQuery, LanguageModel, ModelBatch } from '../step/language-model.js';
import { MAX_TOTAL, RangeDecoder, RangeEncoder } from './range-coder.js';
import { FREQUENCY_TOTAL } from '../step/frequencies.js';

// The step's tables must fit the coder's precision (the step sits below the codec, so it cannot import this).
if (FREQUENCY_TOTAL > MAX_TOTAL) throw new Error(`FREQUENCY_TOTAL ${FREQUENCY_TOTAL} exceeds the range coder's MAX_TOTAL ${MAX_TOTAL}`);

export interface CodecSettings {
  /** Independent segments stepped as one batch. More: faster, slightly worse bpb (cold starts). */
  segments: number;
  /** Positions the model attends to, start token included (≤ the model's maximum). */
  contextLength: number;
  /** Tokens kept when the window slides; the cache is rebuilt from them. */
  primeTokens: number;
  /**
   * Context fed before every segment and not coded (conditional compression C(B|A): A's last
   * tokens). Both sides must pass the same primer; the archive stores its length and CRC.
   */
  primer?: Int32Array;
  /** The model's coding step (`onnx-graph/1`, `js-quantizer/1`); default: its preferred one. */
  codingStep?: string;
}

export interface CodecOptions {
  /**
   * Segment count (the batch), or `auto`: one per `tokensPerSegment` tokens, at most
   * `maxSegments` (by device: where the measured tokens/s curve flattens). Default `auto`.
   */
  segments?: number | 'auto';
  tokensPerSegment?: number;
  maxSegments?: number;
  /** Default: the model's context length. */
  contextLength?: number;
  /** Default: half the context. */
  primeTokens?: number;
  /** Conditional coding: how many tokens of the given context to prime with (default 0). */
  primerTokens?: number;
  /** Force a coding step (e.g. `js-quantizer/1` for comparisons); default: the model's preferred. */
  codingStep?: string;
  /** How the window slides (`--context-shift`): picks the model's coding step for it (`LanguageModel.contextShifts`). */
  contextShift?: 'reprime' | 'kv';
}

/**
 * `--segments auto`: at least this many tokens per segment, so cold starts stay cheap: each
 * costs a fixed number of bits, +0.10% at 8 segments and +0.43% at 32 on alice29.txt's 47k
 * tokens (docs/throughput.md), more on short inputs, while on 2 CPU cores the 7m model's
 * encode rate was the same at 8 and 32 rows.
 */
export const DEFAULT_TOKENS_PER_SEGMENT = 4096;
/**
 * `--segments auto` caps the batch near where throughput stops growing: on 2 CPU cores the 7m
 * model's short-context encode rate grows to 32–64 rows and then flattens (docs/throughput.md;
 * over a whole file the KV-cache copies grow with the batch, so 8 and 32 rows ran alike); a GPU
 * wants hundreds of rows per call.
 */
export const DEFAULT_MAX_SEGMENTS: Record<string, number> = { cpu: 32, cuda: 256 };
/** Largest batch an archive may ask for: bounds what a crafted header can make the decoder allocate. */
export const MAX_SEGMENTS = 4096;

export function resolveSettings(model: LanguageModel, tokens: number, opts: CodecOptions = {}, primer?: Int32Array): CodecSettings {
  const contextLength = Math.min(opts.contextLength ?? model.contextLength, model.contextLength);
  if (!(contextLength >= 2)) throw new Error(`context length must be at least 2 tokens, got ${contextLength}`);
  const primeTokens = opts.primeTokens ?? (Number.isFinite(contextLength) ? Math.floor(contextLength / 2) : 0);
  if (Number.isFinite(contextLength) && !(primeTokens >= 1 && primeTokens < contextLength)) {
    throw new SettingError('primeTokens', String(primeTokens), `must be between 1 and ${contextLength - 1} tokens`);
  }
  let segments: number;
  if (opts.segments === undefined || opts.segments === 'auto') {
    const per = opts.tokensPerSegment ?? DEFAULT_TOKENS_PER_SEGMENT;
    const max = opts.maxSegments ?? DEFAULT_MAX_SEGMENTS[model.identity.device] ?? DEFAULT_MAX_SEGMENTS.cpu;
    segments = Math.min(max, Math.ceil(tokens / per));
  } else segments = opts.segments;
  if (!Number.isInteger(segments) || segments < 0 || segments > MAX_SEGMENTS) {
    throw new SettingError('segments', String(segments), `must be a positive integer up to ${MAX_SEGMENTS}, or auto`);
  }
  segments = Math.max(Math.min(segments, tokens), tokens > 0 ? 1 : 0);
  if (primer && primer.length + 1 >= contextLength) {
    throw new Error(`a primer of ${primer.length} tokens does not fit a context of ${contextLength}`);
  }
  let codingStep = opts.codingStep ?? model.codingSteps[0];
  if (opts.contextShift && model.contextShifts) codingStep = model.contextShifts[opts.contextShift];
  else if (opts.contextShift === 'kv') throw new SettingError('contextShift', 'kv', `${model.identity.id} re-primes only (KV shift is llama.cpp's, for GGUF models whose cache can shift)`);
  if (!model.codingSteps.includes(codingStep)) {
    throw new Error(`coding step ${codingStep} is not available for this model (it has: ${model.codingSteps.join(', ')})`);
  }
  return { segments, contextLength, primeTokens, codingStep, ...(primer?.length ? { primer } : {}) };
}

/** Lengths of S contiguous segments covering `tokens`, as even as possible. */
export function segmentLengths(tokens: number, segments: number): number[] {
  const base = Math.floor(tokens / segments);
  return Array.from({ length: segments }, (_, i) => base + (i < tokens % segments ? 1 : 0));
}

/** Seconds, as recorded in run records (`timing`). */
export interface CodecTiming {
  /** Inside the runtime's call (`session.run`): the model, and with `onnx-graph/1` the tables too. */
  forward: number;
  /** In the coding step outside that call: feeds, and with `js-quantizer/1` the JS quantizer (the name predates the graph). */
  quantize: number;
  /** In the range coder. */
  coder: number;
}

export interface Progress {
  (done: number, total: number): void;
}

/** The one shared step, driven position by position: the model call for position t of every segment. */
class SegmentStepper {
  readonly rows: Int32Array[];
  private readonly batch: ModelBatch;
  private pastLength = 0;
  readonly query: CodingQuery;
  readonly timing: CodecTiming = { forward: 0, quantize: 0, coder: 0 };

  constructor(
    private readonly model: LanguageModel,
    readonly lengths: number[],
    private readonly settings: CodecSettings,
  ) {
    this.rows = lengths.map((l) => new Int32Array(l));
    this.batch = model.open(lengths.length, settings.codingStep);
    const S = lengths.length;
    this.query = { symbols: new Int32Array(S), targets: new Int32Array(S), active: new Uint8Array(S) };
  }

  get codingStep(): string {
    return this.batch.codingStep;
  }

  dispose(): void {
    this.batch.dispose?.();
  }

  /** Token at position j of row r, or the start token past the row's end (padding). */
  private tokenAt(r: number, j: number): number {
    return j >= 0 && j < this.lengths[r] ? this.rows[r][j] : this.model.startToken;
  }

  /**
   * The coding step for position t of every row; `query` says per row which symbol to code
   * (encoder) or which target to decode (decoder). Requires rows[r][0..t) to be known.
   */
  async stepAt(t: number): Promise<CodingAnswer> {
    const S = this.lengths.length;
    const { contextLength, primeTokens } = this.settings;
    let n: number;
    let reset: boolean;
    let input: Int32Array;
    if (t === 0) {
      const primer = this.settings.primer ?? new Int32Array(0);
      n = 1 + primer.length;
      [reset, input] = [true, new Int32Array(S * n)];
      for (let r = 0; r < S; r++) {
        input[r * n] = this.model.startToken;
        input.set(primer, r * n + 1);
      }
    } else if (this.pastLength + 1 > contextLength) {
      // Slide: rebuild the cache from the last K tokens (same step t on both sides).
      [n, reset, input] = [primeTokens, true, new Int32Array(S * primeTokens)];
      for (let r = 0; r < S; r++) for (let i = 0; i < n; i++) input[r * n + i] = this.tokenAt(r, t - n + i);
    } else {
      [n, reset, input] = [1, false, new Int32Array(S)];
      for (let r = 0; r < S; r++) input[r] = this.tokenAt(r, t - 1);
    }
    for (let r = 0; r < S; r++) this.query.active[r] = t < this.lengths[r] ? 1 : 0;
    const run0 = this.batch.runSeconds ?? 0;
    const t0 = performance.now();
    const answer = await this.batch.step(input, n, reset, this.query);
    const secs = (performance.now() - t0) / 1000;
    const run = (this.batch.runSeconds ?? secs + run0) - run0;
    this.pastLength = reset ? n : this.pastLength + n;
    this.timing.forward += run;
    this.timing.quantize += secs - run;
    return answer;
  }
}

/**
 * Walk positions t = 0, 1, … of every segment through the shared step. `ask` fills the
 * query of row r at t (encoder: its symbol; decoder: −1 and the coder's target), `code`
 * writes (encoder) or reads (decoder) it with the interval the step returned. These two
 * callbacks are the only difference between the directions.
 */
async function forEachPosition(
  stepper: SegmentStepper,
  progress: Progress | undefined,
  ask: (query: CodingQuery, row: number, t: number) => void,
  code: (answer: CodingAnswer, row: number, t: number) => void,
): Promise<void> {
  const total = stepper.lengths.reduce((a, b) => a + b, 0);
  const steps = Math.max(0, ...stepper.lengths);
  const S = stepper.lengths.length;
  try {
    for (let t = 0; t < steps; t++) {
      for (let r = 0; r < S; r++) {
        stepper.query.symbols[r] = 0;
        stepper.query.targets[r] = 0;
        if (t < stepper.lengths[r]) ask(stepper.query, r, t);
      }
      const answer = await stepper.stepAt(t);
      const t0 = performance.now();
      for (let r = 0; r < S; r++) if (t < stepper.lengths[r]) code(answer, r, t);
      stepper.timing.coder += (performance.now() - t0) / 1000;
      progress?.(Math.min(total, (t + 1) * S), total);
    }
  } finally {
    stepper.dispose();
  }
}

export interface EncodeResult {
  settings: CodecSettings;
  /** One coded stream per segment. */
  streams: Uint8Array[];
  lengths: number[];
  /** Σ −log2 p under the model's own softmax. */
  idealBits: number;
  /** Σ −log2(freq/total) under the quantized tables: what the range coder itself aims at. */
  tableBits: number;
  timing: CodecTiming;
}

export async function encodeTokens(
  model: LanguageModel,
  tokens: Int32Array,
  settings: CodecSettings,
  progress?: Progress,
): Promise<EncodeResult> {
  const lengths = segmentLengths(tokens.length, settings.segments);
  const stepper = new SegmentStepper(model, lengths, settings);
  let offset = 0;
  for (let r = 0; r < lengths.length; r++) {
    stepper.rows[r].set(tokens.subarray(offset, offset + lengths[r]));
    offset += lengths[r];
  }
  const coders = lengths.map(() => new RangeEncoder());
  let ideal = 0;
  let tableBits = 0;
  await forEachPosition(
    stepper,
    progress,
    (query, r, t) => (query.symbols[r] = stepper.rows[r][t]),
    (a, r, t) => {
      if (a.symbols[r] !== stepper.rows[r][t]) throw new Error(`coding step returned symbol ${a.symbols[r]} for ${stepper.rows[r][t]}`);
      coders[r].encode(a.low[r], a.freq[r], FREQUENCY_TOTAL);
      ideal -= a.log2p[r];
      tableBits += Math.log2(FREQUENCY_TOTAL / a.freq[r]);
    },
  );
  return { settings: { ...settings, codingStep: stepper.codingStep }, streams: coders.map((c) => c.finish()), lengths, idealBits: ideal, tableBits, timing: stepper.timing };
}

export async function decodeTokens(
  model: LanguageModel,
  streams: Uint8Array[],
  lengths: number[],
  settings: CodecSettings,
  progress?: Progress,
): Promise<{ tokens: Int32Array; timing: CodecTiming }> {
  const stepper = new SegmentStepper(model, lengths, settings);
  const coders = streams.map((s) => new RangeDecoder(s));
  const total = lengths.reduce((a, b) => a + b, 0);
  await forEachPosition(
    stepper,
    progress,
    (query, r) => {
      query.symbols[r] = -1;
      query.targets[r] = coders[r].target(FREQUENCY_TOTAL);
    },
    (a, r, t) => {
      coders[r].consume(a.low[r], a.freq[r]);
      stepper.rows[r][t] = a.symbols[r];
    },
  );
  const tokens = new Int32Array(total);
  let offset = 0;
  for (const row of stepper.rows) {
    tokens.set(row, offset);
    offset += row.length;
  }
  return { tokens, timing: stepper.timing };
}
