#!/usr/bin/env node
/**
 * A synthetic English-like text of any size, the same bytes on every machine: an order-1 word
 * Markov chain over the shipped sample (corpora/samples/gpl-3.0.txt), driven by a seeded
 * xorshift generator. For scale runs (peak RSS, time per MB) where enwik8/enwik9 are absent:
 * a small vocabulary in ever new orders (gzip -9 ≈ 1.8 bits/byte, xz -9 ≈ 0.9 — more repetitive
 * than real prose, but no repeated block a long-range matcher would collapse), written streaming,
 * so 1 GB takes seconds and little memory.
 *
 *   node scripts/scale/synthetic-text.mjs SIZE OUT     SIZE: bytes, or 10MB / 1GB (decimal)
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SAMPLE = fileURLToPath(new URL('../../corpora/samples/gpl-3.0.txt', import.meta.url));

/** The chain: for each word (with the spaces after it), the words that followed it in the sample, with repeats. */
function chain() {
  const words = readFileSync(SAMPLE, 'utf8').split(/(?<=\s)/);
  const next = new Map();
  for (let i = 1; i < words.length; i++) {
    const key = words[i - 1];
    if (!next.has(key)) next.set(key, []);
    next.get(key).push(words[i]);
  }
  return { words, next };
}

/** Yields `size` bytes of text in ~1 MiB buffers. */
export function* syntheticText(size, seed = 0x9e3779b9) {
  const { words, next } = chain();
  let s = seed >>> 0 || 1;
  const rand = (n) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
  let b = words[0];
  let left = size;
  while (left > 0) {
    let text = '';
    while (text.length < 1 << 20) {
      const options = next.get(b);
      // A pair seen only at the sample's end has no follower: restart at a random place.
      const w = options ? options[rand(options.length)] : words[rand(words.length)];
      text += w;
      b = w;
    }
    const buf = Buffer.from(text, 'utf8').subarray(0, left);
    left -= buf.length;
    yield buf;
  }
}

const parseSize = (v) => {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(v ?? '');
  if (!m) throw new Error(`size: ${v} (give bytes, or e.g. 10MB, 1GB)`);
  return Math.round(Number(m[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(m[2] ?? 'B').toUpperCase()]);
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [size, out] = process.argv.slice(2);
  if (!out) {
    process.stderr.write('usage: node scripts/scale/synthetic-text.mjs SIZE OUT\n');
    process.exit(2);
  }
  const w = createWriteStream(out);
  for (const part of syntheticText(parseSize(size))) if (!w.write(part)) await new Promise((r) => w.once('drain', r));
  w.end();
}
