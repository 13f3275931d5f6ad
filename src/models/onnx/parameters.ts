/** The parameter count of an ONNX graph, for `identity.parameters` (records read it, never the graph). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const MAX_COUNTED_GRAPH_BYTES = 1 << 30;

/**
 * Parameters counted from the weights: the elements of the graph's floating-point and int8
 * initializers with one or more dimensions (scalars are constants). Shape tensors (int64/int32)
 * are not parameters; quantization scales are counted (the embedded int8 model: 1,095,168 for
 * 1,088,256 weights — its card gives the latter). External-data models are counted from their dims.
 */
export function countOnnxParameters(path: string): number | undefined {
  // Parsing means holding the whole protobuf in memory: skip it for large graphs (a card can say).
  if (!existsSync(path) || statSync(path).size > MAX_COUNTED_GRAPH_BYTES) return undefined;
  const onnx = (onnxProto as unknown as { onnx: { ModelProto: { decode(b: Uint8Array): unknown } } }).onnx;
  const model = onnx.ModelProto.decode(readFileSync(path)) as { graph?: { initializer?: { dims?: unknown[]; dataType?: number }[] } };
  // FLOAT 1, UINT8 2, INT8 3, FLOAT16 10, DOUBLE 11, BFLOAT16 16: weights; INT64/INT32 are indices and shapes.
  const WEIGHT_TYPES = new Set([1, 2, 3, 10, 11, 16]);
  let n = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (!WEIGHT_TYPES.has(t.dataType ?? 0)) continue;
    const dims = (t.dims ?? []).map(Number);
    if (dims.length === 0) continue; // scalars: scales and constants, not learned tensors
    n += dims.reduce((a, b) => a * b, 1);
  }
  return n || undefined;
}
