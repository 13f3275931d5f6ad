/** The real `compress-bench` binary: main job, compress/decompress, and every kind of bad input. */
import { describe, expect, test } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL, SNAPPY } from './helpers/shared.js';

const CLI = join(ROOT, 'dist', 'cli.js');
const run = async (args: string[], env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: '1', ...env },
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};
const tmp = () => mkdtempSync(join(tmpdir(), 'cb-cli-'));
const oneLine = (s: string) => s.trim().split('\n').length === 1;

describe('main job', () => {
  test('--json prints the documented schema with verified round trips (order-k + gzip + zstd)', async () => {
    const dir = tmp();
    const file = join(dir, 'text.txt');
    writeFileSync(file, 'The quick brown fox jumps over the lazy dog.\r\n'.repeat(40));
    const r = await run(['--model', 'order-k', file, '--baselines', 'gzip:9,zstd:19', '--json', '--record-dir', join(dir, 'runs')]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results.map((x: { compressor: string }) => x.compressor)).toEqual(['order-k:3', 'gzip:9', 'zstd:19']);
    for (const x of doc.results) {
      expect(x).toMatchObject({ file: file, inputBytes: 1840, roundtrip: true });
      expect(x.outputBytes).toBeGreaterThan(0);
      expect(x.bitsPerByte).toBeCloseTo((x.outputBytes * 8) / 1840, 9);
      expect(typeof x.seconds).toBe('number');
    }
    expect(doc.results[0].idealBitsPerByte).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]), 'utf8')).toContain('"recordVersion": 1');
  });

  test('without --model the embedded model runs (offline, no ../shared needed)', async () => {
    const r = await run(['corpora/samples/gpl-3.0.txt', '--limit', '1500', '--baselines', 'gzip:9,zstd:19', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lm:embedded .* ✓/);
    expect(r.stdout).toMatch(/gzip:9 .* ✓/);
  });

  test('--limit and --offset take a slice and the table says so', async () => {
    const dir = tmp();
    const file = join(dir, 'f.bin');
    writeFileSync(file, Buffer.alloc(5000, 7));
    const r = await run(['--model', 'order-k', file, '--offset', '100', '--limit', '1000', '--baselines', 'gzip', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('bytes 100..1100 of 5,000');
  });

  test('an empty file is valid and round-trips', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'empty'), '');
    const r = await run(['--model', 'order-k', join(dir, 'empty'), '--baselines', 'gzip,zstd', '--json', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.every((x: { roundtrip: boolean }) => x.roundtrip)).toBe(true);
  });
});

describe('run records', () => {
  test('a killed run leaves only complete JSON records; --resume finishes it reusing saved results', async () => {
    const dir = tmp();
    const files = Array.from({ length: 6 }, (_, i) => {
      const f = join(dir, `in${i}.txt`);
      writeFileSync(f, Buffer.from(`file ${i} `.repeat(12000)));
      return f;
    });
    const runs = join(dir, 'runs');
    const child = spawn(process.execPath, [CLI, '--model', 'order-k', ...files, '--baselines', 'none', '--record-dir', runs, '--quiet'], { cwd: ROOT });
    // Kill it as soon as a first result has been saved.
    for (let waited = 0; waited < 60000 && !(existsSync(runs) && readdirSync(runs).some((f) => f.endsWith('.json'))); waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const saved = readdirSync(runs).filter((f) => f.endsWith('.json'));
    expect(saved).toHaveLength(1);
    const partial = JSON.parse(readFileSync(join(runs, saved[0]), 'utf8'));
    expect(partial.complete).toBe(false);
    expect(partial.results.length).toBeGreaterThan(0);
    expect(partial.results.length).toBeLessThan(6);

    const r = await run(['--model', 'order-k', ...files, '--baselines', 'none', '--resume', join(runs, saved[0]), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const full = JSON.parse(readFileSync(join(runs, saved[0]), 'utf8'));
    expect(full.complete).toBe(true);
    expect(full.results).toHaveLength(6);
    expect(full.results[0]).toEqual(partial.results[0]); // reused, not recomputed
  });

  test('check passes against its own baseline, fails on a regression, exits 2 on an unusable one', async () => {
    const dir = tmp();
    const file = join(dir, 'text.txt');
    writeFileSync(file, 'compression is prediction; prediction is compression. '.repeat(200));
    const runs = join(dir, 'runs');
    expect((await run(['--model', 'order-k', file, '--baselines', 'gzip:9', '--record-dir', runs, '--quiet'])).code).toBe(0);
    const recordFile = join(runs, readdirSync(runs)[0]);
    const ok = await run(['check', '--baseline', recordFile, recordFile]);
    expect(ok.code, ok.stderr).toBe(0);
    // A baseline 2% better than what we measure: the current run is a regression.
    const better = JSON.parse(readFileSync(recordFile, 'utf8'));
    for (const x of better.results) x.bitsPerByte *= 0.98;
    writeFileSync(join(dir, 'better.json'), JSON.stringify(better));
    const bad = await run(['check', '--baseline', join(dir, 'better.json'), recordFile, '--tolerance', '0.5%']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/order-k:3/);
    // Without records, check re-runs the baseline's own command line.
    const rerun = await run(['check', '--baseline', recordFile]);
    expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
    writeFileSync(join(dir, 'garbage.json'), '{"nope": 1}');
    expect((await run(['check', '--baseline', join(dir, 'garbage.json'), recordFile])).code).toBe(2);
    const rep = await run(['report', runs, '--out', join(dir, 'board')]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(join(dir, 'board.md'), 'utf8')).toMatch(/order-k:3/);
  });
});

describe('bad input: one line on stderr, exit 2', () => {
  test.each([
    ['a missing file', ['--model', 'order-k', '/nonexistent/file.txt'], /no such file/],
    ['a directory', ['--model', 'order-k', '/tmp'], /is a directory/],
    ['an unknown model', ['--model', 'no-such-model-xyz', 'package.json', '--offline'], /unknown model "no-such-model-xyz"/],
    ['a bad --segments', ['--model', 'order-k', 'package.json', '--segments', 'many'], /--segments must be/],
    ['an unknown baseline', ['--model', 'order-k', 'package.json', '--baselines', 'lz4'], /unknown baseline "lz4"/],
  ])('%s', async (_, args, message) => {
    const r = await run([...args, '--no-record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(oneLine(r.stderr)).toBe(true);
  });

  // Root reads everything, so there is nothing to test as root (CI runs as root): skipped, not passed.
  test.skipIf(process.getuid?.() === 0)('an unreadable file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'secret'), 'x', { mode: 0o000 });
    const r = await run(['--model', 'order-k', join(dir, 'secret'), '--no-record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read/);
  });

  test.skipIf(!HAVE_SHARED)('a model folder without a causal LM head', async () => {
    const dir = tmp();
    const model = join(dir, 'encoder-only');
    mkdirSync(join(model, 'onnx'), { recursive: true });
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      copyFileSync(join(SHARED_MODELS, SMALL_MODEL, f), join(model, f));
    }
    const r = await run(['--model', model, 'package.json', '--no-record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/causal LM/);
    expect(oneLine(r.stderr)).toBe(true);
  });

  test.skipIf(!HAVE_SHARED || existsSync('/dev/nvidia0'))('--device cuda on a machine without CUDA fails clearly', async () => {
    const r = await run(['--model', SMALL_MODEL, '--model-dir', SHARED_MODELS, '--device', 'cuda', 'package.json', '--no-record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cuda/i);
    expect(oneLine(r.stderr)).toBe(true);
  });
});

describe('compress / decompress', () => {
  test('order-k archive round-trips through files; corruption and truncation are rejected', async () => {
    const dir = tmp();
    const input = join(dir, 'in.bin');
    writeFileSync(input, Buffer.concat([Buffer.from('header\r\n\0\0'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.alloc(2000, 'abc')]));
    expect((await run(['compress', '--model', 'order-k', input, '-o', join(dir, 'a.cbz'), '-q'])).code).toBe(0);
    const d = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'out.bin')]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.bin')).equals(readFileSync(input))).toBe(true);

    const archive = readFileSync(join(dir, 'a.cbz'));
    const corrupted = Buffer.from(archive);
    corrupted[Math.floor(archive.length / 2)] ^= 0x10;
    writeFileSync(join(dir, 'bad.cbz'), corrupted);
    const c = await run(['decompress', join(dir, 'bad.cbz'), '-o', join(dir, 'bad.out')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/corrupted or truncated/);
    expect(existsSync(join(dir, 'bad.out'))).toBe(false);

    writeFileSync(join(dir, 'short.cbz'), archive.subarray(0, archive.length - 7));
    const t = await run(['decompress', join(dir, 'short.cbz'), '-o', join(dir, 'short.out')]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/corrupted or truncated/);
    expect(existsSync(join(dir, 'short.out'))).toBe(false);

    writeFileSync(join(dir, 'notours.cbz'), 'hello');
    expect((await run(['decompress', join(dir, 'notours.cbz'), '-o', join(dir, 'x')])).stderr).toMatch(/not a compress-bench LM archive/);
  });

  test.skipIf(!HAVE_SHARED)('a GPT-2 archive decodes with the model named in its header, and refuses another', async () => {
    const dir = tmp();
    const input = join(dir, 'in.txt');
    writeFileSync(input, readFileSync(join(SNAPPY, 'alice29.txt')).subarray(0, 1500));
    // Different onnxruntime thread counts on the two sides must not change the probabilities.
    const c = await run(['compress', '--model', SMALL_MODEL, '--model-dir', SHARED_MODELS, '--threads', '1', input, '-o', join(dir, 'a.cbz')]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/bits\/byte/);
    const d = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'out.txt'), '--model-dir', SHARED_MODELS, '--threads', '2']);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.txt')).equals(readFileSync(input))).toBe(true);
    const m = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'o2'), '--model', 'gpt2-docmix-16m', '--model-dir', SHARED_MODELS]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/archive was made with model gpt2-docmix-7m .* weights: archive expects 099fd18d/);
    const missing = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'o3')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/unknown model "gpt2-docmix-7m"/);
  });
});
