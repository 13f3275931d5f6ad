/** Derived coding-step graphs on disk (docs/design.md: the coding step inside the runtime). */
import { copyFile, link, lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir } from '../../common/cache-dir.js';
import { FREQUENCY_TOTAL } from '../../step/frequencies.js';
import { CODING_GRAPH_KIND, STATIC_KV_GRAPH_KIND, STATIC_KV_CUM_KIND, deriveCodingGraph } from './coding-graph.js';
import { CausalLmError } from './errors.js';

/**
 * The derived coding-step graph for a weight file, built once and cached under the cache
 * dir keyed by the weights' SHA-256 and the derivation's version. External weight data is
 * hard-linked (or copied) beside it under its own name, where onnxruntime looks for it.
 */
export async function codingGraphFile(weights: string, weightsSha256: string, vocabSize: number, kind: string): Promise<string> {
  if (kind !== CODING_GRAPH_KIND && kind !== STATIC_KV_GRAPH_KIND && kind !== STATIC_KV_CUM_KIND) throw new CausalLmError(`unknown coding step ${kind}`);
  const dir = join(cacheDir(), 'coding-graphs', `${weightsSha256.slice(0, 32)}-${kind.replace('/', '-')}`);
  const path = join(dir, 'model.onnx');
  // Earlier builds symlinked external data, which onnxruntime now refuses: derive again then.
  const symlinked = existsSync(dir) && (await Promise.all((await readdir(dir)).map(async (f) => (await lstat(join(dir, f))).isSymbolicLink()))).some(Boolean);
  if (existsSync(path) && !symlinked) return path;
  const derived = deriveCodingGraph(await readFile(weights), FREQUENCY_TOTAL, { vocabSize, staticKv: kind !== CODING_GRAPH_KIND, cum: kind === STATIC_KV_CUM_KIND });
  await mkdir(dir, { recursive: true });
  for (const file of derived.externalData) {
    // onnxruntime ≥ 1.20 refuses external data that resolves outside the model's folder,
    // symlinks included: hard-link it there (same file system), else copy it.
    const dest = join(dir, file);
    if (existsSync(dest) && (await lstat(dest)).isSymbolicLink()) await unlink(dest);
    if (!existsSync(dest)) {
      await mkdir(dirname(dest), { recursive: true });
      const src = join(dirname(weights), file);
      await link(src, dest).catch(() => copyFile(src, dest));
    }
  }
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, derived.bytes);
  await rename(tmp, path);
  return path;
}
