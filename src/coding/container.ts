/**
 * The LM archive container. Compact and binary, because it is counted in every coded size:
 *
 *   "CBLM" | version u8 | header | segment streams | CRC-32 of everything before (u32 LE)
 *
 * header (varints are unsigned LEB128, strings are varint length + UTF-8):
 *   original length varint | original CRC-32 u32 | model id str | weights SHA-256 (32 bytes)
 *   | tokenizer SHA-256 (32 bytes) | dtype str | runtime str | coding step str (v2+)
 *   | coder: frequency-total bits u8
 *   | codec: context varint (0 = unbounded), prime varint, start token varint
 *   | primer: tokens varint, CRC-32 of the primer's token ids u32 (conditional coding)
 *   | segment count varint | per segment: tokens varint, stream bytes varint
 *
 * The trailing CRC catches corruption and truncation before any model is loaded; the
 * original's CRC catches a decode that went wrong (another runtime or hardware computing
 * different floats) so it ends in an error, never in silently wrong output.
 */
import { crc32 } from 'node:zlib';

export const MAGIC = 'CBLM';
/** v2 adds the coding step; v1 archives were all made by the JS quantizer and still decode. */
export const FORMAT_VERSION = 2;
const V1_CODING_STEP = 'js-quantizer/1';

export interface ArchiveHeader {
  originalLength: number;
  originalCrc32: number;
  modelId: string;
  weightsSha256: string;
  tokenizerSha256: string;
  dtype: string;
  runtime: string;
  /** Which coding step built the tables (`onnx-graph/1`, `js-quantizer/1`): decode must use the same. */
  codingStep: string;
  frequencyBits: number;
  contextLength: number;
  primeTokens: number;
  startToken: number;
  /** Uncharged context the archive was coded after (0 tokens for plain archives). */
  primerTokens: number;
  primerCrc32: number;
  segments: { tokens: number; bytes: number }[];
}

export class ArchiveError extends Error {}

export function crc32Of(data: Uint8Array): number {
  return crc32(data) >>> 0;
}

export class Writer {
  private parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
  }
  u32(v: number) {
    for (let i = 0; i < 4; i++) this.u8(Math.floor(v / 2 ** (8 * i)));
  }
  varint(v: number) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ArchiveError(`cannot store ${v} as a varint`);
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      this.u8(low | (v > 0 ? 0x80 : 0));
    } while (v > 0);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.u8(x);
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    this.bytes(b);
  }
  hash(hex: string) {
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ArchiveError(`not a SHA-256: ${hex}`);
    this.bytes(Buffer.from(hex, 'hex'));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  u8(): number {
    if (this.pos >= this.b.length) throw new ArchiveError('archive is truncated (header ends early)');
    return this.b[this.pos++];
  }
  u32(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v += this.u8() * 2 ** (8 * i);
    return v;
  }
  varint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      if (shift > 49) throw new ArchiveError('archive header is corrupted (varint too long)');
    }
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new ArchiveError('archive is truncated');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  str(): string {
    return new TextDecoder().decode(this.bytes(this.varint()));
  }
  hash(): string {
    return Buffer.from(this.bytes(32)).toString('hex');
  }
}

export function writeArchive(header: ArchiveHeader, streams: Uint8Array[]): Uint8Array {
  const w = new Writer();
  w.bytes(new TextEncoder().encode(MAGIC));
  w.u8(FORMAT_VERSION);
  w.varint(header.originalLength);
  w.u32(header.originalCrc32);
  w.str(header.modelId);
  w.hash(header.weightsSha256);
  w.hash(header.tokenizerSha256);
  w.str(header.dtype);
  w.str(header.runtime);
  w.str(header.codingStep);
  w.u8(header.frequencyBits);
  w.varint(Number.isFinite(header.contextLength) ? header.contextLength : 0);
  w.varint(header.primeTokens);
  w.varint(header.startToken);
  w.varint(header.primerTokens);
  w.u32(header.primerCrc32);
  w.varint(streams.length);
  streams.forEach((s, i) => {
    w.varint(header.segments[i].tokens);
    w.varint(s.length);
  });
  const head = w.done();
  const bodyLength = streams.reduce((a, s) => a + s.length, 0);
  const out = new Uint8Array(head.length + bodyLength + 4);
  out.set(head);
  let at = head.length;
  for (const s of streams) {
    out.set(s, at);
    at += s.length;
  }
  new DataView(out.buffer).setUint32(at, crc32Of(out.subarray(0, at)), true);
  return out;
}

export function readArchive(archive: Uint8Array): { header: ArchiveHeader; streams: Uint8Array[] } {
  if (archive.length < 5 || new TextDecoder().decode(archive.subarray(0, 4)) !== MAGIC) {
    throw new ArchiveError('not a compress-bench LM archive (bad magic bytes)');
  }
  const version = archive[4];
  if (version !== FORMAT_VERSION && version !== 1) {
    throw new ArchiveError(`archive format version ${version} is not supported (this build reads 1 and ${FORMAT_VERSION})`);
  }
  if (archive.length < 9) throw new ArchiveError('archive is truncated');
  const bodyEnd = archive.length - 4;
  const stored = new DataView(archive.buffer, archive.byteOffset, archive.length).getUint32(bodyEnd, true);
  if (stored !== crc32Of(archive.subarray(0, bodyEnd))) {
    throw new ArchiveError('archive is corrupted or truncated (CRC-32 mismatch)');
  }
  const r = new Reader(archive.subarray(0, bodyEnd));
  r.pos = 5;
  const header: ArchiveHeader = {
    originalLength: r.varint(),
    originalCrc32: r.u32(),
    modelId: r.str(),
    weightsSha256: r.hash(),
    tokenizerSha256: r.hash(),
    dtype: r.str(),
    runtime: r.str(),
    codingStep: version === 1 ? V1_CODING_STEP : r.str(),
    frequencyBits: r.u8(),
    contextLength: r.varint() || Infinity,
    primeTokens: r.varint(),
    startToken: r.varint(),
    primerTokens: r.varint(),
    primerCrc32: r.u32(),
    segments: [],
  };
  const count = r.varint();
  for (let i = 0; i < count; i++) header.segments.push({ tokens: r.varint(), bytes: r.varint() });
  const streams: Uint8Array[] = [];
  for (const s of header.segments) streams.push(r.bytes(s.bytes));
  if (r.pos !== bodyEnd) throw new ArchiveError('archive is corrupted (trailing bytes after the last segment)');
  return { header, streams };
}
