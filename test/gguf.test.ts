/**
 * The llama.cpp backend on GGUF exports of the shared 7m model (built by
 * scripts/gguf/export-gpt2-gguf.py into the cache dir when missing, about a second each, in the
 * models project's globalSetup).
 * Round trips, the GGUF's own tokenizer against the ONNX model's, the ideal bits against the
 * ONNX path, thread counts, and the refusals.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { loadModel } from '../src/models/lookup.js';
import { LmCompressor, ModelMismatchError } from '../src/compressors/lm.js';
import { KV_SHIFT_KIND } from '../src/models/llama-cpp/model.js';
import { MixModel } from '../src/mix/mix-model.js';
import { readArchive } from '../src/coding/container.js';
import { encodeTokens, resolveSettings } from '../src/coding/lm-codec.js';
import { docmixGguf, docmixGgufs, llamaGguf } from './helpers/test-models.js';
import type { LanguageModel } from '../src/step/language-model.js';
import { EDGE_CASES, ROOT, SHARED_MODELS, SMALL_MODEL, corpusPrefix } from './helpers/shared.js';

// Exported once by the models project's globalSetup (test/helpers/test-models-setup.ts).
const docmix = docmixGgufs();
const skip = 'skip' in docmix ? docmix.skip : null;
if (skip) console.warn(`SKIP: llama.cpp (GGUF) tests: ${skip}`);
const gguf = (type: 'f32' | 'q8_0') => docmixGguf(type);

async function roundTrip(lm: LmCompressor, input: Uint8Array, decoder = lm) {
  const archive = await lm.compress(input);
  const back = await decoder.decompress(archive);
  expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  return { archive, stats: lm.lastStats()! };
}

describe.skipIf(skip !== null)('llama.cpp backend (GGUF export of the shared 7m model)', () => {
  let model: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ model: gguf('f32'), offline: true, threads: 1 });
  });
  afterAll(async () => model?.dispose());

  test('identity: runtime names node-llama-cpp and llama.cpp; weights are the file SHA-256; dtype from the GGUF', () => {
    const id = model.identity;
    expect(id.runtime).toMatch(/^node-llama-cpp 3\.21\.1 llama\.cpp v0\.4\.0 \(prebuilt\) cpu kv-f16$/);
    expect(id.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(id.dtype).toBe('f32');
    expect(model.vocabSize).toBe(50257);
    expect(model.startToken).toBe(50256);
    expect(model.contextLength).toBe(1024);
  });

  test('the GGUF tokenizer (llama.cpp) gives the ONNX model tokenizer\'s tokens', async () => {
    const onnx = await loadModel({ model: join(SHARED_MODELS, SMALL_MODEL), offline: true });
    try {
      for (const name of ['alice29.txt', 'html', 'urls.10K']) {
        const input = corpusPrefix(name, 4000);
        expect(Array.from(model.tokenizer.encode(input))).toEqual(Array.from(onnx.tokenizer.encode(input)));
      }
    } finally {
      await onnx.dispose();
    }
  });

  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(new LmCompressor(model, { segments: 2 }), input);
  });

  test.each(['alice29.txt', 'html', 'kppkn.gtb', 'fireworks.jpeg'])('round-trips a prefix of %s', async (name) => {
    await roundTrip(new LmCompressor(model, { segments: 3 }), corpusPrefix(name, 400));
  });

  test('sliding context (re-priming) round-trips and codes within 0.5% of the ideal', async () => {
    const input = corpusPrefix('alice29.txt', 1200);
    const { stats } = await roundTrip(new LmCompressor(model, { segments: 1, contextLength: 48, primeTokens: 16 }), input);
    expect(8 * (stats.codec!.payloadBytes as number)).toBeLessThan(stats.idealBits! * 1.005 + 64);
  });

  test('sliding by KV shift (--context-shift kv; not the default on learned positions) round-trips and is recorded as its own coding step', async () => {
    expect(model.codingSteps).toEqual(['js-quantizer/1', KV_SHIFT_KIND]);
    const input = corpusPrefix('alice29.txt', 1200);
    const { archive, stats } = await roundTrip(new LmCompressor(model, { segments: 2, contextLength: 48, primeTokens: 16, contextShift: 'kv' }), input);
    expect(stats.codec!.codingStep).toBe(KV_SHIFT_KIND);
    // The decoder takes the step from the archive: a plain LmCompressor decodes it.
    expect(Buffer.from(await new LmCompressor(model).decompress(archive)).equals(Buffer.from(input))).toBe(true);
  });

  test('ideal bits equal the ONNX path\'s within 0.3% (same tokens, same segments)', async () => {
    const input = corpusPrefix('alice29.txt', 3000);
    const onnx = await loadModel({ model: join(SHARED_MODELS, SMALL_MODEL), offline: true });
    try {
      const a = new LmCompressor(model, { segments: 2 });
      const b = new LmCompressor(onnx, { segments: 2 });
      await a.compress(input);
      await b.compress(input);
      const [ga, gb] = [a.lastStats()!, b.lastStats()!];
      expect(ga.tokens).toBe(gb.tokens);
      expect(Math.abs(ga.idealBits! / gb.idealBits! - 1)).toBeLessThan(0.003);
    } finally {
      await onnx.dispose();
    }
  });

  test('tables built on worker threads are the main thread\'s: same archive, and each decodes the other', async () => {
    const input = corpusPrefix('lcet10.txt', 3000);
    const coded = async (threads: string) => {
      process.env.COMPRESS_BENCH_TABLE_THREADS = threads;
      try {
        return await new LmCompressor(model, { segments: 6 }).compress(input);
      } finally {
        delete process.env.COMPRESS_BENCH_TABLE_THREADS;
      }
    };
    const [serial, parallel] = [await coded('1'), await coded('3')];
    expect(Buffer.from(parallel).equals(Buffer.from(serial))).toBe(true);
    process.env.COMPRESS_BENCH_TABLE_THREADS = '3';
    try {
      expect(Buffer.from(await new LmCompressor(model).decompress(serial)).equals(Buffer.from(input))).toBe(true);
    } finally {
      delete process.env.COMPRESS_BENCH_TABLE_THREADS;
    }
  });

  test('mix: over the GGUF quantizes its logits (js-quantizer/1) and round-trips, at one segment and at three', async () => {
    const mix = new MixModel(model);
    expect(mix.codingSteps).toEqual(['mix/4+js-quantizer/1']);
    const input = corpusPrefix('alice29.txt', 1200);
    for (const segments of [1, 3]) {
      const { archive } = await roundTrip(new LmCompressor(mix, { segments }), input);
      expect(readArchive(archive).header.segments.length).toBe(segments);
    }
  });

  test('decoding with another thread count gives the same bytes', async () => {
    const other = await loadModel({ model: gguf('f32'), offline: true, threads: 2 });
    try {
      expect(other.identity.runtime).toBe(model.identity.runtime);
      await roundTrip(new LmCompressor(model, { segments: 2 }), corpusPrefix('asyoulik.txt', 400), new LmCompressor(other));
    } finally {
      await other.dispose();
    }
  });

  test('another GGUF (q8_0) or the ONNX model at decode is refused, naming expected and found', async () => {
    const archive = await new LmCompressor(model).compress(corpusPrefix('alice29.txt', 100));
    const q8 = await loadModel({ model: gguf('q8_0'), offline: true, threads: 1 });
    try {
      expect(q8.identity.dtype).toBe('q8_0');
      await expect(new LmCompressor(q8).decompress(archive)).rejects.toThrow(ModelMismatchError);
      await expect(new LmCompressor(q8).decompress(archive)).rejects.toThrow(new RegExp(`weights: archive expects ${model.identity.weightsSha256}, found ${q8.identity.weightsSha256}`));
    } finally {
      await q8.dispose();
    }
    const onnx = await loadModel({ model: join(SHARED_MODELS, SMALL_MODEL), offline: true });
    try {
      await expect(new LmCompressor(onnx).decompress(archive)).rejects.toThrow(/runtime: archive was coded with node-llama-cpp .* this is onnxruntime-node/);
      await expect(new LmCompressor(onnx, { contextShift: 'kv' }).compress(corpusPrefix('alice29.txt', 100))).rejects.toThrow(/contextShift kv: .* re-primes only/);
    } finally {
      await onnx.dispose();
    }
  });
});

describe.skipIf(skip !== null)('compress-bench --model PATH.gguf (the CLI, offline)', () => {
  test('compress then decompress gives the bytes back; a missing .gguf is one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-gguf-'));
    const input = corpusPrefix('alice29.txt', 300);
    writeFileSync(join(dir, 'in.txt'), input);
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], { env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    await cli('compress', '-q', '--threads', '1', '-m', gguf('f32'), join(dir, 'in.txt'), '-o', join(dir, 'a.cbz'));
    await cli('decompress', '-q', '--threads', '1', '-m', gguf('f32'), join(dir, 'a.cbz'), '-o', join(dir, 'out.txt'));
    expect(readFileSync(join(dir, 'out.txt')).equals(Buffer.from(input))).toBe(true);
    const missing = await cli('compress', '-m', join(dir, 'none.gguf'), join(dir, 'in.txt'), '-o', join(dir, 'b.cbz')).catch((e) => e);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^compress-bench: --model \S+none\.gguf: no such GGUF file\n$/);
  });
});

/**
 * A Llama-architecture GGUF (rotary positions, grouped-query attention, Llama 2's SentencePiece
 * vocabulary) exported by scripts/gguf/export-test-model-gguf.py from the any-model tests' Llama
 * test model, so the GGUF and the ONNX model are the same network. Its inputs come from
 * ../shared's corpora, so it skips with the shared model's exports.
 */
const llama = skip ? { skip } : llamaGguf();
if ('skip' in llama) console.warn(`SKIP: llama.cpp Llama-architecture tests: ${llama.skip}`);

describe.skipIf('skip' in llama)('llama.cpp backend: a Llama GGUF (RoPE, GQA, SentencePiece)', () => {
  const { path, onnx: onnxDir } = llama as { path: string; onnx: string };
  let model: LanguageModel;
  let onnx: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ model: path, offline: true, threads: 1 });
    onnx = await loadModel({ model: onnxDir, offline: true });
  });
  afterAll(async () => {
    await model?.dispose();
    await onnx?.dispose();
  });

  test('llama.cpp\'s SentencePiece tokenizer gives the ONNX model tokenizer\'s tokens; the ideal bits are the same network\'s', async () => {
    expect(model.vocabSize).toBe(32000);
    expect(model.startToken).toBe(1);
    const input = corpusPrefix('alice29.txt', 6000);
    const tokens = onnx.tokenizer.encode(input);
    expect(Array.from(model.tokenizer.encode(input))).toEqual(Array.from(tokens));
    const opts = { segments: 2, contextLength: 64, primeTokens: 32, contextShift: 'reprime' as const };
    const [a, b] = [await encodeTokens(model, tokens, resolveSettings(model, tokens.length, opts)), await encodeTokens(onnx, tokens, resolveSettings(onnx, tokens.length, opts))];
    expect(Math.abs(a.idealBits / b.idealBits - 1)).toBeLessThan(1e-4);
  });

  test.each(Object.entries(EDGE_CASES))('round-trips %s', async (_, input) => {
    await roundTrip(new LmCompressor(model, { segments: 2 }), input);
  });

  test('KV shift on rotary positions is the default: round-trips, and its bits equal re-priming\'s within 0.1%', async () => {
    expect(model.codingSteps).toEqual([KV_SHIFT_KIND, 'js-quantizer/1']);
    const input = corpusPrefix('alice29.txt', 8000);
    const opts = { segments: 2, contextLength: 64, primeTokens: 32 };
    const shifted = await roundTrip(new LmCompressor(model, opts), input);
    const reprimed = await roundTrip(new LmCompressor(model, { ...opts, contextShift: 'reprime' }), input);
    expect(shifted.stats.codec!.codingStep).toBe(KV_SHIFT_KIND);
    expect(reprimed.stats.codec!.codingStep).toBe('js-quantizer/1');
    expect(Math.abs(shifted.stats.idealBits! / reprimed.stats.idealBits! - 1)).toBeLessThan(0.001);
  });
});
