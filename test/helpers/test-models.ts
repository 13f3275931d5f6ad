/**
 * The any-model test models: tiny Llama- and Qwen3-architecture exports with real tokenizers,
 * built by scripts/test-models/build.py into the cache on first use (a few minutes on one
 * core), keyed by the script's hash so a changed recipe rebuilds. Without Debian's
 * python3-torch and python3-onnx the tests that need them skip with the reason.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../src/common/cache-dir.js';
import { ROOT } from './shared.js';

const SCRIPTS = join(ROOT, 'scripts', 'test-models');

export interface TestModelGroup {
  arch: 'llama' | 'qwen3';
  tokenizer: 'llama2' | 'mistral' | 'llama3' | 'qwen3' | 'gemma3';
  variants: string[];
}

/** Every architecture × tokenizer once; the export variants on the cheapest (32k) one. */
export const TEST_MODEL_GROUPS: TestModelGroup[] = [
  { arch: 'llama', tokenizer: 'llama2', variants: ['base', 'nopos', 'kvfp16', 'extdata', 'logitskeep', 'merged', 'nokv', 'nologits'] },
  { arch: 'llama', tokenizer: 'mistral', variants: ['base'] },
  { arch: 'llama', tokenizer: 'llama3', variants: ['base'] },
  { arch: 'qwen3', tokenizer: 'qwen3', variants: ['base'] },
  { arch: 'qwen3', tokenizer: 'gemma3', variants: ['base'] },
];

export const modelName = (g: TestModelGroup, variant: string) => `${g.arch}-${g.tokenizer}${variant === 'base' ? '' : `-${variant}`}`;

const recipeHash = createHash('sha256')
  .update(readFileSync(join(SCRIPTS, 'build.py')))
  .update(readFileSync(join(SCRIPTS, 'tokenize.mjs')))
  .digest('hex')
  .slice(0, 12);

export const TEST_MODELS_DIR = join(cacheDir(), 'test-models', recipeHash);

/** A python3 with torch and onnx (PYTHON, else the first on PATH, else Debian's), or null. */
function findPython(): string | null {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(py, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Build what is missing; the folder, or why the tests must skip. */
export function ensureTestModels(): { dir: string; skip?: undefined } | { skip: string } {
  const missing = TEST_MODEL_GROUPS.map((g) => ({ ...g, variants: g.variants.filter((v) => !existsSync(join(TEST_MODELS_DIR, modelName(g, v), 'onnx', 'model.onnx')) ) })).filter((g) => g.variants.length);
  if (missing.length === 0) return { dir: TEST_MODELS_DIR };
  if (!existsSync(join(ROOT, 'node_modules', '@lenml', 'tokenizer-gemma3'))) return { skip: 'the tokenizer devDependencies are not installed (npm ci)' };
  const py = findPython();
  if (!py) return { skip: `no python3 with torch and onnx (apt install python3-torch python3-onnx) to build the test models into ${TEST_MODELS_DIR}` };
  for (const g of missing) {
    console.warn(`building test models ${g.arch}-${g.tokenizer} (${g.variants.join(', ')}) into ${TEST_MODELS_DIR}`);
    const r = spawnSync('nice', ['-n', '10', py, join(SCRIPTS, 'build.py'), '--out', TEST_MODELS_DIR, '--arch', g.arch, '--tokenizer', g.tokenizer, '--variant', ...g.variants], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const line of r.stdout.split('\n')) if (/steps in/.test(line)) console.warn(line);
    if (r.status !== 0) throw new Error(`build.py failed for ${g.arch}-${g.tokenizer}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { dir: TEST_MODELS_DIR };
}
