/**
 * The coding-step graph: derived once per model from its ONNX export, so that one
 * `session.run` does the whole shared coding step (DESIGN.md) and only four numbers per row
 * come back to JavaScript.
 *
 * Edits, on the model's own graph (ONNX protobuf, via onnx-proto):
 *  1. The LM head sees the last position of each row only: a Slice is put on the activation
 *     input of the head's MatMul, so re-primes and primers stop computing (and returning)
 *     logits that would be thrown away. Peak memory no longer scales with positions × vocabulary.
 *  2. The logits [batch, V] become the integer frequency table the range coder uses:
 *       e = exp(x − max) (float32), s = Σe (float64), f = 1 + ⌊e·(T − V)(1 − 2⁻²⁰)/s⌋ (float64 → int32),
 *       leftover T − Σf (≥ 16 by the margin) to the argmax, cum = CumSum(f) (int32; T = 2²⁸).
 *     Every symbol ≥ 1, Σ = T exactly: the float64 sum and product make the margin a proof,
 *     not a hope (float32 sums over 262k logits can be off by more than 1e-6).
 *  3. Per row, for a given symbol (encoder) or a given target (decoder: the symbol is the
 *     count of cumulative frequencies ≤ target), it returns the symbol, its interval (low,
 *     freq) and log2 p under the model's own softmax (the ideal column).
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
export const CODING_GRAPH_KIND = `onnx-graph/${CODING_GRAPH_VERSION}`;

export const CODING_INPUTS = { symbol: 'coding_symbol', target: 'coding_target' } as const;
export const CODING_OUTPUTS = { symbol: 'coding_symbol_out', low: 'coding_low', freq: 'coding_freq', log2p: 'coding_log2p' } as const;

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
 * vocabulary size V is read from the logits' shape inside the graph (exports pad heads).
 */
export function deriveCodingGraph(modelBytes: Uint8Array, frequencyTotal: number): DerivedGraph {
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

  const b = new Builder(graph);
  const nodes = graph.node as Node[];
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const constant = constantTensors(graph);

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

  // 2. Logits [batch, 1, V] → float32 [batch, V] → integer table.
  let x = b.node('Flatten', [logits], { axis: 2 });
  if (logitsType === T.FLOAT16) x = b.node('Cast', [x], { to: T.FLOAT });
  const axis1 = b.i64('axis1', [1]);
  const argmax = b.node('ArgMax', [x], { axis: 1, keepdims: 1 });
  const max = b.node('GatherElements', [x, argmax], { axis: 1 });
  const e = b.node('Exp', [b.node('Sub', [x, max])]);
  const e64 = b.node('Cast', [e], { to: T.DOUBLE });
  const sum = b.node('ReduceSum', [e64, axis1], { keepdims: 1 });
  // Margin 2^-20: with float64 arithmetic the floors can never sum past T − V, so the
  // leftover handed to the argmax is ≥ 0 (in fact ≥ ~2^8), and every symbol keeps ≥ 1.
  const vocab = b.node('Cast', [b.node('Gather', [b.node('Shape', [x]), b.i64('vocabaxis', [1], [])], { axis: 0 })], { to: T.DOUBLE });
  const mass = b.node('Mul', [b.node('Sub', [b.f64('total64', [frequencyTotal]), vocab]), b.f64('margin', [1 - 2 ** -20])]);
  const scale = b.node('Div', [mass, sum]);
  const floors = b.node('Cast', [b.node('Mul', [e64, scale])], { to: T.INT32 });
  const freq0 = b.node('Add', [floors, b.i32('one', [1])]);
  const leftover = b.node('Sub', [b.i32('total', [frequencyTotal]), b.node('ReduceSum', [freq0, axis1], { keepdims: 1 })]);
  const topFreq = b.node('Add', [b.node('GatherElements', [freq0, argmax], { axis: 1 }), leftover]);
  const freq = b.node('ScatterElements', [freq0, argmax, topFreq], { axis: 1 });
  const cum = b.node('CumSum', [freq, b.i64('cumaxis', [1], [])]);

  // 3. The symbol: given (encoder), or found from the target (decoder).
  b.input(CODING_INPUTS.symbol, T.INT64);
  b.input(CODING_INPUTS.target, T.INT64);
  const target = b.node('Cast', [CODING_INPUTS.target], { to: T.INT32 });
  const below = b.node('Cast', [b.node('LessOrEqual', [cum, target])], { to: T.INT32 });
  const found = b.node('Cast', [b.node('ReduceSum', [below, axis1], { keepdims: 1 })], { to: T.INT64 });
  const decoding = b.node('Less', [CODING_INPUTS.symbol, b.i64('zero', [0], [])]);
  const symbol = b.node('Where', [decoding, found, CODING_INPUTS.symbol], {}, CODING_OUTPUTS.symbol);
  const freqOf = b.node('GatherElements', [freq, symbol], { axis: 1 }, CODING_OUTPUTS.freq);
  b.node('Sub', [b.node('GatherElements', [cum, symbol], { axis: 1 }), freqOf], {}, CODING_OUTPUTS.low);
  // log2 p = (x_s − max)·log2 e − log2 Σe, exact even where exp(x_s − max) underflows.
  const xs = b.node('Cast', [b.node('Sub', [b.node('GatherElements', [x, symbol], { axis: 1 }), max])], { to: T.DOUBLE });
  const log2e = b.f64('log2e', [Math.LOG2E]);
  b.node('Sub', [b.node('Mul', [xs, log2e]), b.node('Mul', [b.node('Log', [sum]), log2e])], {}, CODING_OUTPUTS.log2p);

  // Outputs: the KV cache and the four per-row numbers; the full logits are no longer returned.
  graph.output = (graph.output ?? []).filter((o) => o.name !== 'logits');
  b.output(CODING_OUTPUTS.symbol, T.INT64);
  b.output(CODING_OUTPUTS.low, T.INT32);
  b.output(CODING_OUTPUTS.freq, T.INT32);
  b.output(CODING_OUTPUTS.log2p, T.DOUBLE);
  return { bytes: onnx.ModelProto.encode(model).finish(), headSlice, externalData: externalDataFiles(graph) };
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

  node(op: string, inputs: string[], attrs: Record<string, number> = {}, output?: string): string {
    const out = output ?? this.name(op);
    this.graph.node!.push(
      onnx.NodeProto.create({
        opType: op,
        name: this.name(`${op}_node`),
        input: inputs,
        output: [out],
        attribute: Object.entries(attrs).map(([name, i]) => onnx.AttributeProto.create({ name, type: A.INT, i })),
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
  i32(hint: string, values: number[]): string {
    return this.constant(hint, T.INT32, [values.length], (t) => (t.int32Data = values));
  }
  f64(hint: string, values: number[]): string {
    return this.constant(hint, T.DOUBLE, [values.length], (t) => (t.doubleData = values));
  }

  private valueInfo(name: string, elemType: number) {
    const dims = [{ dimParam: 'batch_size' }, { dimValue: 1 }];
    return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: dims } } } });
  }
  input(name: string, elemType: number): void {
    this.graph.input!.push(this.valueInfo(name, elemType));
  }
  output(name: string, elemType: number): void {
    this.graph.output!.push(this.valueInfo(name, elemType));
  }
}
