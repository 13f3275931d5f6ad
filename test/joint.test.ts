/**
 * Joint compression: the pure measures and clustering, then real verified codings with every
 * kind of compressor (gzip, zstd, xz, order-k, the shared 7m model), the reach split, npm
 * datasets, the CLI's JSON, and the HTML page in headless Chromium. Inputs are small slices so
 * the file runs in about a minute on 2 cores.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { HAVE_CHROMIUM, launchChromium, openPage } from './helpers/browser.js';
import type { Compressor } from '../src/compressors/compressor.js';
import { parseBaselines, partitionAvailable } from '../src/compressors/baselines.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { loadModel } from '../src/models/lookup.js';
import { analyseCompressor, concat } from '../src/joint/analyse.js';
import { averageLinkage, dendrogram, leafOrder } from '../src/joint/cluster.js';
import type { JointInput } from '../src/joint/inputs.js';
import { conditionalSize, jointGain, ncd, netGain, netNcd, symmetrise, visibility } from '../src/joint/measures.js';
import type { CompressorJoint, JointReport } from '../src/joint/report.js';
import { RoundTripError } from '../src/joint/verified-size.js';
import { detokenizeBrown, materializeNpmDataset } from '../src/corpora/npm-datasets.js';
import { HAVE_SHARED, ROOT, SHARED_MODELS, SMALL_MODEL, SNAPPY, corpusPrefix, randomBytes } from './helpers/shared.js';

const input = (name: string, bytes: Uint8Array): JointInput => ({
  name,
  bytes,
  record: { name, spec: name, source: 'file', path: name, bytes: bytes.length, fileBytes: bytes.length, offset: 0, sliceSha256: '' },
});
const pair = (r: CompressorJoint, a: string, b: string) => r.pairs.find((p) => p.a === a && p.b === b)!;

describe('measures (pure)', () => {
  test('gain, conditional size and NCD follow their definitions', () => {
    expect(jointGain(100, 80, 150)).toEqual({ bytes: 30, percent: (100 * 30) / 180 });
    expect(jointGain(0, 0, 0).percent).toBe(0);
    expect(conditionalSize(100, 150)).toBe(50);
    expect(ncd(100, 80, 150)).toBeCloseTo((150 - 80) / 100, 12);
    expect(ncd(100, 100, 100)).toBe(0);
    expect(ncd(0, 0, 0)).toBe(0);
    // Net of h: an archive pair that shares nothing but pays h once less has zero net gain, NCD 1.
    expect(netGain(120, 120, 220, 20)).toEqual({ bytes: 0, percent: 0 });
    expect(netNcd(120, 120, 220, 20)).toBeCloseTo(1, 12);
  });

  test('symmetrise averages both orders and zeroes the diagonal', () => {
    expect(symmetrise([[null, 0.2, 0.9], [0.4, null, 1], [0.7, 1, null]])).toEqual([[0, 0.30000000000000004, 0.8], [0.30000000000000004, 0, 1], [0.8, 1, 0]]);
    expect(symmetrise([[5, 1], [3, 5]])).toEqual([[0, 2], [2, 0]]);
  });

  test('visibility: the window against the input', () => {
    expect(visibility(2000, 1024)).toEqual({ size: 2000, visible: 1024, fraction: 0.512 });
    expect(visibility(500, Infinity)).toEqual({ size: 500, visible: 500, fraction: 1 });
  });
});

describe('clustering (pure)', () => {
  // Two tight pairs far apart: {a, b} at 0.1, {c, d} at 0.2, everything across ≈ 0.9.
  const names = ['a', 'c', 'b', 'd'];
  const D = [
    [0, 0.9, 0.1, 0.8],
    [0.9, 0, 0.85, 0.2],
    [0.1, 0.85, 0, 0.95],
    [0.8, 0.2, 0.95, 0],
  ];

  test('average linkage merges the tight pairs first, then joins them at the mean cross distance', () => {
    const tree = averageLinkage(names, D);
    expect(tree.size).toBe(4);
    const [x, y] = tree.children!;
    const groups = [leafOrder(x).sort().join(''), leafOrder(y).sort().join('')].sort();
    expect(groups).toEqual(['ab', 'cd']);
    expect([x.height, y.height].sort()).toEqual([0.1, 0.2]);
    // UPGMA: mean of the four cross distances a–c, a–d, b–c, b–d.
    expect(tree.height).toBeCloseTo((0.9 + 0.8 + 0.85 + 0.95) / 4, 12);
  });

  test('dendrogram coordinates: one elbow per merge, leaves at 0, root at its height', () => {
    const d = dendrogram(averageLinkage(names, D));
    expect(d.leaves.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(d.links).toHaveLength(3);
    expect(d.maxHeight).toBeCloseTo(0.875, 12);
    for (const link of d.links) {
      expect(link).toHaveLength(4);
      expect(link[1][0]).toBe(link[2][0]); // the vertical bar sits at the merge height
      expect(link[0][0]).toBeLessThanOrEqual(link[1][0]);
    }
    expect(averageLinkage(['only'], [[0]])).toEqual({ name: 'only', height: 0, size: 1 });
    expect(() => averageLinkage(['a', 'b'], [[0]])).toThrow(/2×2/);
  });
});

/** The classic compressors here (xz only when its CLI is installed) and order-k. */
async function compressorsUnderTest(): Promise<Compressor[]> {
  const { usable, skipped } = await partitionAvailable(parseBaselines('gzip:9,zstd:19,xz:9'));
  for (const s of skipped) console.warn(`joint: SKIPPED ${s.name}: ${s.reason}`);
  return [...usable, new LmCompressor(await loadModel({ model: 'order-k' }), { segments: 1 })];
}

describe.skipIf(!HAVE_SHARED)('real codings: classic compressors and order-k', () => {
  let compressors: Compressor[];
  beforeAll(async () => {
    compressors = await compressorsUnderTest();
  });

  test('A‖A: a large gain and C(A|A) small against C(A) (classic ≤ 10%, order-k ≤ 40%)', async () => {
    const inputs = [input('alice', corpusPrefix('alice29.txt', 3000)), input('html', corpusPrefix('html', 3000))];
    for (const c of compressors) {
      const r = await analyseCompressor(c, inputs, { self: true, conditional: false });
      for (const name of ['alice', 'html']) {
        const self = pair(r, name, name);
        const cA = self.cA;
        const bound = c.family === 'order-k' ? 0.4 : 0.1;
        expect(self.conditionalBytes, `${c.name} C(${name}|${name})`).toBeLessThan(bound * cA);
        expect(self.netGainPercent, `${c.name} net gain of ${name}‖${name}`).toBeGreaterThan(c.family === 'order-k' ? 25 : 40);
        expect(self.ncd, c.name).toBeLessThan(c.family === 'order-k' ? 0.4 : 0.1);
      }
    }
  });

  test('unrelated random bytes: gain within 8 B of the container h (order-k: |net| ≤ 2% of C(A)+C(B))', async () => {
    const inputs = [input('r1', randomBytes(1000, 11)), input('r2', randomBytes(1000, 12))];
    for (const c of compressors) {
      const r = await analyseCompressor(c, inputs, { conditional: false });
      for (const p of r.pairs) {
        if (c.family === 'order-k') expect(Math.abs(p.netGainBytes), c.name).toBeLessThanOrEqual(0.02 * (p.cA + p.cB));
        else expect(Math.abs(p.gainBytes - r.overheadBytes), c.name).toBeLessThanOrEqual(8);
        expect(p.ncd, c.name).toBeGreaterThan(0.85);
      }
    }
  });

  test('NCD within [0, 1.1] and symmetric within 0.06; each single coded once', async () => {
    const inputs = [
      input('alice', corpusPrefix('alice29.txt', 2000)),
      input('html', corpusPrefix('html', 2000)),
      input('urls', corpusPrefix('urls.10K', 2000)),
    ];
    for (const c of compressors) {
      const r = await analyseCompressor(c, inputs, { conditional: false });
      expect(r.pairs).toHaveLength(6);
      for (const p of r.pairs) {
        expect(p.ncd, `${c.name} ${p.a}→${p.b}`).toBeGreaterThanOrEqual(0);
        expect(p.ncd, `${c.name} ${p.a}→${p.b}`).toBeLessThanOrEqual(1.1);
        expect(Math.abs(p.ncd - pair(r, p.b, p.a).ncd), `${c.name} ${p.a}↔${p.b}`).toBeLessThanOrEqual(0.06);
        expect(p.cBA).toBe(pair(r, p.b, p.a).cAB);
      }
      // 1 probe + 3 singles + 6 concatenations: singles are cached, not recoded per pair.
      expect(r.codings, c.name).toBe(1 + 3 + 6);
      expect(r.dendrogram.size).toBe(3);
      expect(r.matrices.distance[0][1]).toBeCloseTo((r.matrices.netNcd[0][1]! + r.matrices.netNcd[1][0]!) / 2, 12);
    }
  });

  test('reach: shared text 40 KB back is beyond gzip’s 32 KiB window but within xz’s dictionary', async () => {
    const text = corpusPrefix('alice29.txt', 3000);
    const inputs = [input('text+noise', concat(text, randomBytes(40_000, 5))), input('text', text)];
    const [gzip, ...rest] = parseBaselines('gzip:9,xz:9');
    const g = pair(await analyseCompressor(gzip, inputs, {}), 'text+noise', 'text');
    expect(g.reach.visibleFraction).toBeCloseTo(32768 / 43000, 9);
    expect(g.reach.measured).toBe(true);
    // The window's last 32 KiB are noise: nothing within reach helps B.
    expect(Math.abs(g.reach.gainWithinReach!)).toBeLessThanOrEqual(8);
    expect(g.netGainPercent).toBeLessThan(1);
    expect(g.reach.gainWithinReach! + g.reach.gainBeyondReach!).toBe(g.netGainBytes);
    const xz = rest[0];
    if ((await xz.available?.())?.ok) {
      const x = pair(await analyseCompressor(xz, inputs, {}), 'text+noise', 'text');
      expect(x.reach).toMatchObject({ visibleFraction: 1, measured: false, gainBeyondReach: 0 });
      expect(x.conditionalBytes).toBeLessThan(0.1 * x.cB);
    }
  });

  test('a compressor whose round trip fails is refused, not measured', async () => {
    const [gzip] = parseBaselines('gzip:9');
    const broken: Compressor = { ...gzip, name: 'broken', decompress: async (a) => (await gzip.decompress(a)).subarray(1), compress: (x) => gzip.compress(x) };
    await expect(analyseCompressor(broken, [input('a', corpusPrefix('html', 500)), input('b', corpusPrefix('alice29.txt', 500))])).rejects.toThrow(RoundTripError);
  });
});

describe.skipIf(!HAVE_SHARED)(`${SMALL_MODEL} from ../shared/models`, () => {
  let lm: LmCompressor;
  beforeAll(async () => {
    lm = new LmCompressor(await loadModel({ model: SMALL_MODEL, modelDirs: [SHARED_MODELS], offline: true }), { segments: 1 });
  });
  afterAll(async () => lm?.dispose());

  test('A‖A saves one container header, but this small model barely copies: C(A|A) ≈ C(A) − h', async () => {
    // One input with --self: only A‖A and A|A are coded, which keeps this test short.
    const r = await analyseCompressor(lm, [input('alice', corpusPrefix('alice29.txt', 1200))], { self: true });
    expect(r.pairs).toHaveLength(1);
    const self = pair(r, 'alice', 'alice');
    // Measured on this 7m model: gain ≈ h (one header fewer), payload of the second copy ≈ the first.
    expect(self.gainBytes).toBeGreaterThanOrEqual(0.9 * r.overheadBytes);
    expect(self.cAB).toBeLessThan(2 * self.cA);
    expect(self.conditionalBytes).toBeGreaterThan(0.8 * (self.cA - r.overheadBytes));
    // Direct conditional coding (primer: half the 1024-token context) was coded and verified.
    expect(self.direct!.primerTokens).toBe(Math.min(512, r.inputs[0].size));
    expect(self.direct!.payloadBytes).toBeGreaterThan(0.8 * self.direct!.bPayloadBytes);
    for (const p of r.pairs) {
      expect(p.ncd).toBeGreaterThanOrEqual(0);
      expect(p.ncd).toBeLessThanOrEqual(1.1);
    }
    expect(r.reach).toMatchObject({ unit: 'tokens', window: 1024 });
  });

  test('unrelated random bytes: net gain within 8 B + 3% of C(B)', async () => {
    // The model expands noise (~1.9×) and learns a little in context that it is noise
    // (measured: 10–13 B of 720 on 300 B), so the tolerance has a relative part.
    const r = await analyseCompressor(lm, [input('r1', randomBytes(300, 21)), input('r2', randomBytes(300, 22))], { conditional: false });
    for (const p of r.pairs) {
      expect(Math.abs(p.netGainBytes)).toBeLessThanOrEqual(8 + 0.03 * p.cB);
      expect(p.ncd).toBeGreaterThanOrEqual(0);
      expect(p.ncd).toBeLessThanOrEqual(1.1);
      expect(Math.abs(p.ncd - pair(r, p.b, p.a).ncd)).toBeLessThanOrEqual(0.06);
    }
  });
});

describe('npm datasets', () => {
  test('Brown word/tag tokens become running text', () => {
    expect(detokenizeBrown(['``', 'It', "isn't", 'so', "''", ',', 'he', 'said', '(', 'twice', ')', '.'])).toBe('"It isn\'t so", he said (twice).');
    expect(detokenizeBrown(['it', "'s", '$', '5', '%'])).toBe("it's $5%");
  });

  test('npm:sotu is materialized once, atomically, with its provenance and training-data note', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cb-datasets-'));
    try {
      const first = await materializeNpmDataset('npm:sotu', dir);
      expect(readFileSync(first.path, 'utf8').startsWith('Fellow-Citizens of the Senate')).toBe(true);
      expect(first.dataset.trainingData).toMatch(/memorisation/);
      expect(first.provenance).toMatch(/^@stdlib\/datasets-sotu@\d+\.\d+\.\d+ \(Apache-2\.0\)/);
      const sidecar = JSON.parse(readFileSync(first.path.replace(/\.txt$/, '.json'), 'utf8'));
      expect(sidecar).toMatchObject({ spec: 'npm:sotu', bytes: statSync(first.path).size, sha256: first.sha256 });
      const mtime = statSync(first.path).mtimeMs;
      const again = await materializeNpmDataset('npm:sotu', dir);
      expect(again.path).toBe(first.path);
      expect(statSync(first.path).mtimeMs).toBe(mtime);
      await expect(materializeNpmDataset('npm:nope', dir)).rejects.toThrow(/npm:brown, npm:sotu, npm:spam/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const CLI = join(ROOT, 'dist', 'cli.js');

describe.skipIf(!HAVE_SHARED)('compress-bench joint (the built CLI)', () => {
  let dir: string;
  let report: JointReport;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cb-joint-'));
    html = join(dir, 'joint.html');
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'The quick brown fox jumps over the lazy dog. '.repeat(20));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'joint', '--model', 'order-k', '--baselines', 'gzip:9,zstd:19', '--limit', '1500', '--json', '--html', html, '--quiet',
        join(SNAPPY, 'alice29.txt'), join(SNAPPY, 'html'), small, 'npm:sotu'],
      { cwd: ROOT, env: { ...process.env, HF_HUB_OFFLINE: '1', COMPRESS_BENCH_CACHE: join(dir, 'cache') }, maxBuffer: 1 << 26 },
    );
    report = JSON.parse(stdout) as JointReport;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('--json prints the documented shape', () => {
    expect(report).toMatchObject({ report: 'compress-bench joint', version: 1, options: { limit: 1500, primerTokens: null, self: false, reachSplit: true, conditional: true }, skipped: [] });
    expect(report.inputs.map((x) => x.name)).toEqual(['alice29.txt', 'html', 'small.txt', 'npm:sotu']);
    expect(report.inputs.map((x) => x.bytes)).toEqual([1500, 1500, 900, 1500]);
    expect(report.inputs[3]).toMatchObject({ source: 'npm', trainingData: expect.stringMatching(/memorisation/) });
    expect(report.compressors.map((c) => c.compressor)).toEqual(['order-k:3', 'gzip:9', 'zstd:19']);
    for (const c of report.compressors) {
      expect(Object.keys(c).sort()).toEqual(['codings', 'compressor', 'dendrogram', 'family', 'inputs', 'matrices', 'overheadBytes', 'pairs', 'reach', 'seconds', 'settings'].sort());
      expect(c.pairs).toHaveLength(12);
      expect(Object.keys(c.matrices).sort()).toEqual(['distance', 'gainPercent', 'ncd', 'netGainPercent', 'netNcd']);
      for (const m of Object.values(c.matrices)) expect(m).toHaveLength(4);
      expect(c.matrices.ncd[0][0]).toBeNull();
      const p = c.pairs[0];
      expect(p.gainBytes).toBe(p.cA + p.cB - p.cAB);
      expect(p.conditionalBytes).toBe(p.cAB - p.cA);
      expect(p.ncd).toBeCloseTo((p.cAB - Math.min(p.cA, p.cB)) / Math.max(p.cA, p.cB), 12);
      expect(p.reach).toHaveProperty('gainWithinReach');
      expect(c.dendrogram.size).toBe(4);
      // Only LMs code B | A_tail directly.
      expect(c.pairs.every((x) => (c.family === 'order-k') === (x.direct !== undefined))).toBe(true);
    }
    expect(report.compressors[0].reach.window).toBeNull(); // unbounded, as JSON null
  });

  test.skipIf(!HAVE_CHROMIUM)('the HTML page renders every heatmap and dendrogram with no errors and no network', async () => {
    const browser: Browser = await launchChromium();
    try {
      const { page, problems } = await openPage(browser, html, 1400);
      await page.waitForFunction(() => (window as unknown as { __jointCharts?: number }).__jointCharts === 9, undefined, { timeout: 15_000 });
      const charts = await page.$$eval('.chart', (els) =>
        els.map((el) => {
          const canvas = el.querySelector('canvas');
          let inked = 0;
          if (canvas) {
            const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < px.length; i += 4 * 16) if (px[i]! > 0) inked++;
          }
          return { id: el.id, inked, height: el.getBoundingClientRect().height };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(['c0', 'c1', 'c2'].flatMap((c) => [`${c}-ncd`, `${c}-gain`, `${c}-tree`]));
      for (const c of charts) {
        expect(c.height, c.id).toBeGreaterThan(100);
        expect(c.inked, c.id).toBeGreaterThan(300);
      }
      expect(await page.textContent('body')).toContain('memorisation');
      if (process.env.JOINT_SCREENSHOT) await page.screenshot({ path: process.env.JOINT_SCREENSHOT, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
