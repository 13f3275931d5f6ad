/**
 * What the test models are and where they live: tiny Llama- and Qwen3-architecture exports with
 * real tokenizers, built by scripts/test-models/build.py into the cache, keyed by the recipe's
 * hash so a changed recipe rebuilds; and the GGUF exports the llama.cpp tests use. Built by
 * test-models-setup.ts (the models project's globalSetup); tests read them through
 * test-models.ts. No vitest import here: the globalSetup runs outside the test workers.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../src/common/cache-dir.js';
import { ROOT, SMALL_MODEL } from './shared.js';

export const TEST_MODEL_SCRIPTS = join(ROOT, 'scripts', 'test-models');
export const GGUF_SCRIPTS = join(ROOT, 'scripts', 'gguf');

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

const hashOf = (...files: string[]) => {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex').slice(0, 12);
};

export const TEST_MODELS_DIR = join(cacheDir(), 'test-models', hashOf(join(TEST_MODEL_SCRIPTS, 'build.py'), join(TEST_MODEL_SCRIPTS, 'tokenize.mjs')));

export const isBuilt = (name: string) => existsSync(join(TEST_MODELS_DIR, name, 'onnx', 'model.onnx'));

/** The Llama GGUF exported from the llama-llama2 test model, keyed by the exporter's hash. */
export const LLAMA_GGUF = join(TEST_MODELS_DIR, `llama-llama2-${hashOf(join(GGUF_SCRIPTS, 'export-test-model-gguf.py'), join(GGUF_SCRIPTS, 'gguf_writer.py'))}.gguf`);

/** The GGUF exports of the shared 7m model the llama.cpp tests use (in the cache, as `npm run bench` expects them). */
export const docmixGguf = (type: 'f32' | 'q8_0') => join(cacheDir(), 'gguf', `${SMALL_MODEL}-${type}.gguf`);

export type Built<T> = T | { skip: string };

declare module 'vitest' {
  export interface ProvidedContext {
    testModels: Built<{ dir: string }>;
    llamaGguf: Built<{ path: string; onnx: string }>;
    docmixGguf: Built<{ f32: string; q8_0: string }>;
  }
}
