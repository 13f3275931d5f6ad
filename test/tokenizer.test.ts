/** Lossless tokenization: decode(encode(x)) === x for any bytes, with real tokenizers. */
import { describe, expect, test } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { utf8Runs, utf8SequenceLength } from '../src/models/utf8-runs.js';
import { HfLosslessTokenizer, byteLevelAlphabet, tokenBytesTable } from '../src/models/hf-tokenizer.js';
import { EDGE_CASES, EMBEDDED_DIR, HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, SNAPPY, randomBytes } from './helpers/shared.js';

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
