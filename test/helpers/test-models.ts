/**
 * The test models for the tests: the folders the models project's globalSetup
 * (test-models-setup.ts) built, or the reason they must skip (no Debian python3-torch and
 * python3-onnx, say). Tests only read them; nothing is built at import time.
 */
import { inject } from 'vitest';
import type { Built } from './test-model-recipe.js';

export { TEST_MODEL_GROUPS, TEST_MODELS_DIR, docmixGguf, modelName, type TestModelGroup } from './test-model-recipe.js';

const notSetUp = { skip: 'the test models are built by the models project\'s globalSetup (npm run test:models)' };

/** The test models' folder, or why the tests must skip. */
export function testModels(): Built<{ dir: string }> {
  return inject('testModels') ?? notSetUp;
}

/** The Llama GGUF and the ONNX folder it was exported from, or why the tests must skip. */
export function llamaGguf(): Built<{ path: string; onnx: string }> {
  return inject('llamaGguf') ?? notSetUp;
}

/** The 7m model's f32 and q8_0 GGUF files, or why the tests must skip. */
export function docmixGgufs(): Built<{ f32: string; q8_0: string }> {
  return inject('docmixGguf') ?? notSetUp;
}
