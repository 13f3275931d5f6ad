import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium, openPage } from './helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/records/atomic.js';
import { type InputRecord, type ResultRecord, type RunRecord } from '../src/records/run-record.js';
import { leaderboardHtml } from '../src/reports/index.js';
import { syntheticRecord } from './helpers/records.js';

/** Where the screenshot goes; set REPORT_SCREENSHOT=/tmp/report.png to look at it. */
const SCREENSHOT = process.env.REPORT_SCREENSHOT ?? join(tmpdir(), `compress-bench-report-${process.pid}.png`);


function input(name: string, bytes: number, sha: string): InputRecord {
  return { name, corpus: name.split(':')[0], fileSha256: sha.repeat(64), sliceSha256: sha.repeat(64), fileBytes: bytes, offset: 0, limit: null };
}

function result(compressor: string, family: string, bpb: number, inp: InputRecord, bytes: number, decompressorBytes: number, seconds: number, extra: Partial<ResultRecord> = {}): ResultRecord {
  const outputBytes = Math.round((bpb * bytes) / 8);
  const r = {
    compressor, family, settings: {}, input: inp, inputBytes: bytes, outputBytes, bitsPerByte: bpb,
    encodeSeconds: seconds, decodeSeconds: seconds * 0.4, roundtrip: true,
    decompressor: { bytes: decompressorBytes, source: 'test' },
    totalBytes: outputBytes + decompressorBytes, totalBitsPerByte: ((outputBytes + decompressorBytes) * 8) / bytes,
    ...extra,
  };
  return { ...r, file: r.input.name, seconds: r.encodeSeconds + r.decodeSeconds };
}

function syntheticRecords(): RunRecord[] {
  const inputs = [input('enwik8:test', 5_000_000, 'a'), input('snappy/alice29.txt', 152_089, 'b'), input('silesia/dickens', 10_192_446, 'c')];
  const model = (id: string, dtype: string, weightsBytes: number) => ({ id, weightsSha256: 'e'.repeat(64), tokenizerSha256: 'f'.repeat(64), dtype, device: 'cpu', weightsBytes });
  const results = inputs.flatMap((inp, i) => {
    const n = inp.fileBytes;
    const k = 1 + i * 0.05;
    return [
      result('gzip:9', 'gzip', 2.9 * k, inp, n, 100_000, n / 30e6),
      result('zstd:19', 'zstd', 2.3 * k, inp, n, 1_000_000, n / 3e6),
      result('brotli:11', 'brotli', 2.2 * k, inp, n, 700_000, n / 1e6),
      result('xz:9', 'xz', 2.1 * k, inp, n, 200_000, n / 2e6),
      result('lm:gpt2', 'lm', 1.3 * k, inp, n, 130_000_000, n / 40e3, { model: model('Xenova/gpt2', 'q8', 130_000_000), settings: i === 0 ? { note: 'likely in training data' } : {} }),
      result('lm:gpt2', 'lm', 1.28 * k, inp, n, 500_000_000, n / 15e3, { model: model('Xenova/gpt2', 'fp32', 500_000_000) }),
      result('lm:smollm', 'lm', 1.6 * k, inp, n, 70_000_000, n / 90e3, { model: model('HuggingFaceTB/SmolLM-135M', 'q4', 70_000_000) }),
    ];
  });
  return [syntheticRecord(results, ['run'])];
}

describe.skipIf(!HAVE_CHROMIUM)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cb-html-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders every chart with no console errors and no network', async () => {
    const file = join(dir, 'report.html');
    await writeFileAtomic(file, leaderboardHtml(syntheticRecords()));
    const { page, problems } = await openPage(browser, file);
    await page.waitForFunction(() => (window as unknown as { __reportCharts?: number }).__reportCharts === 4, undefined, { timeout: 15_000 });

    const charts = await page.$$eval('.chart', (els) =>
      els.map((el) => {
        const surface = el.querySelector('canvas, svg') as HTMLCanvasElement | SVGElement | null;
        const box = surface?.getBoundingClientRect();
        let inked = 0;
        if (surface instanceof HTMLCanvasElement) {
          // Count non-transparent pixels: an empty canvas of the right size would otherwise pass.
          const pixels = surface.getContext('2d')!.getImageData(0, 0, surface.width, surface.height).data;
          for (let i = 3; i < pixels.length; i += 4 * 16) if (pixels[i]! > 0) inked++;
        }
        return { id: el.id, kind: surface?.tagName.toLowerCase() ?? null, width: box?.width ?? 0, height: box?.height ?? 0, inked };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual(['chart-bpb', 'chart-hutter', 'chart-speed', 'chart-size']);
    for (const c of charts) {
      expect(c.kind, c.id).toMatch(/^(canvas|svg)$/);
      expect(c.width, c.id).toBeGreaterThan(100);
      expect(c.height, c.id).toBeGreaterThan(100);
      if (c.kind === 'canvas') expect(c.inked, c.id).toBeGreaterThan(500);
    }
    // The tables are there too.
    expect(await page.locator('table').count()).toBe(4);
    expect(await page.textContent('body')).toContain('likely in training data');

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
