/**
 * Chunks, shards and merge, as a cluster runs them: N local processes started with the
 * environment a Kubernetes Indexed Job or a Slurm array sets, then `merge`, compared with one
 * process doing the same chunked work. Also: a killed shard rerun alone, refusals, resume inside
 * an input, the chunked archive, and the shipped templates.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ROOT } from './helpers/shared.js';
import { byteSize, shardFromEnv, shardSpec } from '../src/cli/options.js';
import { inShard, unitsOf } from '../src/runner/chunks.js';
import { mergeRecords } from '../src/runner/merge.js';
import type { RunRecord } from '../src/records/run-record.js';

const CLI = join(ROOT, 'dist', 'cli.js');
/** The scheduler variables of the parent (this may itself run inside a Slurm job) must not leak in. */
const cleanEnv = () => {
  const env: Record<string, string | undefined> = { ...process.env, HF_HUB_OFFLINE: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_') || k === 'JOB_COMPLETION_INDEX' || k === 'COMPRESS_BENCH_SHARD_COUNT') delete env[k];
  return env;
};
const run = async (args: string[], env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};
const tmp = () => mkdtempSync(join(tmpdir(), 'cb-shards-'));
const oneLine = (s: string) => s.trim().split('\n').length === 1;
const readRecord = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
/** Everything but wall-clock times: sizes, bits, hashes, settings, round trips. */
const sizes = (rs: object[]) =>
  rs.map((r) => {
    const { encodeSeconds: _e, decodeSeconds: _d, seconds: _s, timing: _t, ...rest } = r as Record<string, unknown>;
    return rest;
  });

/** Waits until the record at `path` holds at least one chunk, then kills the process. */
async function killAfterFirstChunk(child: ReturnType<typeof spawn>, path: string): Promise<void> {
  const chunks = () => (existsSync(path) ? (readRecord(path).chunks?.length ?? 0) : 0);
  for (let waited = 0; waited < 120_000 && chunks() === 0; waited += 25) await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
}

/** Varied text so order-k has real work (~1 s per 2 KiB chunk here) and every chunk differs. */
const text = (n: number, seed: number) => {
  const words = ['shard', 'chunk', 'merge', 'record', 'model', 'bits', 'byte', 'kubernetes', 'slurm', 'resume', 'the', 'of', 'and'];
  let s = '';
  let x = seed;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    s += words[x % words.length] + (x % 7 === 0 ? '.\n' : ' ');
  }
  return Buffer.from(s.slice(0, n));
};

describe('shards on N local processes, then merge', () => {
  let dir: string;
  let inputs: string[];
  let single: RunRecord;
  // 12,000 + 700 + 0 bytes in 2 KiB chunks: 6 + 1 + 1 chunks × (order-k, gzip) = 16 units.
  const work = () => ['--model', 'order-k', ...inputs, '--baselines', 'gzip:9', '--chunk', '2KiB', '--quiet'];

  beforeAll(async () => {
    dir = tmp();
    inputs = [join(dir, 'a.txt'), join(dir, 'b.txt'), join(dir, 'e.txt')];
    writeFileSync(inputs[0], text(12_000, 1));
    writeFileSync(inputs[1], text(700, 2));
    writeFileSync(inputs[2], '');
    const r = await run([...work(), '--record-dir', join(dir, 'single')]);
    expect(r.code, r.stderr).toBe(0);
    const [file] = readdirSync(join(dir, 'single'));
    single = readRecord(join(dir, 'single', file));
  });

  test('the single-process chunked record: one result per input, the sum of its chunks', () => {
    expect(single.complete).toBe(true);
    expect(single.work?.chunkSize).toBe(2048);
    expect(single.chunks).toHaveLength(16);
    expect(single.results.map((r) => [r.compressor, r.inputBytes, r.chunks?.count])).toEqual([
      ['order-k:3', 12_000, 6], ['gzip:9', 12_000, 6], ['order-k:3', 700, 1], ['gzip:9', 700, 1], ['order-k:3', 0, 1], ['gzip:9', 0, 1],
    ]);
    for (const r of single.results) {
      const parts = single.chunks!.filter((c) => c.compressor === r.compressor && c.file === r.file);
      expect(r.outputBytes).toBe(parts.reduce((a, c) => a + c.outputBytes, 0));
      expect(r.settings.chunk).toBe(2048);
      expect(r.totalBytes).toBe(r.outputBytes + r.decompressor.bytes);
      expect(r.roundtrip).toBe(true);
    }
    const ok = single.results[0];
    expect(ok.idealBits).toBeCloseTo(single.chunks!.filter((c) => c.compressor === 'order-k:3' && c.file === inputs[0]).reduce((a, c) => a + c.idealBits!, 0), 6);
    expect(ok.bitsPerByte).toBeCloseTo((ok.outputBytes * 8) / 12_000, 12);
  });

  test('Kubernetes Indexed Job: 3 pods (JOB_COMPLETION_INDEX) in parallel, merged = single process; report reads it', async () => {
    const shards = join(dir, 'k8s');
    const runs = await Promise.all(
      [0, 1, 2].map((i) => run([...work(), '--shard', 'auto', '--record-dir', shards], { JOB_COMPLETION_INDEX: String(i), COMPRESS_BENCH_SHARD_COUNT: '3' })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(shards).sort()).toEqual(['shard-0-of-3.json', 'shard-1-of-3.json', 'shard-2-of-3.json']);
    const parts = readdirSync(shards).map((f) => readRecord(join(shards, f)));
    expect(parts.map((p) => p.chunks!.length)).toEqual([6, 5, 5]);
    const merged = join(dir, 'k8s-merged.json');
    const m = await run(['merge', ...readdirSync(shards).map((f) => join(shards, f)), '-o', merged, '--quiet']);
    expect(m.code, m.stderr).toBe(0);
    const rec = readRecord(merged);
    expect(sizes(rec.results)).toEqual(sizes(single.results));
    expect(sizes(rec.chunks!)).toEqual(sizes(single.chunks!));
    expect(rec.work).toEqual(single.work);
    expect(rec.complete).toBe(true);
    // Every shard's environment is kept, by index; the top level stays shard 0's.
    expect(rec.environment.shards!.map((s) => [s.index, s.host, s.node])).toEqual([0, 1, 2].map((i) => [i, hostname(), process.version]));
    const { shards: _, ...top } = rec.environment;
    expect(top).toEqual(parts[0].environment);
    const rep = await run(['report', merged, '--out', join(dir, 'lb')]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(join(dir, 'lb.md'), 'utf8')).toContain('order-k:3');
    const gate = await run(['check', merged, '--baseline', join(dir, 'single', readdirSync(join(dir, 'single'))[0])]);
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
  });

  test('Slurm array (SLURM_ARRAY_TASK_ID): a killed task is refused by merge, rerun alone it resumes and completes the set', async () => {
    const shards = join(dir, 'slurm');
    const slurm = (id: number) => ({ SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0' });
    const killed = join(shards, 'shard-1-of-3.json');
    const child = spawn(process.execPath, [CLI, ...work(), '--shard', 'auto', '--record-dir', shards], { cwd: ROOT, env: { ...cleanEnv(), ...slurm(1) } });
    await killAfterFirstChunk(child, killed);
    const others = await Promise.all([0, 2].map((id) => run([...work(), '--shard', 'auto', '--record-dir', shards], slurm(id))));
    for (const r of others) expect(r.code, r.stderr).toBe(0);
    const partial = readRecord(killed);
    expect(partial.complete).toBe(false);
    expect(partial.chunks!.length).toBeGreaterThan(0);
    expect(partial.chunks!.length).toBeLessThan(5);

    const files = () => readdirSync(shards).filter((f) => f.endsWith('.json')).sort().map((f) => join(shards, f));
    const refused = await run(['merge', ...files(), '-o', join(dir, 'slurm-merged.json')]);
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toBe(true);
    expect(refused.stderr).toMatch(/shard-1-of-3\.json \(shard 1\/3\) is incomplete: \d of its 5 units missing, first .* chunk \d\/\d; rerun it with --shard 1\/3/);

    // Resubmitted alone (`sbatch --array=1`): Slurm now says the array has 1 task, so the count is given.
    const rerun = await run([...work(), '--shard', 'auto', '--shard-count', '3', '--record-dir', shards], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '1', SLURM_ARRAY_TASK_MIN: '1' });
    expect(rerun.code, rerun.stderr).toBe(0);
    const done = readRecord(killed);
    expect(done.complete).toBe(true);
    expect(done.chunks![0]).toEqual(partial.chunks![0]); // reused from the killed run, not recomputed
    const m = await run(['merge', ...files(), '-o', join(dir, 'slurm-merged.json'), '--quiet']);
    expect(m.code, m.stderr).toBe(0);
    const rec = readRecord(join(dir, 'slurm-merged.json'));
    expect(sizes(rec.results)).toEqual(sizes(single.results));
    expect(sizes(rec.chunks!)).toEqual(sizes(single.chunks!));
  });

  test("merge keeps every shard's environment: other hosts, a GPU, runtimes from its chunks, an older record's shape", () => {
    const shards = join(dir, 'k8s');
    const parts = [0, 1, 2].map((i) => ({ path: `shard-${i}`, record: readRecord(join(shards, `shard-${i}-of-3.json`)) }));
    const [, b, c] = parts.map((p) => p.record);
    Object.assign(b.environment, { host: 'node-b', gpu: 'NVIDIA H100 80GB HBM3', cpuCount: 32 });
    // A shard rarely holds a whole input, so its runtimes can only come from its chunks.
    b.chunks![0].model = { id: 'm', weightsSha256: 'w', tokenizerSha256: 't', dtype: 'fp32', device: 'cuda', weightsBytes: 1, runtimes: { 'onnxruntime-node': '1.30.0' } };
    // A record from before `host` and `runtimes`: no host, onnxruntime-node's version alone.
    delete c.environment.host;
    delete c.environment.runtimes;
    c.environment.onnxruntime = '1.22.0';
    const merged = mergeRecords([parts[2], parts[0], parts[1]], ['merge']);
    expect(merged.environment.shards!.map((s) => [s.index, s.host, s.gpu, s.cpuCount, s.runtimes])).toEqual([
      [0, hostname(), null, parts[0].record.environment.cpuCount, {}],
      [1, 'node-b', 'NVIDIA H100 80GB HBM3', 32, { 'onnxruntime-node': '1.30.0' }],
      [2, undefined, null, parts[0].record.environment.cpuCount, { 'onnxruntime-node': '1.22.0' }],
    ]);
    expect(merged.environment.host).toBe(hostname()); // shard 0's, whichever part came first
    expect(merged.environment.gpu).toBeNull();
  });

  test('merge refuses a missing or duplicated shard, other work, and a record that is not a shard, in one line (exit 2)', async () => {
    const shards = join(dir, 'k8s');
    const f = (i: number) => join(shards, `shard-${i}-of-3.json`);
    const missing = await run(['merge', f(0), f(2), '-o', join(dir, 'x.json')]);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toBe(true);
    expect(missing.stderr).toContain('merge: missing shard 1/3 (given 2 of 3)');
    const twice = await run(['merge', f(0), f(1), f(1), f(2), '-o', join(dir, 'x.json')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/merge: shard 1\/3 given 2 times \(.*shard-1-of-3\.json, .*shard-1-of-3\.json\)/);
    const other = join(dir, 'other');
    const o = await run(['--model', 'order-k', ...inputs, '--baselines', 'gzip:9', '--chunk', '4KiB', '--quiet', '--shard', '1/3', '--record-dir', other]);
    expect(o.code, o.stderr).toBe(0);
    const mixed = await run(['merge', f(0), join(other, 'shard-1-of-3.json'), f(2), '-o', join(dir, 'x.json')]);
    expect(mixed.code).toBe(2);
    expect(oneLine(mixed.stderr)).toBe(true);
    expect(mixed.stderr).toMatch(/other\/shard-1-of-3\.json is of other work than .*shard-0-of-3\.json \(chunk size: 2048 → 4096\)/);
    const notShard = await run(['merge', join(dir, 'single', readdirSync(join(dir, 'single'))[0]), '-o', join(dir, 'x.json')]);
    expect(notShard.code).toBe(2);
    expect(notShard.stderr).toMatch(/is not a shard record \(made without --shard\)/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });
});

describe('resume inside a long input', () => {
  test('a killed chunked run resumes from its last finished chunk; other chunking is refused', async () => {
    const dir = tmp();
    const file = join(dir, 'long.txt');
    writeFileSync(file, text(16_000, 3));
    const runs = join(dir, 'runs');
    const args = ['--model', 'order-k', file, '--baselines', 'none', '--chunk', '2KiB', '--quiet'];
    const child = spawn(process.execPath, [CLI, ...args, '--record-dir', runs], { cwd: ROOT, env: cleanEnv() });
    const recordFile = () => (existsSync(runs) ? readdirSync(runs).find((f) => f.endsWith('.json')) : undefined);
    for (let waited = 0; waited < 60_000 && !recordFile(); waited += 25) await new Promise((r) => setTimeout(r, 25));
    const path = join(runs, recordFile()!);
    await killAfterFirstChunk(child, path);
    const partial = readRecord(path);
    expect(partial.complete).toBe(false);
    expect(partial.chunks!.length).toBeGreaterThan(0);
    expect(partial.chunks!.length).toBeLessThan(8);
    expect(partial.results).toHaveLength(0); // no sum until every chunk is in

    const r = await run([...args, '--resume', path]);
    expect(r.code, r.stderr).toBe(0);
    const full = readRecord(path);
    expect(full.complete).toBe(true);
    expect(full.chunks!.map((c) => c.chunk.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(full.chunks!.slice(0, partial.chunks!.length)).toEqual(partial.chunks); // reused, not recomputed
    expect(full.results).toHaveLength(1);
    expect(full.results[0]).toMatchObject({ inputBytes: 16_000, roundtrip: true, chunks: { size: 2048, count: 8 } });

    const other = await run(['--model', 'order-k', file, '--baselines', 'none', '--chunk', '4KiB', '--quiet', '--resume', path]);
    expect(other.code).toBe(2);
    expect(oneLine(other.stderr)).toBe(true);
    expect(other.stderr).toContain(`--resume ${path}: the record was made for other work (chunk size: 2048 → 4096)`);
  });
});

describe('compress --chunk and decompress', () => {
  test('round trips byte for byte: several chunks, exact multiples, smaller than one chunk, empty (order-k)', async () => {
    const dir = tmp();
    const cases: [string, Buffer][] = [
      ['multi', text(5000, 4)],
      ['exact', text(3 * 1024, 5)],
      ['small', text(100, 6)],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [name, bytes] of cases) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      const c = await run(['compress', '-m', 'order-k', f, '--chunk', '1KiB', '-o', `${f}.cb`]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toContain(`${Math.max(1, Math.ceil(bytes.length / 1024))} chunk`);
      expect(readFileSync(`${f}.cb`).subarray(0, 4).toString()).toBe('CBCH');
      const d = await run(['decompress', `${f}.cb`, '-o', `${f}.out`, '--quiet']);
      expect(d.code, d.stderr).toBe(0);
      expect(readFileSync(`${f}.out`).equals(bytes), name).toBe(true);
    }
    // A flipped byte is caught before any decoding.
    const archive = readFileSync(join(dir, 'multi.cb'));
    archive[archive.length >> 1] ^= 1;
    writeFileSync(join(dir, 'bad.cb'), archive);
    const bad = await run(['decompress', join(dir, 'bad.cb'), '-o', join(dir, 'bad.out')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('compress-bench: chunked archive is corrupted or truncated (CRC-32 mismatch)');
  });

  test('the embedded model: 3 chunks round-trip, each an LM archive', async () => {
    const dir = tmp();
    const f = join(dir, 'gpl.txt');
    writeFileSync(f, readFileSync(join(ROOT, 'corpora/samples/gpl-3.0.txt')).subarray(0, 2500));
    const c = await run(['compress', f, '--chunk', '1000', '-o', `${f}.cb`]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/2500 → \d+ bytes, [\d.]+ bits\/byte, 3 chunks of ≤ 1000 bytes, model embedded\n$/); // none stored
    const d = await run(['decompress', `${f}.cb`, '-o', `${f}.out`, '--quiet']);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(`${f}.out`).equals(readFileSync(f))).toBe(true);
  });

  test('a chunked run keeps what a plain run derives: seen, LM/zlib, the generalization gap and --series', async () => {
    const dir = tmp();
    const args = ['corpora/samples/gpl-3.0.txt', 'npm:sotu', '--limit', '3000', '--baselines', 'none', '--series', 'step', '--quiet'];
    const chunked = await run([...args, '--chunk', '1000', '--record-dir', join(dir, 'chunked')]);
    expect(chunked.code, chunked.stderr).toBe(0);
    expect(chunked.stdout).toMatch(/series along training step/);
    const record = readRecord(join(dir, 'chunked', readdirSync(join(dir, 'chunked'))[0]));
    expect(record.series).toBe('step');
    expect(record.results.map((r) => r.seen)).toEqual([false, true]);
    for (const r of record.results) expect(r.lmZlibRatio).toBeGreaterThan(0);
    expect(record.generalization).toHaveLength(1);
    expect(record.generalization![0].gap).not.toBeNull();
  });
});

describe('options', () => {
  test('--chunk sizes and --shard values, parsed strictly', () => {
    expect(byteSize('chunk')('8MB')).toBe(8_000_000);
    expect(byteSize('chunk')('64KiB')).toBe(65_536);
    expect(byteSize('chunk')('1gib')).toBe(2 ** 30);
    expect(byteSize('chunk')('4096')).toBe(4096);
    for (const bad of ['0', '8 M', '1.5MB', '-1', 'MB', '']) expect(() => byteSize('chunk')(bad), bad).toThrow(/^--chunk: .* is not accepted; accepted values: a whole number of bytes ≥ 1/);
    expect(shardSpec('2/8')).toEqual({ index: 2, count: 8 });
    expect(shardSpec('auto')).toBe('auto');
    for (const bad of ['8/8', '1/0', '1', '-1/4', 'a/b']) expect(() => shardSpec(bad), bad).toThrow(/^--shard: .* accepted values: I\/N with 0 ≤ I < N/);
  });

  test('--shard auto reads the variables Kubernetes and Slurm set', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3', COMPRESS_BENCH_SHARD_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 4)).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3' })).toThrow(/give --shard-count N/);
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 5, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1', SLURM_ARRAY_TASK_MIN: '3' }, 8)).toEqual({ index: 3, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1', COMPRESS_BENCH_SHARD_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1' })).toThrow(/shard 3 of 1 is out of range .*--array=0-0, and give --shard-count N/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '8', COMPRESS_BENCH_SHARD_COUNT: '8' })).toThrow(/out of range/);
    expect(() => shardFromEnv({})).toThrow(/neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
  });

  test('every unit falls in exactly one shard, for any number of shards', () => {
    const work = {
      chunkSize: 10,
      inputs: [{ name: 'a', sliceSha256: 'x', bytes: 95, chunks: 10 }, { name: 'b', sliceSha256: 'y', bytes: 0, chunks: 1 }],
      compressors: [{ name: 'p', settings: {} }, { name: 'q', settings: {} }, { name: 'r', settings: {} }],
    };
    const units = unitsOf(work);
    expect(units).toHaveLength(33);
    for (const count of [1, 2, 5, 33, 40]) {
      for (const u of units) expect(Array.from({ length: count }, (_, index) => inShard(u, { index, count })).filter(Boolean)).toHaveLength(1);
    }
  });

  test('bad uses of the new options: one line, exit 2', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--model', 'order-k', 'README.md', '--chunk', '0'], {}, /--chunk: "0" is not accepted/],
      [['--model', 'order-k', 'README.md', '--shard', '4/4'], {}, /--shard: "4\/4" is not accepted/],
      [['--model', 'order-k', 'README.md', '--shard', 'auto'], {}, /--shard auto: neither JOB_COMPLETION_INDEX/],
      [['--model', 'order-k', 'README.md', '--shard', 'auto'], { JOB_COMPLETION_INDEX: '0' }, /give --shard-count N/],
      [['--model', 'order-k', 'README.md', '--shard', '0/2', '--shard-count', '2'], {}, /--shard-count goes with --shard auto/],
      [['--model', 'order-k', 'README.md', '--shard', '0/2', '--no-record'], {}, /cannot be combined with --no-record/],
      [['merge', 'nope.json', '-o', '/tmp/never.json'], {}, /merge: nope\.json: no such file/],
      [['merge', 'README.md'], {}, /merge needs -o\/--output FILE/],
    ];
    for (const [args, env, message] of cases) {
      const r = await run(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('cluster templates', () => {
  const deploy = join(ROOT, 'deploy');
  test('Kubernetes: valid batch/v1 Jobs (API schema); Indexed, shard from JOB_COMPLETION_INDEX, count and merge glob agree', () => {
    const shards = parseYaml(readFileSync(join(deploy, 'kubernetes/shards-job.yaml'), 'utf8'));
    const merge = parseYaml(readFileSync(join(deploy, 'kubernetes/merge-job.yaml'), 'utf8'));
    // kubernetes-models checks types, enums and required fields against the Kubernetes OpenAPI schema.
    expect(() => new Job(shards).validate()).not.toThrow();
    expect(() => new Job(merge).validate()).not.toThrow();
    expect(() => new Job({ ...shards, spec: { ...shards.spec, completions: 'eight' } }).validate()).toThrow(/completions must be integer/);
    const spec = shards.spec;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.parallelism).toBeLessThanOrEqual(spec.completions);
    const cmd: string[] = spec.template.spec.containers[0].command;
    expect(cmd[0]).toBe('compress-bench');
    expect(cmd[cmd.indexOf('--shard') + 1]).toBe('auto');
    expect(Number(cmd[cmd.indexOf('--shard-count') + 1])).toBe(spec.completions);
    expect(byteSize('chunk')(cmd[cmd.indexOf('--chunk') + 1])).toBeGreaterThan(0);
    const recordDir = cmd[cmd.indexOf('--record-dir') + 1];
    const mounts = (job: typeof shards) => job.spec.template.spec.containers[0].volumeMounts as { name: string; mountPath: string }[];
    const claim = (job: typeof shards, mount: string) => {
      const m = mounts(job).find((v) => v.mountPath === mount)!;
      return job.spec.template.spec.volumes.find((v: { name: string }) => v.name === m.name).persistentVolumeClaim.claimName;
    };
    expect(claim(merge, recordDir)).toBe(claim(shards, recordDir)); // both Jobs see the same records
    const mergeCmd = merge.spec.template.spec.containers[0].command.join(' ');
    expect(mergeCmd).toContain(`compress-bench merge ${recordDir}/shard-*-of-${spec.completions}.json -o `);
  });

  test('Slurm: the templates read one set of variables with the same defaults; submit.sh turns them into sbatch options', async () => {
    const slurm = join(deploy, 'slurm');
    const [shards, merge, submit] = ['shards.sbatch', 'merge.sbatch', 'submit.sh'].map((f) => readFileSync(join(slurm, f), 'utf8'));
    const byDefault = (script: string, name: string) => new RegExp(`^(?:export )?${name}=\\$\\{${name}:-([^}]*)\\}$`, 'm').exec(script)?.[1];
    for (const script of [shards, merge, submit]) {
      expect(byDefault(script, 'SHARDS')).toBe('8');
      expect(byDefault(script, 'RECORDS')).toBe('$PWD/records');
    }
    // The documented example: enwik9 with GPT-2 small on a GPU, 8 MB chunks, 8 shards.
    expect(['INPUTS', 'MODEL', 'DEVICE', 'CHUNK', 'BASELINES'].map((v) => byDefault(shards, v))).toEqual(['enwik9', 'gpt2', 'cuda', '8MB', 'none']);
    expect(/^#SBATCH --array=0-7$/m.test(shards)).toBe(true); // a bare `sbatch shards.sbatch`: the same 8
    expect(shards).not.toMatch(/#SBATCH --gres/); // submit.sh asks for GPUs (GPUS), so a CPU run can drop them
    expect(shards).toMatch(/exec compress-bench \$INPUTS --model "\$MODEL" --device "\$DEVICE" .*\\\n\s+.*--shard auto --shard-count "\$SHARDS" --record-dir "\$RECORDS" .*\$EXTRA_ARGS$/m);
    expect(merge).toContain('exec compress-bench merge "$RECORDS"/shard-*-of-"$SHARDS".json -o "$MERGED"');
    for (const f of ['shards.sbatch', 'merge.sbatch', 'submit.sh']) {
      await expect(promisify(execFile)('bash', ['-n', join(slurm, f)])).resolves.toBeDefined();
    }

    // submit.sh against a stand-in sbatch that logs each call and answers with a job id
    // (the first as a multi-cluster site does, "id;cluster"); test/slurm.test.ts submits for real.
    const dir = tmp();
    writeFileSync(join(dir, 'sbatch'), `#!/bin/bash\nn=$(( $(cat "${dir}/n" 2>/dev/null || echo 0) + 1 )); echo $n > "${dir}/n"\n{ echo "call DEVICE=$DEVICE SHARDS=$SHARDS"; printf '%s\\n' "$@"; } >> "${dir}/calls"\n[ $n = 1 ] && echo "$((100 + n));site" || echo $((100 + n))\n`, { mode: 0o755 });
    const submitWith = async (env: Record<string, string>) => {
      for (const f of ['n', 'calls']) if (existsSync(join(dir, f))) writeFileSync(join(dir, f), '');
      const { stdout } = await promisify(execFile)('bash', [join(slurm, 'submit.sh')], { cwd: dir, env: { PATH: `${dir}:${process.env.PATH}`, ...env } });
      const calls = readFileSync(join(dir, 'calls'), 'utf8').split('call ').filter(Boolean).map((c) => c.trim().split('\n'));
      return { stdout: stdout.trim(), calls };
    };
    const example = await submitWith({});
    expect(example.calls[0]).toEqual(['DEVICE=cuda SHARDS=8', '--parsable', '--export=ALL', '--array=0-7', `--output=${dir}/records/logs/shard-%a.out`, '--gres=gpu:1', join(slurm, 'shards.sbatch')]);
    expect(example.calls[1]).toEqual(['DEVICE=cuda SHARDS=8', '--parsable', '--export=ALL', '--dependency=afterok:101', `--output=${dir}/records/logs/merge.out`, join(slurm, 'merge.sbatch')]);
    expect(example.stdout).toBe('submitted: shards job 101 (array 0-7 of 8), merge job 102 after it (afterok)');
    const cpu = await submitWith({ SHARDS: '3', GPUS: '0', CPUS: '1', MEM: '500M', TIME_LIMIT: '10', RECORDS: join(dir, 'r') });
    expect(cpu.calls[0]).toEqual(['DEVICE=cpu SHARDS=3', '--parsable', '--export=ALL', '--array=0-2', `--output=${dir}/r/logs/shard-%a.out`, '--cpus-per-task=1', '--mem=500M', '--time=10', join(slurm, 'shards.sbatch')]);
    const again = await submitWith({ SHARDS: '3', GPUS: '0', TASKS: '1' });
    expect(again.calls[0]).toContain('--array=1');
    expect(again.calls[1]).toContain('--dependency=afterok:101');
  });
});
