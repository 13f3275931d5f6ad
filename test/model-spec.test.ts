/**
 * The one model-spec grammar (src/common/model-spec.ts), the records' runtimes map, and the
 * Compressor's conditional type guard: unit tests, no models.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelSpecError, formatModelSpec, parseModelSpec } from '../src/common/model-spec.js';
import { runtimesOf, type ResultRecord, type RunRecord } from '../src/records/run-record.js';
import { newRunRecord, saveRunRecord } from '../src/records/write.js';
import { isConditional, type Compressor } from '../src/compressors/compressor.js';
import { LmCompressor } from '../src/compressors/lm.js';
import { createOrderKModel } from '../src/models/order-k.js';
import { parseBaseline } from '../src/compressors/baselines.js';
import { SettingError } from '../src/common/setting-error.js';
import { cliMessage } from '../src/cli/setting-flags.js';
import { syntheticRecord } from './helpers/records.js';

describe('parseModelSpec', () => {
  test.each([
    [undefined, { kind: 'embedded' }],
    ['embedded', { kind: 'embedded' }],
    ['none', { kind: 'none' }],
    ['order-k', { kind: 'order-k', k: 3 }],
    ['order-k:5', { kind: 'order-k', k: 5 }],
    ['order-k:', { kind: 'named', name: 'order-k:' }],
    ['mix:gpt2-docmix-7m', { kind: 'mix', inner: { kind: 'named', name: 'gpt2-docmix-7m' } }],
    ['mix:order-k:2', { kind: 'mix', inner: { kind: 'order-k', k: 2 } }],
    ['mix:embedded', { kind: 'mix', inner: { kind: 'embedded' } }],
    ['Xenova/gpt2', { kind: 'named', name: 'Xenova/gpt2' }],
    ['./models/x.gguf', { kind: 'named', name: './models/x.gguf' }],
  ])('%s', (text, spec) => {
    expect(parseModelSpec(text)).toEqual(spec);
  });

  test.each(['mix:', 'mix:none', 'mix:mix:gpt2'])('%s names no model to mix', (text) => {
    expect(() => parseModelSpec(text)).toThrow(ModelSpecError);
  });

  test('formatModelSpec parses back', () => {
    for (const text of ['none', 'embedded', 'order-k:4', 'mix:order-k:1', 'mix:gpt2', 'some/folder']) expect(formatModelSpec(parseModelSpec(text))).toBe(text);
    expect(formatModelSpec(parseModelSpec('order-k'))).toBe('order-k:3');
  });
});

describe('records: environment.runtimes', () => {
  const result = (runtimes?: Record<string, string>) => ({ compressor: 'x', model: { id: 'm', runtimes } }) as unknown as ResultRecord;

  test('a record keeps the union of what the backends declared, and reads old records', async () => {
    const record = await newRunRecord(['x'], [result({ 'onnxruntime-node': '1.30.0' })]);
    expect(record.environment.runtimes).toEqual({ 'onnxruntime-node': '1.30.0' });
    expect('onnxruntime' in record.environment).toBe(false);
    const path = join(mkdtempSync(join(tmpdir(), 'cb-runtimes-')), 'r.json');
    await saveRunRecord({ ...record, results: [...record.results, result({ 'node-llama-cpp': '3.21.1', 'llama.cpp': 'b1' }), result()] }, path);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
    expect(runtimesOf(saved.environment)).toEqual({ 'llama.cpp': 'b1', 'node-llama-cpp': '3.21.1', 'onnxruntime-node': '1.30.0' });
    // Baselines only: no runtime at all.
    expect((await newRunRecord(['x'], [])).environment.runtimes).toEqual({});
    // A record from before the map: onnxruntime-node's version, as it was written then.
    expect(runtimesOf(syntheticRecord([]).environment)).toEqual({ 'onnxruntime-node': '1.30.0' });
  });
});

describe('Compressor boundary', () => {
  test('isConditional: the LM compressor is, a classic one is not; the model facts come through the interface', () => {
    const lm: Compressor = new LmCompressor(createOrderKModel(2));
    const gzip = parseBaseline('gzip:9');
    expect(isConditional(lm)).toBe(true);
    expect(isConditional(gzip)).toBe(false);
    expect(lm.modelIdentity?.id).toBe('order-k:2');
    expect(lm.tokenizer).toBeDefined();
    expect(gzip.modelIdentity).toBeUndefined();
  });

  test('a setting error names the setting below the CLI and the flag in it', () => {
    const e = new SettingError('contextShift', 'kv', 'gpt2 re-primes only');
    expect(e.message).toBe('contextShift kv: gpt2 re-primes only');
    expect(cliMessage(e)).toBe('--context-shift kv: gpt2 re-primes only');
    expect(cliMessage(new Error('plain'))).toBe('plain');
  });
});
