/**
 * Coded sizes that count: every archive is decompressed and compared byte for byte before its
 * size is used, and each distinct input is coded once per compressor (singles, tails and
 * concatenations are cached by content).
 */
import { createHash } from 'node:crypto';
import { isConditional, type Compressor, type ProgressHooks } from '../compressors/compressor.js';
import { bytesEqual, describeMismatch } from '../runner/run.js';

/** A decompressed archive differed from what was compressed: nothing measured may be trusted. */
export class RoundTripError extends Error {}

export interface CodedSize {
  /** Whole archive, container included. */
  bytes: number;
  /** LMs: the range-coded stream(s) alone, without the header. */
  payloadBytes?: number;
  /** LMs: tokens coded. */
  tokens?: number;
}

export interface ConditionalSize extends CodedSize {
  /** Tokens of the context actually primed (≤ the requested count). */
  primerTokens: number;
}

/** Opens a progress sink for one coding (the CLI's progress bar); `stop` when it is done. */
export type ProgressFactory = (label: string) => ProgressHooks & { stop(): void };

export class VerifiedSizer {
  private readonly cache = new Map<string, Promise<CodedSize>>();
  /** Real compress + decompress round trips made so far (cache hits excluded). */
  codings = 0;

  constructor(
    readonly compressor: Compressor,
    private readonly progress?: ProgressFactory,
  ) {}

  /** C(data): compress, decompress, compare; cached by content. */
  size(data: Uint8Array, label: string): Promise<CodedSize> {
    const key = digest(data);
    let entry = this.cache.get(key);
    if (!entry) {
      entry = this.code(data, label);
      this.cache.set(key, entry);
    }
    return entry;
  }

  private async code(data: Uint8Array, label: string): Promise<CodedSize> {
    const sink = this.progress?.(`${this.compressor.name} ${label}`);
    try {
      const archive = await this.compressor.compress(data, sink);
      const stats = this.compressor.lastStats?.();
      const back = await this.compressor.decompress(archive, sink).catch(failed(this.compressor.name, label));
      this.codings++;
      if (!bytesEqual(back, data)) throw new RoundTripError(`${this.compressor.name}: round trip of ${label} failed: ${describeMismatch(data, back)}`);
      return {
        bytes: archive.length,
        ...(typeof stats?.codec?.payloadBytes === 'number' ? { payloadBytes: stats.codec.payloadBytes } : {}),
        ...(stats?.tokens !== undefined ? { tokens: stats.tokens } : {}),
      };
    } finally {
      sink?.stop();
    }
  }

  /**
   * C(B | A_tail) measured directly (LMs only): B coded after an uncharged primer of A's last
   * `primerTokens` tokens, verified with `decompressAfter` given the same A.
   */
  async conditional(b: Uint8Array, a: Uint8Array, primerTokens: number, label: string): Promise<ConditionalSize> {
    const lm = this.compressor;
    if (!isConditional(lm)) throw new Error(`${lm.name}: direct conditional coding needs a language model`);
    const sink = this.progress?.(`${lm.name} ${label}`);
    try {
      const archive = await lm.compressAfter(b, a, sink, primerTokens);
      const stats = lm.lastStats();
      const back = await lm.decompressAfter(archive, a, sink).catch(failed(lm.name, label));
      this.codings++;
      if (!bytesEqual(back, b)) throw new RoundTripError(`${lm.name}: conditional round trip of ${label} failed: ${describeMismatch(b, back)}`);
      return {
        bytes: archive.length,
        payloadBytes: Number(stats?.codec?.payloadBytes),
        primerTokens: Number(stats?.codec?.primerTokens),
        ...(stats?.tokens !== undefined ? { tokens: stats.tokens } : {}),
      };
    } finally {
      sink?.stop();
    }
  }
}

/** A decoder that throws (checksum, corrupt stream) is a failed round trip too. */
const failed = (name: string, label: string) => (e: unknown): never => {
  throw new RoundTripError(`${name}: decompressing ${label} failed: ${e instanceof Error ? e.message : String(e)}`);
};

function digest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
