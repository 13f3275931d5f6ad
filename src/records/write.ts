/** Building and saving run records: environment facts and atomic JSON files. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../common/atomic.js';
import { RECORD_VERSION, type ResultRecord, type RunRecord } from './run-record.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function harnessVersion(): string {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** The union of the runtime packages the results' models declared (their backends fill it). */
export function runtimesOfResults(results: ResultRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of results) Object.assign(out, r.model?.runtimes);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export async function newRunRecord(argv: string[], results: ResultRecord[], gpu: string | null = null): Promise<RunRecord> {
  const cpu = cpus();
  return {
    recordVersion: RECORD_VERSION,
    startedAt: new Date().toISOString(),
    harness: { name: 'compress-bench', version: harnessVersion(), gitCommit: gitCommit() },
    environment: {
      node: process.version,
      host: hostname(),
      runtimes: runtimesOfResults(results),
      platform: process.platform,
      arch: process.arch,
      cpu: cpu[0]?.model ?? 'unknown',
      cpuCount: cpu.length,
      gpu,
    },
    argv,
    results,
  };
}

/** DIR/<timestamp>-<first input>.json */
export function recordPath(dir: string, startedAt: string, firstInput: string): string {
  const slug = (firstInput.split('/').pop() || 'empty').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  return join(dir, `${startedAt.replace(/[:.]/g, '-')}-${slug}.json`);
}

/** Save atomically: a killed run leaves the previous complete version, never a half file. */
export async function saveRunRecord(record: RunRecord, path: string): Promise<string> {
  // The runtimes are those of the results saved (a resumed or merged run's too).
  const runtimes = { ...record.environment.runtimes, ...runtimesOfResults(record.results) };
  await writeFileAtomic(path, JSON.stringify({ ...record, environment: { ...record.environment, runtimes } }, null, 2) + '\n');
  return path;
}
