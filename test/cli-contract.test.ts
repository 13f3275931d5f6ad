/**
 * The file contract of the CLI, run as a user would (real files, the built binary): `-` is
 * stdin/stdout, an existing output is kept unless -f, the input is never overwritten, links are
 * followed, FIFOs written in place, missing folders refused, and the gate fails on missing rows.
 * Each case asserts the exit code, the message, and that no file was changed or lost.
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/shared.js';

const CLI = join(ROOT, 'dist', 'cli.js');

/** Run the binary in `cwd` with optional stdin; never throws. */
function run(args: string[], opts: { cwd: string; stdin?: Uint8Array }): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    p.stdin.end(opts.stdin ?? Buffer.alloc(0));
  });
}

const TEXT = Buffer.from('Line one\r\nline two\0with a NUL, \xff invalid UTF-8\n'.repeat(60), 'latin1');
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-contract-'));
  writeFileSync(join(dir, 'a.txt'), TEXT);
  return dir;
}
const oneLine = (s: string) => s.trim().split('\n').length === 1;

describe('stdin and stdout', () => {
  test('the main job reads `-` from stdin (not as empty)', async () => {
    const dir = workdir();
    const r = await run(['-', '-m', 'order-k', '--baselines', 'gzip:9', '--no-record', '--json', '-q'], { cwd: dir, stdin: TEXT });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout.toString());
    expect(doc.results.map((x: { inputBytes: number }) => x.inputBytes)).toEqual([TEXT.length, TEXT.length]);
  });

  test('compress - -o - and decompress - -o - round-trip through pipes', async () => {
    const dir = workdir();
    const c = await run(['compress', '-', '-m', 'order-k', '-o', '-', '-q'], { cwd: dir, stdin: TEXT });
    expect(c.code, c.stderr).toBe(0);
    expect(existsSync(join(dir, '-'))).toBe(false);
    expect(c.stdout.length).toBeGreaterThan(0);
    const d = await run(['decompress', '-', '-o', '-', '-q'], { cwd: dir, stdin: c.stdout });
    expect(d.code, d.stderr).toBe(0);
    expect(Buffer.compare(d.stdout, TEXT)).toBe(0);
  });

  test('/dev/stdin as a pipe is read to its end', async () => {
    const dir = workdir();
    const r = await run(['compress', '/dev/stdin', '-m', 'order-k', '-o', 'p.cbz', '-q'], { cwd: dir, stdin: TEXT });
    expect(r.code, r.stderr).toBe(0);
    const d = await run(['decompress', 'p.cbz', '-q'], { cwd: dir });
    expect(d.code, d.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'p')), TEXT)).toBe(0);
  });
});

describe('outputs are never lost', () => {
  test('an existing output is kept unless -f; -f replaces it', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const r = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'precious.txt', '-q'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/precious\.txt: already exists; not overwritten \(use -f\/--force/);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
    const f = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'precious.txt', '-f', '-q'], { cwd: dir });
    expect(f.code, f.stderr).toBe(0);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).not.toBe('keep me');
  });

  test('output = input is refused even with --force (compress and decompress)', async () => {
    const dir = workdir();
    const r = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'a.txt', '--force', '-q'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a\.txt: is the input a\.txt; refusing to write over it/);
    expect(Buffer.compare(readFileSync(join(dir, 'a.txt')), TEXT)).toBe(0);
    expect((await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'a.cbz', '-q'], { cwd: dir })).code).toBe(0);
    const archive = readFileSync(join(dir, 'a.cbz'));
    const d = await run(['decompress', 'a.cbz', '-o', 'a.cbz', '-f', '-q'], { cwd: dir });
    expect(d.code).toBe(2);
    expect(Buffer.compare(readFileSync(join(dir, 'a.cbz')), archive)).toBe(0);
  });

  test('decompress without -o writes the name minus .cbz, under the same rule', async () => {
    const dir = workdir();
    expect((await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'b.cbz', '-q'], { cwd: dir })).code).toBe(0);
    const d = await run(['decompress', 'b.cbz', '-q'], { cwd: dir });
    expect(d.code, d.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'b')), TEXT)).toBe(0);
    const again = await run(['decompress', 'b.cbz', '-q'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  test('a symlink is followed: the link stays, its target is written', async () => {
    const dir = workdir();
    symlinkSync('target.cbz', join(dir, 'link.cbz'));
    const r = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'link.cbz', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, 'link.cbz')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.cbz'))).toBe('target.cbz');
    const d = await run(['decompress', 'target.cbz', '-o', 'out.txt', '-q'], { cwd: dir });
    expect(d.code, d.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'out.txt')), TEXT)).toBe(0);
  });

  test('a FIFO is written in place, never renamed over', async () => {
    const dir = workdir();
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const reader = new Promise<Buffer>((resolve) => {
      const cat = spawn('cat', [join(dir, 'pipe')]);
      const parts: Buffer[] = [];
      cat.stdout.on('data', (d: Buffer) => parts.push(d));
      cat.on('close', () => resolve(Buffer.concat(parts)));
    });
    const r = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'pipe', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect((await reader).length).toBeGreaterThan(0);
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
  });

  test('a missing output folder is refused, not created', async () => {
    const dir = workdir();
    const r = await run(['compress', 'a.txt', '-m', 'order-k', '-o', 'nodir/x.cbz', '-q'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/folder nodir does not exist/);
    expect(existsSync(join(dir, 'nodir'))).toBe(false);
  });
});

describe('the gate', () => {
  test('check fails when a baseline row did not run (exit 1), passes with --allow-missing', async () => {
    const dir = workdir();
    const base = await run(['a.txt', '-m', 'order-k', '--baselines', 'gzip:9', '--record-dir', 'base', '-q'], { cwd: dir });
    expect(base.code, base.stderr).toBe(0);
    const cur = await run(['a.txt', '-m', 'none', '--baselines', 'gzip:9', '--record-dir', 'cur', '-q'], { cwd: dir });
    expect(cur.code, cur.stderr).toBe(0);
    const [baseRecord] = execFileSync('ls', [join(dir, 'base')], { encoding: 'utf8' }).trim().split('\n');
    const args = ['check', '--baseline', join('base', baseRecord), 'cur'];
    const r = await run(args, { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/1 baseline row missing from the run: a\.txt × order-k:3/);
    expect(r.stderr).toMatch(/compared 1, regressed 0, missing 1/);
    const ok = await run([...args, '--allow-missing'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  test('an unusable baseline is one message on stderr, exit 2', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'notes.md'), '# not a record\n');
    expect((await run(['a.txt', '-m', 'none', '--baselines', 'gzip:9', '--record-dir', 'cur', '-q'], { cwd: dir })).code).toBe(0);
    const r = await run(['check', '--baseline', 'notes.md', 'cur'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.match(/baseline unusable/g)?.length).toBe(1);
    expect(r.stdout.toString()).not.toMatch(/baseline unusable/);
  });
});
