/**
 * Scale: a chunked run reads its input chunk by chunk, so its peak memory does not grow with the
 * input; `compress --chunk` keeps finished chunks beside its output and resumes from them.
 * Inputs are generated (scripts/scale/synthetic-text.mjs, the same bytes everywhere); peak RSS is
 * the record's own `peakRssBytes` (the process's maxRSS), compared between sizes in one run.
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ROOT } from './helpers/shared.js';
// @ts-expect-error: a plain .mjs script without types, imported for its generator.
import { syntheticText } from '../scripts/scale/synthetic-text.mjs';

const CLI = join(ROOT, 'dist', 'cli.js');
const MB = 1e6;

function run(args: string[], cwd: string, stdinFile?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: out, stderr: err }));
    if (stdinFile) createReadStream(stdinFile).pipe(p.stdin);
    else p.stdin.end();
  });
}
async function makeText(path: string, bytes: number): Promise<void> {
  const w = createWriteStream(path);
  for (const part of syntheticText(bytes) as Iterable<Buffer>) if (!w.write(part)) await once(w, 'drain');
  w.end();
  await once(w, 'finish');
}

/** Peak RSS (MB) of a baselines-only run of `input`, from its record. */
async function peakRss(dir: string, input: string, extra: string[], stdin = false): Promise<number> {
  const records = join(dir, `records-${readdirSync(dir).length}`);
  const r = await run(['-m', 'none', '--baselines', 'gzip:6', ...extra, stdin ? '-' : input, '--record-dir', records, '-q'], dir, stdin ? input : undefined);
  expect(r.code, r.stderr).toBe(0);
  const rec = JSON.parse(readFileSync(join(records, readdirSync(records)[0]), 'utf8'));
  expect(rec.results[0].roundtrip).toBe(true);
  expect(rec.results[0].inputBytes).toBe(statSync(input).size);
  return rec.peakRssBytes / MB;
}

describe('bounded memory with --chunk', () => {
  test('peak RSS of a chunked run does not grow with the input; an unchunked run does (so the measure can tell)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-scale-'));
    try {
      await makeText(join(dir, 'small.txt'), 10 * MB);
      await makeText(join(dir, 'large.txt'), 100 * MB);
      const chunked = ['--chunk', '8MB'];
      const small = await peakRss(dir, join(dir, 'small.txt'), chunked);
      const large = await peakRss(dir, join(dir, 'large.txt'), chunked);
      const piped = await peakRss(dir, join(dir, 'large.txt'), chunked, true);
      const wholeSmall = await peakRss(dir, join(dir, 'small.txt'), []);
      const wholeLarge = await peakRss(dir, join(dir, 'large.txt'), []);
      console.log(`peak RSS MB: chunked 10 MB ${small.toFixed(0)}, 100 MB ${large.toFixed(0)}, 100 MB from stdin ${piped.toFixed(0)}; whole 10 MB ${wholeSmall.toFixed(0)}, 100 MB ${wholeLarge.toFixed(0)}`);
      // 90 MB more input. Chunked: the peak stays put, give or take the garbage collector's timing
      // (+0 to +35 MB measured here between 10, 50 and 200 MB). Whole: it grows by the input and its copy.
      expect(large - small).toBeLessThan(60);
      expect(piped - small).toBeLessThan(60); // stdin is spooled to a temp file, then read like a file
      expect(wholeLarge - wholeSmall).toBeGreaterThan(150);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  test('the record hashes the input streaming: the same SHA-256 read as a file and from stdin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-scale-'));
    try {
      await makeText(join(dir, 't.txt'), 3 * MB);
      const hashes: string[] = [];
      for (const stdin of [false, true]) {
        const records = join(dir, `r${hashes.length}`);
        const r = await run(['-m', 'none', '--baselines', 'gzip:1', '--chunk', '1MB', stdin ? '-' : 't.txt', '--record-dir', records, '-q'], dir, stdin ? join(dir, 't.txt') : undefined);
        expect(r.code, r.stderr).toBe(0);
        const rec = JSON.parse(readFileSync(join(records, readdirSync(records)[0]), 'utf8'));
        expect(rec.chunks).toHaveLength(3);
        hashes.push(rec.results[0].input.sliceSha256);
      }
      const { createHash } = await import('node:crypto');
      expect(hashes).toEqual([createHash('sha256').update(readFileSync(join(dir, 't.txt'))).digest('hex'), hashes[0]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('compress --chunk resumes', () => {
  test('Ctrl-C keeps the finished chunks; --resume finishes the same archive; other work is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-chunks-'));
    try {
      await makeText(join(dir, 't.txt'), 2 * MB);
      const args = ['compress', 't.txt', '-m', 'order-k', '--chunk', '256KB', '-o', 't.cbz', '-q'];
      const child = spawn(process.execPath, [CLI, ...args], { cwd: dir });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
      const journal = join(dir, 't.cbz.chunks');
      const finished = () => (existsSync(journal) ? readdirSync(journal).filter((n) => n.startsWith('chunk-')).length : 0);
      for (let waited = 0; waited < 60_000 && finished() < 2; waited += 25) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      const kept = finished();
      expect(kept).toBeGreaterThanOrEqual(2);
      expect(kept).toBeLessThan(8);
      expect(existsSync(join(dir, 't.cbz'))).toBe(false);
      const m = /continue with: compress-bench (.*)$/.exec(stderr.trim());
      expect(m, stderr).not.toBeNull();
      expect(m![1].split(' ')).toEqual([...args, '--resume']);

      // The same command without --resume, or another model or chunk size with it, is refused and loses nothing.
      const plain = await run(args, dir);
      expect([plain.code, plain.stderr.trim()]).toEqual([2, `compress-bench: compress: t.cbz.chunks holds the chunks of an interrupted run; add --resume to continue it, or remove the folder to start over`]);
      const other = await run(['compress', 't.txt', '-m', 'order-k:2', '--chunk', '256KB', '-o', 't.cbz', '--resume'], dir);
      expect([other.code, other.stderr.trim()]).toEqual([2, 'compress-bench: compress: --resume t.cbz.chunks was made for other work (model: order-k:3 → order-k:2); give the same input and options, or remove the folder to start over']);
      const size = await run(['compress', 't.txt', '-m', 'order-k', '--chunk', '1MB', '-o', 't.cbz', '--resume'], dir);
      expect(size.code).toBe(2);
      expect(size.stderr).toContain('(chunk size: 256000 → 1000000)');
      expect(finished()).toBe(kept);

      const resumed = await run([...args.filter((a) => a !== '-q'), '--resume'], dir);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`8 chunks of ≤ 256000 bytes, ${kept} reused from the interrupted run`);
      expect(existsSync(journal)).toBe(false);
      const straight = await run(['compress', 't.txt', '-m', 'order-k', '--chunk', '256KB', '-o', 'u.cbz', '-q'], dir);
      expect(straight.code, straight.stderr).toBe(0);
      expect(readFileSync(join(dir, 't.cbz')).equals(readFileSync(join(dir, 'u.cbz')))).toBe(true);
      const back = await run(['decompress', 't.cbz', '-o', 'back.txt', '-q'], dir);
      expect(back.code, back.stderr).toBe(0);
      expect(readFileSync(join(dir, 'back.txt')).equals(readFileSync(join(dir, 't.txt')))).toBe(true);
      // An existing output is refused before any chunk is coded.
      const exists = await run(args, dir);
      expect([exists.code, exists.stderr.trim(), existsSync(journal)]).toEqual([2, 'compress-bench: t.cbz: already exists; not overwritten (use -f/--force to overwrite)', false]);
      const noResume = await run(['compress', 't.txt', '-m', 'order-k', '-o', 'v.cbz', '--resume'], dir);
      expect(noResume.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
