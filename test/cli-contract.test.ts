/**
 * The file contract of the CLI, run as a user would (real files, the built binary): `-` is
 * stdin/stdout, an existing output is kept unless -f, the input is never overwritten, links are
 * followed, FIFOs written in place, missing folders refused, and the gate fails on missing rows.
 * Each case asserts the exit code, the message, and that no file was changed or lost.
 */
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL, SNAPPY } from './helpers/shared.js';

const CLI = join(ROOT, 'dist', 'cli.js');

/** Run the binary in `cwd` with optional stdin; never throws. */
function run(args: string[], opts: { cwd: string; stdin?: Uint8Array; env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: { ...process.env, HF_HUB_OFFLINE: '1', ...opts.env } });
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

/** Every file under `dir` with its bytes, to show a command changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** A work folder with its own corpus cache, so nothing outside it is found or written. */
function corpusWorkdir(): { dir: string; env: NodeJS.ProcessEnv; cache: string } {
  const dir = workdir();
  const root = join(dir, 'cache');
  mkdirSync(root);
  return { dir, env: { COMPRESS_BENCH_CACHE: root }, cache: join(root, 'corpora') };
}

describe('corpus names', () => {
  test('corpus/NAME, corpora/NAME and NAME answer as NAME:split does: not present, fetch or place it', async () => {
    const { dir, env, cache } = corpusWorkdir();
    const before = snapshot(dir);
    const split = await run(['enwik8:test', '-m', 'order-k', '-q'], { cwd: dir, env });
    expect(split.code).toBe(2);
    const expected = `compress-bench: enwik8 is not present; run \`compress-bench corpora fetch enwik8\` or place the file at ${join(cache, 'enwik8')}\n`;
    expect(split.stderr).toBe(expected);
    for (const spec of ['corpus/enwik8', 'corpora/enwik8', 'enwik8']) {
      const r = await run([spec, '-m', 'order-k', '-q'], { cwd: dir, env });
      expect(r.code, spec).toBe(2);
      expect(r.stderr, spec).toBe(expected);
    }
    expect(snapshot(dir)).toEqual(before);
  });

  test('a bare name that is neither a file nor a corpus: no such file or corpus, one line', async () => {
    const { dir, env } = corpusWorkdir();
    const r = await run(['nosuchthing', '-m', 'order-k', '-q'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^compress-bench: no such file or corpus: nosuchthing \(corpora: enwik8/);
    expect(r.stderr).not.toMatch(/unknown command/);
  });
});

describe.skipIf(!existsSync(SNAPPY))('corpora list and fetch', () => {
  test('list marks each entry present, absent or corrupt', async () => {
    const { dir, env, cache } = corpusWorkdir();
    mkdirSync(join(dir, 'corpus'));
    copyFileSync(join(SNAPPY, 'alice29.txt'), join(dir, 'corpus', 'alice29.txt'));
    mkdirSync(cache);
    writeFileSync(join(cache, 'enwik8'), 'not enwik8');
    const r = await run(['corpora', 'list'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const line = (name: string) => r.stdout.toString().split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(line('snappy/alice29.txt')).toMatch(/ present {2}at corpus\/alice29\.txt$/);
    expect(line('enwik8')).toMatch(/ corrupt .*has 10 bytes, expected 100000000/);
    expect(line('text8')).toMatch(/ absent /);
    expect(r.stdout.toString()).toMatch(/\n\d+ present, \d+ absent, 1 corrupt/);
  });

  test('fetch of a present, verified file says where and downloads nothing', async () => {
    const { dir, env, cache } = corpusWorkdir();
    mkdirSync(join(dir, 'corpus'));
    copyFileSync(join(SNAPPY, 'alice29.txt'), join(dir, 'corpus', 'alice29.txt'));
    const r = await run(['corpora', 'fetch', 'snappy/alice29.txt'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('snappy/alice29.txt: present and verified at corpus/alice29.txt\n');
    expect(r.stdout.toString()).toBe('corpus/alice29.txt\n');
    expect(existsSync(join(cache, 'snappy', 'alice29.txt'))).toBe(false);
    expect(Buffer.compare(readFileSync(join(dir, 'corpus', 'alice29.txt')), readFileSync(join(SNAPPY, 'alice29.txt')))).toBe(0);
  });
});

describe('report', () => {
  const inputRows = (md: string, compressor: string) => md.split('\n').filter((l) => l.startsWith('| ') && l.split(' | ')[1]?.startsWith(compressor));

  test('two runs on one input: one row per compressor (the newest); --all-runs keeps both, labelled by run', async () => {
    const dir = workdir();
    for (let i = 0; i < 2; i++) expect((await run(['a.txt', '-m', 'order-k', '--baselines', 'gzip:9', '--record-dir', 'recs', '-q'], { cwd: dir })).code).toBe(0);
    const records = readdirSync(join(dir, 'recs')).sort();
    expect(records).toHaveLength(2);
    const newest = JSON.parse(readFileSync(join(dir, 'recs', records[1]!), 'utf8'));
    const r = await run(['report', 'recs', '--out', 'rep'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 rows of older runs left out .*--all-runs keeps them/);
    const md = readFileSync(join(dir, 'rep.md'), 'utf8');
    // The summary and the a.txt table: one gzip:9 row each, and the newest run is the one listed.
    expect(inputRows(md, 'gzip:9')).toHaveLength(2);
    expect(inputRows(md, 'order-k:3')).toHaveLength(2);
    expect(md).toContain(newest.startedAt);
    const all = await run(['report', 'recs', '--all-runs', '--out', 'all'], { cwd: dir });
    expect(all.code, all.stderr).toBe(0);
    const allMd = readFileSync(join(dir, 'all.md'), 'utf8');
    const labelled = inputRows(allMd, 'gzip:9 [run ');
    expect(labelled).toHaveLength(4);
    expect(new Set(labelled.map((l) => /\[run [^\]]+\]/.exec(l)![0])).size).toBe(2);
  });

  test('a broken or foreign JSON file is one line, exit 2, and nothing is written', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'broken.json'), '{broken');
    writeFileSync(join(dir, 'foreign.json'), '{"results":[{}]}');
    writeFileSync(join(dir, 'half.json'), '{"recordVersion":1,"results":[{"compressor":"x"}]}');
    const before = snapshot(dir);
    for (const [file, message] of [
      ['broken.json', /^compress-bench: broken\.json: not valid JSON/],
      ['foreign.json', /^compress-bench: foreign\.json is not a RunRecord \(no recordVersion\)/],
      ['half.json', /^compress-bench: half\.json: results\[0\] lacks compressor/],
    ] as const) {
      const r = await run(['report', file, '--out', 'rep'], { cwd: dir });
      expect(r.code, file).toBe(2);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('help', () => {
  const COMMANDS = ['', 'compress', 'decompress', 'merge', 'report', 'check', 'compare', 'series', 'joint', 'suite', 'corpora', 'corpora list', 'corpora fetch'];
  const help = async (command: string) => {
    const r = await run([...command.split(' ').filter(Boolean), '--help'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.toString();
  };

  test('wrapped at word boundaries within 80 columns (not a terminal), with an example in every command', async () => {
    for (const command of COMMANDS) {
      const text = await help(command);
      expect(Math.max(...text.split('\n').map((l) => [...l].length)), command).toBeLessThanOrEqual(80);
      expect(text, command).toMatch(/\nExamples:\n {2}compress-bench /);
    }
    // Each was cut mid-word by the ESM build's placeholder ("colon-s / eparated").
    expect(await help('compress')).toMatch(/COMPRESS_BENCH_MODEL_DIR, colon-separated\)/);
  });

  test('exit codes in the top-level help; compress names mix:, joint does not offer --external, check names real files', async () => {
    expect((await help('')).replace(/\s+/g, ' ')).toMatch(/Exit codes: 0 success · 1 a regression \(check\), a failed round trip, or an internal error .* 2 bad usage or bad data .* 130 interrupted/);
    expect(await help('compress')).toMatch(/mix:MODEL/);
    expect(await help('joint')).not.toMatch(/--external/);
    const examples = (await help('check')).split('\nExamples:\n')[1] ?? '';
    const files = [...examples.matchAll(/\b(baselines\/\S+\.json)/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });
});

describe('a failed round trip says where', () => {
  test('--external whose decompressor truncates: exit 1, the offset and both lengths on one line', async () => {
    const dir = workdir();
    const before = snapshot(dir);
    const r = await run(['a.txt', '-m', 'none', '--baselines', 'none', '--external', 'bad=cat', '--external-decompress', 'bad=head -c 10', '--no-record', '-q'], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.toString().split('\n').filter((l) => l.includes('round trip failed'));
    expect(lines).toEqual([`✗ bad: round trip failed: decoded 10 bytes, expected ${TEXT.length}; first difference at byte 10 (the decoded copy ends there)`]);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe.skipIf(!HAVE_SHARED)('--context above the model\'s own', () => {
  test('exit 2 naming the model\'s limit, for compress and the main job; nothing written', async () => {
    const dir = workdir();
    const before = snapshot(dir);
    const model = ['-m', SMALL_MODEL, '--model-dir', SHARED_MODELS, '--context', '99999', '-q'];
    for (const args of [['compress', 'a.txt', '-o', 'ctx.cbz', ...model], ['a.txt', '--baselines', 'none', '--record-dir', 'runs', ...model]]) {
      const r = await run(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`compress-bench: --context 99999 exceeds ${SMALL_MODEL}'s context of 1024 tokens; accepted values: 2 to 1024\n`);
    }
    expect(snapshot(dir)).toEqual(before);
  });
});
