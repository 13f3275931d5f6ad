#!/usr/bin/env node
// Check a quantized variant made by quantize.py with onnxruntime-node directly (CPU):
//   node scripts/quantize/check.mjs OUT_DIR [q8|q4 ...] [--steps N] [--threads N]
// For each dtype it runs the same token sequence through onnx/model.onnx (fp32),
// onnx/model_<dtype>.onnx and, when present, onnx/reference_<dtype>.onnx (fp32 graph holding the
// dequantized weights; quantize.py --reference), stepping with the KV cache as the codec does
// (a 32-token prefix, then one token per call), and prints:
//   - max |logit difference| quantized vs reference: ~1e-5 means the packing is right and
//     onnxruntime computes in fp32 from exactly those weights (larger for the dq-format q8, which
//     onnxruntime's CPU provider runs with int8 activations);
//   - mean KL(fp32 || quantized) in bits per token and the top-1 agreement with fp32;
//   - median ms per single-token step for each file (a busy machine makes means useless).
// Token ids are a fixed pseudo-random sequence in [0, vocab): no tokenizer needed.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const steps = opt('--steps', 64);
const threads = opt('--threads', 0);
const dir = resolve(args.shift() ?? '');
const dtypes = args.length ? args : ['q8', 'q4'];
const FILE = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

async function open(path) {
  const so = { extra: { session: { intra_op: { allow_spinning: '0' } } } };
  if (threads) so.intraOpNumThreads = threads;
  return ort.InferenceSession.create(path, so);
}

/** Run the sequence; returns { logits: Float32Array[] (one per position), msPerStep (median) }. */
async function run(session, ids, prefix) {
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = session.inputMetadata ?? [];
  const heads = (n) => {
    const m = Array.isArray(meta) ? meta.find((x) => x.name === n) : undefined;
    return m?.shape ? [m.shape[1], m.shape[3]] : null;
  };
  let past = {};
  for (const n of pastNames) {
    const [h, d] = heads(n) ?? [0, 0];
    past[n] = new ort.Tensor('float32', new Float32Array(0), [1, h, 0, d]);
  }
  const out = [];
  let pos = 0;
  const stepMs = [];
  const chunks = [ids.slice(0, prefix), ...ids.slice(prefix).map((t) => [t])];
  for (const chunk of chunks) {
    const T = chunk.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(chunk.map(BigInt)), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + T).fill(1n), [1, pos + T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(chunk.map((_, i) => BigInt(pos + i))), [1, T]),
      ...past,
    };
    const t0 = performance.now();
    const r = await session.run(feeds);
    if (T === 1) stepMs.push(performance.now() - t0);
    const V = r.logits.dims[2];
    for (let i = 0; i < T; i++) out.push(r.logits.data.slice(i * V, (i + 1) * V));
    past = {};
    for (const n of pastNames) past[n] = r[n.replace('past_key_values.', 'present.')];
    pos += T;
  }
  stepMs.sort((x, y) => x - y);
  return { logits: out, msPerStep: stepMs.length ? stepMs[stepMs.length >> 1] : NaN };
}

function logSoftmax(x) {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const l = m + Math.log(s);
  return Float64Array.from(x, (v) => v - l);
}

function compare(a, b) {
  let maxAbs = 0;
  let kl = 0;
  let agree = 0;
  for (let t = 0; t < a.length; t++) {
    const la = logSoftmax(a[t]);
    const lb = logSoftmax(b[t]);
    let am = 0;
    let bm = 0;
    for (let i = 0; i < la.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[t][i] - b[t][i]));
      kl += Math.exp(la[i]) * (la[i] - lb[i]);
      if (la[i] > la[am]) am = i;
      if (lb[i] > lb[bm]) bm = i;
    }
    if (am === bm) agree++;
  }
  return { maxAbs, klBits: kl / a.length / Math.LN2, top1: agree / a.length };
}

const fp32 = await open(join(dir, 'onnx', FILE.fp32));
const vocab = 50257;
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const ids = Array.from({ length: 32 + steps }, () => Math.floor(rnd() * vocab));
const base = await run(fp32, ids, 32);
console.log(`fp32: ${FILE.fp32}  ${base.msPerStep.toFixed(2)} ms/step`);
let bad = false;
for (const d of dtypes) {
  const path = join(dir, 'onnx', FILE[d]);
  if (!existsSync(path)) {
    console.log(`${d}: ${path} missing`);
    bad = true;
    continue;
  }
  const s = await open(path);
  const names = (x) => [...x].sort().join(',');
  if (names(s.inputNames) !== names(fp32.inputNames) || names(s.outputNames) !== names(fp32.outputNames)) {
    console.log(`${d}: graph inputs/outputs differ from fp32`);
    bad = true;
  }
  const q = await run(s, ids, 32);
  const vsFp32 = compare(base.logits, q.logits);
  let line = `${d}: ${FILE[d]}  ${q.msPerStep.toFixed(2)} ms/step  vs fp32: max|Δlogit| ${vsFp32.maxAbs.toFixed(4)}, KL ${vsFp32.klBits.toFixed(5)} bits/token, top-1 agreement ${(100 * vsFp32.top1).toFixed(1)}%`;
  const refPath = join(dir, 'onnx', `reference_${d}.onnx`);
  if (existsSync(refPath)) {
    const r = await run(await open(refPath), ids, 32);
    const vsRef = compare(r.logits, q.logits);
    const refVsFp32 = compare(base.logits, r.logits);
    line += `\n    vs reference_${d}.onnx (dequantized weights, fp32 compute): max|Δlogit| ${vsRef.maxAbs.toExponential(2)}` +
      `; the reference itself vs fp32: KL ${refVsFp32.klBits.toFixed(5)} bits/token`;
    // Not fatal: onnxruntime may legitimately compute differently (e.g. int8 activations for the
    // dq-format q8), which this line is there to show.
    if (vsRef.maxAbs > 1e-3) line += '  (differs: the runtime does not compute it in fp32)';
  }
  console.log(line);
}
process.exit(bad ? 1 : 0);
