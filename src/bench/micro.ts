/**
 * `npm run bench:micro`: the per-token work outside the model forward, with tinybench, for a
 * GPT-2-sized vocabulary (50,257) and a byte-level one (257), side by side in one run:
 * softmax + quantization (as shipped, and with Math.exp for reference), the encoder's
 * cumulative sum, the decoder's symbol search, and one range-coder symbol; then a step's
 * tables for 64 rows in native memory (as llama.cpp leaves them), on the main thread and on
 * the worker pool (one worker per core).
 */
import { Bench } from 'tinybench';
import { Quantizer, cumulativeBelow, findSymbol } from '../step/frequencies.js';
import { RangeEncoder } from '../coding/range-coder.js';
import { answerRow } from '../step/js-quantizer-step.js';
import { TableWorkers } from '../step/table-workers.js';
import koffi from 'koffi';
import { availableParallelism } from 'node:os';

function logitsLike(V: number, seed = 1): Float32Array {
  // Roughly LM-shaped: a few strong candidates over a broad Gaussian-ish floor.
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = new Float32Array(V);
  for (let i = 0; i < V; i++) out[i] = (rand() + rand() + rand() - 1.5) * 4;
  for (let k = 0; k < 20; k++) out[Math.floor(rand() * V)] += 12 * rand();
  return out;
}

/** The same quantization with Math.exp: what the table-based exp replaced. */
function quantizeMathExp(logits: Float32Array, out: Uint32Array, total: number): void {
  const V = logits.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i];
  const e = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += e[i] = Math.exp(logits[i] - max);
  const scale = (total - V) / sum;
  for (let i = 0; i < V; i++) out[i] = 1 + Math.floor(e[i] * scale);
}

const bench = new Bench({ time: 500 });
for (const V of [50257, 257]) {
  const logits = logitsLike(V);
  const q = new Quantizer(V);
  const freq = new Uint32Array(V);
  const table = q.quantize(logits, 0, freq);
  const symbol = Math.floor(V * 0.7);
  const target = cumulativeBelow(freq, symbol) + 1;
  const enc = new RangeEncoder();
  bench
    .add(`V=${V} quantize (table exp, shipped)`, () => {
      q.quantize(logits, 0, freq);
    })
    .add(`V=${V} quantize (Math.exp)`, () => {
      quantizeMathExp(logits, freq, table.total);
    })
    .add(`V=${V} encoder cumulative sum`, () => {
      cumulativeBelow(freq, symbol);
    })
    .add(`V=${V} decoder symbol search`, () => {
      findSymbol(freq, target);
    })
    .add(`V=${V} range coder: one symbol`, () => {
      enc.encode(target - 1, freq[symbol], table.total);
    });
}
// A step's tables: 64 rows of 50,257 logits in native memory, main thread vs worker pool.
{
  const [B, V] = [64, 50257];
  const address = koffi.alloc('float', B * V) as unknown as bigint;
  const rows = new Float32Array(koffi.view(address, 4 * B * V));
  for (let r = 0; r < B; r++) rows.set(logitsLike(V, r + 1), r * V);
  const query = { symbols: new Int32Array(B).fill(-1), targets: Int32Array.from({ length: B }, (_, r) => r * 4_000_000), active: new Uint8Array(B).fill(1) };
  const answer = () => ({ symbols: new Int32Array(B), low: new Int32Array(B), freq: new Int32Array(B), log2p: new Float64Array(B) });
  const [q, freq, out, pooled] = [new Quantizer(V), new Uint32Array(V), answer(), answer()];
  const workers = availableParallelism();
  const pool = new TableWorkers(workers, B, V);
  await pool.answer(address, query, pooled); // started
  bench
    .add(`${B} rows × V=${V}: tables on the main thread`, () => {
      for (let r = 0; r < B; r++) answerRow(q, freq, rows, r * V, r, query, out);
    })
    .add(`${B} rows × V=${V}: tables on ${workers} worker threads`, async () => {
      await pool.answer(address, query, pooled);
    });
  bench.addEventListener('complete', () => {
    if (!out.low.every((x, i) => x === pooled.low[i])) throw new Error('the worker pool built other tables than the main thread');
    void pool.dispose();
  });
}
await bench.run();
console.table(
  bench.tasks.map((t) => ({
    task: t.name,
    // tinybench reports milliseconds; the median resists GC pauses and a busy machine.
    'median µs/op': t.result && 'latency' in t.result ? ((t.result.latency.p50 ?? NaN) * 1000).toFixed(2) : '?',
    'mean µs/op': t.result && 'latency' in t.result ? (t.result.latency.mean * 1000).toFixed(2) : '?',
  })),
);
