/** The real `compress-bench` binary: main job, compress/decompress, and every kind of bad input. */
import { describe, expect, test, vi } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, copyFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatDuration, progressBar, secondsLeft } from '../src/cli/progress.js';
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
      expect(x.seen).toBe(false); // no training data: order-k and classic baselines have seen nothing
    }
    expect(doc.results[0].idealBitsPerByte).toBeGreaterThan(0);
    expect(doc.results[0].lmZlibRatio).toBeGreaterThan(0);
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

  test('an empty file round-trips and has no bits/byte: null in JSON, n/a in the table', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'empty'), '');
    const r = await run(['--model', 'order-k', join(dir, 'empty'), '--baselines', 'gzip,zstd', '--json', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout).results as { roundtrip: boolean; outputBytes: number; bitsPerByte: unknown; totalBitsPerByte: unknown }[];
    expect(results).toHaveLength(3);
    for (const x of results) {
      expect(x.roundtrip).toBe(true);
      expect(x.outputBytes).toBeGreaterThan(0); // archives still have headers
      expect(x.bitsPerByte).toBeNull();
      expect(x.totalBitsPerByte).toBeNull();
    }
    const t = await run(['--model', 'order-k', join(dir, 'empty'), '--baselines', 'gzip', '--no-record']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/order-k:3 .* n\/a .* n\/a .* ✓/);
    expect(t.stdout).not.toMatch(/0\.000/);
  });

  test('--limit larger than the input takes the whole input ("at most")', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'small'), 'abc'.repeat(100));
    const r = await run(['--model', 'order-k', join(dir, 'small'), '--limit', '100000', '--baselines', 'none', '--json', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results[0].inputBytes).toBe(300);
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
    // The record exists from the start (complete: false, no results yet); kill the run as soon
    // as a first result has been saved into it.
    const resultsSaved = () => {
      const f = existsSync(runs) ? readdirSync(runs).find((f) => f.endsWith('.json')) : undefined;
      return f ? JSON.parse(readFileSync(join(runs, f), 'utf8')).results.length : 0;
    };
    for (let waited = 0; waited < 60000 && resultsSaved() === 0; waited += 50) {
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

    // Resuming with settings that change the bytes is refused, naming the difference.
    const other = await run(['--model', 'order-k', ...files, '--baselines', 'none', '--segments', '2', '--resume', join(runs, saved[0]), '--quiet']);
    expect(other.code).toBe(2);
    expect(oneLine(other.stderr)).toBe(true);
    expect(other.stderr).toMatch(/--resume: order-k:3 on .* was recorded with other settings \(segments: "auto" → 2\)/);
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
  const OK = ['--model', 'order-k', 'package.json', '--baselines', 'gzip'];
  const bytes = /accepted values: a whole number of bytes ≥ 1$/;
  const segs = /accepted values: a positive integer \(1, 2, …\) or auto$/;
  test.each([
    ['a missing file', ['--model', 'order-k', '/nonexistent/file.txt'], /no such file or corpus: \/nonexistent\/file.txt \(corpora: /],
    ['a directory', ['--model', 'order-k', '/tmp'], /is a directory/],
    ['an unknown baseline', ['--model', 'order-k', 'package.json', '--baselines', 'lz4'], /unknown baseline "lz4": expected one of gzip, brotli, zstd, xz, bzip2/],
    ['--limit abc', [...OK, '--limit', 'abc'], /^compress-bench: --limit: "abc" is not accepted; accepted values: a whole number of bytes ≥ 1$/],
    ['--limit -5', [...OK, '--limit', '-5'], /--limit: "-5" is not accepted; accepted values: a whole number of bytes ≥ 1$/],
    ['--limit 1.5', [...OK, '--limit', '1.5'], /--limit: "1.5" is not accepted/],
    ['--limit 0', [...OK, '--limit', '0'], bytes],
    ['--limit with no value', [...OK, '--limit'], /--limit: an empty value is not accepted; accepted values: a whole number/],
    ['--offset abc', [...OK, '--offset', 'abc'], /--offset: "abc" is not accepted; accepted values: a whole number of bytes ≥ 0, below the input size$/],
    ['--offset -10', [...OK, '--offset', '-10'], /--offset: "-10" is not accepted; accepted values: a whole number of bytes ≥ 0/],
    ['--offset beyond the input', [...OK, '--offset', '99999999'], /package.json: --offset 99999999 is beyond its \d+ bytes; accepted values: 0 to \d+$/],
    ['--segments many', [...OK, '--segments', 'many'], segs],
    ['--segments 0', [...OK, '--segments', '0'], /--segments: "0" is not accepted; accepted values: a positive integer/],
    ['--segments -2', [...OK, '--segments', '-2'], segs],
    ['--segments 1.5', [...OK, '--segments', '1.5'], segs],
    ['--device tpu', [...OK, '--device', 'tpu'], /^compress-bench: --device: "tpu" is not accepted; accepted values: cpu, cuda$/],
    ['--dtype q9', [...OK, '--dtype', 'q9'], /--dtype: "q9" is not accepted; accepted values: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4$/],
    ['--threads 0', [...OK, '--threads', '0'], /--threads: "0" is not accepted; accepted values: a positive whole number of threads$/],
    ['-m with no value', ['package.json', '-m'], /^compress-bench: -m\/--model needs a value; accepted values: a model id .*order-k\[:K\], or none \(baselines only\)$/],
    ['-m eating the only input', ['-m', 'package.json'], /-m\/--model package.json: a file, not a model, and no input files/],
    ['a bogus subcommand', ['bogus'], /^compress-bench: bogus: unknown command or no such file \(commands: compress, decompress, merge, report, check, compare, series, joint, corpora, suite; /],
    ['compress without -o', ['compress', '--model', 'order-k', 'package.json'], /^compress-bench: compress needs -o\/--output FILE: where to write the archive$/],
    ['decompress without -o', ['decompress', 'some.archive'], /^compress-bench: decompress needs -o\/--output FILE/],
    ['check with a missing baseline', ['check', '--baseline', 'baselines/no-such-baseline.json'], /^compress-bench: --baseline baselines\/no-such-baseline.json: no such file$/],
    ['compare --by x', ['compare', 'a.json', 'b.json', '--by', 'x'], /--by: "x" is not accepted; accepted values: compressor, model$/],
    ['joint --device tpu', ['joint', 'package.json', 'README.md', '--device', 'tpu'], /--device: "tpu" is not accepted; accepted values: cpu, cuda$/],
    ['a missing --external binary', [...OK, '--external', 'x=no-such-binary-xyz', '--external-decompress', 'x=no-such-binary-xyz'], /external compressor x: command `no-such-binary-xyz` not found; install it, leave it out of --baselines\/--external, or pass --skip-missing$/],
  ])('%s', async (_, args, message) => {
    const noRecord = ['check', 'compare', 'joint', 'compress', 'decompress'].includes(args[0]!) ? [] : ['--no-record'];
    const r = await run([...args, ...noRecord]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(oneLine(r.stderr)).toBe(true);
  });

  test('an unknown model offline: says where it looked and what to pass', async () => {
    const dir = tmp();
    const r = await run(['--model', 'no-such-model-xyz', 'package.json', '--offline', '--model-dir', dir, '--no-record'], { COMPRESS_BENCH_CACHE: join(dir, 'cache') });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain(`unknown model "no-such-model-xyz": not found offline; looked for ${join(dir, 'no-such-model-xyz')} (--model-dir), ${join(dir, 'cache', 'hub', 'no-such-model-xyz')} (download cache)`);
    expect(r.stderr.trim()).toMatch(/pass --model-dir DIR holding DIR\/no-such-model-xyz\/ \(transformers.js layout\), or a folder path, or allow the Hub download \(drop --offline\)$/);
    // HF_HUB_OFFLINE=1 (set for every run here) is named when it is the reason.
    const env = await run(['--model', 'gpt2', 'package.json', '--no-record'], { COMPRESS_BENCH_CACHE: join(dir, 'cache') });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/looked for .*\/hub\/gpt2 or .*\/hub\/Xenova\/gpt2 \(download cache\).*\(drop HF_HUB_OFFLINE=1\)$/m);
  });

  test('a missing baseline tool is an error unless --skip-missing', async () => {
    // No PATH: the xz CLI (a default baseline) cannot be found.
    const env = { PATH: '/nonexistent' };
    const r = await run(['--model', 'order-k', 'package.json', '--baselines', 'gzip:9,xz:9e', '--no-record'], env);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/xz:9e: .*needs the `xz` command.*; install it, leave it out of --baselines\/--external, or pass --skip-missing$/m);
    const s = await run(['--model', 'order-k', 'package.json', '--baselines', 'gzip:9,xz:9e', '--skip-missing', '--no-record'], env);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/warning: skipping xz:9e: .*\(--skip-missing\)/);
    expect(s.stdout).toMatch(/gzip:9 .* ✓/);
    expect(s.stdout).not.toMatch(/xz:9e/);
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
    // The backend names the setting (device); the CLI names its flag.
    expect(r.stderr).toMatch(/^compress-bench: --device cuda: the CUDA execution provider is not (installed|available here)/);
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
    expect(missing.stderr).toMatch(/unknown model "gpt2-docmix-7m": not found offline; looked for .*--model-dir/);
  });
});

describe('the archiver never expands, never downloads on its own, and runs baselines alone', () => {
  test.skipIf(!HAVE_SHARED)('random bytes and CRLF lines: at most 9 bytes over the input, and they come back', async () => {
    const dir = tmp();
    const cases = {
      'random.bin': Uint8Array.from({ length: 3000 }, (_, i) => (i * 2654435761) >>> 24),
      'crlf.txt': new TextEncoder().encode('a\r\n'.repeat(1000)),
      'utf16.txt': Buffer.from('Plain English text, stored as UTF-16 little-endian. '.repeat(30), 'utf16le'),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const input = join(dir, name);
      writeFileSync(input, bytes);
      const c = await run(['compress', '-m', SMALL_MODEL, '--model-dir', SHARED_MODELS, input, '-o', `${input}.cb`]);
      expect(c.code, c.stderr).toBe(0);
      expect(readFileSync(`${input}.cb`).length).toBeLessThanOrEqual(bytes.length + 9);
      const d = await run(['decompress', `${input}.cb`, '-o', `${input}.out`, '--model-dir', SHARED_MODELS]);
      expect(d.code, d.stderr).toBe(0);
      expect(readFileSync(`${input}.out`).equals(Buffer.from(bytes))).toBe(true);
    }
    // The random bytes were stored, and the message says why.
    const again = await run(['compress', '-m', SMALL_MODEL, '--model-dir', SHARED_MODELS, join(dir, 'random.bin'), '-o', join(dir, 'r2.cb')]);
    expect(again.stderr).toMatch(/stored: the model's \d+-byte code, [\d.]+ bits\/byte, was larger than the input/);
  });

  test('decompress does not download the model an archive names, unless --download', async () => {
    const dir = tmp();
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'abc '.repeat(500)); // order-k codes this far below its size: an LM archive, not stored
    const c = await run(['compress', '-m', 'order-k', input, '-o', join(dir, 'a.cb')]);
    expect(c.code, c.stderr).toBe(0);
    // Rename the archive's model to a Hub id (and re-seal the CRC): decoding must not go online.
    const { readArchive, writeArchive } = await import('../src/coding/container.js');
    const { header, streams } = readArchive(new Uint8Array(readFileSync(join(dir, 'a.cb'))));
    writeFileSync(join(dir, 'hub.cb'), writeArchive({ ...header, modelId: 'someone/some-model' }, streams));
    const d = await run(['decompress', join(dir, 'hub.cb'), '-o', join(dir, 'out')], { HF_HUB_OFFLINE: '' });
    expect(d.code).toBe(2);
    expect(oneLine(d.stderr)).toBe(true);
    expect(d.stderr).toMatch(/unknown model "someone\/some-model": not found offline; .*pass --download/);
  });

  test('-m none runs the baselines only', async () => {
    const dir = tmp();
    const file = join(dir, 'x.txt');
    writeFileSync(file, 'hello hello hello\n'.repeat(50));
    const r = await run(['-m', 'none', file, '--baselines', 'gzip:9', '--json', '--record-dir', join(dir, 'runs')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.map((x: { compressor: string }) => x.compressor)).toEqual(['gzip:9']);
    const bad = await run(['-m', 'none', '-m', 'order-k', file, '--baselines', 'gzip:9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/baselines only/);
  });
});

describe('time estimate before a long run', () => {
  test('tokens left ÷ measured speed, the decode counted after an encode', () => {
    // 1,000 of 10,000 tokens encoded in 10 s: 9,000 + 10,000 tokens at 100/s.
    expect(secondsLeft(1000, 10_000, 'encode', 10)).toBe(190);
    expect(secondsLeft(1000, 10_000, 'encode', 10, false)).toBe(90);
    expect(secondsLeft(9000, 10_000, 'decode', 90)).toBeCloseTo(10);
    expect(formatDuration(190)).toBe('3 min 10 s');
    expect(formatDuration(3725)).toBe('1 h 02 min');
  });

  test('without a TTY, one line announces a long run once, with the estimate', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const lines: string[] = [];
      const bar = progressBar('lm:embedded alice29.txt', true, { tty: false, write: (l) => lines.push(l) });
      bar.progress!(0, 50_000, 'encode');
      vi.setSystemTime(2000);
      bar.progress!(500, 50_000, 'encode'); // 250 tokens/s: 49,500 + 50,000 tokens left ≈ 6 min 38 s
      vi.setSystemTime(3000);
      bar.progress!(750, 50_000, 'encode');
      bar.stop();
      expect(lines).toEqual(['lm:embedded alice29.txt: about 6 min 38 s left for encode + decode (50,000 tokens at 250/s)\n']);
      // Short work says nothing, and --quiet nothing at all.
      const quiet: string[] = [];
      const q = progressBar('x', false, { tty: false, write: (l) => quiet.push(l) });
      vi.setSystemTime(10_000);
      q.progress!(1, 1_000_000, 'encode');
      expect(quiet).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
