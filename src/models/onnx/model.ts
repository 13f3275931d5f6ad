/**
 * The ONNX language model: its sessions (the exported model, the derived coding graphs opened
 * on demand) and which batch each coding step opens. Loading is load.ts's.
 */
import type { InferenceSession } from 'onnxruntime-common';
import type { LanguageModel, LogitsBatch, ModelBatch, ModelIdentity, LosslessTokenizer, TableBatch } from '../../step/language-model.js';
import { JS_QUANTIZER_KIND, JsQuantizerBatch } from '../../step/js-quantizer-step.js';
import { CODING_GRAPH_KIND, STATIC_KV_GRAPH_KIND, STATIC_KV_CUM_KIND } from './coding-graph.js';
import { CausalLmError } from './errors.js';
import { OnnxFeeds, StaticKvFeeds, feedLayoutOf, type PastSpec } from './kv-feeds.js';
import { GraphBatch, LogitsOnnxBatch, TableGraphBatch } from './batch.js';

export class OnnxLanguageModel implements LanguageModel {
  readonly past: PastSpec[];
  readonly hasPositionIds: boolean;
  /** Optional inputs of Optimum/transformers exports that this model has (fed constants). */
  readonly extraInputs: string[];
  /** Derived coding-step graphs by kind, opened on demand after the first. */
  private readonly graphs = new Map<string, Promise<InferenceSession>>();
  private openGraph?: (kind: string) => Promise<InferenceSession>;
  /** The model as exported: kept for `js-quantizer/1`, else released and reopened on demand. */
  private original: Promise<InferenceSession> | null;
  private reopen?: () => Promise<InferenceSession>;
  codingSteps: string[] = [JS_QUANTIZER_KIND];
  /** `STATIC_KV_CUM_KIND` where the static-KV rewrite applies to this model (its graph opened on demand), for the mix. */
  tableStep?: string;

  constructor(
    session: InferenceSession,
    readonly identity: ModelIdentity,
    readonly tokenizer: LosslessTokenizer,
    readonly contextLength: number,
    readonly vocabSize: number,
    readonly startToken: number,
  ) {
    ({ past: this.past, hasPositionIds: this.hasPositionIds, extraInputs: this.extraInputs } = feedLayoutOf(session, identity.id));
    this.original = Promise.resolve(session);
  }

  /**
   * Use a derived graph (`kinds`: the coding steps this model can derive, preferred first; the
   * table graph is not one of them, it serves the mix); the exported model's session is released
   * (its weights are not held twice). `tables`: the static-KV rewrite applies, so the table graph can be derived too.
   */
  attachCodingGraph(
    kind: string,
    graph: InferenceSession,
    kinds: string[],
    openGraph: (kind: string) => Promise<InferenceSession>,
    reopen: () => Promise<InferenceSession>,
    tables: boolean,
  ): void {
    this.graphs.set(kind, Promise.resolve(graph));
    if (tables) this.tableStep = STATIC_KV_CUM_KIND;
    this.openGraph = openGraph;
    this.codingSteps = [...kinds, JS_QUANTIZER_KIND];
    void this.original?.then((s) => s.release());
    this.original = null;
    this.reopen = reopen;
  }

  private graph(kind: string): Promise<InferenceSession> {
    let g = this.graphs.get(kind);
    if (!g) this.graphs.set(kind, (g = this.openGraph!(kind)));
    return g;
  }

  /** The exported model's session, reopened when the JS quantizer is asked for after the graph took over. */
  logitsSession(): Promise<InferenceSession> {
    return (this.original ??= this.reopen!());
  }

  open(batch: number, codingStep = this.codingSteps[0]): ModelBatch {
    if (codingStep === STATIC_KV_GRAPH_KIND && this.codingSteps.includes(codingStep)) {
      return new GraphBatch(codingStep, this.graph(codingStep), new StaticKvFeeds(this, batch), batch);
    }
    if (codingStep === CODING_GRAPH_KIND && this.codingSteps.includes(codingStep)) {
      return new GraphBatch(codingStep, this.graph(codingStep), new OnnxFeeds(this, batch), batch);
    }
    if (codingStep === JS_QUANTIZER_KIND) return new JsQuantizerBatch(new LogitsOnnxBatch(this, batch), batch, this.vocabSize);
    throw new CausalLmError(`model ${this.identity.id} cannot run coding step ${codingStep} here (it has: ${this.codingSteps.join(', ')})`);
  }

  openTables(batch: number): TableBatch {
    if (!this.tableStep) throw new CausalLmError(`model ${this.identity.id} has no table graph (its attention is not the pattern the static-KV rewrite knows)`);
    return new TableGraphBatch(this.tableStep, this.graph(this.tableStep), new StaticKvFeeds(this, batch), batch);
  }

  openLogits(batch: number): LogitsBatch {
    return new LogitsOnnxBatch(this, batch);
  }

  async dispose(): Promise<void> {
    await (await this.original)?.release();
    for (const g of this.graphs.values()) await (await g).release();
  }
}
