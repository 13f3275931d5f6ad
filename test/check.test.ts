import { describe, expect, it } from 'vitest';
import { type ResultRecord, type RunRecord } from '../src/records/run-record.js';
import { checkAgainstBaseline, compareRecords, parseTolerance } from '../src/reports/index.js';
import { syntheticRecord } from './helpers/records.js';

const INPUT = { name: 'enwik8:test', corpus: 'enwik8', fileSha256: 'f'.repeat(64), sliceSha256: 'a'.repeat(64), fileBytes: 100_000_000, offset: 95_000_000, limit: 5_000_000 };

function result(compressor: string, bitsPerByte: number, over: Partial<ResultRecord> = {}): ResultRecord {
  const inputBytes = 5_000_000;
  const outputBytes = Math.round((bitsPerByte * inputBytes) / 8);
  const r = {
    compressor,
    family: compressor.split(':')[0]!,
    settings: {},
    input: INPUT,
    inputBytes,
    outputBytes,
    bitsPerByte,
    encodeSeconds: 1,
    decodeSeconds: 1,
    roundtrip: true,
    decompressor: { bytes: 100_000, source: 'constant' },
    totalBytes: outputBytes + 100_000,
    totalBitsPerByte: ((outputBytes + 100_000) * 8) / inputBytes,
    ...over,
  };
  return { ...r, file: r.input.name, seconds: r.encodeSeconds + r.decodeSeconds };
}

const record = (results: ResultRecord[]): RunRecord => syntheticRecord(results);

const baseline = record([result('gzip:9', 2.9), result('xz:9', 2.1), result('zstd:19', 2.3)]);

describe('parseTolerance', () => {
  it('accepts percentages and fractions', () => {
    expect(parseTolerance('0.5%')).toBeCloseTo(0.005, 12);
    expect(parseTolerance('0.005')).toBe(0.005);
    expect(parseTolerance(' 2 % ')).toBeCloseTo(0.02, 12);
    expect(parseTolerance('0')).toBe(0);
    expect(parseTolerance(0.01)).toBe(0.01);
    expect(parseTolerance('150%')).toBe(1.5);
  });
  it('refuses nonsense with a clear message', () => {
    expect(() => parseTolerance('abc')).toThrow(/invalid tolerance "abc"/);
    expect(() => parseTolerance('-1%')).toThrow(/invalid tolerance/);
    expect(() => parseTolerance('')).toThrow(/invalid tolerance/);
    expect(() => parseTolerance('5')).toThrow(/write 5% if you mean 5 percent/);
  });
});

describe('checkAgainstBaseline', () => {
  it('passes (exit 0) when every bpb is within tolerance, accepting the baseline as JSON text', () => {
    const current = [record([result('gzip:9', 2.9 * 1.004), result('xz:9', 2.0), result('zstd:19', 2.3)])];
    const check = checkAgainstBaseline(current, JSON.stringify(baseline), { tolerance: '0.5%' });
    expect(check.exitCode).toBe(0);
    expect(check.rows.map((r) => [r.compressor, r.status])).toEqual([
      ['gzip:9', 'ok'],
      ['xz:9', 'improved'],
      ['zstd:19', 'ok'],
    ]);
    expect(check.table).toContain('| input | compressor | seen | baseline bpb | current bpb | Δ% | status | note |');
    expect(check.table).toContain('| enwik8:test | xz:9 | ? | 2.1000 | 2.0000 | -4.76% | improved |  |');
    expect(check.message).toBe('compared 3, regressed 0, missing 0 (tolerance 0.50%)');
  });

  it('fails (exit 1) on purpose with a diff table naming the regression', () => {
    const current = [record([result('gzip:9', 2.9), result('xz:9', 2.1 * 1.006), result('zstd:19', 2.3)])];
    const check = checkAgainstBaseline(current, baseline, { tolerance: 0.005 });
    expect(check.exitCode).toBe(1);
    expect(check.table).toMatch(/\| enwik8:test \| xz:9 \| \? \| 2\.1000 \| 2\.1126 \| \+0\.60% \| \*\*REGRESSED\*\* \|/);
    expect(check.message.split('\n')[0]).toMatch(/^1 regression against the baseline \(tolerance 0\.50%\): enwik8:test × xz:9$/);
    // The same run passes with a looser tolerance.
    expect(checkAgainstBaseline(current, baseline, { tolerance: '1%' }).exitCode).toBe(0);
  });

  it('treats a newly failing result as a regression, and new rows as none', () => {
    const current = [record([
      result('gzip:9', NaN, { roundtrip: false, error: 'boom' }),
      result('xz:9', 2.1),
      result('brotli:11', 2.2),
    ])];
    const check = checkAgainstBaseline(current, baseline, { tolerance: '0.5%' });
    expect(check.exitCode).toBe(1);
    const status = Object.fromEntries(check.rows.map((r) => [r.compressor, r.status]));
    expect(status).toEqual({ 'gzip:9': 'failed', 'xz:9': 'ok', 'brotli:11': 'new', 'zstd:19': 'missing' });
    expect(check.rows.find((r) => r.compressor === 'gzip:9')?.note).toBe('error: boom');
  });

  it('fails when a baseline row did not run, unless --allow-missing', () => {
    const current = [record([result('gzip:9', 2.0), result('xz:9', 2.1), result('brotli:11', 2.2)])];
    const check = checkAgainstBaseline(current, baseline, { tolerance: '0.5%' });
    expect(check.exitCode).toBe(1);
    expect(check.message).toContain('1 baseline row missing from the run: enwik8:test × zstd:19');
    expect(check.message).toContain('compared 2, regressed 0, missing 1');
    const allowed = checkAgainstBaseline(current, baseline, { tolerance: '0.5%', allowMissing: true });
    expect(allowed.exitCode).toBe(0);
    expect(allowed.message).not.toContain('missing from the run');
  });

  it('matches by input name when the slice hash differs, and says so', () => {
    const moved = { ...INPUT, sliceSha256: 'b'.repeat(64) };
    const current = [record([result('xz:9', 2.1, { input: moved })])];
    const check = checkAgainstBaseline(current, baseline, { tolerance: '0.5%', allowMissing: true });
    expect(check.exitCode).toBe(0);
    expect(check.rows[0]).toMatchObject({ compressor: 'xz:9', status: 'ok', note: 'matched by name: input bytes differ' });
  });

  it('exits 2 on an unusable baseline and says which problem it is', () => {
    const current = [record([result('xz:9', 2.1)])];
    const cases: Array<[unknown, RegExp]> = [
      ['{ not json', /baseline is not parseable JSON/],
      ['', /baseline is empty/],
      [{ ...baseline, recordVersion: 0 }, /baseline has recordVersion 0; this build reads recordVersion 1/],
      [{ hello: 'world' }, /baseline is not a RunRecord \(no recordVersion\)/],
      [{ ...baseline, results: 'nope' }, /baseline has no results array/],
      [{ ...baseline, results: [{ compressor: 'x' }] }, /results\[0\] lacks compressor, bitsPerByte or input/],
      [record([result('gzip:9', 2.9, { input: { ...INPUT, name: 'other', sliceSha256: 'c'.repeat(64) } })]), /no \(input, compressor\) rows in common with this run: baseline has other × gzip:9; this run has enwik8:test × xz:9/],
    ];
    for (const [bad, reason] of cases) {
      const check = checkAgainstBaseline(current, bad, { tolerance: '0.5%' });
      expect(check.exitCode, String(reason)).toBe(2);
      expect(check.message).toMatch(reason);
    }
  });

  it('reads JSON Lines and arrays of records; the latest result of a pair wins', () => {
    const older = record([result('xz:9', 2.5)]);
    const jsonl = `${JSON.stringify(older)}\n${JSON.stringify(baseline)}\n`;
    const check = checkAgainstBaseline([record([result('xz:9', 2.2)])], jsonl, { tolerance: '0.5%' });
    expect(check.exitCode).toBe(1);
    expect(check.rows.find((r) => r.compressor === 'xz:9')).toMatchObject({ aBpb: 2.1, bBpb: 2.2, status: 'regressed' });
    expect(checkAgainstBaseline([record([result('xz:9', 2.1)])], [older, baseline], { tolerance: 0, allowMissing: true }).exitCode).toBe(0);
  });
});

describe('compareRecords for dtypes of one model', () => {
  const model = (dtype: string) => ({ id: 'Xenova/gpt2', weightsSha256: dtype.repeat(64).slice(0, 64), tokenizerSha256: 'd'.repeat(64), dtype, device: 'cpu', weightsBytes: 1 });
  const run = (dtype: string, bpb: number) => record([result(`lm:gpt2:${dtype}`, bpb, { family: 'lm', model: model(dtype) })]);

  it('lines up fp32 against q8 and q4 by model id and labels the dtype change', () => {
    const fp32 = run('fp32', 1.3);
    for (const [dtype, bpb, delta] of [['q8', 1.3065, '+0.50%'], ['q4', 1.43, '+10.00%']] as const) {
      const cmp = compareRecords(fp32, run(dtype, bpb), { matchBy: 'model', labels: ['fp32', dtype] });
      expect(cmp.overlapping).toBe(1);
      expect(cmp.rows[0]).toMatchObject({ compressor: 'Xenova/gpt2', aBpb: 1.3, bBpb: bpb, note: `dtype fp32 → ${dtype}` });
      expect(cmp.table).toContain(`| input | compressor | seen | fp32 bpb | ${dtype} bpb | Δ% | status | note |`);
      expect(cmp.table).toContain(`| ${delta} |`);
    }
    // Matched by compressor name instead, differently named dtypes do not line up.
    expect(compareRecords(fp32, run('q8', 1.31)).overlapping).toBe(0);
  });
});
