/**
 * Atomic file writes: write a sibling temp file, then rename over the target, so a reader
 * (or a crash) never sees a half-written report, record or corpus file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A temp path next to `path`: same directory, so the final `rename` stays on one filesystem
 * (rename across filesystems is not atomic and fails with EXDEV).
 */
export function tempSiblingPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Write `data` to `path` atomically, creating parent directories; no temp file survives a failure
 * (also one thrown by `data`'s parts midway).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempSiblingPath(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
