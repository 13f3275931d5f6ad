import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Model tests are CPU-bound on 2 cores: run files one after another so timings stay sane.
    fileParallelism: false,
  },
});
