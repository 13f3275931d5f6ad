/**
 * The coding-step graph: derived once per model from its ONNX export, so that one
 * `session.run` does the whole shared coding step (docs/design.md) and only four numbers per row
 * come back to JavaScript.
 *
 * Edits, on the model's own graph (ONNX protobuf, via onnx-proto):
 *  1. The LM head sees the last position of each row only: a Slice is put on the activation
 *     input of the head's MatMul, so re-primes and primers stop computing (and returning)
 *     logits that would be thrown away. Peak memory no longer scales with positions × vocabulary.
 *  2. The logits [batch, V] become the integer frequency table the range coder uses, laid
 *     out as nb blocks of K entries (blockLayout):
 *       e = exp(x − max), s = Σ_blocks Σ_block e, f = 1 + ⌊e·(T − V)(1 − 2⁻¹²)/s⌋ (int32),
 *     and the leftover T − Σf (never negative: the two-level float32 sum errs by at most
 *     (K + nb)·2⁻²⁴ relative, well inside the margin) goes to the last symbol, V − 1.
 *     Every symbol ≥ 1, the table sums to T exactly (T = 2²⁸).
 *  3. Per row, for a given symbol (encoder) or a given target (decoder: first the block whose
 *     cumulative range holds it, then the entry inside that block: two short scans instead
 *     of a cumulative sum over V), it returns the symbol, its interval (low, freq) and
 *     log2 p under the model's own softmax (the ideal column).
 * The graph is the same for encoder and decoder: both feed `coding_symbol` and
 * `coding_target`; the encoder gives symbols (target 0), the decoder −1 (and the target).
 *
 * When the head cannot be found (an op between it and `logits` that is not elementwise),
 * the logits themselves are sliced: still correct, only the head's compute is not saved.
 * Graphs below opset 13 are not derived (the caller falls back to the JS quantizer).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Model = InstanceType<typeof onnx.ModelProto>;
type Graph = InstanceType<typeof onnx.GraphProto>;
type Node = InstanceType<typeof onnx.NodeProto>;

/** Bumped whenever the derived graph's arithmetic changes: recorded in every archive. */
export const CODING_GRAPH_VERSION = 1;
/** The coding step with the model's own KV cache (`present.*` returned whole every step). */
export const CODING_GRAPH_KIND = `onnx-graph/${CODING_GRAPH_VERSION}`;
/**
 * The same coding step over a static KV cache (`staticKvCache`): attention is split into past
 * and new parts, so its float sums associate differently: a coding step of its own.
 */
export const STATIC_KV_GRAPH_KIND = `onnx-graph-static-kv/${CODING_GRAPH_VERSION}`;
/**
 * The static-KV coding step that also returns every row's whole table as cumulative sums
 * (`coding_cum`): what `mix:` mixes with its online models. The table is the static-KV step's
 * arithmetic, but a graph with more outputs may be fused differently by onnxruntime, so it is a
 * coding step of its own (a mix archive names it after its mixer).
 */
export const STATIC_KV_CUM_KIND = `onnx-graph-static-kv-cum/${CODING_GRAPH_VERSION}`;
/** Output carrying the new positions' keys/values in place of `present.{i}.{key,value}`. */
export const kvNewOutput = (pastInput: string): string => pastInput.replace('past_key_values.', 'kv_new.');

export const CODING_INPUTS = { symbol: 'coding_symbol', target: 'coding_target' } as const;
export const CODING_OUTPUTS = { symbol: 'coding_symbol_out', low: 'coding_low', freq: 'coding_freq', log2p: 'coding_log2p' } as const;
/**
 * `STATIC_KV_CUM_KIND`'s extra outputs. `coding_cum` [batch, nb·K] int32: per row the inclusive
 * cumulative sums of the table in block layout (padding entries add 0), without rounding's
 * leftover, which belongs to the last symbol: its interval ends at T. Cumulative, so that the mix
 * reads the LM's share below any token in O(1) and never sums a table in JavaScript.
 * `coding_table_max` [batch, 1]: 1 + ⌊scale⌋, the entry of a token whose exp(x − max) is 1 (the
 * likeliest), leftover aside: the mix's LM-confidence context, at no pass over the table.
 */
export const CUM_OUTPUT = 'coding_cum';
/** And a second given symbol per row (≥ 0), whose interval comes back beside the first's: the encoder's other read (the mix's match token). */
export const CUM_INPUTS = { symbol2: 'coding_symbol2' } as const;
export const CUM_OUTPUTS = { low2: 'coding_low2', freq2: 'coding_freq2' } as const;
export const TABLE_MAX_OUTPUT = 'coding_table_max';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** Ops that act per position (so slicing before them is the same as slicing after). */
const ELEMENTWISE = new Set(['Mul', 'Div', 'Add', 'Sub', 'Tanh', 'Cast', 'Identity', 'Softcap', 'Neg', 'Relu', 'Clip']);
/** Matrix products whose first non-constant input is the activation [batch, seq, hidden]. */
const HEAD_OPS = new Set(['MatMul', 'MatMulNBits', 'FusedMatMul', 'MatMulIntegerToFloat']);
/** Producers after which the activation may no longer be [batch, seq, hidden]. */
const RESHAPING = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);

export interface DerivedGraph {
  bytes: Uint8Array;
  /** Where the last-position slice went: before the LM head, or on the logits (fallback). */
  headSlice: 'before-head' | 'on-logits';
  /** External weight files the graph refers to, relative to the model file. */
  externalData: string[];
}

export class CodingGraphError extends Error {}

/**
 * Derive the coding-step graph. `frequencyTotal` is the range coder's fixed total T; the
 * vocabulary size V is the logits' last dimension (or the config's, when the export left it symbolic).
 */
export interface DeriveOptions {
  /** The config's vocabulary size, used when the export left the logits' last dimension symbolic. */
  vocabSize?: number;
  /** Force a block size K (tests of the padded layout); default: `blockLayout(V)`. */
  blockSize?: number;
  /** Also rewrite attention for a static KV cache (`STATIC_KV_GRAPH_KIND`); throws where the pattern is not found. */
  staticKv?: boolean;
  /** Also return every row's cumulative table (`CUM_OUTPUT`, `STATIC_KV_CUM_KIND` with `staticKv`). */
  cum?: boolean;
}

export function deriveCodingGraph(modelBytes: Uint8Array, frequencyTotal: number, options: DeriveOptions = {}): DerivedGraph {
  const model = onnx.ModelProto.decode(modelBytes) as Model;
  const graph = model.graph as Graph;
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset === undefined || Number(opset) < 13) {
    throw new CodingGraphError(`the graph's opset is ${opset ?? 'unknown'}; the coding step needs opset ≥ 13`);
  }
  const logitsOut = (graph.output ?? []).find((o) => o.name === 'logits');
  if (!logitsOut) throw new CodingGraphError('the graph has no "logits" output');
  const logitsType = logitsOut.type?.tensorType?.elemType;
  if (logitsType !== T.FLOAT && logitsType !== T.FLOAT16) {
    throw new CodingGraphError(`logits of element type ${logitsType} are not supported (float32 or float16 only)`);
  }

  const dims = logitsOut.type?.tensorType?.shape?.dim ?? [];
  const V = Number(dims[2]?.dimValue ?? 0) || options.vocabSize || 0;
  if (!(V >= 2 && V < frequencyTotal / 2)) throw new CodingGraphError(`cannot tell the vocabulary size from the logits' shape`);
  const opsetVersion = Number(opset);

  const b = new Builder(graph);
  const nodes = graph.node as Node[];
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const constant = constantTensors(graph);

  // 0. Optionally, a static KV cache: only the new positions' keys/values come back.
  if (options.staticKv) staticKvCache(graph, b);

  // 1. Slice the LM head's activation to the last position.
  let headSlice: DerivedGraph['headSlice'] = 'on-logits';
  const head = findHead(producer, constant);
  let logits = 'logits';
  const sliceArgs = [b.i64('starts', [-1]), b.i64('ends', [2 ** 31 - 1]), b.i64('axes', [1])];
  if (head) {
    const { node, input } = head;
    const sliced = b.node('Slice', [node.input![input], ...sliceArgs]);
    node.input![input] = sliced;
    headSlice = 'before-head';
  } else {
    logits = b.node('Slice', ['logits', ...sliceArgs]);
  }

  // 2. Logits [batch, 1, V] → float32 [batch, nb, K] blocks (padded with −1e30 if K ∤ V).
  const { K, nb } = options.blockSize ? { K: options.blockSize, nb: Math.ceil(V / options.blockSize) } : blockLayout(V);
  const padded = nb * K > V;
  let x = b.node('Flatten', [logits], { axis: 2 });
  if (logitsType === T.FLOAT16) x = b.node('Cast', [x], { to: T.FLOAT });
  if (padded) x = b.node('Pad', [x, b.i64('pads', [0, 0, 0, nb * K - V]), b.f32('padvalue', [-1e30], [])]);
  const x3 = b.node('Reshape', [x, b.i64('blocks', [-1, nb, K])]);
  const max = b.reduce('ReduceMax', x3, [1, 2], 1, opsetVersion);
  const e = b.node('Exp', [b.node('Sub', [x3, max])]);
  const sum = b.reduce('ReduceSum', b.reduce('ReduceSum', e, [2], 1, opsetVersion), [1], 1, opsetVersion); // [B,1,1]
  // Σ over blocks then over block sums: float32 error ≤ (K + nb)·2^-24 relative, whatever the
  // order, so the margin 2^-12 guarantees Σ⌊e·scale⌋ ≤ T − V: the leftover is never negative.
  const scale = b.node('Div', [b.f32('mass', [(frequencyTotal - V) * (1 - MARGIN)], []), sum]);
  const floors = b.node('Cast', [b.node('Mul', [e, scale])], { to: T.INT32 });
  const ones = padded ? b.i32('realmask', Array.from({ length: nb * K }, (_, i) => (i < V ? 1 : 0)), [nb, K]) : b.i32('one', [1], []);
  const freq = b.node('Add', [floors, ones]); // [B, nb, K]; padding has frequency 0
  const blockFreq = b.reduce('ReduceSum', freq, [2], 0, opsetVersion); // [B, nb]
  const blockCum = b.node('CumSum', [blockFreq, b.i64('cumaxis', [1], [])]);
  const used = b.reduce('ReduceSum', blockFreq, [1], 1, opsetVersion); // [B, 1] = Σ f ≤ T
  const leftover = b.node('Sub', [b.i32('total', [frequencyTotal], []), used]);

  // 3. The symbol: given (encoder), or found from the target (decoder), two levels deep:
  //    the block whose cumulative range holds the target, then the entry inside it.
  b.input(CODING_INPUTS.symbol, T.INT64);
  b.input(CODING_INPUTS.target, T.INT64);
  const decoding = b.node('Less', [CODING_INPUTS.symbol, b.i64('zero', [0], [])]);
  const given = b.node('Max', [CODING_INPUTS.symbol, b.i64('zero2', [0], [])]);
  const kConst = b.i64('K', [K], []);
  // The leftover [Σf, T) belongs to the last symbol, so targets there search for Σf − 1.
  const target = b.node('Min', [b.node('Cast', [CODING_INPUTS.target], { to: T.INT32 }), b.node('Sub', [used, b.i32('one2', [1], [])])]);
  const countAtMost = (cum: string, t: string) =>
    b.node('Cast', [b.reduce('ReduceSum', b.node('Cast', [b.node('LessOrEqual', [cum, t])], { to: T.INT32 }), [1], 1, opsetVersion)], { to: T.INT64 });
  // A block's entries: where it starts in the table, its K frequencies and their running sums.
  const blockRow = (block: string) => {
    const start = b.node('Sub', [b.node('GatherElements', [blockCum, block], { axis: 1 }), b.node('GatherElements', [blockFreq, block], { axis: 1 })]);
    const rowIndex = b.node('Expand', [b.node('Reshape', [block, b.i64('b11', [-1, 1, 1])]), b.i64('expand', [1, 1, K])]);
    const row = b.node('Reshape', [b.node('GatherElements', [freq, rowIndex], { axis: 1 }), b.i64('bk', [-1, K])]); // [B, K]
    return { start, row, rowCum: b.node('CumSum', [row, b.i64('cumaxis', [1], [])]) };
  };
  // Entry `inner` of that block (symbol `symbol`): its interval [low, low + freq), the leftover the last symbol's.
  const interval = ({ start, row, rowCum }: ReturnType<typeof blockRow>, inner: string, symbol: string, names: { low: string; freq: string }) => {
    const own = b.node('GatherElements', [row, inner], { axis: 1 });
    b.node('Sub', [b.node('Add', [start, b.node('GatherElements', [rowCum, inner], { axis: 1 })]), own], {}, names.low);
    const isLast = b.node('Equal', [symbol, b.i64('last', [V - 1], [])]);
    b.node('Where', [isLast, b.node('Add', [own, leftover]), own], {}, names.freq);
  };
  const block = b.node('Where', [decoding, countAtMost(blockCum, target), b.node('Div', [given, kConst])]); // [B,1]
  const entries = blockRow(block);
  const inner = b.node('Where', [decoding, countAtMost(entries.rowCum, b.node('Sub', [target, entries.start])), b.node('Mod', [given, kConst])]);
  const symbol = b.node('Add', [b.node('Mul', [block, kConst]), inner], {}, CODING_OUTPUTS.symbol);
  interval(entries, inner, symbol, CODING_OUTPUTS);
  // log2 p = (x_s − max)·log2 e − log2 Σe, exact even where exp(x_s − max) underflows.
  const flat = b.node('Reshape', [x3, b.i64('flat', [-1, nb * K])]);
  const xs = b.node('Sub', [b.node('GatherElements', [flat, symbol], { axis: 1 }), b.node('Reshape', [max, b.i64('b1', [-1, 1])])]);
  const lnSum = b.node('Log', [b.node('Reshape', [sum, b.i64('b1b', [-1, 1])])]);
  const log2p = b.node('Mul', [b.node('Sub', [xs, lnSum]), b.f32('log2e', [Math.LOG2E], [])]);
  b.node('Cast', [log2p], { to: T.DOUBLE }, CODING_OUTPUTS.log2p);
  if (options.cum) {
    // A second given symbol per row (the mix's match token): its interval in the same table.
    b.input(CUM_INPUTS.symbol2, T.INT64);
    const given2 = b.node('Max', [CUM_INPUTS.symbol2, b.i64('zero3', [0], [])]);
    interval(blockRow(b.node('Div', [given2, kConst])), b.node('Mod', [given2, kConst]), given2, { low: CUM_OUTPUTS.low2, freq: CUM_OUTPUTS.freq2 });
    // One CumSum over the padded row, nothing sliced or copied: the caller reads the first V.
    b.node('CumSum', [b.node('Reshape', [freq, b.i64('flatfreq', [-1, nb * K])]), b.i64('cumaxis3', [1], [])], {}, CUM_OUTPUT);
    b.node('Reshape', [b.node('Add', [b.node('Cast', [scale], { to: T.INT32 }), b.i32('one3', [1], [])]), b.i64('b1max', [-1, 1])], {}, TABLE_MAX_OUTPUT);
  }

  // Outputs: the KV cache and the four per-row numbers; the full logits are no longer returned.
  graph.output = (graph.output ?? []).filter((o) => o.name !== 'logits');
  b.output(CODING_OUTPUTS.symbol, T.INT64);
  b.output(CODING_OUTPUTS.low, T.INT32);
  b.output(CODING_OUTPUTS.freq, T.INT32);
  b.output(CODING_OUTPUTS.log2p, T.DOUBLE);
  if (options.cum) {
    b.output(CUM_OUTPUT, T.INT32, nb * K);
    b.output(CUM_OUTPUTS.low2, T.INT32);
    b.output(CUM_OUTPUTS.freq2, T.INT32);
    b.output(TABLE_MAX_OUTPUT, T.INT32);
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), headSlice, externalData: externalDataFiles(graph) };
}

/**
 * Rewrites every layer's `present = Concat(past, new)` so that the past is read where it lies:
 *   keys:   MatMul(q, Transpose(Concat(past, new)))  →  Concat(MatMul(q, pastᵀ), MatMul(q, newᵀ))
 *   values: MatMul(p, Concat(past, new))             →  MatMul(p[…, :P], past) + MatMul(p[…, P:], new)
 * and returns only the new positions (`kv_new.*`, [batch, heads, n, dim]) instead of `present.*`.
 * The caller then keeps one preallocated cache per layer, masks its unused slots, writes the
 * new positions into it, and passes the same buffer back every step: no per-step copy of the
 * whole cache inside the graph (Concat) nor out of it (onnxruntime-node copies every output).
 * Attention is permutation-invariant over keys once positions are encoded, so the new
 * position sitting after the (masked) spare slots changes nothing but float association.
 *
 * Grouped-query attention (Llama, Qwen: each KV head serves g query heads, repeated by
 * Unsqueeze → Expand → Reshape before the MatMul) is rewritten without that repeat: q and p
 * are viewed as [batch, kv heads, g·n, ·] (a reshape, no copy), multiplied by the unrepeated
 * cache, and the result viewed back. `Shape(present)` becomes the shape it would have had.
 */
function staticKvCache(graph: Graph, b: Builder): void {
  const nodes = graph.node as Node[];
  const consumers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const attr = (n: Node, name: string) => n.attribute?.find((a) => a.name === name);
  const inputs = (graph.input ?? []).filter((i) => (i.name ?? '').startsWith('past_key_values.'));
  if (!inputs.length) throw new CodingGraphError('no past_key_values inputs');
  // Positions must come from the caller: a graph that counts them from the past's length
  // would take the spare slots for positions.
  if (!(graph.input ?? []).some((i) => i.name === 'position_ids')) throw new CodingGraphError('static KV cache: the graph has no position_ids input');
  const replaced = new Map<Node, Node[]>(); // the node whose place the new nodes take → new nodes
  const removed = new Set<Node>();
  const fail = (past: string, why: string): never => {
    throw new CodingGraphError(`static KV cache: ${past} ${why}`);
  };
  const only = (name: string, op: string, past: string): Node => {
    const uses = consumers.get(name) ?? [];
    if (uses.length !== 1 || uses[0].opType !== op) fail(past, `feeds ${uses.map((u) => u.opType).join(', ') || 'nothing'} where attention has ${op}`);
    return uses[0];
  };
  const place = (at: Node, build: () => void) => {
    const from = graph.node!.length;
    build();
    replaced.set(at, graph.node!.splice(from) as Node[]);
  };
  const dimsOf = (name: string, from: number, to: number) => b.node('Slice', [b.node('Shape', [name]), b.i64('from', [from]), b.i64('to', [to])]);

  for (const input of inputs) {
    const past = input.name!;
    const concats = (consumers.get(past) ?? []).filter((n) => n.opType === 'Concat');
    if (concats.length !== 1) fail(past, 'is not concatenated exactly once');
    const concat = concats[0];
    const axis = Number(attr(concat, 'axis')?.i ?? 0);
    if (concat.input!.length !== 2 || concat.input![0] !== past || (axis !== 2 && axis !== -2)) fail(past, 'is not Concat(past, new) on the sequence axis');
    const present = concat.output![0];
    const fresh = concat.input![1];
    const uses = consumers.get(present) ?? [];
    const shapes = uses.filter((n) => n.opType === 'Shape');
    const attention = uses.filter((n) => n.opType !== 'Shape');
    if (attention.length !== 1) fail(past, `has ${attention.length} consumers of its concatenation besides Shape`);
    // Grouped-query heads: Unsqueeze → Expand → Reshape repeats each KV head g times.
    let use = attention[0];
    let cache = present;
    let kvHeads = 0;
    if (use.opType === 'Unsqueeze') {
      const expand = only(use.output![0], 'Expand', past);
      const reshape = only(expand.output![0], 'Reshape', past);
      kvHeads = Number(input.type?.tensorType?.shape?.dim?.[1]?.dimValue ?? 0);
      if (!kvHeads) fail(past, 'has no fixed number of KV heads');
      removed.add(use).add(expand).add(reshape);
      cache = reshape.output![0];
      use = (consumers.get(cache) ?? [])[0];
      if ((consumers.get(cache) ?? []).length !== 1) fail(past, 'has its repeated heads used more than once');
    }
    // [batch, heads, n, ·] ⇄ [batch, kvHeads, g·n, ·]: views, no copy (no-ops without grouping).
    const grouped = (x: string) => (kvHeads ? b.node('Reshape', [x, b.i64('grouped', [0, kvHeads, -1, 0])]) : x);
    const ungrouped = (x: string, like: string, lastDims: string, out: string) =>
      kvHeads ? b.node('Reshape', [x, b.node('Concat', [dimsOf(like, 0, 3), lastDims], { axis: 0 })], {}, out) : b.node('Identity', [x], {}, out);
    if (use.opType === 'Transpose') {
      const perm = (attr(use, 'perm')?.ints ?? []).map(Number).join(',');
      const mms = consumers.get(use.output![0]) ?? [];
      if (perm !== '0,1,3,2' || mms.length !== 1 || mms[0].opType !== 'MatMul' || mms[0].input![1] !== use.output![0]) fail(past, 'keys are not used as MatMul(q, kᵀ)');
      const mm = mms[0];
      place(mm, () => {
        const q = grouped(mm.input![0]);
        const scores = (k: string) => b.node('MatMul', [q, b.node('Transpose', [k], { perm: [0, 1, 3, 2] })]);
        const all = b.node('Concat', [scores(past), scores(fresh)], { axis: -1 });
        if (kvHeads) ungrouped(all, mm.input![0], b.i64('rest', [-1]), mm.output![0]);
        else graph.node!.at(-1)!.output = [mm.output![0]];
      });
      removed.add(use).add(mm);
    } else if (use.opType === 'MatMul' && use.input![1] === cache) {
      const mm = use;
      place(mm, () => {
        const probs = grouped(mm.input![0]);
        const length = dimsOf(past, 2, 3); // [P]
        const last = b.i64('lastaxis', [-1]);
        const before = b.node('Slice', [probs, b.i64('zero', [0]), length, last]);
        const after = b.node('Slice', [probs, length, b.i64('end', [2 ** 31 - 1]), last]);
        const sum = b.node('Add', [b.node('MatMul', [before, past]), b.node('MatMul', [after, fresh])]);
        if (kvHeads) ungrouped(sum, mm.input![0], dimsOf(past, 3, 4), mm.output![0]);
        else graph.node!.at(-1)!.output = [mm.output![0]];
      });
      removed.add(mm);
    } else {
      fail(past, `is consumed by ${use.opType}, not attention's MatMul`);
    }
    // Shape(present) for whoever asked (masks, reshapes): the past's with P + n positions.
    for (const shape of shapes) {
      if (shape.attribute?.length) fail(past, 'has a Shape with start/end');
      place(shape, () => {
        const positions = b.node('Add', [dimsOf(past, 2, 3), dimsOf(fresh, 2, 3)]);
        b.node('Concat', [dimsOf(past, 0, 2), positions, dimsOf(past, 3, 4)], { axis: 0 }, shape.output![0]);
      });
    }
    removed.add(concat);
    // The new positions go out under their own name; `present.*` is no longer computed.
    const out = (graph.output ?? []).find((o) => o.name === present);
    if (!out) fail(past, `has no ${present} output`);
    b.node('Identity', [fresh], {}, kvNewOutput(past));
    out!.name = kvNewOutput(past);
  }
  // New nodes take the place of the ones they replace, so the node list stays topologically sorted.
  graph.node = nodes.flatMap((n) => (replaced.has(n) ? replaced.get(n)! : removed.has(n) ? [] : [n]));
}

/** The `location`s of initializers stored outside the model file (e.g. model.onnx_data). */
export function externalDataFiles(graph: Graph): string[] {
  const files = new Set<string>();
  for (const t of graph.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value;
    if (location) files.add(location);
  }
  return [...files];
}

/** Relative mass set aside so that rounding can never overfill the table (costs ≤ 0.00035 bits/token). */
const MARGIN = 2 ** -12;

/**
 * Blocks of K entries, nb blocks: the decoder's search is two small scans (nb, then K) instead
 * of a cumulative sum over V. K divides V when a divisor keeps K + nb ≤ 2048 (no padding);
 * otherwise V is padded up to nb·K with K a power of two near √V.
 */
export function blockLayout(V: number): { K: number; nb: number } {
  let best: { K: number; nb: number } | null = null;
  for (let K = 1; K * K <= V; K++) {
    if (V % K) continue;
    for (const [k, n] of [[K, V / K], [V / K, K]]) {
      // Ties go to the larger K: the per-block sums then run over long contiguous rows.
      if (k + n <= 2048 && (!best || k + n < best.K + best.nb || (k + n === best.K + best.nb && k > best.K))) best = { K: k, nb: n };
    }
  }
  if (best) return best;
  const K = 2 ** Math.ceil(Math.log2(Math.sqrt(V)));
  return { K, nb: Math.ceil(V / K) };
}

/** The MatMul that computes the logits, reached from `logits` through elementwise ops only. */
function findHead(producer: Map<string, Node>, constant: Set<string>): { node: Node; input: number } | null {
  let node = producer.get('logits');
  for (let hops = 0; node && hops < 16; hops++) {
    const inputs = (node.input ?? []).map((name, i) => ({ name, i })).filter(({ name }) => name && !constant.has(name));
    if (inputs.length !== 1) return null;
    if (HEAD_OPS.has(node.opType ?? '')) {
      const from = producer.get(inputs[0].name);
      return from && RESHAPING.has(from.opType ?? '') ? null : { node, input: inputs[0].i };
    }
    if (!ELEMENTWISE.has(node.opType ?? '')) return null;
    node = producer.get(inputs[0].name);
  }
  return null;
}

/** Names of tensors computed from initializers and constants only (weights, transposed weights…). */
function constantTensors(graph: Graph): Set<string> {
  const constant = new Set<string>((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const n of graph.node ?? []) {
    const ins = (n.input ?? []).filter(Boolean);
    if (n.opType === 'Constant' || (ins.length > 0 && ins.every((i) => constant.has(i)))) {
      for (const o of n.output ?? []) constant.add(o);
    }
  }
  return constant;
}

/** Appends nodes, constants and I/O to a graph under names that cannot collide with the model's. */
class Builder {
  private count = 0;
  constructor(private readonly graph: Graph) {}

  private name(hint: string): string {
    return `/coding_step/${hint}_${this.count++}`;
  }

  node(op: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output?: string): string {
    const out = output ?? this.name(op);
    this.graph.node!.push(
      onnx.NodeProto.create({
        opType: op,
        name: this.name(`${op}_node`),
        input: inputs,
        output: [out],
        attribute: Object.entries(attrs).map(([name, v]) =>
          Array.isArray(v) ? onnx.AttributeProto.create({ name, type: A.INTS, ints: v }) : onnx.AttributeProto.create({ name, type: A.INT, i: v }),
        ),
      }),
    );
    return out;
  }


  private constant(hint: string, dataType: number, dims: number[], fill: (t: Record<string, unknown>) => void): string {
    const name = this.name(hint);
    const tensor: Record<string, unknown> = { name, dataType, dims };
    fill(tensor);
    this.graph.initializer!.push(onnx.TensorProto.create(tensor));
    return name;
  }

  i64(hint: string, values: number[], dims = [values.length]): string {
    return this.constant(hint, T.INT64, dims, (t) => (t.int64Data = values));
  }
  i32(hint: string, values: number[], dims = [values.length]): string {
    return this.constant(hint, T.INT32, dims, (t) => (t.int32Data = values));
  }
  f32(hint: string, values: number[], dims = [values.length]): string {
    return this.constant(hint, T.FLOAT, dims, (t) => (t.floatData = values));
  }

  /** A Reduce* over `axes`: an attribute before opset 18 (ReduceSum: 13), an input after. */
  reduce(op: string, input: string, axes: number[], keepdims: number, opset: number): string {
    const asInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
    if (asInput) return this.node(op, [input, this.i64('axes', axes)], { keepdims });
    const out = this.node(op, [input], { keepdims });
    this.graph.node!.at(-1)!.attribute!.push(onnx.AttributeProto.create({ name: 'axes', type: A.INTS, ints: axes }));
    return out;
  }
  f64(hint: string, values: number[]): string {
    return this.constant(hint, T.DOUBLE, [values.length], (t) => (t.doubleData = values));
  }

  private valueInfo(name: string, elemType: number, width = 1) {
    const dims = [{ dimParam: 'batch_size' }, { dimValue: width }];
    return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: dims } } } });
  }
  input(name: string, elemType: number): void {
    this.graph.input!.push(this.valueInfo(name, elemType));
  }
  output(name: string, elemType: number, width = 1): void {
    this.graph.output!.push(this.valueInfo(name, elemType, width));
  }
}
