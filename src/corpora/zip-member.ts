/**
 * Stream one member out of a zip archive on disk. We read the central directory ourselves and
 * inflate only that member's bytes with fflate's streaming `Inflate`, so enwik9 (1 GB inflated)
 * never has to fit in memory, and archives whose local headers defer sizes to data descriptors
 * still work.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Inflate } from 'fflate';

interface MemberInfo {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

/** Names of the files in the archive (directories excluded). */
export async function listZipMembers(zipPath: string): Promise<string[]> {
  const fh = await open(zipPath, 'r');
  try {
    return (await readCentralDirectory(fh)).map((m) => m.name);
  } finally {
    await fh.close();
  }
}

/**
 * Inflate `member` from `zipPath`, handing each chunk to `sink` (awaited, so the sink sets the
 * pace). `member` matches an exact path first, then a unique base name (archives differ in whether
 * they wrap files in a folder). Returns the number of bytes produced.
 */
export async function extractZipMember(
  zipPath: string,
  member: string,
  sink: (chunk: Uint8Array) => Promise<void> | void,
): Promise<number> {
  const fh = await open(zipPath, 'r');
  let info: MemberInfo;
  let dataStart: number;
  try {
    const members = await readCentralDirectory(fh);
    info = pickMember(members, member, zipPath);
    const local = await readExactly(fh, info.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LFH_SIG) throw new Error(`${zipPath}: bad local header for ${info.name}`);
    dataStart = info.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  if (info.method !== 0 && info.method !== 8) {
    throw new Error(`${zipPath}: ${info.name} uses compression method ${info.method}; only stored (0) and deflate (8) are supported`);
  }

  let produced = 0;
  let pending: Uint8Array[] = [];
  const inflater = info.method === 8 ? new Inflate((chunk) => pending.push(chunk)) : undefined;
  const flush = async () => {
    const ready = pending;
    pending = [];
    for (const chunk of ready) {
      produced += chunk.length;
      await sink(chunk);
    }
  };

  let consumed = 0;
  if (info.compressedSize > 0) {
    const stream = createReadStream(zipPath, { start: dataStart, end: dataStart + info.compressedSize - 1, highWaterMark: 1 << 20 });
    for await (const raw of stream) {
      const chunk = raw as Buffer;
      consumed += chunk.length;
      if (inflater) inflater.push(chunk, consumed === info.compressedSize);
      else pending.push(chunk);
      await flush();
    }
  } else if (inflater) {
    inflater.push(new Uint8Array(0), true);
    await flush();
  }
  if (consumed !== info.compressedSize) throw new Error(`${zipPath}: ${info.name} is truncated (${consumed} of ${info.compressedSize} bytes)`);
  if (produced !== info.uncompressedSize) {
    throw new Error(`${zipPath}: ${info.name} inflated to ${produced} bytes, the archive says ${info.uncompressedSize}`);
  }
  return produced;
}

function pickMember(members: MemberInfo[], wanted: string, zipPath: string): MemberInfo {
  const exact = members.find((m) => m.name === wanted);
  if (exact) return exact;
  const byBase = members.filter((m) => posix.basename(m.name) === wanted);
  if (byBase.length === 1) return byBase[0]!;
  const listing = members.slice(0, 20).map((m) => m.name).join(', ');
  throw new Error(
    byBase.length > 1
      ? `${zipPath}: "${wanted}" is ambiguous (${byBase.map((m) => m.name).join(', ')})`
      : `${zipPath} has no member "${wanted}" (it has: ${listing}${members.length > 20 ? ', ...' : ''})`,
  );
}

async function readCentralDirectory(fh: FileHandle): Promise<MemberInfo[]> {
  const { size } = await fh.stat();
  // The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes.
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readExactly(fh, size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end-of-central-directory record)');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) throw new Error('ZIP64 archives are not supported');
  const cd = await readExactly(fh, cdOffset, cdSize);

  const members: MemberInfo[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== CDH_SIG) throw new Error('corrupt zip central directory');
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
    const info: MemberInfo = {
      name,
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      uncompressedSize: cd.readUInt32LE(p + 24),
      localHeaderOffset: cd.readUInt32LE(p + 42),
    };
    applyZip64Extra(info, cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    if (!name.endsWith('/')) members.push(info);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/** Per-entry ZIP64 sizes (extra field 0x0001): present only for the fields saturated at 0xFFFFFFFF, in this order. */
function applyZip64Extra(info: MemberInfo, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const length = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      const next = () => {
        const v = Number(extra.readBigUInt64LE(r));
        r += 8;
        return v;
      };
      if (info.uncompressedSize === U32_MAX) info.uncompressedSize = next();
      if (info.compressedSize === U32_MAX) info.compressedSize = next();
      if (info.localHeaderOffset === U32_MAX) info.localHeaderOffset = next();
    }
    q += 4 + length;
  }
}

async function readExactly(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new Error(`truncated zip archive (wanted ${length} bytes at ${position}, got ${bytesRead})`);
  return buffer;
}
