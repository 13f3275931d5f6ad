/** Reading inputs: whole files or slices, with one-line errors for every way a path can be wrong. */
import { open, stat } from 'node:fs/promises';
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

export async function readInput(path: string, opts: SliceOptions = {}): Promise<LoadedInput> {
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
