/**
 * `mix:<model>`: a `LanguageModel` whose next-token table mixes the wrapped LM's distribution
 * with online models (matches, order 0, hashed token contexts, record contexts over the
 * tokens' bytes; predictor.ts) that learn the segment as it is coded. It plugs into the
 * unchanged LM codec and container: its coding step is named `mix/4+<the LM's table step>`
 * (`mix/4:o…:m…:r…:mem<MB>+…` under other settings; settings.ts), so a mix archive records the
 * mixer, its memory and how the LM's tables were made, beside the LM's identity as usual;
 * decoding with another model, mixer, budget or step is refused.
 *
 * The LM's table is read per row as cumulative sums (the decoder's whole rows, the encoder's
 * two intervals: its token's and its match token's). Where the model has one (ONNX
 * models whose attention the static-KV rewrite knows), it comes from the
 * `onnx-graph-static-kv-cum/1` graph: the pure model's fast static-KV step, with the integer
 * table and its cumulative sums computed in onnxruntime. Otherwise (GGUF on llama.cpp, order-k,
 * other ONNX graphs) the model's logits are quantized and summed in JavaScript (`js-quantizer/1`).
 *
 * Segments: each row (segment) has its own predictor over its own tokens so far, primer
 * included, as the decoder must; the rows share the fixed-size context and match tables
 * (memory.ts), so the budget holds whatever the segment count.
 *
 * Cost per token and row besides the LM step: O(contexts × slots) to mix and to find the
 * encoder's interval, O(log V) times that for the decoder's search, O(256) per byte for the
 * record-length search; no pass over the vocabulary (the LM's runtime did its one).
 */
import type { CodingAnswer, CodingQuery, LanguageModel, ModelBatch, TableBatch } from '../step/language-model.js';
import { JS_QUANTIZER_KIND, JsQuantizerTables } from '../step/js-quantizer-step.js';
import { LmRow, MIXER_SETS, MixPredictor, type MixTables } from './predictor.js';
import { ContextTable, MAX_TABLE_VOCAB } from './context-table.js';
import { mixTableSizes, type MixTableSizes } from './memory.js';
import { RECORD_CONTEXTS } from './record-model.js';
import { checkMixSettings, mixerName, DEFAULT_MIX_SETTINGS, type MixSettings } from './settings.js';

export class MixUnsupportedError extends Error {}

/** Bytes a row holds besides the shared tables: mixer weights (doubles) and use counts, order-0 counts and their Fenwick tree, scratch. */
function fixedBytesPerRow(vocabSize: number, settings: MixSettings): number {
  const experts = 2 + settings.orders.length + RECORD_CONTEXTS + settings.matchMin.length;
  return MIXER_SETS * (experts * 8 + 4) + vocabSize * 8 + 4096;
}

/** The shared tables' sizes for `rows` segments under the settings' budget. */
export function mixTablesFor(settings: MixSettings, rows: number, vocabSize: number): MixTableSizes {
  return mixTableSizes(settings.memoryMB, Math.max(1, rows), settings.matchMin.length, fixedBytesPerRow(vocabSize, settings));
}

/** Tables of the same sizes are interchangeable: this names the sizes. */
const poolKey = (sizes: MixTableSizes, matchModels: number) => `${sizes.historyTokens}/${sizes.matchEntries}/${sizes.contextBuckets}/${matchModels}`;

/**
 * The shared tables of the last batch, kept for the next one of the same sizes (chunks of one
 * input, encode then decode): cleared and reused, so a run holds one set of tables, never a
 * second set while the first waits for the garbage collector.
 */
class TablePool {
  private spare?: { key: string; tables: MixTables };

  take(sizes: MixTableSizes, matchModels: number): MixTables {
    const key = poolKey(sizes, matchModels);
    const spare = this.spare;
    this.spare = undefined;
    if (spare?.key === key) {
      spare.tables.contexts.t.fill(0);
      for (const m of spare.tables.matches) m.fill(-1);
      return spare.tables;
    }
    return {
      contexts: new ContextTable(sizes.contextBuckets),
      matches: Array.from({ length: matchModels }, () => new Int32Array(sizes.matchEntries).fill(-1)),
      historyTokens: sizes.historyTokens,
    };
  }

  give(sizes: MixTableSizes, matchModels: number, tables: MixTables): void {
    this.spare = { key: poolKey(sizes, matchModels), tables };
  }

  clear(): void {
    this.spare = undefined;
  }
}

class MixBatch implements ModelBatch {
  private readonly lm: LmRow;
  /** Per row, the second token whose LM interval the encoder reads (its match token, else 0). */
  private readonly others: Int32Array;
  private readonly rows: MixPredictor[];
  private started = false;
  private readonly answer: CodingAnswer;
  private readonly sizes: MixTableSizes;
  private readonly shared: MixTables;

  constructor(
    readonly codingStep: string,
    private readonly tables: TableBatch,
    private readonly batch: number,
    private readonly vocabSize: number,
    private readonly settings: MixSettings,
    tokenBytes: readonly Uint8Array[],
    private readonly pool: TablePool,
  ) {
    this.lm = new LmRow(vocabSize);
    this.others = new Int32Array(batch);
    this.sizes = mixTablesFor(settings, batch, vocabSize);
    const shared = (this.shared = pool.take(this.sizes, settings.matchMin.length));
    this.rows = Array.from({ length: batch }, (_, r) => new MixPredictor(vocabSize, settings, (t) => tokenBytes[t], shared, r));
    this.answer = { symbols: new Int32Array(batch), low: new Int32Array(batch), freq: new Int32Array(batch), log2p: new Float64Array(batch) };
  }

  get runSeconds(): number {
    return this.tables.runSeconds ?? 0;
  }

  dispose(): void {
    this.tables.dispose?.();
    this.pool.give(this.sizes, this.settings.matchMin.length, this.shared);
  }

  async step(tokens: Int32Array, n: number, reset: boolean, query: CodingQuery): Promise<CodingAnswer> {
    if (!this.started) {
      // The first call feeds [start token, …primer] per row (lm-codec's SegmentStepper).
      for (let r = 0; r < this.batch; r++) for (let i = 1; i < n; i++) this.rows[r].prime(tokens[r * n + i]);
      this.started = true;
    }
    // The encoder knows its symbols (every active row's ≥ 0) and reads the LM's tables only there
    // and at each row's match token (the APM's event).
    let encoding = false;
    for (let r = 0; r < this.batch; r++) {
      if (query.active[r] && query.symbols[r] >= 0) encoding = true;
      this.others[r] = query.active[r] ? Math.max(0, this.rows[r].matchToken()) : 0;
    }
    const { cum, stride, low: lmLow, freq: lmFreq, low2, freq2, max } = await this.tables.forward(tokens, n, reset, encoding ? { symbols: query.symbols, others: this.others } : undefined);
    const a = this.answer;
    for (let r = 0; r < this.batch; r++) {
      if (!query.active[r]) continue;
      const row = this.rows[r];
      const lm = cum ? this.lm.whole(cum, r * stride!) : this.lm.interval(query.symbols[r], lmLow![r], lmFreq![r], this.others[r], low2![r], freq2![r]);
      row.predict(lm, max[r]);
      let symbol = query.symbols[r];
      if (symbol < 0) symbol = row.find(query.targets[r]);
      const low = row.cumulative(symbol);
      a.symbols[r] = symbol;
      a.low[r] = low;
      a.freq[r] = row.cumulative(symbol + 1) - low;
      a.log2p[r] = Math.log2(row.probability(symbol)); // statistics only: never feeds a table
      row.learn(symbol);
    }
    return a;
  }
}

/** Wrap `inner` as the mix (throws when its runtime returns neither tables nor logits). */
export class MixModel implements LanguageModel {
  /** The mixer over the model's table step, then over `js-quantizer/1` where the model also has logits. */
  readonly codingSteps: readonly string[];
  readonly settings: MixSettings;

  constructor(
    readonly inner: LanguageModel,
    settings: MixSettings = DEFAULT_MIX_SETTINGS,
  ) {
    const lmSteps = [...(inner.tableStep && inner.openTables ? [inner.tableStep] : []), ...(inner.openLogits ? [JS_QUANTIZER_KIND] : [])];
    if (!lmSteps.length) {
      throw new MixUnsupportedError(`mix:${inner.identity.id}: this model's runtime (${inner.identity.runtime}) returns neither tables nor logits, which the mix needs`);
    }
    if (inner.vocabSize > MAX_TABLE_VOCAB) throw new MixUnsupportedError(`mix:${inner.identity.id}: a vocabulary of ${inner.vocabSize} exceeds the mix's ${MAX_TABLE_VOCAB}`);
    this.settings = checkMixSettings({ ...settings, orders: [...settings.orders], matchMin: [...settings.matchMin] });
    this.codingSteps = lmSteps.map((s) => `${mixerName(this.settings)}+${s}`);
  }

  readonly family = 'mix';
  /** Segments for `--segments auto` (docs/mix.md, "Segments": the measured bpb cost of more). */
  readonly defaultSegments = 1;
  readonly reachNote = 'the mixed match and context models see the whole segment, as far as the history ring holds';

  get identity() {
    return this.inner.identity;
  }
  get decompressorSize() {
    return this.inner.decompressorSize;
  }
  get contextLength() {
    return this.inner.contextLength;
  }
  get vocabSize() {
    return this.inner.vocabSize;
  }
  get startToken() {
    return this.inner.startToken;
  }
  get tokenizer() {
    return this.inner.tokenizer;
  }

  private bytesOfTokens?: Uint8Array[];
  /** Every token id's bytes (the record contexts' byte stream), decoded once per model; ids the tokenizer cannot decode alone (padding) have none. */
  private tokenBytes(): Uint8Array[] {
    if (!this.bytesOfTokens) {
      const id = new Int32Array(1);
      this.bytesOfTokens = Array.from({ length: this.vocabSize }, (_, t) => {
        id[0] = t;
        try {
          return this.tokenizer.decode(id);
        } catch {
          return new Uint8Array(0);
        }
      });
    }
    return this.bytesOfTokens;
  }

  open(batch: number, codingStep = this.codingSteps[0]): ModelBatch {
    if (!this.codingSteps.includes(codingStep)) throw new MixUnsupportedError(`mix:${this.identity.id} runs coding step ${this.codingSteps.join(' or ')}, not ${codingStep}`);
    const lmStep = codingStep.slice(codingStep.indexOf('+') + 1);
    const tables = lmStep === JS_QUANTIZER_KIND ? new JsQuantizerTables(this.inner.openLogits!(batch), batch, this.vocabSize) : this.inner.openTables!(batch);
    return new MixBatch(codingStep, tables, batch, this.vocabSize, this.settings, this.tokenBytes(), this.pool);
  }

  private readonly pool = new TablePool();

  dispose(): Promise<void> {
    this.pool.clear();
    return this.inner.dispose();
  }
}
