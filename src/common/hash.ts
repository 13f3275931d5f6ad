import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 helpers shared by models (weights, tokenizers), corpora and run records. */

/** SHA-256 of a file, streamed: weight files and corpora can be gigabytes. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
