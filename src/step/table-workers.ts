/**
 * The JS quantizer's rows spread over worker threads, for runtimes whose logits sit in native
 * memory (llama.cpp): each worker views its rows at the given address (koffi; no copy) and
 * runs exactly `answerRow` — the same code, on the same floats, as the single-threaded step —
 * so which thread builds a row's table never changes it.
 *
 * Why: a 50k-token table costs ~300–800 µs of JavaScript per row, on one core. With hundreds of
 * rows per step (a GPU's batch) that would cap any runtime at a few thousand tokens/s.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { CodingAnswer, CodingQuery } from './language-model.js';

/** Shared per-step state: the query going in, the answer coming out. */
interface Shared {
  symbols: Int32Array;
  targets: Int32Array;
  active: Uint8Array;
  low: Int32Array;
  freq: Int32Array;
  log2p: Float64Array;
}

const require = createRequire(import.meta.url);

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
import(workerData.step).then(({ answerRow, Quantizer }) => {
  const { V, buffers } = workerData;
  const q = new Quantizer(V);
  const freq = new Uint32Array(V);
  const s = {
    symbols: new Int32Array(buffers.symbols), targets: new Int32Array(buffers.targets), active: new Uint8Array(buffers.active),
    low: new Int32Array(buffers.low), freq: new Int32Array(buffers.freq), log2p: new Float64Array(buffers.log2p),
  };
  parentPort.on('message', ({ address, from, to }) => {
    const logits = new Float32Array(koffi.view(address + BigInt(4 * V * from), 4 * V * (to - from)));
    for (let r = from; r < to; r++) if (s.active[r]) answerRow(q, freq, logits, (r - from) * V, r, s, s);
    parentPort.postMessage(0);
  });
  parentPort.postMessage('ready');
});
`;

export class TableWorkers {
  private readonly workers: Worker[];
  private readonly ready: Promise<void>;
  /** Per worker: what its next message settles. */
  private readonly pending: { ok: () => void; fail: (e: unknown) => void }[] = [];
  readonly shared: Shared;

  constructor(
    readonly count: number,
    private readonly batch: number,
    vocabSize: number,
  ) {
    const buf = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes * batch));
    const buffers = { symbols: buf(4), targets: buf(4), active: buf(1), low: buf(4), freq: buf(4), log2p: buf(8) };
    this.shared = {
      symbols: new Int32Array(buffers.symbols),
      targets: new Int32Array(buffers.targets),
      active: new Uint8Array(buffers.active),
      low: new Int32Array(buffers.low),
      freq: new Int32Array(buffers.freq),
      log2p: new Float64Array(buffers.log2p),
    };
    const workerData = { V: vocabSize, buffers, step: stepModuleUrl(), koffi: require.resolve('koffi') };
    this.workers = Array.from({ length: count }, (_, i) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData });
      // Referenced only while a job is out: an idle pool never keeps the process alive.
      w.on('message', () => {
        w.unref();
        this.pending[i]?.ok();
      });
      w.on('error', (e) => this.pending[i]?.fail(e));
      return w;
    });
    this.ready = Promise.all(this.workers.map((_, i) => this.next(i))).then(() => {});
  }

  private next(i: number): Promise<void> {
    return new Promise<void>((ok, fail) => (this.pending[i] = { ok, fail }));
  }

  /** Answer every active row of `query` from the logits at `address` (batch × V floats). */
  async answer(address: bigint, query: CodingQuery, out: CodingAnswer): Promise<void> {
    await this.ready;
    const s = this.shared;
    s.symbols.set(query.symbols);
    s.targets.set(query.targets);
    s.active.set(query.active);
    const per = Math.ceil(this.batch / this.count);
    const jobs: Promise<void>[] = [];
    for (let w = 0, from = 0; from < this.batch; w++, from += per) {
      jobs.push(this.next(w));
      this.workers[w].ref();
      this.workers[w].postMessage({ address, from, to: Math.min(this.batch, from + per) });
    }
    await Promise.all(jobs);
    out.symbols.set(s.symbols);
    out.low.set(s.low);
    out.freq.set(s.freq);
    out.log2p.set(s.log2p);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * The compiled js-quantizer-step module for the workers (plain Node, no TypeScript): this
 * module's sibling, or dist/'s when this runs from src/ under the test runner (whose global
 * setup compiles dist/ first).
 */
function stepModuleUrl(): string {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/step/js-quantizer-step.js', here).href : new URL('./js-quantizer-step.js', here).href;
}
