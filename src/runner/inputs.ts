/**
 * Reading inputs: whole files or slices, with one-line errors for every way a path can be wrong.
 *
 * An input is opened, not loaded: its hashes are computed streaming and its bytes are read by
 * range when a unit codes them (file offset reads), so a chunked run of enwik9 holds one chunk,
 * never the file. A stream (stdin, a pipe) has no offsets: it is spooled to a temp file while
 * it is hashed, then read like a file.
 */
import { open, stat, mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { isStdio } from '../common/output.js';
import type { InputRecord } from '../records/run-record.js';

export class InputError extends Error {}

/** An opened input: what the record says of it, its size, and its bytes by range. */
export interface LoadedInput {
  record: InputRecord;
  /** Bytes in the slice. */
  size: number;
  /** Bytes [start, end) of the slice (default: all of it), read from the file at that offset. */
  read(start?: number, end?: number): Promise<Uint8Array>;
}

/** An input's bytes in memory, for what codes it whole (a unit, joint, decompress). */
export interface InputBytes {
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

const readError = (path: string, e: unknown) =>
  new InputError(`${isStdio(path) ? 'stdin' : path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);

/** SHA-256 of bytes [start, end) of a file, streamed. */
async function sha256Range(path: string, start: number, end: number): Promise<string> {
  const hash = createHash('sha256');
  if (end > start) for await (const part of createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20 })) hash.update(part as Buffer);
  return hash.digest('hex');
}

/** Bytes [start, end) of a file by offset reads. */
async function readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(Math.max(0, end - start));
  const fh = await open(path, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await fh.read(bytes, done, bytes.length - done, start + done);
      if (bytesRead === 0) throw new Error(`it shrank since it was opened: ${start + done} of ${end} bytes`);
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return bytes;
}

/** Temp folders of spooled streams, removed when the process ends (however it ends). */
const spools = new Set<string>();
let cleanupHooked = false;
function removeSpools() {
  for (const dir of spools) rmSync(dir, { recursive: true, force: true });
  spools.clear();
}

/**
 * Copies a stream to a temp file, hashing it on the way: `-` (stdin), /dev/stdin, FIFOs, process
 * substitution. Their size is not what `stat` says (a pipe reports 0), so they are read to the end.
 */
async function spoolStream(path: string): Promise<{ file: string; size: number; sha256: string }> {
  if (!cleanupHooked) {
    process.once('exit', removeSpools);
    cleanupHooked = true;
  }
  const dir = await mkdtemp(join(tmpdir(), 'compress-bench-stdin-'));
  spools.add(dir);
  const file = join(dir, 'input');
  // /dev/stdin may be a socket (a parent's spawn pipe), which cannot be opened: read fd 0 itself.
  const source = isStdio(path) || path === '/dev/stdin' || path === '/dev/fd/0' ? process.stdin : createReadStream(path);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(part: Buffer, _enc, done) {
      hash.update(part);
      size += part.length;
      done(null, part);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(file));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    spools.delete(dir);
    throw readError(path, e);
  }
  return { file, size, sha256: hash.digest('hex') };
}

/** Is this input a stream (stdin, a pipe, a character device), to be read to its end? */
export async function isStreamInput(path: string): Promise<boolean> {
  if (isStdio(path)) return true;
  const info = await stat(path).catch(() => null);
  return !!info && !info.isFile() && !info.isDirectory();
}

/** Opens an input (or a slice of it): hashes streamed, bytes left on disk until a unit reads them. */
export async function readInput(path: string, opts: SliceOptions = {}): Promise<LoadedInput> {
  let file = path;
  let fileBytes: number;
  let fileSha256: string | undefined;
  if (await isStreamInput(path)) {
    const spooled = await spoolStream(path);
    ({ file, size: fileBytes, sha256: fileSha256 } = spooled);
  } else {
    let info;
    try {
      info = await stat(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code})`);
    }
    if (info.isDirectory()) throw new InputError(`${path}: is a directory (give files, e.g. ${path}/*)`);
    fileBytes = info.size;
  }
  const offset = opts.offset ?? 0;
  // An offset at the end leaves nothing to code: only an empty file may be read from 0.
  if (offset < 0 || (offset > 0 && offset >= fileBytes)) {
    throw new InputError(`${path}: --offset ${offset} is beyond its ${fileBytes} bytes; accepted values: 0 to ${Math.max(0, fileBytes - 1)}`);
  }
  const size = Math.min(fileBytes - offset, opts.limit ?? Infinity);
  let sliceSha256: string;
  try {
    fileSha256 ??= await sha256Range(file, 0, fileBytes);
    sliceSha256 = offset === 0 && size === fileBytes ? fileSha256 : await sha256Range(file, offset, offset + size);
  } catch (e) {
    throw readError(path, e);
  }
  return {
    size,
    read: async (start = 0, end = size) => {
      if (start < 0 || end > size || start > end) throw new RangeError(`bytes ${start}..${end} are outside ${path}'s ${size}`);
      return readRange(file, offset + start, offset + end).catch((e) => {
        throw readError(path, e);
      });
    },
    record: {
      name: opts.name ?? (isStdio(path) ? 'stdin' : path),
      path: isStdio(path) ? '-' : path,
      ...(opts.corpus ? { corpus: opts.corpus } : {}),
      fileSha256,
      sliceSha256,
      fileBytes,
      offset,
      limit: opts.limit ?? null,
    },
  };
}

/** Opens an input and reads it whole: for what needs every byte at once (joint, an archive to decode). */
export async function readInputBytes(path: string, opts: SliceOptions = {}): Promise<InputBytes> {
  const input = await readInput(path, opts);
  return { bytes: await input.read(), record: input.record };
}
