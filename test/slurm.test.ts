/**
 * The Slurm path for real: a one-node cluster (test/helpers/slurm-cluster.ts: munged, slurmctld,
 * slurmd on 127.0.0.1 in a temporary directory, as root) runs deploy/slurm/submit.sh with the work
 * given by environment variables: three corpus files, order-k and gzip:9 in 32 KB chunks, 3 shards,
 * CPU only. One array task is cancelled while it runs; the merge queued after the array then can
 * never run; the task is resubmitted alone (TASKS=1), resumes its record, the new merge job runs
 * after it, and the merged record equals one process's run of the same work in every size.
 * Skipped, saying why, without the Slurm binaries, root, or the corpus.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HAVE_SNAPPY, ROOT, SNAPPY } from './helpers/shared.js';
import { SlurmCluster, slurmSkipReason } from './helpers/slurm-cluster.js';
import { inShard, unitsOf } from '../src/runner/chunks.js';
import type { RunRecord } from '../src/records/run-record.js';

const CLI = join(ROOT, 'dist', 'cli.js');
const SUBMIT = join(ROOT, 'deploy', 'slurm', 'submit.sh');
const FILES = ['alice29.txt', 'lcet10.txt', 'plrabn12.txt']; // 1.06 MB: 35 chunks of 32 KB, 70 units, 23-24 per shard
const CANCELLED = 1;

const skip = slurmSkipReason() ?? (HAVE_SNAPPY ? null : `the snappy corpus is absent (${SNAPPY})`);
if (skip) console.warn(`SKIP test/slurm.test.ts: ${skip}`);

let t0 = Date.now();
const log = (line: string) => console.log(`[slurm +${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readRecord = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
/** Everything but wall-clock times: sizes, bits, hashes, settings, round trips. */
const sizes = (rs: object[]) =>
  rs.map((r) => {
    const { encodeSeconds: _e, decodeSeconds: _d, seconds: _s, timing: _t, ...rest } = r as Record<string, unknown>;
    return rest;
  });

/** This process's environment without anything a scheduler or an earlier submit set, which would leak into the jobs. */
function cleanEnv(): Record<string, string | undefined> {
  const ours = ['INPUTS', 'MODEL', 'DEVICE', 'BASELINES', 'CHUNK', 'SHARDS', 'RECORDS', 'EXTRA_ARGS', 'MERGED', 'GPUS', 'CPUS', 'MEM', 'TIME_LIMIT', 'TASKS', 'LOGS'];
  const env: Record<string, string | undefined> = { ...process.env, HF_HUB_OFFLINE: '1' };
  for (const k of Object.keys(env)) if (/^(SLURM|SBATCH|SALLOC|SRUN)_/.test(k) || k === 'JOB_COMPLETION_INDEX' || k === 'COMPRESS_BENCH_SHARD_COUNT' || ours.includes(k)) delete env[k];
  return env;
}

interface JobState {
  id: string;
  task: string | undefined;
  state: string;
  reason: string;
  dependency: string;
}

describe.skipIf(skip)('Slurm for real: submit.sh on a one-node cluster, a cancelled task resubmitted, the merge job', () => {
  let dir: string;
  let cluster: SlurmCluster;
  let inputs: string[];
  let reference: Promise<Error | null>;
  const stopReference = new AbortController();
  let work: Record<string, string>;
  let passed = false;

  const jobs = async (id: string): Promise<JobState[]> =>
    (await cluster.scontrol(['show', 'job', id, '-o']))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const field = (k: string) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(line)?.[1] ?? '';
        return { id: field('JobId'), task: field('ArrayTaskId') || undefined, state: field('JobState'), reason: field('Reason'), dependency: field('Dependency') };
      });
  const logs = (name: string) => {
    const f = join(dir, 'records', 'logs', name);
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').slice(-3).join(' | ') : '(no log)';
  };
  /** Polls until `done` holds, or fails naming what it waited for and what it last saw. */
  async function waitFor<T>(what: string, look: () => Promise<T>, done: (v: T) => boolean, seconds = 120): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let seen: T | undefined;
    while (Date.now() < deadline) {
      seen = await look();
      if (done(seen)) return seen;
      await sleep(100);
    }
    throw new Error(`timed out after ${seconds} s waiting for ${what}; last seen ${JSON.stringify(seen)}; ${cluster.logTail()}`);
  }
  const submit = async (extra: Record<string, string> = {}) => {
    const { stdout } = await promisify(execFile)('bash', [SUBMIT], { cwd: dir, env: { ...cleanEnv(), ...cluster.env, ...work, ...extra } });
    const m = /^submitted: shards job (\d+) \(array (\S+) of (\d+)\), merge job (\d+) after it \(afterok\)$/.exec(stdout.trim());
    if (!m) throw new Error(`submit.sh printed ${JSON.stringify(stdout)}`);
    return { line: stdout.trim(), shards: m[1], merge: m[4] };
  };

  beforeAll(async () => {
    t0 = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'cb-slurm-'));
    cluster = new SlurmCluster(join(dir, 'cluster'));
    mkdirSync(cluster.dir);
    mkdirSync(join(dir, 'in'));
    inputs = FILES.map((f) => join(dir, 'in', f));
    FILES.forEach((f, i) => copyFileSync(join(SNAPPY, f), inputs[i]));
    // The jobs find compress-bench on PATH, as on a cluster with it installed; this build is it.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'compress-bench'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
    work = {
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      COMPRESS_BENCH_CACHE: join(dir, 'cache'),
      INPUTS: inputs.join(' '),
      MODEL: 'order-k',
      BASELINES: 'gzip:9',
      CHUNK: '32KB',
      SHARDS: '3',
      GPUS: '0',
      CPUS: '1',
      MEM: '500M',
      TIME_LIMIT: '10',
      EXTRA_ARGS: '--skip-missing', // changes no byte here; checked to reach the command line
      RECORDS: join(dir, 'records'),
      MERGED: join(dir, 'merged.json'),
    };
    // The same work in one process, beside the cluster's (its error, if any, is reported where it is awaited).
    reference = promisify(execFile)(process.execPath, [CLI, '-m', 'order-k', ...inputs, '--baselines', 'gzip:9', '--chunk', '32KB', '--record-dir', join(dir, 'single'), '--quiet'], { env: cleanEnv(), signal: stopReference.signal }).then(
      () => null,
      (e: Error) => e,
    );
    const started = Date.now();
    await cluster.start();
    log(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: node ${cluster.node} (${(await cluster.scontrol(['show', 'node', cluster.node, '-o'])).match(/CPUTot=\d+/)?.[0]}), ${cluster.conf}`);
  });

  afterAll(async () => {
    // Even after a failure: no job, no daemon and not the reference run is left running.
    stopReference.abort();
    if (cluster) log(`stopped ${(await cluster.stop()).join(', ') || 'nothing (no daemon had started)'}; ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    // A failure keeps the directory: the daemons' logs and the job logs are in it.
    if (passed) rmSync(dir, { recursive: true, force: true });
    else if (dir) log(`kept ${dir} (daemon logs in cluster/log, job logs in records/logs)`);
  });

  test('submit, cancel one task mid-run, resubmit it alone, merge: the merged record equals one process in every size', async () => {
    const first = await submit();
    log(`submit: ${first.line}`);
    const queued = await jobs(first.merge);
    expect(queued[0].dependency).toMatch(new RegExp(`^afterok:${first.shards}_\\*`));

    // Cancel task 1 once it runs and has saved at least one chunk of its record.
    const record = join(dir, 'records', `shard-${CANCELLED}-of-3.json`);
    const saved = () => {
      try {
        return readRecord(record);
      } catch {
        return undefined; // not written yet
      }
    };
    const running = await waitFor(`task ${CANCELLED} to save its first chunk`, async () => saved(), (r) => (r?.chunks?.length ?? 0) > 0 || r?.complete === true, 120);
    expect(running!.complete, `task ${CANCELLED} finished before it could be cancelled: give it more work`).toBe(false);
    await cluster.run('scancel', [`${first.shards}_${CANCELLED}`], cleanEnv());
    log(`cancel: scancel ${first.shards}_${CANCELLED} (RUNNING, ${running!.chunks!.length} chunks saved)`);

    const states = await waitFor('the array to end', () => jobs(first.shards), (js) => js.length === 3 && js.every((j) => !['PENDING', 'RUNNING', 'COMPLETING'].includes(j.state)));
    expect(Object.fromEntries(states.map((j) => [j.task, j.state]))).toEqual({ 0: 'COMPLETED', 1: 'CANCELLED', 2: 'COMPLETED' });
    const partial = readRecord(record);
    const mine = unitsOf(partial.work!).filter((u) => inShard(u, { index: CANCELLED, count: 3 })).length;
    expect(partial.argv.join(' ')).toBe(`${inputs.join(' ')} --model order-k --device cpu --offline --baselines gzip:9 --chunk 32KB --shard auto --shard-count 3 --record-dir ${work.RECORDS} --quiet --skip-missing`);
    expect(partial.complete).toBe(false);
    expect(partial.chunks!.length).toBeGreaterThan(0);
    expect(partial.chunks!.length).toBeLessThan(mine);
    // afterok on an array with a cancelled task can never be met: the first merge job waits for ever.
    const stuck = await waitFor('the first merge job to be marked never satisfied', () => jobs(first.merge), ([j]) => j.reason === 'DependencyNeverSatisfied', 60);
    expect(stuck[0].state).toBe('PENDING');
    await cluster.run('scancel', [first.merge], cleanEnv());
    log(`cancel: merge job ${first.merge} ${stuck[0].state} (${stuck[0].reason}) after the cancelled task, scancelled; task ${CANCELLED}: ${partial.chunks!.length} of its ${mine} units saved`);

    const again = await submit({ TASKS: String(CANCELLED) });
    log(`resubmit: TASKS=${CANCELLED} submit.sh → ${again.line}`);
    const merged = await waitFor('the merge job to end', () => jobs(again.merge), ([j]) => !['PENDING', 'RUNNING', 'COMPLETING'].includes(j.state), 180);
    const [rerun] = await jobs(again.shards);
    expect([rerun.task, rerun.state], logs(`shard-${CANCELLED}.out`)).toEqual([String(CANCELLED), 'COMPLETED']);
    expect(merged[0].state, logs('merge.out')).toBe('COMPLETED');
    log(`merge: job ${again.merge} ${merged[0].state} after ${again.shards}_${CANCELLED}; merge.out: ${readFileSync(join(dir, 'records', 'logs', 'merge.out'), 'utf8').split('\n')[0]}`);

    const done = readRecord(record);
    expect(done.complete).toBe(true);
    expect(done.chunks!.slice(0, partial.chunks!.length)).toEqual(partial.chunks); // resumed: reused, not recomputed
    const failed = await reference;
    if (failed) throw failed;
    const single = readRecord(join(dir, 'single', readdirSync(join(dir, 'single'))[0]));
    const rec = readRecord(work.MERGED);
    expect(rec.complete).toBe(true);
    expect(rec.work).toEqual(single.work);
    expect(sizes(rec.results)).toEqual(sizes(single.results));
    expect(sizes(rec.chunks!)).toEqual(sizes(single.chunks!));
    expect(rec.results.map((r) => [r.compressor, r.file.split('/').pop(), r.outputBytes])).toEqual(single.results.map((r) => [r.compressor, r.file.split('/').pop(), r.outputBytes]));
    expect(rec.environment.shards!.map((s) => [s.index, s.host])).toEqual([0, 1, 2].map((i) => [i, hostname()]));
    passed = true;
    log(`merged = single process: ${rec.results.map((r) => `${r.compressor} ${r.file.split('/').pop()} ${r.outputBytes} B`).join(', ')}`);
  });
});
