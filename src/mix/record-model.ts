/**
 * Record (column) contexts over the segment's bytes: tables, fixed-size records and 2-D data
 * repeat at a distance — the byte one record up, one row up — that no run of recent tokens
 * sees. The byte stream is the tokens' bytes in order, so this works whatever the tokenizer
 * did with binary data (GPT-2's BPE cuts the same bytes differently in different places).
 *
 * The distances are found online: for every byte and every distance d in 2..MAX_DISTANCE the
 * model counts whether the byte d back was equal. Every PERIOD_EVERY bytes the distance with
 * the most hits (or its shortest divisor scoring within 15/16 of it) becomes the record
 * length, the best distance that is not its multiple the second one — both only where at
 * least a fifth of bytes repeat at the first, else the contexts stay silent — and the hits are
 * halved so the choice follows the data. Integer counts only, so encoder and decoder choose
 * the same distances.
 *
 * Each context hashes a few bytes at those distances back from where the next token starts;
 * the predictor keeps next-token counts per context (ContextCounts), like its token orders.
 */
import { hashSeed, hashStep } from './token-models.js';

const MAX_DISTANCE = 256;
const PERIOD_EVERY = 2048;
const RING = 512;
const RING_MASK = RING - 1;

export class RecordModel {
  /** The last RING bytes (the contexts read at most MAX_DISTANCE + 1 back): fixed memory. */
  private readonly bytes = new Uint8Array(RING);
  length = 0;
  private readonly hits = new Uint32Array(MAX_DISTANCE + 1);
  /** The chosen record lengths (0 until the first choice). */
  d1 = 0;
  d2 = 0;

  push(token: Uint8Array): void {
    for (let i = 0; i < token.length; i++) this.pushByte(token[i]);
  }

  private pushByte(b: number): void {
    const p = this.length;
    const buf = this.bytes;
    buf[p & RING_MASK] = b;
    this.length = p + 1;
    const top = Math.min(MAX_DISTANCE, p);
    for (let d = 2; d <= top; d++) if (buf[(p - d) & RING_MASK] === b) this.hits[d]++;
    if (this.length % PERIOD_EVERY === 0) this.choose();
  }

  private choose(): void {
    const hits = this.hits;
    let best = 2;
    for (let d = 3; d <= MAX_DISTANCE; d++) if (hits[d] > hits[best]) best = d;
    // A multiple of the record length scores as well as the length itself: take the shortest
    // divisor that scores nearly as well (the nearest record up is the best context).
    for (let d = 2; d < best; d++) {
      if (best % d === 0 && hits[d] * 16 >= hits[best] * 15) {
        best = d;
        break;
      }
    }
    let second = best === 2 ? 3 : 2;
    for (let d = 2; d <= MAX_DISTANCE; d++) if (d % best !== 0 && hits[d] > hits[second]) second = d;
    // Over a window the hits settle near 2·PERIOD_EVERY × the share of equal bytes: under a fifth, no records.
    const strong = hits[best] * 5 >= 2 * PERIOD_EVERY;
    this.d1 = strong ? best : 0;
    this.d2 = strong ? second : 0;
    for (let d = 2; d <= MAX_DISTANCE; d++) hits[d] >>>= 1;
  }

  /** The byte `back` positions before the next one (1 = the last), or 256 before the start. */
  at(back: number): number {
    const i = this.length - back;
    return i >= 0 ? this.bytes[i & RING_MASK] : 256;
  }

  /** Hashes of the record contexts for the next token into `out`; false while no record length is chosen. */
  contexts(out: Int32Array, from: number): boolean {
    const { d1, d2 } = this;
    if (d1 === 0) return false;
    const up = this.at(d1);
    const left = this.at(1);
    out[from] = mixHash(1, d1, up, left);
    out[from + 1] = mixHash(2, d1, up, this.at(d1 - 1), this.at(d1 + 1));
    out[from + 2] = mixHash(3, d2, this.at(d2), left);
    out[from + 3] = mixHash(4, d1 * 512 + d2, up, this.at(d2), left);
    return true;
  }
}

/** Record contexts per token (see `contexts`). */
export const RECORD_CONTEXTS = 4;

function mixHash(tag: number, a: number, b: number, c: number, d = 0): number {
  return hashStep(hashStep(hashStep(hashStep(hashSeed(tag + 0x51), a), b), c), d) | 0;
}
