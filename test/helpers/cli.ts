/** The built `compress-bench` binary (dist/cli.js, compiled by the globalSetup), run as a user would. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './shared.js';

export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in the repo root, offline (HF_HUB_OFFLINE=1), `env` on top of this process's. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
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
}

export const tmp = (prefix = 'cb-cli-') => mkdtempSync(join(tmpdir(), prefix));
export const oneLine = (s: string) => s.trim().split('\n').length === 1;
