/**
 * Download a transformers.js-layout model from the Hugging Face Hub (or a mirror) into the
 * cache: exactly the files compress-bench loads, nothing else. The Hub's URL layout is
 * `{endpoint}/{owner}/{name}/resolve/main/{file}`; the endpoint is COMPRESS_BENCH_HUB_URL,
 * else HF_ENDPOINT (as huggingface_hub reads it), else https://huggingface.co. Files land in
 * a temporary folder that is renamed into place when complete, so an interrupted download
 * never looks like a model.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProgressHooks } from '../common/progress.js';

export function hubEndpoint(): string {
  return (process.env.COMPRESS_BENCH_HUB_URL || process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export class HubDownloadError extends Error {}

/**
 * Fetch `hubId` (owner/name) for one weight file (`onnx/model{suffix}.onnx`) into `dest`.
 * config.json, tokenizer.json, tokenizer_config.json and the weights are required;
 * generation_config.json and the weights' external data (`.onnx_data`) are taken when present.
 */
export async function downloadHubModel(hubId: string, weightsFile: string, dest: string, hooks?: ProgressHooks): Promise<void> {
  const required = ['config.json', 'tokenizer.json', 'tokenizer_config.json', weightsFile];
  const optional = ['generation_config.json', `${weightsFile}_data`];
  const tmp = `${dest}.download-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    let done = 0;
    for (const file of [...required, ...optional]) {
      const url = `${hubEndpoint()}/${hubId}/resolve/main/${file}`;
      const res = await fetch(url).catch((e: Error & { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }) => {
        const c = e.cause;
        throw new HubDownloadError(`${url}: ${c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? e.message}`);
      });
      if (res.status === 404 && optional.includes(file)) continue;
      if (!res.ok || !res.body) throw new HubDownloadError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
      const total = Number(res.headers.get('content-length') ?? 0);
      const path = join(tmp, file);
      await mkdir(dirname(path), { recursive: true });
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      let got = 0;
      body.on('data', (chunk: Buffer) => {
        got += chunk.length;
        hooks?.progress?.(done + got, done + Math.max(total, got), 'download');
      });
      await pipeline(body, createWriteStream(path));
      done += got;
    }
    await mkdir(dirname(dest), { recursive: true });
    if (existsSync(dest)) await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
  } finally {
    hooks?.stop?.();
    await rm(tmp, { recursive: true, force: true });
  }
}
