/**
 * `compress --chunk`: a file coded as independent chunks, each its own verified archive (an LM
 * archive, or stored when the model loses to the bytes), held in one container:
 *
 *   "CBCH" | version u8 (1) | chunk size varint | chunk count varint | per chunk: archive bytes varint
 *   | the chunk archives | SHA-256 of the whole original (32 bytes) | CRC-32 of everything before (u32 LE)
 *
 * Each chunk archive checks its own original (CRC-32); the SHA-256 checks the rebuilt whole.
 *
 * Packing streams: a chunk is read at its offset, coded, and its archive saved in a journal
 * folder (atomically, one file per chunk) before the next is read, so memory holds one chunk and
 * an interrupted run resumes from the chunks on disk. The journal names the input (SHA-256,
 * size), the chunk size, the model identity and the codec settings; a resume that differs in any
 * of them is refused, naming it. The container is written from the journal at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ArchiveError, crc32Of, readArchive, Reader, Writer, type ArchiveHeader } from '../coding/container.js';
import { writeFileAtomic } from '../common/atomic.js';
import { isStoredArchive, packArchive, readStoredArchive } from './archiver.js';
import type { ProgressHooks } from './compressor.js';
import type { LmCompressor } from './lm.js';

const MAGIC = 'CBCH';
const VERSION = 1;
const JOURNAL_FILE = 'journal.json';
const JOURNAL_FORMAT = 'compress-bench chunk journal 1';

export function isChunkedArchive(archive: Uint8Array): boolean {
  return archive.length >= 4 && new TextDecoder().decode(archive.subarray(0, 4)) === MAGIC;
}

/** What packing reads: the input's size, its SHA-256 and its bytes by range (runner's LoadedInput fits). */
export interface ChunkSource {
  size: number;
  sha256: string;
  read(start: number, end: number): Promise<Uint8Array>;
}

/** A journal refuses to resume other work: bad usage, exit 2, nothing lost. */
export class JournalMismatchError extends Error {}

interface Journal {
  format: string;
  input: { sha256: string; bytes: number };
  chunkSize: number;
  chunks: number;
  model: { id: string; weightsSha256?: string; tokenizerSha256?: string; dtype: string };
  settings: Record<string, unknown>;
}

export interface PackedChunks {
  chunks: number;
  /** Chunks kept as stored bytes because their LM code was larger. */
  stored: number;
  /** Chunks found finished in the journal and not coded again. */
  reused: number;
  /** Container bytes, once written by `chunkedContainer`. */
  bytes: number;
}

const chunkName = (i: number) => `chunk-${String(i).padStart(6, '0')}.cbz`;
const chunkFile = (dir: string, i: number) => join(dir, chunkName(i));

function journalOf(lm: LmCompressor, source: ChunkSource, chunkSize: number): Journal {
  const id = lm.modelIdentity;
  return {
    format: JOURNAL_FORMAT,
    input: { sha256: source.sha256, bytes: source.size },
    chunkSize,
    chunks: Math.max(1, Math.ceil(source.size / chunkSize)),
    model: { id: id.id, weightsSha256: id.weightsSha256, tokenizerSha256: id.tokenizerSha256, dtype: id.dtype },
    settings: lm.settings,
  };
}

/** The first way two journals differ, as `what: then → now`, or '' when they describe the same work. */
function journalDiff(then: Journal, now: Journal): string {
  const fields: [string, unknown, unknown][] = [
    ['input', `${then.input.bytes} bytes, sha256 ${then.input.sha256?.slice(0, 12)}…`, `${now.input.bytes} bytes, sha256 ${now.input.sha256.slice(0, 12)}…`],
    ['chunk size', then.chunkSize, now.chunkSize],
    ['model', then.model?.id, now.model.id],
    ['model weights sha256', then.model?.weightsSha256, now.model.weightsSha256],
    ['tokenizer sha256', then.model?.tokenizerSha256, now.model.tokenizerSha256],
    ['dtype', then.model?.dtype, now.model.dtype],
    ...[...new Set([...Object.keys(then.settings ?? {}), ...Object.keys(now.settings)])].map(
      (k): [string, unknown, unknown] => [`setting ${k}`, JSON.stringify(then.settings?.[k]), JSON.stringify(now.settings[k])],
    ),
  ];
  const d = fields.find(([, a, b]) => a !== b);
  return d ? `${d[0]}: ${d[1]} → ${d[2]}` : '';
}

/** A file's first 4 bytes (an archive's magic), without reading the rest. */
async function fileHead(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Finished chunks in a journal folder: the files written whole (atomically) so far. */
async function finishedChunks(dir: string, count: number): Promise<Set<number>> {
  const names = new Set(await readdir(dir));
  const done = new Set<number>();
  for (let i = 0; i < count; i++) if (names.has(chunkName(i))) done.add(i);
  return done;
}

/**
 * Codes every chunk not yet in the journal `dir` (created; resumed only when `resume`), one chunk
 * in memory at a time. The folder is left in place: `chunkedContainer` reads it, the caller removes it.
 */
export async function packChunked(
  lm: LmCompressor,
  source: ChunkSource,
  chunkSize: number,
  dir: string,
  opts: { resume: boolean; label: string; hooks?: (chunk: number, count: number) => ProgressHooks | undefined },
): Promise<Omit<PackedChunks, 'bytes'>> {
  const now = journalOf(lm, source, chunkSize);
  const path = join(dir, JOURNAL_FILE);
  if (existsSync(path)) {
    if (!opts.resume) throw new JournalMismatchError(`${opts.label}: ${dir} holds the chunks of an interrupted run; add --resume to continue it, or remove the folder to start over`);
    let then: Journal;
    try {
      then = JSON.parse(await readFile(path, 'utf8')) as Journal;
    } catch {
      throw new JournalMismatchError(`${opts.label}: ${path} is not a chunk journal; remove ${dir} to start over`);
    }
    if (then.format !== JOURNAL_FORMAT) throw new JournalMismatchError(`${opts.label}: ${path} is a journal of another format (${then.format}); remove ${dir} to start over`);
    const diff = journalDiff(then, now);
    if (diff) throw new JournalMismatchError(`${opts.label}: --resume ${dir} was made for other work (${diff}); give the same input and options, or remove the folder to start over`);
  } else {
    if (opts.resume && !existsSync(dir)) throw new JournalMismatchError(`${opts.label}: --resume: no interrupted run to continue (${dir} does not exist)`);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path, JSON.stringify(now, null, 2) + '\n');
  }
  const done = await finishedChunks(dir, now.chunks);
  let stored = 0;
  for (let i = 0; i < now.chunks; i++) {
    if (done.has(i)) {
      if (isStoredArchive(await fileHead(chunkFile(dir, i)))) stored++;
      continue;
    }
    const bytes = await source.read(i * chunkSize, Math.min(source.size, (i + 1) * chunkSize));
    const { archive, kind } = await packArchive(lm, bytes, opts.hooks?.(i, now.chunks));
    await writeFileAtomic(chunkFile(dir, i), archive);
    if (kind === 'stored') stored++;
  }
  return { chunks: now.chunks, stored, reused: done.size };
}

/**
 * The container, as parts to write in order, from a finished journal: header, each chunk
 * archive read from disk in turn, the original's SHA-256, and a CRC-32 kept running over all.
 */
export async function* chunkedContainer(dir: string): AsyncGenerator<Uint8Array> {
  const journal = JSON.parse(await readFile(join(dir, JOURNAL_FILE), 'utf8')) as Journal;
  const sizes: number[] = [];
  for (let i = 0; i < journal.chunks; i++) sizes.push((await stat(chunkFile(dir, i))).size);
  const w = new Writer();
  w.bytes(new TextEncoder().encode(MAGIC));
  w.u8(VERSION);
  w.varint(journal.chunkSize);
  w.varint(journal.chunks);
  for (const n of sizes) w.varint(n);
  let crc = 0;
  const emit = (part: Uint8Array) => {
    crc = crc32(part, crc);
    return part;
  };
  yield emit(w.done());
  for (let i = 0; i < journal.chunks; i++) yield emit(new Uint8Array(await readFile(chunkFile(dir, i))));
  yield emit(new Uint8Array(Buffer.from(journal.input.sha256, 'hex')));
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc >>> 0, true);
  yield tail;
}

/** Removes a journal folder once its container is written. */
export async function removeJournal(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
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

/**
 * Rebuilds the whole as parts in order, one chunk decoded at a time, each checked on its own;
 * the whole is checked against its SHA-256 after the last part, so a writer that renames its
 * output into place only on success never shows a wrong file.
 */
export async function* unpackChunked(archive: Uint8Array, lm: LmCompressor | undefined, hooks?: (chunk: number, count: number) => ProgressHooks | undefined): AsyncGenerator<Uint8Array> {
  const { chunkSize, archives, sha256 } = readChunked(archive);
  const hash = createHash('sha256');
  for (const [i, a] of archives.entries()) {
    let part: Uint8Array;
    if (isStoredArchive(a)) part = readStoredArchive(a);
    else if (!lm) throw new ArchiveError(`chunk ${i + 1}/${archives.length} needs a model`);
    else part = await lm.decompress(a, hooks?.(i, archives.length));
    // Every chunk but the last is exactly chunkSize bytes: a reordered or swapped chunk fails here or on the SHA-256.
    if (i < archives.length - 1 ? part.length !== chunkSize : part.length > chunkSize) {
      throw new ArchiveError(`chunked archive is corrupt: chunk ${i + 1}/${archives.length} decodes to ${part.length} bytes (chunk size ${chunkSize})`);
    }
    hash.update(part);
    yield part;
  }
  if (hash.digest('hex') !== sha256) throw new ArchiveError('chunked archive is corrupt: the rebuilt file fails its SHA-256');
}
