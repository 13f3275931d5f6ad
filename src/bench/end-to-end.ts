/**
 * `npm run bench`: end-to-end figures for the LM codec, side by side in one run.
 * Per model: coded vs ideal size, encode and decode tokens/s and their ratio, and where the
 * time goes (model forward, tokenizer, quantization, range coder), beside gzip -9 and
 * zstd -19 on the same bytes. With --sweep, the bpb cost of the segment and sliding-context
 * settings (coded sizes from real encodes).
 *
 *   npm run bench -- [--file F] [--limit N] [--model M ...] [--model-dir D] [--sweep]
 * Defaults: alice29.txt with gpt2-docmix-7m and -30m from ../shared when present, else the
 * shipped sample with the embedded model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadModel } from '../models/lookup.js';
import { LmCompressor } from '../compressors/lm.js';
import { parseBaselines } from '../compressors/baselines.js';
import { bytesEqual } from '../runner/run.js';
import type { CodecOptions } from '../coding/lm-codec.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHARED = join(ROOT, '..', 'shared');
const haveShared = existsSync(join(SHARED, 'models', 'gpt2-docmix-7m'));

const argv = yargs(hideBin(process.argv))
  .option('file', { type: 'string', default: haveShared ? join(SHARED, 'corpora/snappy-testdata/alice29.txt') : join(ROOT, 'corpora/samples/gpl-3.0.txt') })
  .option('limit', { type: 'number' })
  .option('model', { type: 'string', array: true, default: haveShared ? ['gpt2-docmix-7m', 'gpt2-docmix-30m'] : ['embedded'] })
  .option('model-dir', { type: 'string', default: join(SHARED, 'models') })
  .option('segments', { type: 'string', default: 'auto' })
  .option('sweep', { type: 'boolean', default: false, describe: 'Also measure the bpb cost of segment/context settings (encode only)' })
  .strict()
  .parseSync();

const data = new Uint8Array(readFileSync(argv.file)).subarray(0, argv.limit ?? Infinity);
const n = data.length;
const bpb = (bytes: number) => ((bytes * 8) / n).toFixed(4);
const pct = (part: number, all: number) => `${((100 * part) / all).toFixed(1)}%`;
console.log(`input: ${argv.file} (${n} bytes)${haveShared ? '' : '  [../shared absent: embedded model]'}\n`);

const rows: string[][] = [];
for (const id of argv.model) {
  const model = await loadModel({ model: id, modelDirs: [argv['model-dir']], offline: true });
  const codec: CodecOptions = { segments: argv.segments === 'auto' ? 'auto' : Number(argv.segments) };
  const lm = new LmCompressor(model, codec);
  const t0 = performance.now();
  const archive = await lm.compress(data);
  const t1 = performance.now();
  const back = await lm.decompress(archive);
  const t2 = performance.now();
  const s = lm.lastStats()!;
  const enc = s.timing!;
  const dec = s.decodeTiming!;
  const encS = (t1 - t0) / 1000;
  const decS = (t2 - t1) / 1000;
  const payload = s.codec!.payloadBytes as number;
  rows.push([
    id,
    String(s.tokens),
    String(s.codec!.segments),
    String(archive.length),
    bpb(archive.length),
    ((s.idealBits! / n)).toFixed(4),
    (payload * 8 / s.idealBits!).toFixed(5),
    (payload * 8 / (s.codec!.tableBits as number)).toFixed(5),
    (s.tokens! / encS).toFixed(0),
    (s.tokens! / decS).toFixed(0),
    (decS / encS).toFixed(2),
    `fwd ${pct(enc.forward, encS)} tok ${pct(enc.tokenize, encS)} quant ${pct(enc.quantize, encS)} coder ${pct(enc.coder, encS)}`,
    `fwd ${pct(dec.forward, decS)} detok ${pct(dec.detokenize, decS)} quant ${pct(dec.quantize, decS)} coder ${pct(dec.coder, decS)}`,
    bytesEqual(back, data) ? '✓' : '✗',
  ]);
  if (argv.sweep) await sweep(id, model);
  await model.dispose();
}

const head = ['model', 'tokens', 'seg', 'coded B', 'bpb', 'ideal bpb', 'coded/ideal', 'coded/tables', 'enc tok/s', 'dec tok/s', 'dec/enc time', 'encode time split', 'decode time split', 'rt'];
printTable(head, rows);

const baselineRows: string[][] = [];
for (const c of parseBaselines('gzip:9,zstd:19')) {
  const out = await c.compress(data);
  baselineRows.push([c.name, String(out.length), bpb(out.length)]);
}
console.log('');
printTable(['baseline', 'bytes', 'bpb'], baselineRows);

/** bpb of the same model under other segment / context settings, from real encodes. */
async function sweep(id: string, model: Awaited<ReturnType<typeof loadModel>>) {
  const ctx = model.contextLength;
  const settings: [string, CodecOptions][] = [
    ['1 segment, ctx max, prime 1/2', { segments: 1 }],
    ['2 segments', { segments: 2 }],
    ['4 segments', { segments: 4 }],
    ['8 segments', { segments: 8 }],
    ['16 segments', { segments: 16 }],
    [`ctx ${ctx / 2}, prime 1/2 (8 seg)`, { segments: 8, contextLength: ctx / 2 }],
    [`ctx ${ctx}, prime 1/4 (8 seg)`, { segments: 8, primeTokens: ctx / 4 }],
    [`ctx ${ctx}, prime 3/4 (8 seg)`, { segments: 8, primeTokens: (3 * ctx) / 4 }],
  ];
  const out: string[][] = [];
  for (const [label, opts] of settings) {
    const lm = new LmCompressor(model, opts);
    const t0 = performance.now();
    const archive = await lm.compress(data);
    const secs = (performance.now() - t0) / 1000;
    const s = lm.lastStats()!;
    out.push([label, String(archive.length), bpb(archive.length), (s.idealBits! / n).toFixed(4), (s.tokens! / secs).toFixed(0)]);
  }
  console.log(`\nsweep for ${id}:`);
  printTable(['setting', 'coded B', 'bpb', 'ideal bpb', 'enc tok/s'], out);
  console.log('');
}

function printTable(head: string[], body: string[][]) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  console.log([line(head), line(w.map((x) => '-'.repeat(x))), ...body.map(line)].join('\n'));
}
