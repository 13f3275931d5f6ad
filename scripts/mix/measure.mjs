// usage: node scripts/mix/measure.mjs CHECKOUT MODEL FILE [mix|lm] [segments] [mixMemoryMB]
// The figures of docs/mix.md: CHECKOUT is a built checkout (its dist/), so one script measures two builds.
// Env: TABLE=1 loads the model as the CLI does for the mix (ONNX: its table graph); LOGITS=1 as
// mixer version 2's CLI did (no graph); RT=1 also decodes and checks the bytes; COMPRESS_BENCH_MODEL_DIR (default ../shared/models).
// Encodes (and with RT=1 decodes) FILE, prints one JSON line: bytes, bpb, tokens, tok/s, peak RSS.
const [checkout, model, file, kind = 'mix', segs = '1', mem] = process.argv.slice(2);
const { resolve } = await import('node:path');
const { pathToFileURL } = await import('node:url');
const root = pathToFileURL(resolve(checkout)).href;
const { readFileSync } = await import('node:fs');
const { loadModel } = await import(`${root}/dist/models/lookup.js`);
const { LmCompressor } = await import(`${root}/dist/compressors/lm.js`);
const { MixModel } = await import(`${root}/dist/mix/mix-model.js`);
const settingsMod = await import(`${root}/dist/mix/settings.js`);
const data = new Uint8Array(readFileSync(file));
const graphs = await import(`${root}/dist/models/onnx/coding-graph.js`);
// The mix's table graph of that build (mixer version 3 named it onnx-graph-static-kv-table/1).
const tableStep = graphs.STATIC_KV_CUM_KIND ?? graphs.STATIC_KV_TABLE_KIND;
const inner = await loadModel({ model, modelDirs: [process.env.COMPRESS_BENCH_MODEL_DIR ?? '../shared/models'], offline: true, ...(process.env.LOGITS ? { codingStep: 'js-quantizer/1' } : process.env.TABLE ? { codingStep: tableStep } : {}) });
const settings = mem ? { ...settingsMod.DEFAULT_MIX_SETTINGS, memoryMB: Number(mem) } : undefined;
const lm = kind === 'mix' ? new MixModel(inner, settings) : inner;
const c = new LmCompressor(lm, { segments: segs === 'auto' ? 'auto' : Number(segs) });
const t0 = performance.now();
const archive = await c.compress(data);
const enc = (performance.now() - t0) / 1000 - c.lastStats().timing.tokenize;
const s = c.lastStats();
let rt, dec;
if (process.env.RT) {
  const t1 = performance.now();
  const back = await c.decompress(archive);
  dec = (performance.now() - t1) / 1000;
  rt = Buffer.from(back).equals(Buffer.from(data));
}
console.log(JSON.stringify({ root: root.split('/').pop(), model, file: file.split('/').pop(), kind, segments: s.codec.segments, step: s.codec.codingStep, bytes: archive.length, bpb: +(archive.length * 8 / data.length).toFixed(4), tokens: s.tokens, encS: +enc.toFixed(1), encTokS: +(s.tokens / enc).toFixed(1), decS: dec && +dec.toFixed(1), rt, rssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
await lm.dispose();
