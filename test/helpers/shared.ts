/** Paths to ../shared (models and corpora for tests), and a skip reason when it is absent. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED = join(ROOT, '..', 'shared');
export const SHARED_MODELS = join(SHARED, 'models');
export const SNAPPY = join(SHARED, 'corpora', 'snappy-testdata');
export const SMALL_MODEL = 'gpt2-docmix-7m';
/** snappy's test files alone (no model needed). */
export const HAVE_SNAPPY = existsSync(join(SNAPPY, 'alice29.txt'));
export const HAVE_SHARED = existsSync(join(SHARED_MODELS, SMALL_MODEL, 'onnx', 'model.onnx')) && HAVE_SNAPPY;
export const EMBEDDED_DIR = join(ROOT, 'models', 'embedded');
export const HAVE_EMBEDDED = existsSync(join(EMBEDDED_DIR, 'onnx', 'model.onnx'));

if (!HAVE_SHARED) {
  console.warn(`SKIP: ../shared is absent (${SHARED}): tests with the shared models and corpora are skipped.`);
}

export function corpusPrefix(name: string, bytes: number): Uint8Array {
  return new Uint8Array(readFileSync(join(SNAPPY, name)).subarray(0, bytes));
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Inputs that break naive text pipelines. */
export const EDGE_CASES: Record<string, Uint8Array> = {
  empty: new Uint8Array(0),
  'one byte': Uint8Array.of(0x41),
  'NUL bytes': Uint8Array.from([0, 0, 0, 65, 0, 66, 0, 0]),
  CRLF: new TextEncoder().encode('line one\r\nline two\r\n\r\nend\r'),
  'invalid UTF-8': Uint8Array.from([0x66, 0x6f, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x41, 0x80, 0xc0, 0xaf]),
  'lone surrogate bytes': Uint8Array.from([0x61, 0xed, 0xa0, 0x80, 0x62, 0xed, 0xbf, 0xbf]),
  'long run': new Uint8Array(3000).fill(0x61),
  'emoji and CJK': new TextEncoder().encode('naïve café 😀👩‍👩‍👧 日本語のテキスト Ελληνικά'),
  'special token text': new TextEncoder().encode('a <|endoftext|> b <|endoftext|>'),
  'random binary': randomBytes(600, 7),
};
