/**
 * Where a command's output goes, by the conventions gzip/zstd/xz users know:
 * `-` is stdout; an existing file is kept unless `force`; the output is never one of the inputs
 * (same inode), even with `force`; a symlink is followed (the link stays, its target is written);
 * a device or FIFO is written in place; only a regular file (or an absent path) is replaced by
 * temp-file-and-rename, so a crash never leaves half an output. Missing folders are refused,
 * not created: a typo in a path should not grow a directory tree.
 */
import { lstat, readlink, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Stats } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

/**
 * yargs drops a bare `-` positional, so the CLI hands `-` on as this token instead; every reader
 * and writer treats both as stdin/stdout.
 */
export const STDIO_ARG = '\u0000-';
export const isStdio = (path: string): boolean => path === '-' || path === STDIO_ARG;

/** A refused output: bad usage, exit 2, nothing written. */
export class OutputError extends Error {}

export interface OutputOptions {
  /** Overwrite an existing regular file (`-f/--force`). */
  force?: boolean;
  /** Paths read by this command: writing over one of them is refused even with `force`. */
  inputs?: string[];
}

async function statOrNull(path: string, follow: boolean): Promise<Stats | null> {
  try {
    return follow ? await stat(path) : await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OutputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** Where an output goes: stdout, a device/FIFO written in place, or a regular file replaced atomically. */
export type OutputTarget = { kind: 'stdout' } | { kind: 'in-place'; path: string } | { kind: 'file'; path: string };

/**
 * The checks of `writeOutput` without writing: a command that works for hours calls it first,
 * so a refused output is refused before the work, not after it.
 */
export async function resolveOutput(path: string, opts: OutputOptions = {}): Promise<OutputTarget> {
  if (isStdio(path)) return { kind: 'stdout' };
  const link = await statOrNull(path, false);
  // A symlink is followed: its target is what gets written (a dangling link's target is created).
  const target = link?.isSymbolicLink() ? await realpath(path).catch(async () => resolve(dirname(path), await readlink(path))) : path;
  const info = link?.isSymbolicLink() ? await statOrNull(path, true) : link;
  if (info) {
    for (const input of opts.inputs ?? []) {
      if (isStdio(input)) continue;
      const i = await statOrNull(input, true);
      if (i && i.ino === info.ino && i.dev === info.dev) throw new OutputError(`${path}: is the input ${input}; refusing to write over it (even with --force)`);
    }
    if (info.isDirectory()) throw new OutputError(`${path}: is a directory; give a file name`);
    // A device, FIFO or socket: written in place, never renamed over.
    if (!info.isFile()) return { kind: 'in-place', path };
    if (!opts.force) throw new OutputError(`${path}: already exists; not overwritten (use -f/--force to overwrite)`);
  } else {
    const dir = await statOrNull(dirname(target), true);
    if (!dir?.isDirectory()) throw new OutputError(`${path}: folder ${dirname(target)} does not exist (it is not created)`);
  }
  return { kind: 'file', path: target };
}

/**
 * Write `data` to `path` under the rules above; `-` writes to stdout. `data` may come in parts
 * (a chunked archive, a decoded chunked file), written as they come: nothing holds the whole.
 */
export async function writeOutput(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: OutputOptions = {}): Promise<void> {
  const to = await resolveOutput(path, opts);
  if (to.kind === 'stdout') {
    const parts = data instanceof Uint8Array ? [data] : data;
    for await (const part of parts) await new Promise<void>((resolve, reject) => process.stdout.write(part, (e) => (e ? reject(e) : resolve())));
  } else if (to.kind === 'in-place') {
    await writeFile(to.path, data);
  } else {
    await writeFileAtomic(to.path, data);
  }
}
