/**
 * Any causal LM, not only GPT-2: tiny Llama- and Qwen3-architecture models (RMSNorm, rotary
 * positions, grouped-query attention, SwiGLU, untied head; Qwen3's q/k norm) with real
 * tokenizers (Llama 2 and Mistral SentencePiece 32k, Llama 3 byte-level BPE 128k, Qwen3 151k,
 * Gemma 3 SentencePiece 262k), built by scripts/test-models/build.py. Byte-exact round trips
 * through the real LmCompressor, export variants, refusals, and the Hub download from a
 * localhost server in the Hub's URL layout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type Server } from 'node:http';
import { cpSync, createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/models/lookup.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { CODING_GRAPH_KIND, STATIC_KV_GRAPH_KIND } from '../src/models/onnx/coding-graph.js';
import type { LanguageModel } from '../src/step/language-model.js';
import type { HfLosslessTokenizer } from '../src/models/hf-tokenizer.js';
import { EDGE_CASES, HAVE_SHARED, corpusPrefix } from './helpers/shared.js';
import { PLAIN_TEXT } from './helpers/plain-text.js';
import { TEST_MODEL_GROUPS, modelName, testModels } from './helpers/test-models.js';

const built = testModels();
if ('skip' in built) console.warn(`SKIP any-model tests: ${built.skip}`);
const DIR = 'dir' in built ? built.dir : '';
const skip = 'skip' in built;

async function roundTrip(lm: LmCompressor, input: Uint8Array) {
  const archive = await lm.compress(input);
  const back = await lm.decompress(archive);
  expect(Buffer.from(back).equals(Buffer.from(input))).toBe(true);
  return lm.lastStats()!;
}

const PREFIXES: [string, number][] = [
  ['alice29.txt', 300],
  ['html', 300],
  ['paper-100k.pdf', 300],
  ['fireworks.jpeg', 200],
];
/** The edge cases, shortened where long inputs only cost time (the codec is length-agnostic). */
const EDGES: [string, Uint8Array][] = Object.entries(EDGE_CASES).map(([k, v]) => [k, v.subarray(0, 300)]);
EDGES.push(['mixed scripts', new TextEncoder().encode('English, русский, 中文, עברית, العربية और हिन्दी ✓\r\n')]);

const BASE = TEST_MODEL_GROUPS.map((g) => modelName(g, 'base'));
const LLAMA2 = TEST_MODEL_GROUPS[0];
const VARIANTS = LLAMA2.variants.filter((v) => v !== 'base' && v !== 'nokv' && v !== 'nologits').map((v) => modelName(LLAMA2, v));

describe.skipIf(skip).each(BASE)('%s', (name) => {
  let model: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ model: name, modelDirs: [DIR], offline: true });
  }, 120_000);
  afterAll(async () => model?.dispose());

  test.skipIf(!HAVE_SHARED)('round-trips prefixes of text, html, pdf and jpeg', async () => {
    for (const [file, n] of PREFIXES) await roundTrip(new LmCompressor(model), corpusPrefix(file, n));
  });

  test('round-trips the edge cases', async () => {
    for (const [, input] of EDGES) await roundTrip(new LmCompressor(model), input);
  });

  test('plain English, Russian, Chinese and Hebrew keep the model\'s own tokens', async () => {
    for (const [lang, text] of Object.entries(PLAIN_TEXT)) {
      const input = new TextEncoder().encode(text);
      const stats = await roundTrip(new LmCompressor(model), input);
      expect(stats.byteFallbackBytes, lang).toBe(0);
      // The tokenizer's own tokens: as many as the library gives for the text, give or take
      // the first word of the call (SentencePiece's added "▁" dropped).
      const own = (model.tokenizer as HfLosslessTokenizer).text.encode(text, { add_special_tokens: false }).length;
      expect(Math.abs(stats.tokens! - own), `${lang}: ${stats.tokens} tokens, the library's own ${own}`).toBeLessThanOrEqual(2);
      if (lang === 'English') expect(stats.tokens!).toBeLessThan(input.length / 3);
    }
  });

  test('grouped-query attention runs over the static KV cache and codes as the growing cache does', async () => {
    expect(model.codingSteps[0]).toBe(STATIC_KV_GRAPH_KIND);
    // A 24-token window re-primed to 12: the static cache grows, fills and is re-primed.
    const input = new TextEncoder().encode(PLAIN_TEXT.English);
    const opts = { segments: 2, contextLength: 24, primeTokens: 12 };
    const st = await roundTrip(new LmCompressor(model, { ...opts, codingStep: STATIC_KV_GRAPH_KIND }), input);
    const dy = await roundTrip(new LmCompressor(model, { ...opts, codingStep: CODING_GRAPH_KIND }), input);
    expect(st.codec!.codingStep).toBe(STATIC_KV_GRAPH_KIND);
    expect(Math.abs(st.idealBits! - dy.idealBits!) / dy.idealBits!).toBeLessThan(1e-5);
  });

  test('the model predicts, and the coded size stays at the ideal at this vocabulary size', async () => {
    const input = new TextEncoder().encode(PLAIN_TEXT.English);
    const stats = await roundTrip(new LmCompressor(model), input);
    expect(stats.idealBits! / input.length).toBeLessThan(5);
    // Every token keeps a frequency ≥ 1 of 2^28: at 262k tokens that floor costs ≤ 0.0014 bits a token.
    expect(8 * (stats.codec!.payloadBytes as number)).toBeLessThanOrEqual(stats.idealBits! * 1.01 + 64);
  });
});

describe.skipIf(skip)('export variants of the Llama 2 model', () => {
  const ideal: Record<string, number> = {};
  const english = new TextEncoder().encode(PLAIN_TEXT.English);

  test.each([modelName(LLAMA2, 'base'), ...VARIANTS])('%s loads and round-trips text, binary and invalid UTF-8', async (name) => {
    const model = await loadModel({ model: name, modelDirs: [DIR], offline: true });
    try {
      ideal[name] = (await roundTrip(new LmCompressor(model), english)).idealBits!;
      for (const input of [EDGE_CASES['invalid UTF-8'], EDGE_CASES['random binary'].subarray(0, 100)]) {
        await roundTrip(new LmCompressor(model), input);
      }
      if (name.endsWith('-extdata')) expect(model.identity.files.some((f) => f.endsWith('model.onnx_data'))).toBe(true);
      // The static KV cache needs positions from the caller and a float32 Concat(past, new) to
      // rewrite: exports without position_ids, with an fp16 cache or a merged decoder keep the growing one.
      const plain = ['-nopos', '-kvfp16', '-merged'].some((v) => name.endsWith(v));
      expect(model.codingSteps[0]).toBe(plain ? CODING_GRAPH_KIND : STATIC_KV_GRAPH_KIND);
    } finally {
      await model.dispose();
    }
  });

  test('all code the same text to the same ideal size (fp16 KV rounds the cache: within 1%)', () => {
    const base = ideal[modelName(LLAMA2, 'base')];
    expect(Object.keys(ideal)).toHaveLength(VARIANTS.length + 1);
    for (const [name, bits] of Object.entries(ideal)) expect(Math.abs(bits - base) / base, name).toBeLessThan(0.01);
  });
});

describe.skipIf(skip)('refusals: one line naming what is missing', () => {
  const refuse = async (name: string, dir = DIR) => {
    const e = await loadModel({ model: name, modelDirs: [dir], offline: true }).then(
      () => null,
      (err: Error) => err,
    );
    expect(e).toBeInstanceOf(Error);
    expect(e!.message).not.toContain('\n');
    return e!.message;
  };

  test('no KV cache', async () => {
    expect(await refuse(modelName(LLAMA2, 'nokv'))).toMatch(/without a KV cache \(no past_key_values inputs\)/);
  });

  test('no logits output (a base model export)', async () => {
    expect(await refuse(modelName(LLAMA2, 'nologits'))).toMatch(/no "logits" output/);
  });

  test('encoder-decoder config', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cb-encdec-'));
    try {
      const src = join(DIR, modelName(LLAMA2, 'base'));
      cpSync(src, join(tmp, 't5ish'), { recursive: true });
      const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
      writeFileSync(join(tmp, 't5ish', 'config.json'), JSON.stringify({ ...config, model_type: 't5', is_encoder_decoder: true }));
      expect(await refuse('t5ish', tmp)).toMatch(/encoder-decoder/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skip)('Llama 2 tokenizer.json rebuilt from llama-tokenizer-js', () => {
  test('transformers.js with it gives the ids llama-tokenizer-js gives', async () => {
    const { default: llama } = await import('llama-tokenizer-js');
    const tf = await import('@huggingface/transformers');
    tf.env.allowRemoteModels = false;
    tf.env.localModelPath = DIR + '/';
    const tok = await tf.AutoTokenizer.from_pretrained(modelName(LLAMA2, 'base'));
    for (const [lang, text] of Object.entries(PLAIN_TEXT)) {
      for (const line of text.split('\n').filter(Boolean)) {
        expect(tok.encode(line, { add_special_tokens: false }), lang).toEqual(llama.encode(line, false, true));
      }
    }
  });
});

/** A Hub lookalike: /{owner}/{name}/resolve/main/{file} served from local folders. */
function hubServer(repos: Record<string, string>): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const m = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    const dir = m && repos[m[1]];
    const file = dir && join(dir, decodeURIComponent(m![2]));
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      done({ server, url: `http://127.0.0.1:${port}`, requests });
    }),
  );
}

describe.skipIf(skip)('the Hub path, from a localhost server in the Hub URL layout', () => {
  let hub: Awaited<ReturnType<typeof hubServer>>;
  let cache: string;
  const saved = { cache: process.env.COMPRESS_BENCH_CACHE, hub: process.env.COMPRESS_BENCH_HUB_URL, offline: process.env.HF_HUB_OFFLINE };
  beforeAll(async () => {
    const broken = mkdtempSync(join(tmpdir(), 'cb-broken-'));
    cpSync(join(DIR, modelName(LLAMA2, 'base')), broken, { recursive: true });
    rmSync(join(broken, 'tokenizer.json'));
    hub = await hubServer({
      'Xenova/gpt2': join(DIR, 'llama-mistral'),
      'acme/tiny-extdata': join(DIR, modelName(LLAMA2, 'extdata')),
      'acme/broken': broken,
    });
    cache = mkdtempSync(join(tmpdir(), 'cb-cache-'));
    process.env.COMPRESS_BENCH_CACHE = cache;
    process.env.COMPRESS_BENCH_HUB_URL = hub.url;
    delete process.env.HF_HUB_OFFLINE;
  });
  afterAll(() => {
    hub?.server.close();
    for (const [k, v] of [['COMPRESS_BENCH_CACHE', saved.cache], ['COMPRESS_BENCH_HUB_URL', saved.hub], ['HF_HUB_OFFLINE', saved.offline]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(cache, { recursive: true, force: true });
  });

  test('an alias downloads into the cache with progress, then loads offline', async () => {
    const seen: string[] = [];
    const first = await loadModel({ model: 'gpt2', download: { progress: (d, t, p) => seen.push(`${p} ${d}/${t}`) } });
    const input = new TextEncoder().encode(PLAIN_TEXT.English);
    await roundTrip(new LmCompressor(first), input);
    await first.dispose();
    expect(existsSync(join(cache, 'hub', 'Xenova', 'gpt2', 'onnx', 'model.onnx'))).toBe(true);
    expect(hub.requests).toContain('/Xenova/gpt2/resolve/main/onnx/model.onnx');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.startsWith('download '))).toBe(true);

    const before = hub.requests.length;
    const second = await loadModel({ model: 'gpt2', offline: true });
    await roundTrip(new LmCompressor(second), input);
    await second.dispose();
    expect(hub.requests.length).toBe(before);
  });

  test('external weight data comes along', async () => {
    const model = await loadModel({ model: 'acme/tiny-extdata' });
    await roundTrip(new LmCompressor(model), new TextEncoder().encode('external data'));
    await model.dispose();
    expect(existsSync(join(cache, 'hub', 'acme', 'tiny-extdata', 'onnx', 'model.onnx_data'))).toBe(true);
  });

  test('a 404 for the whole repo or for one file is one line naming the URL', async () => {
    for (const [id, what] of [['nobody/missing', 'config.json'], ['acme/broken', 'tokenizer.json']]) {
      const e = await loadModel({ model: id }).then(() => null, (err: Error) => err);
      expect(e?.message).toMatch(new RegExp(`${id}/resolve/main/${what}: HTTP 404`));
      expect(e?.message).not.toContain('\n');
      expect(existsSync(join(cache, 'hub', id))).toBe(false);
    }
  });

  test('offline, an unknown model is refused without a request', async () => {
    const before = hub.requests.length;
    await expect(loadModel({ model: 'nobody/else', offline: true })).rejects.toThrow(/offline: no download tried/);
    expect(hub.requests.length).toBe(before);
  });
});
