#!/usr/bin/env node
// npm run leaderboard: run what is missing, then render reports/leaderboard.{md,html} from reports/records/*.json.
// Every row is a `compress-bench suite` run whose record is resumed: a complete record of the same
// suite, protocol and compressors is reused untouched, so only missing work runs.
// Env: COMPRESS_BENCH_MODEL_DIR (the docmix models), COMPRESS_BENCH_DATA_DIR (corpus dirs,
// ':'-separated), COMPRESS_BENCH_GGUF (the 7m q8_0 GGUF; default the cache's export),
// LEADERBOARD_SAMPLE (bytes per input, default 4096), LEADERBOARD_RENDER_ONLY=1 (no runs).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const sample = process.env.LEADERBOARD_SAMPLE ?? '4096';
const gguf = process.env.COMPRESS_BENCH_GGUF ?? join(process.env.COMPRESS_BENCH_CACHE ?? join(homedir(), '.cache', 'compress-bench'), 'gguf', 'gpt2-docmix-7m-q8_0.gguf');
// The product never looks in ../shared on its own: models and corpus files are where the user
// says. This script is dev tooling for this project's checkout, which sits beside ../shared, so
// it says so explicitly for its child runs, unless the environment already names other places.
const shared = join(root, '..', 'shared');
const env = {
  ...process.env,
  COMPRESS_BENCH_MODEL_DIR: process.env.COMPRESS_BENCH_MODEL_DIR ?? join(shared, 'models'),
  COMPRESS_BENCH_DATA_DIR: process.env.COMPRESS_BENCH_DATA_DIR ?? join(shared, 'corpora', 'snappy-testdata'),
};
const suites = ['canterbury-text', 'snappy-mixed'];
const rows = [['-m', 'none'], ['-m', 'embedded'], ['-m', 'order-k'], ['-m', 'gpt2-docmix-7m'], ['-m', 'gpt2-docmix-16m'], ['-m', 'gpt2-docmix-30m'], ['-m', gguf], ['-m', 'mix:gpt2-docmix-7m']];
// The child has printed its one-line reason on stderr: stop there, without Node's stack of the parent.
const run = (args) => {
  try {
    execFileSync(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    process.stderr.write(`leaderboard: compress-bench ${args.join(' ')} exited ${e.status ?? e.signal}\n`);
    process.exit(typeof e.status === 'number' && e.status > 0 ? e.status : 1);
  }
};

if (!process.env.LEADERBOARD_RENDER_ONLY) {
  for (const suite of suites) {
    for (const row of rows) {
      if (row[1] === gguf && !existsSync(gguf)) {
        process.stderr.write(`leaderboard: ${gguf} absent (scripts/gguf/export-shared.sh makes it): row skipped\n`);
        continue;
      }
      const name = row[1] === gguf ? 'gguf-7m-q8_0' : row[1].replace(/[^A-Za-z0-9._-]+/g, '_');
      const record = join('reports', 'records', `${suite}-sample${sample}-${name}.json`);
      run(['suite', suite, ...row, ...(row[1] === 'none' ? [] : ['--no-baselines']), '--sample', sample, '-o', record, '-q']);
    }
  }
}
run(['suite', 'report', 'reports/records', '-o', 'reports/leaderboard']);
