/**
 * Integer hashing for the fixed-size hashed tables (order-k's, the mix's): 32-bit, exact in
 * every engine (Math.imul, shifts, xor only), so encoder and decoder index the same slots.
 */

/** murmur3's finalizer: every input bit reaches every output bit. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
