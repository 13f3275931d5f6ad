/** Download a URL to a file, streaming. `file://` URLs are served locally (tests, mirrors on disk). */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';

/** The subset of `fetch` we use; injectable so tests never touch the network. */
export type FetchImpl = (url: string) => Promise<Response>;

export const defaultFetch: FetchImpl = async (url) => {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    await stat(path); // fail now with ENOENT rather than mid-stream
    return new Response(Readable.toWeb(createReadStream(path)) as unknown as BodyInit);
  }
  return fetch(url);
};

/** Stream `url` into `dest`; on any failure `dest` is removed. */
export async function downloadToFile(url: string, dest: string, fetchImpl: FetchImpl = defaultFetch): Promise<void> {
  try {
    const response = await fetchImpl(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}`);
    if (!response.body) throw new Error('empty response body');
    await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), createWriteStream(dest));
  } catch (error) {
    await rm(dest, { force: true });
    throw error;
  }
}

/** One line for an error, including the cause Node's fetch hides behind "fetch failed". */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && !error.message.includes(cause.message)) {
    return `${error.message} (${cause.message})`;
  }
  return error.message;
}
