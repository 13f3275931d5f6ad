#!/usr/bin/env node
// How well does lmZlibRatio tell training data from held-out data? Per model, from run records:
//   node scripts/generalization/calibrate.mjs RECORD_DIR_OR_FILES... [--markdown]
// (after `npm run build`). Prints, per model: pooled coded bits/byte on seen and unseen inputs and
// the gap, the mean LM/zlib ratio of each, the ROC AUC of the ratio as a membership score (seen =
// lower), the AUC of plain bits/byte for comparison, the best single threshold's accuracy, and the
// inputs a threshold gets wrong. Inputs whose `seen` is null are left out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rocAuc } from '../../dist/records/generalization.js';

const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const files = args.filter((a) => a !== '--markdown').flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.json')).sort().map((f) => join(p, f)) : [p]));
if (!files.length) {
  console.error('usage: calibrate.mjs RECORD_DIR_OR_FILES... [--markdown]');
  process.exit(2);
}
const latest = new Map();
for (const f of files) {
  for (const r of JSON.parse(readFileSync(f, 'utf8')).results) {
    if (!r.model || !r.roundtrip || r.inputBytes === 0 || typeof r.lmZlibRatio !== 'number') continue;
    latest.set(`${r.compressor}\0${r.model.weightsSha256}\0${r.input.sliceSha256}`, r);
  }
}
const byModel = new Map();
for (const r of latest.values()) byModel.set(r.model.id, [...(byModel.get(r.model.id) ?? []), r]);
const pooled = (rs) => (8 * rs.reduce((a, r) => a + r.outputBytes, 0)) / rs.reduce((a, r) => a + r.inputBytes, 0);
const payload = (rs) => (8 * rs.reduce((a, r) => a + (r.codec?.payloadBytes ?? r.outputBytes), 0)) / rs.reduce((a, r) => a + r.inputBytes, 0);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const source = (r) => r.input.corpus ?? r.input.name.split('/').pop();
const rows = [];
const details = [];
for (const [id, rs] of [...byModel].sort((a, b) => (a[1][0].model.parameters ?? 0) - (b[1][0].model.parameters ?? 0))) {
  const seen = rs.filter((r) => r.seen === true);
  const unseen = rs.filter((r) => r.seen === false);
  if (!seen.length || !unseen.length) continue;
  const ratio = (xs) => xs.map((r) => r.lmZlibRatio);
  const bpb = (xs) => xs.map((r) => r.bitsPerByte);
  // Best single threshold on the ratio: seen iff ratio < t.
  const all = [...seen.map((r) => [r.lmZlibRatio, true, r]), ...unseen.map((r) => [r.lmZlibRatio, false, r])].sort((a, b) => a[0] - b[0]);
  let best = { acc: 0, t: 0 };
  for (let i = 0; i <= all.length; i++) {
    const t = i === all.length ? Infinity : all[i][0];
    const acc = all.filter(([v, s]) => (v < t) === s).length / all.length;
    if (acc > best.acc) best = { acc, t };
  }
  const wrong = all.filter(([v, s]) => (v < best.t) !== s).map(([v, s, r]) => `${source(r)}@${r.input.offset} (${s ? 'seen' : 'unseen'}, ${v.toFixed(3)})`);
  rows.push([id, (rs[0].model.parameters ?? 0).toLocaleString('en-US'), pooled(seen).toFixed(3), pooled(unseen).toFixed(3), (pooled(unseen) - pooled(seen)).toFixed(3),
    payload(seen).toFixed(3), payload(unseen).toFixed(3), mean(ratio(seen)).toFixed(3), mean(ratio(unseen)).toFixed(3),
    rocAuc(ratio(seen), ratio(unseen)).toFixed(3), rocAuc(bpb(seen), bpb(unseen)).toFixed(3), `${(best.acc * 100).toFixed(0)}% (t=${best.t.toFixed(3)})`, `${seen.length} / ${unseen.length}`]);
  const bySource = new Map();
  for (const r of [...seen, ...unseen]) bySource.set(source(r), [...(bySource.get(source(r)) ?? []), r]);
  details.push(`${id}: mean LM/zlib by source: ${[...bySource].map(([s, xs]) => `${s} ${mean(ratio(xs)).toFixed(3)} (${xs[0].seen ? 'seen' : 'unseen'}, bpb ${pooled(xs).toFixed(3)})`).join('; ')}` +
    (wrong.length ? `\n  misclassified at the best threshold: ${wrong.join(', ')}` : '\n  no input misclassified at the best threshold'));
}
const head = ['model', 'parameters', 'seen bpb', 'unseen bpb', 'gap', 'seen payload bpb', 'unseen payload bpb', 'LM/zlib seen', 'LM/zlib unseen', 'AUC LM/zlib', 'AUC bpb', 'best threshold', 'inputs seen / unseen'];
if (markdown) {
  console.log(`| ${head.join(' | ')} |\n|${head.map((_, i) => (i ? '---:' : ':---')).join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} else {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(head.map((h, i) => h.padStart(w[i])).join('  '));
  for (const r of rows) console.log(r.map((c, i) => c.padStart(w[i])).join('  '));
}
console.log('\n' + details.join('\n'));
