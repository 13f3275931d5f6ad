/** The real `compress-bench` binary with real models: the embedded default and gpt2-docmix-7m from ../shared. */
import { describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAVE_SHARED, SHARED_MODELS, SMALL_MODEL, SNAPPY } from './helpers/shared.js';
import { oneLine, runCli as run, tmp } from './helpers/cli.js';

describe('main job', () => {
  test('without --model the embedded model runs (offline, no ../shared needed)', async () => {
    const r = await run(['corpora/samples/gpl-3.0.txt', '--limit', '1500', '--baselines', 'gzip:9,zstd:19', '--no-record']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/lm:embedded .* ✓/);
    expect(r.stdout).toMatch(/gzip:9 .* ✓/);
  });
});

describe('bad input: one line on stderr, exit 2', () => {
  test.skipIf(!HAVE_SHARED)('a model folder without a causal LM head', async () => {
    const dir = tmp();
    const model = join(dir, 'encoder-only');
    mkdirSync(join(model, 'onnx'), { recursive: true });
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      copyFileSync(join(SHARED_MODELS, SMALL_MODEL, f), join(model, f));
    }
    const r = await run(['--model', model, 'package.json', '--no-record']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/causal LM/);
    expect(oneLine(r.stderr)).toBe(true);
  });

  test.skipIf(!HAVE_SHARED || existsSync('/dev/nvidia0'))('--device cuda on a machine without CUDA fails clearly', async () => {
    const r = await run(['--model', SMALL_MODEL, '--model-dir', SHARED_MODELS, '--device', 'cuda', 'package.json', '--no-record']);
    expect(r.code).toBe(2);
    // The backend names the setting (device); the CLI names its flag.
    expect(r.stderr).toMatch(/^compress-bench: --device cuda: the CUDA execution provider is not (installed|available here)/);
    expect(oneLine(r.stderr)).toBe(true);
  });
});

describe('compress / decompress', () => {
  test.skipIf(!HAVE_SHARED)('a GPT-2 archive decodes with the model named in its header, and refuses another', async () => {
    const dir = tmp();
    const input = join(dir, 'in.txt');
    writeFileSync(input, readFileSync(join(SNAPPY, 'alice29.txt')).subarray(0, 1500));
    // Different onnxruntime thread counts on the two sides must not change the probabilities.
    const c = await run(['compress', '--model', SMALL_MODEL, '--model-dir', SHARED_MODELS, '--threads', '1', input, '-o', join(dir, 'a.cbz')]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/bits\/byte/);
    const d = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'out.txt'), '--model-dir', SHARED_MODELS, '--threads', '2']);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.txt')).equals(readFileSync(input))).toBe(true);
    const m = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'o2'), '--model', 'gpt2-docmix-16m', '--model-dir', SHARED_MODELS]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/archive was made with model gpt2-docmix-7m .* weights: archive expects 099fd18d/);
    const missing = await run(['decompress', join(dir, 'a.cbz'), '-o', join(dir, 'o3')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/unknown model "gpt2-docmix-7m": not found offline; looked for .*--model-dir/);
  });
});

describe('the archiver never expands', () => {
  test.skipIf(!HAVE_SHARED)('random bytes and CRLF lines: at most 9 bytes over the input, and they come back', async () => {
    const dir = tmp();
    const cases = {
      'random.bin': Uint8Array.from({ length: 3000 }, (_, i) => (i * 2654435761) >>> 24),
      'crlf.txt': new TextEncoder().encode('a\r\n'.repeat(1000)),
      'utf16.txt': Buffer.from('Plain English text, stored as UTF-16 little-endian. '.repeat(30), 'utf16le'),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const input = join(dir, name);
      writeFileSync(input, bytes);
      const c = await run(['compress', '-m', SMALL_MODEL, '--model-dir', SHARED_MODELS, input, '-o', `${input}.cb`]);
      expect(c.code, c.stderr).toBe(0);
      expect(readFileSync(`${input}.cb`).length).toBeLessThanOrEqual(bytes.length + 9);
      const d = await run(['decompress', `${input}.cb`, '-o', `${input}.out`, '--model-dir', SHARED_MODELS]);
      expect(d.code, d.stderr).toBe(0);
      expect(readFileSync(`${input}.out`).equals(Buffer.from(bytes))).toBe(true);
    }
    // The random bytes were stored, and the message says why.
    const again = await run(['compress', '-m', SMALL_MODEL, '--model-dir', SHARED_MODELS, join(dir, 'random.bin'), '-o', join(dir, 'r2.cb')]);
    expect(again.stderr).toMatch(/stored: the model's \d+-byte code, [\d.]+ bits\/byte, was larger than the input/);
  });
});
