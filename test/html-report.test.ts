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
import { suiteLeaderboardHtml } from '../src/reports/suite-board.js';
import { loadSuites } from '../src/suites/suite.js';
import { readRecords } from '../src/cli/report-commands.js';
import { syntheticRecord } from './helpers/records.js';

/** Where the screenshot goes; set REPORT_SCREENSHOT=/tmp/report.png to look at it. */
const SCREENSHOT = process.env.REPORT_SCREENSHOT ?? join(tmpdir(), `compress-bench-report-${process.pid}.png`);
const LEADERBOARD_SHOT = process.env.LEADERBOARD_SCREENSHOT ?? join(tmpdir(), `compress-bench-leaderboard-${process.pid}.png`);
const RECORDS = join(import.meta.dirname, '..', 'reports', 'records');


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

  it('the suite leaderboard (the committed records): every chart drawn, labels inside, none overlapping, every ladder point named', async () => {
    const file = join(dir, 'leaderboard.html');
    await writeFileAtomic(file, suiteLeaderboardHtml(await readRecords([RECORDS]), loadSuites()));
    const { page, problems } = await openPage(browser, file);
    await page.waitForFunction(() => (window as unknown as { __reportCharts?: number }).__reportCharts !== undefined, undefined, { timeout: 15_000 });
    const data = JSON.parse((await page.textContent('#report-data'))!) as { boards: { inputs: string[]; rows: { short: string; point: string; bpb: number | null; decompressor: number }[] }[] };
    expect(data.boards.length).toBeGreaterThanOrEqual(2); // canterbury-text and snappy-mixed
    const ids = data.boards.flatMap((_, k) => [`ladder-${k}`, `inputs-${k}`]);
    expect(await page.evaluate(() => (window as unknown as { __reportCharts: number }).__reportCharts)).toBe(ids.length);

    // Every text of every chart, with its box relative to the chart and whether it is rotated
    // (the boxes of rotated axis labels are not tight, so those are left out of the overlap test).
    const texts = await page.$$eval('.chart', (els) =>
      els.map((el) => {
        const box = el.getBoundingClientRect();
        return {
          id: el.id, width: box.width, height: box.height, paths: el.querySelectorAll('svg path').length,
          texts: [...el.querySelectorAll('svg text')].flatMap((t) => {
            const b = t.getBoundingClientRect();
            const m = /matrix\(([^,]+),([^,]+)/.exec(t.getAttribute('transform') ?? '');
            const rotated = !!m && Math.abs(Number(m[2])) > 1e-6;
            return t.textContent?.trim() && b.width > 0 ? [{ text: t.textContent.trim(), rotated, x0: b.left - box.left, y0: b.top - box.top, x1: b.right - box.left, y1: b.bottom - box.top }] : [];
          }),
        };
      }),
    );
    expect(texts.map((c) => c.id)).toEqual(ids);
    for (const c of texts) {
      expect(c.width, c.id).toBeGreaterThan(500);
      expect(c.paths, c.id).toBeGreaterThan(20); // points, bars, axes: drawn, not an empty surface
      expect(c.texts.length, c.id).toBeGreaterThan(15);
      const outside = c.texts.filter((t) => t.x0 < -0.5 || t.y0 < -0.5 || t.x1 > c.width + 0.5 || t.y1 > c.height + 0.5);
      expect(outside.map((t) => `${c.id}: "${t.text}" at [${Math.round(t.x0)}, ${Math.round(t.y0)}, ${Math.round(t.x1)}, ${Math.round(t.y1)}]`)).toEqual([]);
      const flat = c.texts.filter((t) => !t.rotated);
      const hits: string[] = [];
      flat.forEach((a, i) => flat.slice(i + 1).forEach((b) => {
        const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
        const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
        if (w > 1 && h > 1) hits.push(`${c.id}: "${a.text}" / "${b.text}"`);
      }));
      expect(hits).toEqual([]);
    }
    data.boards.forEach((b, k) => {
      const ladder = texts.find((c) => c.id === `ladder-${k}`)!;
      const per = texts.find((c) => c.id === `inputs-${k}`)!;
      // The ladder names every row it plots (none hidden to dodge a crowd) and has its axis names.
      const plotted = b.rows.filter((r) => r.bpb !== null && r.decompressor > 0).map((r) => r.point);
      expect(plotted.length).toBeGreaterThan(5);
      for (const name of plotted) expect(ladder.texts.map((t) => t.text), `ladder-${k}`).toContain(name);
      for (const name of ['bpb (pooled)', 'decompressor bytes (incl. weights)']) expect(ladder.texts.map((t) => t.text)).toContain(name);
      // The per-input chart: a legend entry per row, every input on the axis, and the y-axis name
      // below the legend's last line (it once sat on the legend).
      const legend = per.texts.filter((t) => b.rows.some((r) => r.short === t.text));
      expect(legend.map((t) => t.text).sort()).toEqual(b.rows.map((r) => r.short).sort());
      const yName = per.texts.find((t) => t.text === 'bits per byte')!;
      expect(yName).toBeDefined();
      expect(yName.y0).toBeGreaterThanOrEqual(Math.max(...legend.map((t) => t.y1)));
      expect(per.texts.filter((t) => b.inputs.some((i) => i.split('/').pop() === t.text))).toHaveLength(b.inputs.length);
    });
    const body = await page.textContent('body');
    expect(body).toMatch(/Ranked over all 4 inputs/);
    await page.screenshot({ path: LEADERBOARD_SHOT, fullPage: true });
    expect(existsSync(LEADERBOARD_SHOT)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});
