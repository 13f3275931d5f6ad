/**
 * The one way compressors run a command-line tool: argv (no shell), optional bytes on stdin,
 * stdout collected into a Buffer. Used by the xz and bzip2 baselines and by external templates.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

export interface RunCommandOptions {
  /** Prefix for error messages, e.g. `xz baseline`, `external compressor zpaq`. */
  label: string;
  /** Bytes written to the command's stdin (then closed); stdin is empty when absent. */
  input?: Uint8Array;
  /** Whole message of the error thrown when argv[0] cannot be found; a generic one otherwise. */
  notFoundMessage?: string;
  cwd?: string;
}

/** Thrown when the program itself is missing (spawn ENOENT), so callers can tell it from a failed run. */
export class CommandNotFoundError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = 'CommandNotFoundError';
  }
}

const STDERR_TAIL_CHARS = 800;

/** Runs `argv` without a shell; resolves to its stdout when it exits 0, rejects with a clear Error otherwise. */
export function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<Buffer> {
  const [command, ...args] = argv;
  if (command === undefined || command === '') {
    return Promise.reject(new Error(`${options.label}: empty command`));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const fail = (error: Error): void => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        fail(
          new CommandNotFoundError(
            options.notFoundMessage ?? `${options.label}: command \`${command}\` not found`,
            command,
          ),
        );
      } else {
        fail(new Error(`${options.label}: could not run \`${command}\`: ${error.message}`));
      }
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      if (code === 0) {
        settled = true;
        resolve(Buffer.concat(stdout));
        return;
      }
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = stderrTail(Buffer.concat(stderr));
      fail(new Error(`${options.label}: \`${formatArgv(argv)}\` ${how}${tail ? `: ${tail}` : ''}`));
    });
    if (options.input !== undefined && child.stdin) {
      // A tool that exits early (bad flag, missing file) closes its stdin: EPIPE here is
      // reported through the exit code above, not as a second error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** Absolute path of `command` as a spawn without a shell would find it on PATH, or undefined. */
export async function findCommand(command: string): Promise<string | undefined> {
  if (command === '') return undefined;
  const candidates = command.includes('/')
    ? [path.resolve(command)]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function stderrTail(stderr: Buffer): string {
  const text = stderr.toString('utf8').trim();
  return text.length > STDERR_TAIL_CHARS ? `…${text.slice(-STDERR_TAIL_CHARS)}` : text;
}

function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}
