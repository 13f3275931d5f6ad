/**
 * How much of an earlier input A a compressor can still see when it codes B after it, from the
 * compressor's own `reach` (gzip: 32 KiB; an LM: its context in tokens), and A's tail: the last
 * `window` units of A, the most of A that can ever influence B.
 */
import type { Compressor } from '../compressors/compressor.js';
import { visibility, type Visibility } from './measures.js';

export interface InputReach extends Visibility {
  unit: 'bytes' | 'tokens';
  window: number;
  /** The last `window` units of the input, as bytes (the input itself when it fits). */
  tail: Uint8Array;
  /** True when the input fits the window, so the tail is the whole input. */
  whole: boolean;
}

export function reachOf(compressor: Compressor, bytes: Uint8Array): InputReach {
  const { window } = compressor.reach;
  const tokenizer = compressor.tokenizer;
  if (compressor.reach.unit === 'tokens' && tokenizer) {
    // Count in the model's own tokens; the tail is whole tokens, decoded back to A's last bytes.
    const tokens = tokenizer.encode(bytes);
    const v = visibility(tokens.length, window);
    const whole = tokens.length <= window;
    const tail = whole ? bytes : tokenizer.decode(tokens.subarray(tokens.length - window));
    return { unit: 'tokens', window, ...v, tail, whole };
  }
  // A byte window (or a token unit we cannot count: treated as unbounded bytes, the cautious
  // reading, since it attributes all gain to "within reach").
  const byteWindow = compressor.reach.unit === 'bytes' ? window : Infinity;
  const v = visibility(bytes.length, byteWindow);
  const whole = bytes.length <= byteWindow;
  return { unit: 'bytes', window: byteWindow, ...v, tail: whole ? bytes : bytes.subarray(bytes.length - byteWindow), whole };
}
