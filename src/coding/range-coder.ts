/**
 * A carry-propagating range coder (LZMA's scheme) widened from 32- to 48-bit state so
 * that frequency totals up to 2^28 keep their precision while every intermediate stays
 * an exact integer in a JS double (< 2^53). No BigInt in the hot path.
 *
 * Encoder state: `low` in [0, 2^48) plus a carry bit, `range` in [2^40, 2^48].
 * A symbol with cumulative frequency `cum`, frequency `freq` out of `total` narrows
 *   r = floor(range / total); low += r·cum; range = r·freq
 * and whole bytes are shifted out while range < 2^40. Because range ≥ 2^40 and
 * total ≤ 2^28, r ≥ 2^12: truncation wastes under total/range ≤ 2^-12 of the range per
 * symbol (≤ 0.00035 bits, on average far less), so the coded size tracks
 * Σ −log2(freq/total) closely. 48 bits keeps the register byte-aligned (6 bytes).
 *
 * The range coder knows frequencies, never models.
 */

const TOP = 2 ** 48; // low's width; the carry is the bit at 2^48
const SHIFT = 2 ** 40; // one output byte below TOP
const BOTTOM = 2 ** 40; // renormalise when range drops below this
/** Largest frequency total the coder accepts. */
export const MAX_TOTAL = 2 ** 28;
const STATE_BYTES = 6; // 48 bits

export class RangeEncoder {
  private low = 0;
  private range = TOP - 1;
  private cache = 0;
  private pending = 1; // bytes waiting for a possible carry: the cache byte plus a run of 0xFF
  private out: Uint8Array = new Uint8Array(1 << 16);
  private length = 0;

  encode(cum: number, freq: number, total: number): void {
    const r = Math.floor(this.range / total);
    this.low += r * cum;
    this.range = r * freq;
    while (this.range < BOTTOM) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  /** Encode `bits` raw bits (≤ 16) at uniform probability, e.g. a length field. */
  encodeBits(value: number, bits: number): void {
    this.encode(value, 1, 2 ** bits);
  }

  /**
   * Finish the stream: choose the value inside [low, low+range) with the most trailing
   * zero bits, emit it, and drop trailing zero bytes (the decoder reads zeros past the end).
   */
  finish(): Uint8Array {
    let step = TOP;
    while (step > 1 && Math.ceil(this.low / step) * step >= this.low + this.range) step /= 2;
    this.low = Math.ceil(this.low / step) * step;
    for (let i = 0; i < STATE_BYTES + 1; i++) this.shiftLow(); // the cache byte + the register
    // LZMA's first output byte is always 0 (the interval never leaves [0, 2^48)): drop it.
    if (this.out[0] !== 0) throw new Error('range coder invariant broken: first byte is not 0');
    let end = this.length;
    while (end > 1 && this.out[end - 1] === 0) end--;
    return this.out.slice(1, end);
  }

  private shiftLow(): void {
    if (this.low < 0xff * SHIFT || this.low >= TOP) {
      const carry = this.low >= TOP ? 1 : 0;
      this.push(this.cache + carry);
      for (; this.pending > 1; this.pending--) this.push((0xff + carry) & 0xff);
      this.pending = 0;
      this.cache = Math.floor(this.low / SHIFT) & 0xff;
    }
    this.pending++;
    this.low = (this.low % SHIFT) * 256;
  }

  private push(byte: number): void {
    if (this.length === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.length++] = byte;
  }
}

export class RangeDecoder {
  private code = 0;
  private range = TOP - 1;
  private pos = 0;
  private r = 1;

  constructor(private readonly input: Uint8Array) {
    // The encoder skipped the always-zero first byte: the stream starts with the register.
    for (let i = 0; i < STATE_BYTES; i++) this.code = this.code * 256 + this.next();
  }

  /** First half of decoding a symbol: the target value in [0, total). */
  target(total: number): number {
    this.r = Math.floor(this.range / total);
    const v = Math.floor(this.code / this.r);
    // A valid stream never yields v ≥ total; a corrupted one might: clamp, the checksum catches it.
    return v < total ? v : total - 1;
  }

  /** Second half: consume the symbol found for `target`. */
  consume(cum: number, freq: number): void {
    this.code -= this.r * cum;
    this.range = this.r * freq;
    while (this.range < BOTTOM) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
  }

  decodeBits(bits: number): number {
    const v = this.target(2 ** bits);
    this.consume(v, 1);
    return v;
  }

  /** Bytes read past the end of input (zeros); a long overrun signals truncation. */
  get overrun(): number {
    return Math.max(0, this.pos - this.input.length);
  }

  private next(): number {
    return this.pos < this.input.length ? this.input[this.pos++] : (this.pos++, 0);
  }
}
