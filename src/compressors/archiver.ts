/**
 * What `compress` keeps on disk: the LM archive, unless the model loses to the input itself,
 * in which case the bytes are stored (9 bytes of overhead), so the archiver never expands a
 * file by more than that. Scoring is unaffected: the main job reports the model's own coded
 * size, which is the measurement; this is only the file a user keeps.
 *
 *   stored archive: "CBST" | version u8 (1) | original bytes | CRC-32 of everything before (u32 LE)
 */
import { ArchiveError, crc32Of } from '../coding/container.js';
import type { ProgressHooks } from './compressor.js';
import type { LmCompressor } from './lm.js';

const STORED_MAGIC = 'CBST';
const STORED_VERSION = 1;
export const STORED_OVERHEAD = 9;

export function storedArchive(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(input.length + STORED_OVERHEAD);
  out.set(new TextEncoder().encode(STORED_MAGIC));
  out[4] = STORED_VERSION;
  out.set(input, 5);
  new DataView(out.buffer).setUint32(5 + input.length, crc32Of(out.subarray(0, 5 + input.length)), true);
  return out;
}

export function isStoredArchive(archive: Uint8Array): boolean {
  return archive.length >= 4 && new TextDecoder().decode(archive.subarray(0, 4)) === STORED_MAGIC;
}

export function readStoredArchive(archive: Uint8Array): Uint8Array {
  if (archive.length < STORED_OVERHEAD) throw new ArchiveError('stored archive is truncated');
  if (archive[4] !== STORED_VERSION) throw new ArchiveError(`stored archive version ${archive[4]} is not supported (this build reads ${STORED_VERSION})`);
  const end = archive.length - 4;
  const crc = new DataView(archive.buffer, archive.byteOffset, archive.length).getUint32(end, true);
  if (crc !== crc32Of(archive.subarray(0, end))) throw new ArchiveError('stored archive is corrupted or truncated (CRC-32 mismatch)');
  return archive.slice(5, end);
}

/** The smaller of the LM archive and the stored input, and which one it is. */
export async function packArchive(lm: LmCompressor, input: Uint8Array, hooks?: ProgressHooks): Promise<{ archive: Uint8Array; kind: 'lm' | 'stored'; lmBytes: number }> {
  const coded = await lm.compress(input, hooks);
  if (coded.length <= input.length + STORED_OVERHEAD) return { archive: coded, kind: 'lm', lmBytes: coded.length };
  return { archive: storedArchive(input), kind: 'stored', lmBytes: coded.length };
}
