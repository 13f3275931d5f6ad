/** SHA-256 of files, streamed so a 1 GB corpus never sits in memory. */
import { stat } from 'node:fs/promises';
import { sha256File } from '../common/hash.js';

export { sha256File };

export class HashMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`SHA-256 mismatch for ${path}: expected ${expected}, got ${actual}`);
    this.name = 'HashMismatchError';
  }
}

export interface VerifiedFile {
  path: string;
  bytes: number;
  sha256: string;
  /** False when there was no expected hash to compare with (the computed one is still returned). */
  verified: boolean;
}

/**
 * Hash `path` and compare with `sha256` (case-insensitive). Throws `HashMismatchError` on a
 * mismatch; with `sha256 === null` only reports the computed hash.
 */
export async function verifyFile(path: string, sha256: string | null): Promise<VerifiedFile> {
  const { size } = await stat(path);
  const actual = await sha256File(path);
  if (sha256 !== null && actual !== sha256.toLowerCase()) throw new HashMismatchError(path, sha256.toLowerCase(), actual);
  return { path, bytes: size, sha256: actual, verified: sha256 !== null };
}
