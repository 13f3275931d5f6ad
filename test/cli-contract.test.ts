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

describe('resume contract', () => {
  /** The one record a run wrote into `dir/sub` (the main job names it by time and first input). */
  const recordIn = (dir: string, sub: string) => join(sub, execFileSync('ls', [join(dir, sub)], { encoding: 'utf8' }).trim().split('\n')[0]);
  const text = (seed: number, bytes: number) => {
    const words = ['resume', 'record', 'unit', 'chunk', 'order', 'model', 'bits', 'byte', 'the', 'of', 'and', 'saved'];
    let x = seed;
    const out: string[] = [];
    for (let n = 0; n < bytes; n += out[out.length - 1].length + 1) out.push(words[(x = (x * 1103515245 + 12345) % 2 ** 31) % words.length]);
    return out.join(' ').slice(0, bytes);
  };
  const sizes = (results: { compressor: string; file: string; outputBytes: number }[]) => Object.fromEntries(results.map((r) => [`${r.compressor} ${r.file}`, r.outputBytes]));

  test('a resume asking for other inputs or compressors is refused (exit 2, one line), the record unchanged', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'h.txt'), text(7, 3000));
    const first = await run(['-m', 'order-k', '--baselines', 'gzip:9', 'a.txt', '--record-dir', 'runs', '-q'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const R = recordIn(dir, 'runs');
    const before = readFileSync(join(dir, R));
    const other = await run(['-m', 'order-k', '--baselines', 'none', '--resume', R, 'h.txt'], { cwd: dir });
    expect(other.code).toBe(2);
    expect(oneLine(other.stderr)).toBe(true);
    expect(other.stderr).toContain(`--resume ${R}: the record holds inputs a.txt; this command asks for h.txt`);
    const zstd = await run(['-m', 'order-k', '--baselines', 'zstd:3', '--resume', R, 'a.txt'], { cwd: dir });
    expect(zstd.code).toBe(2);
    expect(oneLine(zstd.stderr)).toBe(true);
    expect(zstd.stderr).toContain(`--resume ${R}: the record holds compressors order-k:3, gzip:9; this command asks for zstd:3`);
    // The same name with other bytes is another input, named as such.
    writeFileSync(join(dir, 'a.txt'), text(8, 3000));
    const changed = await run(['-m', 'order-k', '--baselines', 'gzip:9', '--resume', R, 'a.txt'], { cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/this command asks for a\.txt \(its bytes changed: sha256 \w+… in the record, \w+… now\)/);
    expect(Buffer.compare(readFileSync(join(dir, R)), before)).toBe(0);
  });

  test('a resume asking for part of the record reuses it, says so, and keeps every result', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'h.txt'), text(7, 3000));
    const first = await run(['-m', 'order-k', '--baselines', 'gzip:9', 'a.txt', 'h.txt', '--record-dir', 'runs', '--json', '-q'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const R = recordIn(dir, 'runs');
    const before = readFileSync(join(dir, R));
    const all = JSON.parse(before.toString()).results;
    expect(all).toHaveLength(4);
    const part = await run(['-m', 'order-k', '--baselines', 'none', 'h.txt', '--resume', R, '--json'], { cwd: dir });
    expect(part.code, part.stderr).toBe(0);
    expect(part.stderr).toContain(`resumed ${R}: 1 of 1 unit reused`);
    // What this command asked for, exactly as recorded: nothing was recomputed.
    expect(JSON.parse(part.stdout.toString()).results).toEqual(all.filter((r: { compressor: string; file: string }) => r.compressor === 'order-k:3' && r.file === 'h.txt'));
    // Nothing new ran: the record, all four results with it, is left byte for byte.
    expect(Buffer.compare(readFileSync(join(dir, R)), before)).toBe(0);
    // A record missing a unit: the subset runs only that unit and keeps the rest.
    const doc = JSON.parse(before.toString());
    const dropped = doc.results.splice(1, 1)[0];
    writeFileSync(join(dir, 'holed.json'), JSON.stringify({ ...doc, complete: false }));
    const hole = await run(['-m', 'order-k', '--baselines', 'gzip:9', 'a.txt', '--resume', 'holed.json', '--json'], { cwd: dir });
    expect(hole.code, hole.stderr).toBe(0);
    expect(hole.stderr).toContain('resumed holed.json: 1 of 2 units reused');
    const healed = JSON.parse(readFileSync(join(dir, 'holed.json'), 'utf8'));
    expect(healed.complete).toBe(true);
    expect(sizes(healed.results)).toEqual(sizes(all));
    expect(healed.results[1]).toMatchObject({ compressor: dropped.compressor, file: dropped.file, outputBytes: dropped.outputBytes });
  });

  test('Ctrl-C: exit 130, one line with the --resume command, which finishes the run to the sizes of an uninterrupted one', async () => {
    const dir = workdir();
    const files = [0, 1, 2, 3].map((i) => {
      writeFileSync(join(dir, `in${i}.txt`), text(i + 1, 20_000));
      return `in${i}.txt`;
    });
    const args = ['-m', 'order-k', '--baselines', 'gzip:9', ...files, '--record-dir', 'runs', '-q'];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const saved = () => {
      const names = existsSync(join(dir, 'runs')) ? execFileSync('ls', [join(dir, 'runs')], { encoding: 'utf8' }).trim() : '';
      return names ? JSON.parse(readFileSync(join(dir, 'runs', names.split('\n')[0]), 'utf8')).results.length : 0;
    };
    for (let waited = 0; waited < 60_000 && saved() === 0; waited += 25) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(oneLine(stderr)).toBe(true);
    const R = recordIn(dir, 'runs');
    const partial = JSON.parse(readFileSync(join(dir, R), 'utf8'));
    expect(partial.complete).toBe(false);
    expect(partial.results.length).toBeGreaterThan(0);
    expect(partial.results.length).toBeLessThan(8);
    const m = /continue with: compress-bench (.*)$/.exec(stderr.trim());
    expect(m, stderr).not.toBeNull();
    const again = m![1].split(' ');
    expect(again).toEqual([...args, '--resume', R]);
    const resumed = await run(again, { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    const full = JSON.parse(readFileSync(join(dir, R), 'utf8'));
    expect(full.complete).toBe(true);
    expect(full.results.slice(0, partial.results.length)).toEqual(partial.results); // reused, not recomputed
    const plain = await run([...args.filter((a) => a !== 'runs' && a !== '--record-dir'), '--no-record', '--json'], { cwd: dir });
    expect(plain.code, plain.stderr).toBe(0);
    expect(sizes(full.results)).toEqual(sizes(JSON.parse(plain.stdout.toString()).results));
    expect(Object.keys(sizes(full.results))).toHaveLength(8);
  });

  test('--suite NAME on the main job is the suite command: same record, same sizes', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'b.txt'), text(3, 2500));
    execFileSync('mkdir', [join(dir, 'suites')]);
    writeFileSync(join(dir, 'suites', 'pair.json'), JSON.stringify({ name: 'pair', description: 'two files', inputs: [{ file: 'a.txt' }, { file: 'b.txt' }], protocol: { context: null, prime: null, segments: 1, chunk: 1024 }, baselines: 'gzip:9' }));
    const env = { ...process.env, HF_HUB_OFFLINE: '1', COMPRESS_BENCH_SUITES: join(dir, 'suites'), COMPRESS_BENCH_DATA_DIR: dir };
    const cli = (args: string[]) => {
      try {
        execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
        return { code: 0, stderr: '' };
      } catch (e) {
        return { code: (e as { status: number }).status, stderr: String((e as { stderr: Buffer }).stderr) };
      }
    };
    expect(cli(['suite', 'pair', '-m', 'order-k', '--record-dir', 'a', '-q']).code).toBe(0);
    expect(cli(['--suite', 'pair', '-m', 'order-k', '--record-dir', 'b', '-q']).code).toBe(0);
    const [ra, rb] = ['a', 'b'].map((d) => JSON.parse(readFileSync(join(dir, recordIn(dir, d)), 'utf8')));
    expect(recordIn(dir, 'a').slice(2)).toBe(recordIn(dir, 'b').slice(2)); // the suite's record name
    expect(rb.suite).toEqual(ra.suite);
    expect(sizes(rb.results)).toEqual(sizes(ra.results));
    expect(Object.keys(sizes(ra.results))).toHaveLength(4);
    const bad = cli(['--suite', 'pair', '-m', 'order-k', '--chunk', '2KiB']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--suite pair: --chunk cannot be given with a suite/);
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

  test('suite runs are pooled only under their own protocol: left out beside plain runs, two suites refused', async () => {
    const dir = workdir();
    const records = join(ROOT, 'reports', 'records');
    const mixed = await run(['report', records, '--out', 'rep'], { cwd: dir });
    expect(mixed.code).toBe(2);
    expect(oneLine(mixed.stderr), mixed.stderr).toBe(true);
    expect(mixed.stderr).toMatch(/^compress-bench: report: these records come from 2 suite protocols \(suite canterbury-text .*; suite snappy-mixed .*\), which are never pooled; rank them with `compress-bench suite report`/);
    expect(existsSync(join(dir, 'rep.md'))).toBe(false);
    expect((await run(['a.txt', '-m', 'order-k', '--baselines', 'none', '--record-dir', 'recs', '-q'], { cwd: dir })).code).toBe(0);
    copyFileSync(join(records, 'canterbury-text-sample4096-order-k.json'), join(dir, 'recs', 'suite.json'));
    const r = await run(['report', 'recs', '--out', 'rep'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/report: 1 suite record left out \(suite canterbury-text \(protocol [0-9a-f]+\)\): suite runs are pooled only under their own protocol/);
    expect(r.stderr).not.toMatch(/older runs left out/); // the suite's rows are not counted again as older runs
    const md = readFileSync(join(dir, 'rep.md'), 'utf8');
    expect(md).toContain('a.txt');
    expect(md).not.toContain('alice29');
  });

  test('suite report of given records needs its own -o/--out: the committed leaderboard is never overwritten by default', async () => {
    const dir = workdir();
    const record = join(ROOT, 'reports', 'records', 'canterbury-text-sample4096-order-k.json');
    const before = snapshot(dir);
    const r = await run(['suite', 'report', record], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^compress-bench: suite report RECORDS: give -o\/--out PATH/);
    expect(snapshot(dir)).toEqual(before);
    const ok = await run(['suite', 'report', record, '--out', 'board'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(join(dir, 'board.md'), 'utf8')).toMatch(/canterbury-text/);
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
