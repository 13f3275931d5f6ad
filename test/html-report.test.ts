import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium, openPage } from './helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/common/atomic.js';
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
  // Six inputs, so the category labels rotate; long names and two slices of one file, as real runs have.
  const slice = (offset: number, bytes: number, sha: string): InputRecord => ({ ...input('../shared/corpora/snappy-testdata/alice29.txt', 152_089, sha), corpus: undefined, offset, limit: bytes });
  // The first category's label is the longest: rotated, it reaches furthest left of the plot.
  const inputs = [
    slice(0, 8192, 'd'), slice(8192, 8192, '9'), input('enwik8:test', 5_000_000, 'a'), input('snappy/alice29.txt', 152_089, 'b'),
    input('silesia/dickens', 10_192_446, 'c'), input('../shared/corpora/snappy-testdata/paper-100k.pdf', 102_400, '8'),
  ];
  const model = (id: string, dtype: string, weightsBytes: number) => ({ id, weightsSha256: 'e'.repeat(64), tokenizerSha256: 'f'.repeat(64), dtype, device: 'cpu', weightsBytes });
  const results = inputs.flatMap((inp, i) => {
    const n = inp.limit ?? inp.fileBytes;
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
        } else if (surface) inked = surface.querySelectorAll('path').length; // SVG: drawn shapes
        return { id: el.id, kind: surface?.tagName.toLowerCase() ?? null, width: box?.width ?? 0, height: box?.height ?? 0, inked };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual(['chart-bpb', 'chart-hutter', 'chart-speed', 'chart-size']);
    for (const c of charts) {
      expect(c.kind, c.id).toMatch(/^(canvas|svg)$/);
      expect(c.width, c.id).toBeGreaterThan(100);
      expect(c.height, c.id).toBeGreaterThan(100);
      expect(c.inked, c.id).toBeGreaterThan(c.kind === 'canvas' ? 500 : 20);
    }
    // The tables are there too: the summary and one per input.
    expect(await page.locator('table').count()).toBe(7);
    const body = await page.textContent('body');
    expect(body).toContain('likely in training data');
    expect(body).toContain('Ranked over all 6 inputs, which every compressor ran');

    // No text of any chart (axis labels, names, legend, point labels) is clipped by its container.
    expect(await page.locator('.chart svg text').count()).toBeGreaterThan(50); // measured, not vacuous
    const outside = await page.$$eval('.chart', (els) =>
      els.flatMap((el) => {
        const box = el.getBoundingClientRect();
        return [...el.querySelectorAll('svg text')].flatMap((t) => {
          const b = t.getBoundingClientRect();
          if (!t.textContent?.trim() || b.width === 0) return [];
          const inside = b.left >= box.left - 0.5 && b.right <= box.right + 0.5 && b.top >= box.top - 0.5 && b.bottom <= box.bottom + 0.5;
          return inside ? [] : [`${el.id}: "${t.textContent}" at [${Math.round(b.left - box.left)}, ${Math.round(b.top - box.top)}, ${Math.round(b.right - box.left)}, ${Math.round(b.bottom - box.top)}] in ${Math.round(box.width)}×${Math.round(box.height)}`];
        });
      }),
    );
    expect(outside).toEqual([]);
    // Point labels overlap no other label (boxes of rotated axis labels are not tight, so those are left out).
    const overlapping = await page.$$eval('#chart-speed, #chart-size', (els) =>
      els.flatMap((el) => {
        const boxes = [...el.querySelectorAll('svg text')]
          .map((t) => ({ text: t.textContent ?? '', b: t.getBoundingClientRect() }))
          .filter((x) => /^(lm|gzip|zstd|xz|brotli)/.test(x.text) && x.b.width > 0);
        const hits: string[] = [];
        boxes.forEach((x, i) => boxes.slice(i + 1).forEach((y) => {
          const w = Math.min(x.b.right, y.b.right) - Math.max(x.b.left, y.b.left);
          const h = Math.min(x.b.bottom, y.b.bottom) - Math.max(x.b.top, y.b.top);
          if (w > 1 && h > 1) hits.push(`${el.id}: "${x.text}" / "${y.text}"`);
        }));
        return hits;
      }),
    );
    expect(overlapping).toEqual([]);
    // Category labels: slices by byte range; scatter points labelled by compressor, not only on hover.
    const texts = await page.$$eval('#chart-bpb svg text, #chart-speed svg text', (ts) => ts.map((t) => `${t.closest('.chart')!.id}|${t.textContent}`));
    expect(texts).toContain('chart-bpb|alice29.txt[0:8192]');
    expect(texts).toContain('chart-bpb|alice29.txt[8192:16384]');
    expect(texts.filter((t) => t === 'chart-speed|xz:9').length).toBe(2); // legend + one point label
    for (const label of ['lm:gpt2 (q8)', 'lm:gpt2 (fp32)', 'lm:smollm (q4)', 'gzip:9']) expect(texts, label).toContain(`chart-speed|${label}`);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.locator('.charts').screenshot({ path: SCREENSHOT.replace(/\.png$/, '-charts.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
