/**
 * Benchmark suites as registry data (`suites/*.json`): a named set of inputs and the protocol
 * (context, prime, segments, chunk size, optional sample) that makes figures comparable. Two
 * results are pooled on a leaderboard only when they share a suite name AND a protocol hash, so
 * a sampled run, or one under another context, never mixes with whole-file runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../common/hash.js';

/** One input: a registered corpus or split (`canterbury/alice29.txt`, `enwik8:test`), an npm dataset (`npm:brown`), or a file under a data dir. */
export interface SuiteInput {
  /** Corpus spec or `npm:` dataset; exclusive with `file`. */
  input?: string;
  /** A file name under a data dir (`--data-dir`, COMPRESS_BENCH_DATA_DIR). */
  file?: string;
  /** Byte range of the input (a slice); default the whole input. */
  offset?: number;
  limit?: number;
  /** What the model cards say about this input: model name → seen (training data) / unseen / unknown. */
  seen?: Record<string, 'seen' | 'unseen' | 'unknown'>;
}

/**
 * The rule every run of the suite follows. Fixed numbers only, never "what the machine can
 * afford": `segments` is per chunk, so a run's bytes do not depend on the device or its batch.
 */
export interface Protocol {
  /** Context window in tokens; null: the model's own maximum. */
  context: number | null;
  /** Tokens kept when the window slides; null: half the context. */
  prime: number | null;
  /** Independent segments per chunk (1: one stream per chunk). */
  segments: number;
  /** Inputs are coded as independent chunks of this many bytes; null: one chunk per input. */
  chunk: number | null;
  /** Only the first `sample` bytes of each input (after its slice); null: whole inputs. */
  sample: number | null;
}

export interface PublishedFigure {
  compressor: string;
  input: string;
  /** Compressed size in bytes (with the decompressor when `includesDecompressor`). */
  bytes?: number;
  bitsPerByte?: number;
  includesDecompressor?: boolean;
  source: string;
  note?: string;
}

export interface Suite {
  name: string;
  description: string;
  inputs: SuiteInput[];
  protocol: Omit<Protocol, 'sample'> & { sample?: number | null };
  baselines: string;
  /** Figures from the literature: labelled "published, not measured here", never pooled. */
  published?: PublishedFigure[];
  /** The file it was read from. */
  path?: string;
}

export class SuiteError extends Error {}

export const REPO_SUITES_DIR = fileURLToPath(new URL('../../suites', import.meta.url));

/** Suite folders: COMPRESS_BENCH_SUITES (colon-separated) first, then the repo's `suites/`. */
export function suiteDirs(env: NodeJS.ProcessEnv = process.env, extra: string[] = []): string[] {
  return [...extra, ...(env.COMPRESS_BENCH_SUITES ?? '').split(':').filter(Boolean), REPO_SUITES_DIR];
}

const whole = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Parse and validate a suite file; one line naming the file and the problem. */
export function parseSuite(text: string, path: string): Suite {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SuiteError(`suite ${path}: not JSON (${(e as Error).message})`);
  }
  const s = raw as Suite;
  const bad = (why: string) => new SuiteError(`suite ${path}: ${why}`);
  if (typeof s !== 'object' || s === null) throw bad('not an object');
  if (typeof s.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(s.name)) throw bad('"name" must be lowercase letters, digits, . _ -');
  if (typeof s.description !== 'string') throw bad('"description" must be a string');
  if (!Array.isArray(s.inputs) || s.inputs.length === 0) throw bad('"inputs" must be a non-empty array');
  s.inputs.forEach((i, n) => {
    if ((typeof i.input === 'string') === (typeof i.file === 'string')) throw bad(`inputs[${n}]: give exactly one of "input" (corpus or npm: dataset) and "file"`);
    if (i.offset !== undefined && !whole(i.offset, 0)) throw bad(`inputs[${n}].offset must be a whole number ≥ 0`);
    if (i.limit !== undefined && !whole(i.limit, 1)) throw bad(`inputs[${n}].limit must be a whole number ≥ 1`);
  });
  const p = s.protocol;
  if (typeof p !== 'object' || p === null) throw bad('missing "protocol" ({ context, prime, segments, chunk, sample? })');
  if (p.context !== null && !whole(p.context, 2)) throw bad('protocol.context must be null (model maximum) or tokens ≥ 2');
  if (p.prime !== null && !whole(p.prime, 0)) throw bad('protocol.prime must be null (half the context) or tokens ≥ 0');
  if (p.context !== null && p.prime !== null && p.prime >= p.context) throw bad('protocol.prime must be below protocol.context');
  if (!whole(p.segments, 1)) throw bad('protocol.segments must be a whole number ≥ 1 (per chunk; never "auto", which depends on the device)');
  if (p.chunk !== null && !whole(p.chunk, 1)) throw bad('protocol.chunk must be null (whole inputs) or bytes ≥ 1');
  if (p.sample !== undefined && p.sample !== null && !whole(p.sample, 1)) throw bad('protocol.sample must be null or bytes ≥ 1');
  if (typeof s.baselines !== 'string') throw bad('"baselines" must be a baselines spec such as gzip:9,zstd:19');
  for (const f of s.published ?? []) if (typeof f.source !== 'string' || !f.source) throw bad(`published figure ${f.compressor}: needs a "source"`);
  const names = s.inputs.map(inputLabel);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw bad(`input ${twice} is listed twice`);
  return { ...s, path };
}

/** What a suite's input is called in tables: the spec, with its byte range when it is a slice. */
export function inputLabel(i: SuiteInput): string {
  const base = i.input ?? i.file!;
  return i.offset !== undefined || i.limit !== undefined ? `${base}[${i.offset ?? 0}:${i.limit !== undefined ? (i.offset ?? 0) + i.limit : ''}]` : base;
}

export function loadSuites(dirs: string[] = suiteDirs()): Suite[] {
  const out = new Map<string, Suite>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const suite = parseSuite(readFileSync(join(dir, f), 'utf8'), join(dir, f));
      if (!out.has(suite.name)) out.set(suite.name, suite); // earlier folders win
    }
  }
  return [...out.values()];
}

export function findSuite(name: string, dirs: string[] = suiteDirs()): Suite {
  const suites = loadSuites(dirs);
  const s = suites.find((x) => x.name === name);
  if (!s) throw new SuiteError(`no suite named ${name} (suites: ${suites.map((x) => x.name).join(', ')})`);
  return s;
}

/** The protocol a run follows: the suite's, with a sample asked for on the command line (which must not exceed the suite's own). */
export function protocolOf(suite: Suite, sample?: number): Protocol {
  const own = suite.protocol.sample ?? null;
  if (sample !== undefined && own !== null && sample > own) throw new SuiteError(`--sample ${sample}: suite ${suite.name} already samples ${own} bytes per input; give at most that`);
  return { context: suite.protocol.context, prime: suite.protocol.prime, segments: suite.protocol.segments, chunk: suite.protocol.chunk, sample: sample ?? own };
}

/**
 * The identity of "the same measurement": the suite's inputs (as specified) and the protocol,
 * in a fixed key order. Descriptions, seen labels and published figures are not part of it.
 */
export function protocolHash(suite: Suite, protocol: Protocol): string {
  const inputs = suite.inputs.map((i) => [i.input ?? null, i.file ?? null, i.offset ?? 0, i.limit ?? null]);
  const p = [protocol.context, protocol.prime, protocol.segments, protocol.chunk, protocol.sample];
  return sha256(JSON.stringify({ suite: suite.name, inputs, protocol: p })).slice(0, 16);
}

/** `context model max · prime half · 1 segment per 65,536-byte chunk · first 4,096 bytes`. */
export function describeProtocol(p: Protocol): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    p.context === null ? 'context: model maximum' : `context ${n(p.context)} tokens`,
    p.prime === null ? 'prime: half the context' : `prime ${n(p.prime)} tokens`,
    `${p.segments} segment${p.segments === 1 ? '' : 's'} per ${p.chunk === null ? 'input' : `${n(p.chunk)}-byte chunk`}`,
    p.sample === null ? 'whole inputs' : `sample: first ${n(p.sample)} bytes of each input`,
  ].join(' · ');
}

/** What a run record says about the suite it ran (RunRecord.suite). */
export interface SuiteRunRecord {
  name: string;
  protocolHash: string;
  protocol: Protocol;
  /** Input labels in suite order. */
  inputs: string[];
}
