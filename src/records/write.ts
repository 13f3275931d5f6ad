/** Building and saving run records: environment facts and atomic JSON files. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
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

async function onnxruntimeVersion(): Promise<string | null> {
  try {
    const ort = await import('onnxruntime-node');
    return ort.env.versions?.node ?? null;
  } catch {
    return null;
  }
}

export async function newRunRecord(argv: string[], results: ResultRecord[], gpu: string | null = null): Promise<RunRecord> {
  const cpu = cpus();
  return {
    recordVersion: RECORD_VERSION,
    startedAt: new Date().toISOString(),
    harness: { name: 'compress-bench', version: harnessVersion(), gitCommit: gitCommit() },
    environment: {
      node: process.version,
      onnxruntime: await onnxruntimeVersion(),
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
  await writeFileAtomic(path, JSON.stringify(record, null, 2) + '\n');
  return path;
}
