/**
 * Archives committed before the issue-24 layout move (test/fixtures/archives/README.md) decode
 * byte-exact with today's build: the archive format and the coding step did not change.
 */
import { describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAVE_SHARED, ROOT, SHARED_MODELS } from './helpers/shared.js';

const CLI = join(ROOT, 'dist', 'cli.js');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'archives');

async function decode(archive: string, original: string, extra: string[] = []): Promise<void> {
  const out = join(mkdtempSync(join(tmpdir(), 'cb-fixture-')), 'out');
  await promisify(execFile)(process.execPath, [CLI, 'decompress', join(FIXTURES, archive), '-o', out, '-q', ...extra], { cwd: ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  expect(Buffer.compare(readFileSync(out), readFileSync(join(FIXTURES, original)))).toBe(0);
}

describe('archives made before the layout move decode byte-exact', () => {
  test('order-k:3 on 4 KB of geo.protodata', () => decode('geo-4k.order-k3.cbz', 'geo-4k.bin'));
  test('the embedded model on 3 KB of alice29.txt', () => decode('alice-3k.embedded.cbz', 'alice-3k.txt'));
  test('the embedded model, chunked (1 KiB), on 2.5 KB of html', () => decode('html-2500.embedded-chunk1k.cbz', 'html-2500.txt'));
  test.skipIf(!HAVE_SHARED)('gpt2-docmix-7m on 3 KB of alice29.txt (needs ../shared)', () =>
    decode('alice-3k.gpt2-docmix-7m.cbz', 'alice-3k.txt', ['--model-dir', SHARED_MODELS]));
});

describe('archives of a retired coding step are refused in one line naming both steps', () => {
  test('order-k-hash/1 (the first hashed order-k) on 4 KB of geo.protodata', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cb-fixture-')), 'out');
    const run = promisify(execFile)(process.execPath, [CLI, 'decompress', join(FIXTURES, 'geo-4k.order-k-hash1.cbz'), '-o', out, '-q'], { cwd: ROOT });
    const failed = await run.then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed?.stderr).toMatch(/coding step: archive expects order-k-hash\/1:64MiB, this model runs order-k-hash\/2:64MiB or js-quantizer\/1/);
  });
});
