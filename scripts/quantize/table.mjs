#!/usr/bin/env node
// Markdown table of a dtype comparison from compress-bench run records:
//   node scripts/quantize/table.mjs baselines/dtypes/*.json
// One row per (model, input, dtype): coded and ideal bits/byte, Δ% of each vs the fp32 row of the
// same model and input (matched by model id with any "-quant…" suffix removed), the ONNX weight
// file's bytes (the record's decompressor bytes minus tokenizer.json) and encode tokens/s.
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

const rows = [];
for (const f of process.argv.slice(2)) {
  const rec = JSON.parse(readFileSync(f, 'utf8'));
  for (const r of rec.results ?? []) {
    if (r.family !== 'lm' || !r.model) continue;
    // weightsBytes counts the weight file(s) and tokenizer.json; show the weight file alone.
    const tokFile = (r.decompressor?.source ?? '').match(/\+ (\S+tokenizer\.json)/)?.[1];
    let tokBytes = 0;
    for (const dir of rec.argv.flatMap((a, i) => (rec.argv[i - 1] === '--model-dir' ? [a] : []))) {
      try {
        tokBytes = statSync(`${dir}/${tokFile}`).size;
        break;
      } catch {
        /* try the next --model-dir */
      }
    }
    rows.push({
      record: basename(f),
      family: r.model.id.replace(/-quant.*$/, ''),
      variant: r.model.id.match(/-quant(-.+)?$/)?.[1]?.slice(1) ?? '',
      dtype: r.model.dtype,
      input: basename(r.input?.path ?? r.file ?? '?'),
      bytes: r.inputBytes,
      tokens: r.tokens,
      bpb: r.bitsPerByte,
      ideal: r.idealBitsPerByte,
      weightBytes: r.model.weightsBytes - tokBytes,
      tokS: r.tokens / r.encodeSeconds,
    });
  }
}
const key = (r) => `${r.family}\u0000${r.input}\u0000${r.bytes}`;
const base = new Map(rows.filter((r) => r.dtype === 'fp32' && !r.variant).map((r) => [key(r), r]));
const pct = (x, b) => (b ? `${x >= b ? '+' : '−'}${Math.abs((100 * (x - b)) / b).toFixed(2)}%` : '');
rows.sort((a, b) => a.family.localeCompare(b.family, 'en', { numeric: true }) || a.input.localeCompare(b.input) ||
  ['fp32', 'q8', 'q4'].indexOf(a.dtype) - ['fp32', 'q8', 'q4'].indexOf(b.dtype) || a.variant.localeCompare(b.variant));
console.log('| model | input (bytes) | dtype | weight file bytes | bpb coded | Δ% | bpb ideal | Δ% | encode tok/s | record |');
console.log('|---|---|---|--:|--:|--:|--:|--:|--:|---|');
for (const r of rows) {
  const b = base.get(key(r));
  const dt = r.variant ? `${r.dtype} (${r.variant})` : r.dtype;
  console.log(`| ${r.family} | ${r.input} (${r.bytes.toLocaleString('en')}) | ${dt} | ${r.weightBytes.toLocaleString('en')} | ` +
    `${r.bpb.toFixed(4)} | ${r === b ? '' : pct(r.bpb, b?.bpb)} | ${r.ideal.toFixed(4)} | ${r === b ? '' : pct(r.ideal, b?.ideal)} | ` +
    `${Math.round(r.tokS)} | ${r.record} |`);
}
