import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/common/atomic.js';
import { type InputRecord, type ResultRecord, type RunRecord } from '../src/records/run-record.js';
import { buildChartData, hutterCrossover, leaderboardHtml, leaderboardMarkdown } from '../src/reports/index.js';
import { toRows } from '../src/reports/results.js';
import { syntheticRecord } from './helpers/records.js';

const ENWIK8_TEST: InputRecord = { name: 'enwik8:test', corpus: 'enwik8', fileSha256: 'f'.repeat(64), sliceSha256: 'a'.repeat(64), fileBytes: 100_000_000, offset: 95_000_000, limit: 5_000_000 };
const ALICE: InputRecord = { name: 'snappy/alice29.txt', corpus: 'snappy/alice29.txt', fileSha256: 'b'.repeat(64), sliceSha256: 'b'.repeat(64), fileBytes: 152_089, offset: 0, limit: null };

function result(over: Partial<ResultRecord> & Pick<ResultRecord, 'compressor' | 'family' | 'bitsPerByte'>, input: InputRecord = ENWIK8_TEST, inputBytes = 5_000_000): ResultRecord {
  const outputBytes = Math.round(((over.bitsPerByte ?? 0) * inputBytes) / 8);
  const decompressorBytes = over.decompressor?.bytes ?? 100_000;
  const r = {
    settings: {},
    input,
    inputBytes,
    outputBytes,
    encodeSeconds: 1.5,
    decodeSeconds: 0.5,
    roundtrip: true,
    decompressor: { bytes: decompressorBytes, source: 'constant: test' },
    totalBytes: outputBytes + decompressorBytes,
    totalBitsPerByte: ((outputBytes + decompressorBytes) * 8) / inputBytes,
    ...over,
  };
  return { ...r, file: r.input.name, seconds: r.encodeSeconds + r.decodeSeconds };
}

const record = (results: ResultRecord[]): RunRecord => syntheticRecord(results);

const gpt2 = {
  id: 'Xenova/gpt2',
  weightsSha256: 'c'.repeat(64),
  tokenizerSha256: 'd'.repeat(64),
  dtype: 'q8',
  device: 'cpu',
  parameters: 124_000_000,
  weightsBytes: 130_000_000,
};

const records = [
  record([
    result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: 2.9, decompressor: { bytes: 100_000, source: 'constant' } }),
    result({ compressor: 'zstd:19', family: 'zstd', bitsPerByte: 2.3, decompressor: { bytes: 1_000_000, source: 'constant' } }),
    result({ compressor: 'xz:9', family: 'xz', bitsPerByte: 2.1, decompressor: { bytes: 200_000, source: 'constant' } }),
    result({
      compressor: 'lm:gpt2',
      family: 'lm',
      bitsPerByte: 1.3,
      idealBitsPerByte: 1.2995,
      model: gpt2,
      settings: { note: 'enwik8 is likely in this model’s training data (WebText)' },
      decompressor: { bytes: 130_000_000, source: 'measured: onnx/model_quantized.onnx + tokenizer.json' },
      encodeSeconds: 120,
      decodeSeconds: 125,
    }),
    result({ compressor: 'lm:tiny', family: 'lm', bitsPerByte: 2.5, model: { ...gpt2, id: 'test/tiny', dtype: 'fp32', weightsBytes: 2_000_000 }, decompressor: { bytes: 2_000_000, source: 'measured' } }),
    result({ compressor: 'brotli:11', family: 'brotli', bitsPerByte: NaN, roundtrip: false, error: 'out of memory' }),
  ]),
  record([
    result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: 2.85, decompressor: { bytes: 100_000, source: 'constant' } }, ALICE, 152_089),
    result({ compressor: 'lm:gpt2', family: 'lm', bitsPerByte: 1.9, model: gpt2, decompressor: { bytes: 130_000_000, source: 'measured' } }, ALICE, 152_089),
  ]),
];

describe('leaderboardMarkdown', () => {
  const md = leaderboardMarkdown(records);

  it('has a table per input with every column, sorted by coded bpb', () => {
    expect(md).toContain('## enwik8:test');
    expect(md).toContain('## snappy/alice29.txt');
    expect(md).toContain('| # | compressor | bytes out | bpb (coded) | ideal bpb | decompressor bytes | Hutter total bytes | total bpb | encode s | decode s | round trip | seen | LM/zlib |');
    const section = md.slice(md.indexOf('## enwik8:test'), md.indexOf('## snappy/alice29.txt'));
    const order = ['lm:gpt2', 'xz:9', 'zstd:19', 'lm:tiny', 'gzip:9', 'brotli:11'].map((c) => section.indexOf(`| ${c}`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The row for xz:9: 2.1 bpb of 5,000,000 bytes = 1,312,500 bytes out, + 200,000 decompressor.
    expect(section).toMatch(/\| 2 \| xz:9 \| 1,312,500 \| 2\.1000 \| — \| 200,000 \| 1,512,500 \| 2\.4200 \| 1\.50 \| 0\.500 \| ✓ \|/);
  });

  it('shows model id and dtype on model rows, and the ideal bpb beside the coded one', () => {
    expect(md).toMatch(/\| 1 \| lm:gpt2 · Xenova\/gpt2 \(q8\) \[1\] \| 812,500 \| 1\.3000 \| 1\.2995 \| 130,000,000 \| 130,812,500 \|/);
    expect(md).toContain('lm:tiny · test/tiny (fp32)');
  });

  it('labels figures on training data from settings.note, and reports failures', () => {
    expect(md).toContain('1. lm:gpt2 · Xenova/gpt2 (q8): enwik8 is likely in this model’s training data (WebText)');
    expect(md).toMatch(/brotli:11 \[2\] \| — \| — \|.*\| error \|/);
    expect(md).toContain('2. brotli:11 failed: out of memory');
  });

  it('extrapolates the Hutter crossover against the best classic total, and says none when bpb is not lower', () => {
    expect(md).toContain('Hutter crossover (extrapolation');
    // vs xz:9: (130,000,000 − 200,000)·8 / (2.1 − 1.3) = 1,298,000,000 bytes — later than gzip's and zstd's crossings.
    expect(md).toMatch(/lm:gpt2 · Xenova\/gpt2 \(q8\): total beats every classic baseline from ≈ 1\.30 GB \(1,298,000,000 bytes\) — extrapolation from 1\.3000 bpb \+ 130 MB decompressor vs xz:9 at 2\.1000 bpb/);
    expect(md).toMatch(/lm:tiny · test\/tiny \(fp32\): none — its 2\.5000 bpb is not lower than xz:9's 2\.1000 bpb/);
  });

  it('ranks only over the inputs every compressor ran, pooled, the decompressor counted once, and says so', () => {
    const summary = md.slice(md.indexOf('## Summary across inputs'), md.indexOf('## enwik8:test'));
    // zstd, xz and lm:tiny ran only enwik8:test, so alice29 (where gzip and lm:gpt2 also ran) is left out.
    expect(summary).toContain('Ranked only over the 1 of 2 inputs that every compressor ran (enwik8:test)');
    expect(summary).toContain('| 5 | gzip:9 | 2/2 | 5,000,000 | 1,812,500 | 2.9000 | 100,000 | 1,912,500 |');
    expect(summary).toMatch(/\| 1 \| lm:gpt2 · Xenova\/gpt2 \(q8\) \| 2\/2 \| 5,000,000 \| 812,500 \| 1\.3000 \|/);
    expect(summary).toMatch(/\| 2 \| xz:9 \| 1\/2 \|/);
    // A compressor with no valid result is listed last, unranked, and does not empty the common set.
    expect(summary).toMatch(/\| — \| brotli:11 \| 0\/2 \| — \| — \| — \| 100,000 \| — \|/);
    // With every input run by every compressor, the page says the ranking covers all of them.
    const both = leaderboardMarkdown([records[1]!]);
    expect(both).toContain('Ranked over all 1 input, which every compressor ran: snappy/alice29.txt.');
    // No common input at all: no pooled figures, and the page says why.
    const disjoint = leaderboardMarkdown([record([result({ compressor: 'xz:9', family: 'xz', bitsPerByte: 2 })]), record([result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: 3 }, ALICE, 152_089)])]);
    expect(disjoint).toContain('No input was run (with a verified result) by every compressor');
  });

  it('labels slices by byte range, order-k by its settings, and empty inputs n/a', () => {
    const slice = (offset: number, bytes: number): InputRecord => ({ ...ALICE, name: 'alice29.txt', corpus: undefined, sliceSha256: `${offset}${bytes}`.padEnd(64, '0'), offset, limit: bytes });
    const orderK = { ...gpt2, id: 'order-k:3', dtype: 'none', weightsBytes: 0 };
    const empty: InputRecord = { ...ALICE, name: 'empty.txt', corpus: undefined, sliceSha256: 'e'.repeat(64), fileBytes: 0 };
    const out = leaderboardMarkdown([record([
      result({ compressor: 'order-k:3', family: 'order-k', bitsPerByte: 2.5, model: orderK }, slice(0, 8192), 8192),
      result({ compressor: 'order-k:3', family: 'order-k', bitsPerByte: 2.6, model: orderK }, slice(8192, 8192), 8192),
      result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: null, totalBitsPerByte: null, outputBytes: 20, totalBytes: 100_020 }, empty, 0),
    ])]);
    expect(out).toContain('## alice29.txt[0:8192]');
    expect(out).toContain('## alice29.txt[8192:16384]');
    expect(out).toContain('order-k:3 (orders 0–3, Witten–Bell, adaptive)');
    expect(out).not.toContain('(none)');
    expect(out).toMatch(/\| — \| gzip:9 \| 20 \| n\/a \| n\/a \| 100,000 \| 100,020 \| n\/a \|/);
    // A corpus split keeps its name; two slices of one split get their ranges.
    const split = (bytes: number, sha: string): InputRecord => ({ ...ENWIK8_TEST, sliceSha256: sha.repeat(64), limit: bytes });
    const splits = leaderboardMarkdown([record([
      result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: 2.9 }, split(1000, '1'), 1000),
      result({ compressor: 'gzip:9', family: 'gzip', bitsPerByte: 2.9 }, split(2000, '2'), 2000),
    ])]);
    expect(splits).toContain('## enwik8:test[95000000:95001000]');
    expect(splits).toContain('## enwik8:test[95000000:95002000]');
    expect(leaderboardMarkdown([records[0]!])).toContain('## enwik8:test\n');
  });

  it('lists the runs and copes with no records', () => {
    expect(md).toContain('compress-bench 0.1.0 @ 0123456 · node v20.20.2 · linux/x64 · Test CPU ×16 · argv: run enwik8:test');
    expect(leaderboardMarkdown([])).toContain('No results.');
  });

  it('escapes pipes in cells so rows stay intact', () => {
    const odd = record([result({ compressor: 'external:a|b', family: 'external', bitsPerByte: 2 })]);
    expect(leaderboardMarkdown([odd])).toContain('| external:a\\|b |');
  });
});

describe('hutterCrossover', () => {
  it('is 0 when the model already wins at any size and undefined with no classic baseline', () => {
    const rows = toRows([record([
      result({ compressor: 'xz:9', family: 'xz', bitsPerByte: 2, decompressor: { bytes: 1_000_000, source: 'c' } }),
      result({ compressor: 'lm:small', family: 'lm', bitsPerByte: 1, model: gpt2, decompressor: { bytes: 500_000, source: 'm' } }),
    ])]);
    expect(hutterCrossover(rows[1]!, rows)).toMatchObject({ kind: 'at', bytes: 0 });
    expect(hutterCrossover(rows[1]!, [rows[1]!])).toBeUndefined();
  });
});

describe('chart data and the HTML page', () => {
  it('embeds only valid results, classic compressors first', () => {
    const data = buildChartData(records);
    expect(data.inputs).toEqual(['enwik8:test', 'snappy/alice29.txt']);
    expect(data.compressors[0]).toBe('xz:9');
    expect(data.compressors).not.toContain('brotli:11');
    expect(data.points.find((p) => p.compressor.startsWith('lm:gpt2') && p.input === 'enwik8:test')).toMatchObject({ encodeBytesPerSecond: 5_000_000 / 120, decompressorBytes: 130_000_000 });
  });

  it('is one self-contained page: inline echarts, embedded JSON, no external resources', () => {
    const html = leaderboardHtml(records);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<script type="application/json" id="report-data">');
    expect(html.length).toBeGreaterThan(1_000_000); // echarts.min.js is inlined
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain('extrapolation');
    expect(html).toContain('enwik8 is likely in this model’s training data (WebText)');
    for (const id of ['chart-bpb', 'chart-hutter', 'chart-speed', 'chart-size']) expect(html).toContain(`id="${id}"`);
  });

  it('escapes HTML from records', () => {
    const evil = record([result({ compressor: '<img src=x onerror=alert(1)>', family: 'external', bitsPerByte: 2, input: { ...ALICE, name: '</script><b>x' } })]);
    const html = leaderboardHtml([evil]);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('</script><b>');
  });
});

describe('writeFileAtomic', () => {
  it('writes through a temp file and leaves nothing else behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cb-atomic-'));
    try {
      const path = join(dir, 'sub', 'report.md');
      await writeFileAtomic(path, leaderboardMarkdown(records));
      await writeFileAtomic(path, 'second');
      expect(await readFile(path, 'utf8')).toBe('second');
      expect(await readdir(join(dir, 'sub'))).toEqual(['report.md']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
