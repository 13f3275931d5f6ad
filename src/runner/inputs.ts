/** Reading inputs: whole files or slices, with one-line errors for every way a path can be wrong. */
import { open, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { isStdio } from '../common/output.js';
import { sha256, sha256File } from '../common/hash.js';
import type { InputRecord } from '../records/run-record.js';

export class InputError extends Error {}

export interface LoadedInput {
  bytes: Uint8Array;
  record: InputRecord;
}

export interface SliceOptions {
  offset?: number;
  limit?: number | null;
  /** Display name (defaults to the path), e.g. `enwik8:test`. */
  name?: string;
  corpus?: string;
}

/**
 * Read a stream whole: `-` (stdin), /dev/stdin, FIFOs, process substitution. Their size is not
 * what `stat` says (a pipe reports 0), so they are read to the end, never by offset.
 */
async function readStream(path: string): Promise<Uint8Array> {
  // /dev/stdin may be a socket (a parent's spawn pipe), which cannot be opened: read fd 0 itself.
  const stream = isStdio(path) || path === '/dev/stdin' || path === '/dev/fd/0' ? process.stdin : createReadStream(path);
  const parts: Buffer[] = [];
  try {
    for await (const part of stream) parts.push(part as Buffer);
  } catch (e) {
    throw new InputError(`${isStdio(path) ? 'stdin' : path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return new Uint8Array(Buffer.concat(parts));
}

function streamInput(path: string, whole: Uint8Array, opts: SliceOptions): LoadedInput {
  const offset = opts.offset ?? 0;
  if (offset < 0 || (offset > 0 && offset >= whole.length)) {
    throw new InputError(`${path}: --offset ${offset} is beyond its ${whole.length} bytes; accepted values: 0 to ${Math.max(0, whole.length - 1)}`);
  }
  const bytes = whole.slice(offset, offset + Math.min(whole.length - offset, opts.limit ?? Infinity));
  return {
    bytes,
    record: {
      name: opts.name ?? (isStdio(path) ? 'stdin' : path),
      path: isStdio(path) ? '-' : path,
      ...(opts.corpus ? { corpus: opts.corpus } : {}),
      fileSha256: sha256(whole),
      sliceSha256: sha256(bytes),
      fileBytes: whole.length,
      offset,
      limit: opts.limit ?? null,
    },
  };
}

/** Is this input a stream (stdin, a pipe, a character device), to be read to its end? */
export async function isStreamInput(path: string): Promise<boolean> {
  if (isStdio(path)) return true;
  const info = await stat(path).catch(() => null);
  return !!info && !info.isFile() && !info.isDirectory();
}

export async function readInput(path: string, opts: SliceOptions = {}): Promise<LoadedInput> {
  if (await isStreamInput(path)) return streamInput(path, await readStream(path), opts);
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code})`);
  }
  if (info.isDirectory()) throw new InputError(`${path}: is a directory (give files, e.g. ${path}/*)`);
  const offset = opts.offset ?? 0;
  // An offset at the end leaves nothing to code: only an empty file may be read from 0.
  if (offset < 0 || (offset > 0 && offset >= info.size)) {
    throw new InputError(`${path}: --offset ${offset} is beyond its ${info.size} bytes; accepted values: 0 to ${Math.max(0, info.size - 1)}`);
  }
  const length = Math.min(info.size - offset, opts.limit ?? Infinity);
  const bytes = new Uint8Array(length);
  try {
    const fh = await open(path, 'r');
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new InputError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return {
    bytes,
    record: {
      name: opts.name ?? path,
      path,
      ...(opts.corpus ? { corpus: opts.corpus } : {}),
      fileSha256: await sha256File(path),
      sliceSha256: sha256(bytes),
      fileBytes: info.size,
      offset,
      limit: opts.limit ?? null,
    },
  };
}
