/**
 * `compress --chunk`: a file coded as independent chunks, each its own verified archive (an LM
 * archive, or stored when the model loses to the bytes), held in one container:
 *
 *   "CBCH" | version u8 (1) | chunk size varint | chunk count varint | per chunk: archive bytes varint
 *   | the chunk archives | SHA-256 of the whole original (32 bytes) | CRC-32 of everything before (u32 LE)
 *
 * Each chunk archive checks its own original (CRC-32); the SHA-256 checks the rebuilt whole.
 */
import { createHash } from 'node:crypto';
import { ArchiveError, crc32Of, readArchive, Reader, Writer, type ArchiveHeader } from '../coding/container.js';
import { isStoredArchive, packArchive, readStoredArchive } from './archiver.js';
import type { ProgressHooks } from './compressor.js';
import type { LmCompressor } from './lm.js';

const MAGIC = 'CBCH';
const VERSION = 1;

export function isChunkedArchive(archive: Uint8Array): boolean {
  return archive.length >= 4 && new TextDecoder().decode(archive.subarray(0, 4)) === MAGIC;
}

export interface PackedChunks {
  archive: Uint8Array;
  chunks: number;
  /** Chunks kept as stored bytes because their LM code was larger. */
  stored: number;
}

export async function packChunked(lm: LmCompressor, input: Uint8Array, chunkSize: number, hooks?: (chunk: number, count: number) => ProgressHooks | undefined): Promise<PackedChunks> {
  const count = Math.max(1, Math.ceil(input.length / chunkSize));
  const archives: Uint8Array[] = [];
  let stored = 0;
  for (let i = 0; i < count; i++) {
    const { archive, kind } = await packArchive(lm, input.subarray(i * chunkSize, (i + 1) * chunkSize), hooks?.(i, count));
    archives.push(archive);
    if (kind === 'stored') stored++;
  }
  const w = new Writer();
  w.bytes(new TextEncoder().encode(MAGIC));
  w.u8(VERSION);
  w.varint(chunkSize);
  w.varint(count);
  for (const a of archives) w.varint(a.length);
  const head = w.done();
  const bodyLength = archives.reduce((s, a) => s + a.length, 0);
  const out = new Uint8Array(head.length + bodyLength + 32 + 4);
  out.set(head);
  let at = head.length;
  for (const a of archives) {
    out.set(a, at);
    at += a.length;
  }
  out.set(createHash('sha256').update(input).digest(), at);
  at += 32;
  new DataView(out.buffer).setUint32(at, crc32Of(out.subarray(0, at)), true);
  return { archive: out, chunks: count, stored };
}

/** The chunk archives and the original's SHA-256, after checking the container's CRC and layout. */
export function readChunked(archive: Uint8Array): { chunkSize: number; archives: Uint8Array[]; sha256: string } {
  if (!isChunkedArchive(archive) || archive.length < 5 + 36) throw new ArchiveError('chunked archive is truncated');
  if (archive[4] !== VERSION) throw new ArchiveError(`chunked archive version ${archive[4]} is not supported (this build reads ${VERSION})`);
  const end = archive.length - 4;
  if (new DataView(archive.buffer, archive.byteOffset, archive.length).getUint32(end, true) !== crc32Of(archive.subarray(0, end))) {
    throw new ArchiveError('chunked archive is corrupted or truncated (CRC-32 mismatch)');
  }
  const r = new Reader(archive.subarray(0, end - 32));
  r.pos = 5;
  const chunkSize = r.varint();
  const count = r.varint();
  if (chunkSize < 1 || count < 1 || count > end) throw new ArchiveError(`chunked archive header is invalid: ${count} chunks of ${chunkSize} bytes`);
  const lengths = Array.from({ length: count }, () => r.varint());
  const archives = lengths.map((n) => r.bytes(n));
  if (r.pos !== end - 32) throw new ArchiveError('chunked archive is corrupted (trailing bytes after the last chunk)');
  return { chunkSize, archives, sha256: Buffer.from(archive.subarray(end - 32, end)).toString('hex') };
}

/** The LM header of the first coded chunk (to find the model), or undefined when every chunk is stored. */
export function firstLmHeader(archives: Uint8Array[]): ArchiveHeader | undefined {
  const a = archives.find((x) => !isStoredArchive(x));
  return a ? readArchive(a).header : undefined;
}

/** Rebuilds the whole: every chunk decoded and checked on its own, then the whole against its SHA-256. */
export async function unpackChunked(archive: Uint8Array, lm: LmCompressor | undefined, hooks?: (chunk: number, count: number) => ProgressHooks | undefined): Promise<Uint8Array> {
  const { chunkSize, archives, sha256 } = readChunked(archive);
  const parts: Uint8Array[] = [];
  for (const [i, a] of archives.entries()) {
    let part: Uint8Array;
    if (isStoredArchive(a)) part = readStoredArchive(a);
    else if (!lm) throw new ArchiveError(`chunk ${i + 1}/${archives.length} needs a model`);
    else part = await lm.decompress(a, hooks?.(i, archives.length));
    // Every chunk but the last is exactly chunkSize bytes: a reordered or swapped chunk fails here or on the SHA-256.
    if (i < archives.length - 1 ? part.length !== chunkSize : part.length > chunkSize) {
      throw new ArchiveError(`chunked archive is corrupt: chunk ${i + 1}/${archives.length} decodes to ${part.length} bytes (chunk size ${chunkSize})`);
    }
    parts.push(part);
  }
  const out = Buffer.concat(parts);
  if (createHash('sha256').update(out).digest('hex') !== sha256) throw new ArchiveError('chunked archive is corrupt: the rebuilt file fails its SHA-256');
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
