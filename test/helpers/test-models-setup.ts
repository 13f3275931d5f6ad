/**
 * vitest globalSetup of the `models` project: build the test models (scripts/test-models/build.py,
 * a few minutes on one core the first time) and the GGUF exports once, before any test file loads,
 * saying on stderr what it builds, one line per model; then hand the tests the folders or the
 * reason to skip (read with `inject` in test-models.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestProject } from 'vitest/node';
import { HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL } from './shared.js';
import { GGUF_SCRIPTS, LLAMA_GGUF, TEST_MODEL_GROUPS, TEST_MODEL_SCRIPTS, TEST_MODELS_DIR, docmixGguf, isBuilt, modelName, type Built, type TestModelGroup } from './test-model-recipe.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** A python3 that can import `modules` (PYTHON, else the first on PATH, else Debian's), or null. */
function findPython(modules: string): string | null {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** One build.py run for a group's missing variants; a line before each model, as the previous one is exported. */
async function buildGroup(py: string, g: TestModelGroup, variants: string[], position: (name: string) => string): Promise<void> {
  const names = variants.map((v) => modelName(g, v));
  let next = 0;
  const announce = () => next < names.length && say(`building test model ${position(names[next])} ${names[next++]} …`);
  announce();
  const child = spawn('nice', ['-n', '10', py, join(TEST_MODEL_SCRIPTS, 'build.py'), '--out', TEST_MODELS_DIR, '--arch', g.arch, '--tokenizer', g.tokenizer, '--variant', ...variants], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (/steps in/.test(line)) say(`  ${line}`); // the training summary: steps, seconds, loss
    if (/^exported /.test(line)) announce();
  });
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  if (code !== 0) throw new Error(`build.py failed for ${g.arch}-${g.tokenizer}: ${stderr.slice(-3).join(' | ')}`);
}

async function buildTestModels(): Promise<Built<{ dir: string }>> {
  const all = TEST_MODEL_GROUPS.flatMap((g) => g.variants.map((v) => modelName(g, v)));
  const missing = TEST_MODEL_GROUPS.map((g) => ({ g, variants: g.variants.filter((v) => !isBuilt(modelName(g, v))) })).filter((m) => m.variants.length);
  if (missing.length === 0) {
    say(`test models: cached at ${TEST_MODELS_DIR}`);
    return { dir: TEST_MODELS_DIR };
  }
  if (!existsSync(join(ROOT, 'node_modules', '@lenml', 'tokenizer-gemma3'))) return { skip: 'the tokenizer devDependencies are not installed (npm ci)' };
  const py = findPython('torch, onnx');
  if (!py) return { skip: `no python3 with torch and onnx (apt install python3-torch python3-onnx) to build the test models into ${TEST_MODELS_DIR}` };
  const position = (name: string) => `${all.indexOf(name) + 1}/${all.length}`;
  for (const { g, variants } of missing) await buildGroup(py, g, variants, position);
  say(`test models: built into ${TEST_MODELS_DIR}`);
  return { dir: TEST_MODELS_DIR };
}

/** Run a python exporter; the last line of its stderr when it fails. */
function exportWith(args: string[]): string | null {
  const r = spawnSync('nice', ['-n', '10', '/usr/bin/python3', ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return r.status === 0 ? null : (r.stderr || String(r.error ?? `exit ${r.status}`)).split('\n').filter(Boolean).pop() ?? 'failed';
}

/** The Llama GGUF, exported from the llama-llama2 test model (same network, so both runtimes can be compared). */
function buildLlamaGguf(models: Built<{ dir: string }>): Built<{ path: string; onnx: string }> {
  if ('skip' in models) return models;
  const onnx = join(models.dir, 'llama-llama2');
  if (!existsSync(LLAMA_GGUF)) {
    say(`building test model GGUF ${LLAMA_GGUF} …`);
    const failed = exportWith([join(GGUF_SCRIPTS, 'export-test-model-gguf.py'), models.dir, LLAMA_GGUF]);
    if (failed) return { skip: `the Llama GGUF could not be exported: ${failed}` };
  }
  return { path: LLAMA_GGUF, onnx };
}

/** The 7m docmix model's f32 and q8_0 GGUF exports (needs ../shared, and Debian's python3-onnx and python3-numpy). */
function buildDocmixGguf(): Built<{ f32: string; q8_0: string }> {
  if (!HAVE_SHARED) return { skip: `../shared is absent (${SHARED_MODELS})` };
  for (const type of ['f32', 'q8_0'] as const) {
    if (existsSync(docmixGguf(type))) continue;
    say(`building test model GGUF ${docmixGguf(type)} …`);
    const failed = exportWith([join(GGUF_SCRIPTS, 'export-gpt2-gguf.py'), join(SHARED_MODELS, SMALL_MODEL), docmixGguf(type), '--type', type]);
    if (failed) return { skip: `the GGUF export of ${SMALL_MODEL} is absent and could not be built (needs Debian's python3-onnx and python3-numpy): ${failed}` };
  }
  return { f32: docmixGguf('f32'), q8_0: docmixGguf('q8_0') };
}

export default async function setup(project: TestProject): Promise<void> {
  const models = await buildTestModels();
  if ('skip' in models) say(`test models: skipped: ${models.skip}`);
  project.provide('testModels', models);
  project.provide('llamaGguf', buildLlamaGguf(models));
  project.provide('docmixGguf', buildDocmixGguf());
}
