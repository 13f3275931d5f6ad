// usage: node scripts/mix/ratio.mjs FILE SEGMENTS [MODEL] [REPS]
// The mix's encode (and decode) time beside the pure model's at the same segments, in one process,
// interleaved (lm, mix, lm, mix, …) on one loaded model after an untimed warm-up of each, so that a
// noisy machine slows both alike: prints each run and the ratio of the medians (use odd REPS). Needs a build (dist/); models from
// COMPRESS_BENCH_MODEL_DIR (default ../shared/models).
import { readFileSync } from 'node:fs';
import { loadModel } from '../../dist/models/lookup.js';
import { LmCompressor } from '../../dist/compressors/lm.js';
import { MixModel } from '../../dist/mix/mix-model.js';
import { STATIC_KV_CUM_KIND } from '../../dist/models/onnx/coding-graph.js';

const [file, segs = '1', model = 'gpt2-docmix-7m', reps = '3'] = process.argv.slice(2);
const data = new Uint8Array(readFileSync(file));
const inner = await loadModel({ model, modelDirs: [process.env.COMPRESS_BENCH_MODEL_DIR ?? '../shared/models'], offline: true, codingStep: STATIC_KV_CUM_KIND });
const mix = new MixModel(inner);
const runs = { lm: { enc: [], dec: [] }, mix: { enc: [], dec: [] } };
// Untimed first: each kind's graph session is created on its first use.
for (const m of [inner, mix]) await new LmCompressor(m, { segments: Number(segs) }).compress(data.subarray(0, 256));
for (let i = 0; i < Number(reps); i++) {
  for (const kind of ['lm', 'mix']) {
    const c = new LmCompressor(kind === 'lm' ? inner : mix, { segments: Number(segs) });
    const t0 = performance.now();
    const archive = await c.compress(data);
    const stats = c.lastStats();
    const enc = (performance.now() - t0) / 1000 - stats.timing.tokenize;
    const t1 = performance.now();
    const back = await c.decompress(archive);
    const dec = (performance.now() - t1) / 1000;
    if (!Buffer.from(back).equals(Buffer.from(data))) throw new Error(`${kind}: round trip failed`);
    runs[kind].enc.push(enc);
    runs[kind].dec.push(dec);
    console.log(JSON.stringify({ kind, step: stats.codec.codingStep, segments: stats.codec.segments, bytes: archive.length, bpb: +((archive.length * 8) / data.length).toFixed(4), tokens: stats.tokens, encS: +enc.toFixed(2), decS: +dec.toFixed(2) }));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const ratio = (what) => +(median(runs.mix[what]) / median(runs.lm[what])).toFixed(3);
console.log(JSON.stringify({ file: file.split('/').pop(), model, segments: Number(segs), reps: Number(reps), lmEncS: +median(runs.lm.enc).toFixed(2), mixEncS: +median(runs.mix.enc).toFixed(2), encodeRatio: ratio('enc'), decodeRatio: ratio('dec') }));
await mix.dispose();
