import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Three tiers, by what a test file needs (npm run test:unit | test:models | test:e2e; npm test runs all):
 * - unit: no model weights, no python, no headless browser; order-k and the classic baselines at most,
 *   the built CLI included. Reads a few ../shared corpus files where present (skipped otherwise).
 * - models: loads ONNX/GGUF models or real tokenizers; its globalSetup builds the test models once.
 * - e2e: the CLI end to end with models, shards (on a real one-node Slurm cluster too), suites, joint, HTML in headless Chromium.
 * The root globalSetup compiles dist/ (when stale) once for all of them.
 */
const UNIT = [
  'test/baselines.test.ts',
  'test/check.test.ts',
  'test/cli-contract.test.ts',
  'test/cli.test.ts',
  'test/model-spec.test.ts',
  'test/corpora.test.ts',
  'test/external.test.ts',
  'test/fuzz.test.ts',
  'test/mix.test.ts',
  'test/range-coder.test.ts',
  'test/reports.test.ts',
  'test/scale.test.ts',
];
const MODELS = [
  'test/any-model.test.ts',
  'test/coding-step.test.ts',
  'test/fuzz-models.test.ts',
  'test/gguf.test.ts',
  'test/lm-roundtrip.test.ts',
  'test/mix-models.test.ts',
  'test/tokenizer.test.ts',
];
const E2E = [
  'test/archives.test.ts',
  'test/cli-models.test.ts',
  'test/generalization.test.ts',
  'test/html-report.test.ts',
  'test/joint.test.ts',
  'test/shards.test.ts',
  'test/slurm.test.ts',
  'test/suites.test.ts',
];

// A new test file must be put in a tier, or it would silently never run.
const tiered = [...UNIT, ...MODELS, ...E2E];
for (const f of readdirSync(new URL('./test', import.meta.url)).filter((n) => n.endsWith('.test.ts')).map((n) => `test/${n}`)) {
  const n = tiered.filter((t) => t === f).length;
  if (n !== 1) throw new Error(`vitest.config.ts: ${f} is in ${n} tiers (UNIT, MODELS, E2E); put it in exactly one`);
}
for (const f of tiered) if (!readdirSync(new URL('./test', import.meta.url)).includes(f.slice('test/'.length))) throw new Error(`vitest.config.ts: ${f} does not exist`);

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/build.ts'],
    // Model tests are CPU-bound on 2 cores: files run one after another so timings stay sane
    // (a root-only option; on 2 cores vitest would use one worker anyway).
    fileParallelism: false,
    projects: [
      // Unit tests take seconds; a minute is a hang, not a slow machine.
      { test: { name: 'unit', include: UNIT, testTimeout: 60_000, hookTimeout: 60_000, sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'models',
          include: MODELS,
          globalSetup: ['test/helpers/test-models-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 1 },
        },
      },
      { test: { name: 'e2e', include: E2E, testTimeout: 300_000, hookTimeout: 300_000, sequence: { groupOrder: 2 } } },
    ],
  },
});
