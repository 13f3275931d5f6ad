/**
 * The coding step (docs/design.md): the derived ONNX graph that builds the integer tables and
 * answers the coder inside onnxruntime, checked against the JavaScript reference quantizer on
 * the same logits; its invariants (every symbol ≥ 1, intervals tile [0, T), the decoder finds
 * what the encoder coded); the padded block layout; and the archive's record of which coding
 * step made it (v1 archives decode with the JS quantizer; an unknown step is refused).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { blockLayout, deriveCodingGraph, CodingGraphError, CODING_GRAPH_KIND, CUM_OUTPUT, CUM_OUTPUTS, STATIC_KV_GRAPH_KIND, TABLE_MAX_OUTPUT } from '../src/models/onnx/coding-graph.js';
import { sessionOptions } from '../src/models/onnx/load.js';
import { FREQUENCY_TOTAL, Quantizer } from '../src/step/frequencies.js';
import { JS_QUANTIZER_KIND } from '../src/step/js-quantizer-step.js';
import { loadModel } from '../src/models/lookup.js';
import { LmCompressor, ModelMismatchError } from '../src/compressors/lm.js';
import { readArchive, writeArchive, crc32Of } from '../src/coding/container.js';
import type { LanguageModel } from '../src/step/language-model.js';
import { EDGE_CASES, EMBEDDED_DIR, HAVE_EMBEDDED, HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, corpusPrefix } from './helpers/shared.js';

const T = FREQUENCY_TOTAL;

describe('block layout of the decoder search', () => {
  test.each([50257, 128256, 151936, 262144, 32000, 257, 256, 65537, 2])('V = %i: K·nb covers V, scans stay short', (V) => {
    const { K, nb } = blockLayout(V);
    expect(K * nb).toBeGreaterThanOrEqual(V);
    expect(K * nb - V).toBeLessThan(K);
    // Float32 sums over K then nb entries stay within the 2^-12 margin: (K + nb)·2^-24 ≤ 2^-12.
    expect(K + nb).toBeLessThanOrEqual(4096);
  });
  test('divisors are used when they keep both scans short (no padding for GPT-2 or Llama 3)', () => {
    expect(blockLayout(50257)).toEqual({ K: 1733, nb: 29 });
    expect(blockLayout(128256).K * blockLayout(128256).nb).toBe(128256);
    expect(blockLayout(65537).K * blockLayout(65537).nb).toBeGreaterThan(65537); // prime: padded
  });
});

/** One step of B rows with the same history through a session: each row asks its own query. */
async function stepRows(session: ort.InferenceSession, history: number[], queries: { symbol: number; target: number; other?: number }[]) {
  const B = queries.length;
  const L = history.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * L }, (_, i) => BigInt(history[i % L])), [B, L]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * L).fill(1n), [B, L]),
  };
  if (session.inputNames.includes('position_ids')) {
    feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: B * L }, (_, i) => BigInt(i % L)), [B, L]);
  }
  const meta = session.inputMetadata as unknown as { name: string; shape: (number | string)[] }[];
  for (const m of meta.filter((m) => m.name.startsWith('past_key_values.'))) {
    feeds[m.name] = new ort.Tensor('float32', new Float32Array(0), [B, Number(m.shape[1]), 0, Number(m.shape[3])]);
  }
  if (session.inputNames.includes('coding_symbol')) {
    feeds.coding_symbol = new ort.Tensor('int64', BigInt64Array.from(queries, (q) => BigInt(q.symbol)), [B, 1]);
    feeds.coding_target = new ort.Tensor('int64', BigInt64Array.from(queries, (q) => BigInt(q.target)), [B, 1]);
  }
  if (session.inputNames.includes('coding_symbol2')) feeds.coding_symbol2 = new ort.Tensor('int64', BigInt64Array.from(queries, (q) => BigInt(q.other ?? 0)), [B, 1]);
  return session.run(feeds);
}

function graphChecks(name: string, dir: () => string | null) {
  describe(`derived coding graph on ${name}`, () => {
    let original: ort.InferenceSession;
    let bytes: Uint8Array;
    let V: number;
    beforeAll(async () => {
      const d = dir()!;
      bytes = new Uint8Array(readFileSync(join(d, 'onnx', 'model.onnx')));
      V = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).vocab_size;
      original = await ort.InferenceSession.create(bytes, sessionOptions('cpu'));
    });
    afterAll(async () => original?.release());

    test.each([['natural blocks', undefined], ['padded blocks (K = 64)', 64]] as const)(
      '%s: agrees with the JS quantizer, intervals tile [0, T), the decoder finds the coded symbol',
      async (_, blockSize) => {
        const derived = deriveCodingGraph(bytes, T, { blockSize });
        expect(derived.headSlice).toBe('before-head');
        const graph = await ort.InferenceSession.create(derived.bytes, sessionOptions('cpu'));
        expect(graph.outputNames).not.toContain('logits');
        const history = [V - 1, 17, 42, 101, 7];
        // Reference: the exported model's last-position logits through the JS quantizer.
        const ref = await stepRows(original, history, [{ symbol: 0, target: 0 }]);
        const logits = (ref.logits as ort.Tensor).data as Float32Array;
        const last = logits.subarray((history.length - 1) * V, history.length * V);
        const jsFreq = new Uint32Array(V);
        const table = new Quantizer(V).quantize(last, 0, jsFreq);
        const symbols = [0, 1, 2, V >> 1, V - 2, V - 1, 13 % V, 198 % V];
        const enc = await stepRows(graph, history, symbols.map((symbol) => ({ symbol, target: 0 })));
        const low = enc.coding_low.data as Int32Array;
        const freq = enc.coding_freq.data as Int32Array;
        const log2p = enc.coding_log2p.data as Float64Array;
        symbols.forEach((s, r) => {
          expect(Number((enc.coding_symbol_out.data as BigInt64Array)[r])).toBe(s);
          expect(freq[r]).toBeGreaterThanOrEqual(1);
          expect(low[r] + freq[r]).toBeLessThanOrEqual(T);
          // Same distribution as the reference (ideal bits to 1e-3, table within the margins).
          const ideal = table.log2Norm - (last[s] - table.max) * Math.LOG2E;
          expect(Math.abs(-log2p[r] - ideal)).toBeLessThan(1e-3);
          expect(Math.abs(Math.log2(freq[r] / jsFreq[s]))).toBeLessThan(0.01 + (s === V - 1 ? 10 : 0));
        });
        // The last symbol holds the leftover: its interval ends at T exactly.
        const lastRow = symbols.indexOf(V - 1);
        expect(low[lastRow] + freq[lastRow]).toBe(T);
        // Symbol 0 starts at 0; consecutive symbols abut.
        expect(low[0]).toBe(0);
        expect(low[1]).toBe(low[0] + freq[0]);
        expect(low[2]).toBe(low[1] + freq[1]);
        // Decoder: any target inside a symbol's interval finds that symbol and the same interval.
        const targets = symbols.map((_, r) => low[r] + ((r * 7919) % freq[r]));
        const dec = await stepRows(graph, history, targets.map((target) => ({ symbol: -1, target })));
        symbols.forEach((s, r) => {
          expect(Number((dec.coding_symbol_out.data as BigInt64Array)[r])).toBe(s);
          expect((dec.coding_low.data as Int32Array)[r]).toBe(low[r]);
          expect((dec.coding_freq.data as Int32Array)[r]).toBe(freq[r]);
        });
        // Targets at the very ends of [0, T) decode to the first and the last symbol.
        const ends = await stepRows(graph, history, [{ symbol: -1, target: 0 }, { symbol: -1, target: T - 1 }]);
        expect(Number((ends.coding_symbol_out.data as BigInt64Array)[0])).toBe(0);
        expect(Number((ends.coding_symbol_out.data as BigInt64Array)[1])).toBe(V - 1);
        await graph.release();
      },
    );

    test.each([['natural blocks', undefined], ['padded blocks (K = 64)', 64]] as const)(
      '%s: the cumulative graph (the mix\'s) returns the very table the coding step codes with, summed, and its likeliest entry',
      async (_, blockSize) => {
        const plain = await ort.InferenceSession.create(deriveCodingGraph(bytes, T, { blockSize }).bytes, sessionOptions('cpu'));
        const withCum = await ort.InferenceSession.create(deriveCodingGraph(bytes, T, { blockSize, cum: true }).bytes, sessionOptions('cpu'));
        const history = [V - 1, 5, 99, 3];
        const symbols = [0, 1, V >> 1, V - 2, V - 1, 198 % V];
        const enc = await stepRows(plain, history, symbols.map((symbol) => ({ symbol, target: 0 })));
        // Each row's second read (the mix's match token): another row's symbol, so every interval is checked twice.
        const others = symbols.map((_, r) => symbols[(r + 1) % symbols.length]);
        const out = await stepRows(withCum, history, symbols.map((symbol, r) => ({ symbol, target: 0, other: others[r] })));
        const cum = out[CUM_OUTPUT].data as Int32Array;
        const stride = out[CUM_OUTPUT].dims[1];
        const { K, nb } = blockSize ? { K: blockSize, nb: Math.ceil(V / blockSize) } : blockLayout(V);
        expect(out[CUM_OUTPUT].dims).toEqual([symbols.length, nb * K]);
        symbols.forEach((s, r) => {
          const row = cum.subarray(r * stride, (r + 1) * stride);
          // The coder's table from the sums: each entry ≥ 1, the last one's interval ends at T.
          const freqOf = (i: number) => (i === V - 1 ? T : row[i]) - (i > 0 ? row[i - 1] : 0);
          let min = T;
          let max = 0;
          for (let i = 0; i < V; i++) {
            min = Math.min(min, freqOf(i));
            if (i < V - 1) max = Math.max(max, freqOf(i));
          }
          expect(min).toBeGreaterThanOrEqual(1);
          // Padding adds nothing: the sums stay flat after the last symbol.
          for (let i = V; i < stride; i++) expect(row[i]).toBe(row[V - 1]);
          expect([s > 0 ? row[s - 1] : 0, freqOf(s)]).toEqual([(enc.coding_low.data as Int32Array)[r], (enc.coding_freq.data as Int32Array)[r]]);
          // The encoder's two reads, without the whole table: the same intervals.
          expect([(out.coding_low.data as Int32Array)[r], (out.coding_freq.data as Int32Array)[r]]).toEqual([s > 0 ? row[s - 1] : 0, freqOf(s)]);
          const o = others[r];
          expect([(out[CUM_OUTPUTS.low2].data as Int32Array)[r], (out[CUM_OUTPUTS.freq2].data as Int32Array)[r]]).toEqual([o > 0 ? row[o - 1] : 0, freqOf(o)]);
          // The confidence output is the likeliest token's entry (its exp(x − max) is 1), leftover aside.
          const conf = (out[TABLE_MAX_OUTPUT].data as Int32Array)[r];
          expect(Math.abs(conf - max)).toBeLessThanOrEqual(1);
        });
        await plain.release();
        await withCum.release();
      },
    );
  });
}

graphChecks('the embedded model', () => (HAVE_EMBEDDED ? EMBEDDED_DIR : null));

describe.skipIf(!HAVE_EMBEDDED)('static KV cache derivation', () => {
  const bytes = () => new Uint8Array(readFileSync(join(EMBEDDED_DIR, 'onnx', 'model.onnx')));
  test('every layer returns only its new positions; the whole present cache is gone', async () => {
    const graph = await ort.InferenceSession.create(deriveCodingGraph(bytes(), T, { staticKv: true }).bytes, sessionOptions('cpu'));
    expect(graph.outputNames.filter((n) => n.startsWith('present.'))).toEqual([]);
    expect(graph.outputNames.filter((n) => n.startsWith('kv_new.')).length).toBe(graph.inputNames.filter((n) => n.startsWith('past_key_values.')).length);
    await graph.release();
  });
  test('attention it does not recognise is refused, naming the input (the plain graph is used then)', () => {
    // Rename the first key Concat's output consumer input: the past now feeds something else.
    const { onnx } = onnxProto;
    const model = onnx.ModelProto.decode(bytes());
    const concat = model.graph!.node!.find((n) => n.opType === 'Concat' && n.input![0] === 'past_key_values.0.key')!;
    model.graph!.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: [concat.output![0]], output: ['extra_use'] }));
    const edited = onnx.ModelProto.encode(model).finish();
    expect(() => deriveCodingGraph(edited, T, { staticKv: true })).toThrow(CodingGraphError);
    expect(() => deriveCodingGraph(edited, T, { staticKv: true })).toThrow(/past_key_values\.0\.key has 2 consumers/);
    expect(deriveCodingGraph(edited, T).bytes.length).toBeGreaterThan(0);
  });
});
if (HAVE_SHARED) graphChecks(SMALL_MODEL, () => join(SHARED_MODELS, SMALL_MODEL));

describe.skipIf(!HAVE_SHARED)(`archives record their coding step (${SMALL_MODEL})`, () => {
  let model: LanguageModel;
  beforeAll(async () => {
    model = await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true });
  });
  afterAll(async () => model?.dispose());
  const input = () => corpusPrefix('alice29.txt', 1500);

  test('the graph is the default; two runs give identical archives; both steps round-trip', async () => {
    expect(model.codingSteps).toEqual([STATIC_KV_GRAPH_KIND, CODING_GRAPH_KIND, JS_QUANTIZER_KIND]);
    const lm = new LmCompressor(model, { segments: 3 });
    const a = await lm.compress(input());
    expect(readArchive(a).header.codingStep).toBe(STATIC_KV_GRAPH_KIND);
    expect(Buffer.from(await lm.compress(input())).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(await lm.decompress(a)).equals(Buffer.from(input()))).toBe(true);
    const js = new LmCompressor(model, { segments: 3, codingStep: JS_QUANTIZER_KIND });
    const b = await js.compress(input());
    expect(readArchive(b).header.codingStep).toBe(JS_QUANTIZER_KIND);
    // Whatever the compressor prefers, decoding follows the archive.
    expect(Buffer.from(await lm.decompress(b)).equals(Buffer.from(input()))).toBe(true);
    // The two steps code to within a few bytes of each other on 1.5 KB.
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(8); // headers differ by the step name
  });

  test('the static KV cache codes as the growing one does, through re-primes and full windows', async () => {
    // A 64-token window re-primed to 32: the cache grows, fills, is masked and re-primed many times.
    const opts = { segments: 3, contextLength: 64, primeTokens: 32 };
    const sizes: Record<string, { bytes: number; ideal: number }> = {};
    const archives: Uint8Array[] = [];
    for (const codingStep of [STATIC_KV_GRAPH_KIND, CODING_GRAPH_KIND]) {
      const lm = new LmCompressor(model, { ...opts, codingStep });
      const a = await lm.compress(input());
      expect(readArchive(a).header.codingStep).toBe(codingStep);
      const { idealBits } = lm.lastStats()!;
      expect(idealBits).toBeGreaterThan(0); // an LM encode always reports its ideal code length
      sizes[codingStep] = { bytes: a.length, ideal: idealBits! };
      archives.push(a);
    }
    // Same model, same positions: the ideal code length agrees to float noise, the archives to a few bytes.
    const [st, dy] = [sizes[STATIC_KV_GRAPH_KIND], sizes[CODING_GRAPH_KIND]];
    expect(Math.abs(st.ideal - dy.ideal) / dy.ideal).toBeLessThan(1e-5);
    expect(Math.abs(st.bytes - dy.bytes)).toBeLessThanOrEqual(16);
    // Each archive decodes with its own step, whichever the compressor prefers.
    const lm = new LmCompressor(model, opts);
    for (const a of archives) expect(Buffer.from(await lm.decompress(a)).equals(Buffer.from(input()))).toBe(true);
  });

  test('edge cases round-trip through the graph', async () => {
    const lm = new LmCompressor(model, { segments: 2 });
    for (const data of Object.values(EDGE_CASES)) {
      expect(Buffer.from(await lm.decompress(await lm.compress(data))).equals(Buffer.from(data))).toBe(true);
    }
  });

  test('an archive from a coding step this build does not have is refused, naming it', async () => {
    const lm = new LmCompressor(model, { segments: 1 });
    const { header, streams } = readArchive(await lm.compress(input()));
    const forged = writeArchive({ ...header, codingStep: 'onnx-graph/99' }, streams);
    await expect(lm.decompress(forged)).rejects.toThrow(ModelMismatchError);
    await expect(lm.decompress(forged)).rejects.toThrow(/coding step: archive expects onnx-graph\/99/);
  });

  test('an archive from another runtime is refused unless allowed; a corrupt payload on the same runtime says corrupt', async () => {
    const lm = new LmCompressor(model, { segments: 1 });
    const { header, streams } = readArchive(await lm.compress(input()));
    const other = writeArchive({ ...header, runtime: 'onnxruntime-node 9.9.9 cpu arm64 darwin' }, streams);
    await expect(lm.decompress(other)).rejects.toThrow(/runtime: archive was coded with onnxruntime-node 9\.9\.9 cpu arm64 darwin/);
    const lenient = new LmCompressor(model, { segments: 1, allowOtherRuntime: true });
    expect(Buffer.from(await lenient.decompress(other)).equals(Buffer.from(input()))).toBe(true);
    // Flip a payload bit and re-seal the container's CRC: the decoder itself must catch it.
    const flipped = streams.map((s) => s.slice());
    flipped[0][Math.floor(flipped[0].length / 2)] ^= 0x10;
    await expect(lm.decompress(writeArchive(header, flipped))).rejects.toThrow(/archive is corrupt/);
  });

  test('a v1 archive (before coding steps were recorded) decodes with the JS quantizer', async () => {
    const js = new LmCompressor(model, { segments: 2, codingStep: JS_QUANTIZER_KIND });
    const v2 = await js.compress(input());
    // v1 layout: the same header without the coding-step string, version byte 1.
    const step = new TextEncoder().encode(JS_QUANTIZER_KIND);
    const at = findBytes(v2, Uint8Array.of(step.length, ...step));
    expect(at).toBeGreaterThan(0);
    const body = new Uint8Array([...v2.subarray(0, at), ...v2.subarray(at + 1 + step.length, v2.length - 4)]);
    body[4] = 1;
    const v1 = new Uint8Array(body.length + 4);
    v1.set(body);
    new DataView(v1.buffer).setUint32(body.length, crc32Of(body), true);
    expect(readArchive(v1).header.codingStep).toBe(JS_QUANTIZER_KIND);
    const lm = new LmCompressor(model);
    expect(Buffer.from(await lm.decompress(v1)).equals(Buffer.from(input()))).toBe(true);
  });
});

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
