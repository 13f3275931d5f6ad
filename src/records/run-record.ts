/**
 * `RunRecord`: everything needed to reproduce and compare one run. Reports, tables and the
 * `check` gate read nothing else. Bump RECORD_VERSION on any breaking change of shape.
 */
import type { SuiteRunRecord } from '../suites/suite.js';

export const RECORD_VERSION = 1;

export interface RunRecord {
  recordVersion: number;
  /** ISO 8601 start time. */
  startedAt: string;
  harness: { name: 'compress-bench'; version: string; gitCommit: string | null };
  /** Where the run ran. A merged record: shard 0's, with every shard's in `shards`. */
  environment: RunEnvironment & {
    /**
     * A merged record (`merge`): each shard's environment, by shard index, its `runtimes` those
     * its chunks ran on; shards of one run may have run on different machines. Absent elsewhere.
     */
    shards?: ({ index: number } & RunEnvironment)[];
  };
  /** The command line that produced this record (argv after `compress-bench`). */
  argv: string[];
  /** False while a run is in progress (records are saved after every result); `--resume` continues it. */
  complete?: boolean;
  /**
   * Peak resident memory of the process that made the record (the largest over its resumes; over
   * its shards once merged), in bytes: what a chunked run promises to bound.
   */
  peakRssBytes?: number;
  /**
   * One entry per whole input × compressor. In a chunked or sharded run, each is the sum over
   * that input's chunks (made once all of them are in this record); a partial shard record
   * may therefore have fewer results than `work` names, or none.
   */
  results: ResultRecord[];
  /** Per LM run on both training and held-out inputs: pooled bits/byte of each and the gap (src/records/generalization.ts). */
  generalization?: GapRecord[];
  /** `--series params|step`: the axis the run's models form a series along. */
  series?: SeriesAxis;
  /** `suite NAME`: the suite and the protocol (hash) it ran under; the leaderboard pools only like with like. */
  suite?: SuiteRunRecord;
  /** Chunked or sharded runs: what the whole run covers (identical in every shard of it). */
  work?: WorkRecord;
  /** `--shard I/N`: this record holds only the I-th of N parts of `work` (0-based). */
  shard?: { index: number; count: number };
  /** Chunked or sharded runs: one verified result per input × chunk × compressor, saved as each finishes. */
  chunks?: ChunkResult[];
}

/** The machine and software a run (or one shard of it) ran on. */
export interface RunEnvironment {
  node: string;
  /** The machine's host name; absent in records made before it was recorded. */
  host?: string;
  /**
   * The runtime packages the run's models ran on and their versions, as their backends
   * declared them (`{ "onnxruntime-node": "1.30.0" }`, `{ "node-llama-cpp": "3.21.1", … }`);
   * empty for baselines only. Read it with `runtimesOf`, which also reads older records.
   */
  runtimes?: Record<string, string>;
  /** Records before `runtimes`: onnxruntime-node's version, whatever ran (read through `runtimesOf`). */
  onnxruntime?: string | null;
  platform: string;
  arch: string;
  cpu: string;
  cpuCount: number;
  gpu: string | null;
}

/**
 * The whole work of a chunked or sharded run: inputs split into chunks of `chunkSize` bytes
 * (null: one chunk per input), each coded by every compressor. Units are numbered input by
 * input, chunk by chunk, compressor by compressor; shard I of N takes units I, I+N, I+2N, …
 */
export interface WorkRecord {
  chunkSize: number | null;
  inputs: { name: string; sliceSha256: string; bytes: number; chunks: number }[];
  /** Name and everything that changes the bytes: settings (with `chunk`) and model hashes. */
  compressors: { name: string; settings: Record<string, unknown>; model?: Pick<ModelRecord, 'id' | 'weightsSha256' | 'tokenizerSha256' | 'dtype' | 'runtime'> }[];
}

/** A result for one chunk: `input` is the whole input's record, `chunk` says which part of it. */
export interface ChunkResult extends ResultRecord {
  chunk: {
    index: number;
    count: number;
    /** Byte offset of the chunk within the input slice. */
    offset: number;
    sha256: string;
  };
}

export type SeriesAxis = 'params' | 'step';

/** One compressor on one input. */
export interface ResultRecord {
  compressor: string;
  family: string;
  settings: Record<string, unknown>;
  /** Model identity for LM compressors (absent for classic ones). */
  model?: ModelRecord;
  /** The input's display name (= input.name), kept flat for `--json` consumers. */
  file: string;
  input: InputRecord;
  inputBytes: number;
  /** Size of the actual coded stream/archive, container header included. */
  outputBytes: number;
  /** 8 · outputBytes / inputBytes; null for an empty input (there is no rate to report). */
  bitsPerByte: number | null;
  /** Σ −log2 p / inputBytes, reported beside the coded figure, never instead of it (null when empty). */
  idealBitsPerByte?: number | null;
  idealBits?: number;
  tokens?: number;
  /** LM: input bytes coded as single-byte tokens because the tokenizer could not reproduce them (~0 on plain text). */
  byteFallbackBytes?: number;
  encodeSeconds: number;
  decodeSeconds: number;
  /** encodeSeconds + decodeSeconds. */
  seconds: number;
  /** Byte-exact round trip verified. */
  roundtrip: boolean;
  /** A failed round trip: both lengths and the first differing byte (runner/run.ts `describeMismatch`). */
  roundtripFailure?: string;
  /**
   * Was the input training data of the model? true / false / null (unknown), from the model's
   * card (src/records/model-card.ts); false for compressors without training data (classic, order-k).
   * Absent only in records written before it existed: read as null.
   */
  seen?: boolean | null;
  /** LM: coded payload bits ÷ gzip -9 deflate bits on the same bytes, framing excluded; low on memorised text (null for an empty input). */
  lmZlibRatio?: number | null;
  decompressor: { bytes: number; source: string };
  /** Hutter-style: outputBytes + decompressor bytes, and bpb of that total. */
  totalBytes: number;
  totalBitsPerByte: number | null;
  timing?: Record<string, number>;
  codec?: Record<string, unknown>;
  error?: string;
  /** A sum over chunks (`--chunk`, `--shard`): the chunk size (null: whole input) and how many were summed. */
  chunks?: { size: number | null; count: number };
}

export interface ModelRecord {
  id: string;
  weightsSha256: string;
  tokenizerSha256: string;
  dtype: string;
  device: string;
  /** e.g. `onnxruntime-node 1.30.0 cpu`: floating point is only promised equal on the same one. */
  runtime?: string;
  /** The runtime packages and versions the backend declared (`ModelIdentity.runtimes`). */
  runtimes?: Record<string, string>;
  /** From the card, the runtime, or counted from the weights' tensors. */
  parameters?: number;
  weightsBytes: number;
  /** Training step of a checkpoint: the card's `step`, else from the folder name (`checkpoint-1200`, `step-001200`). */
  step?: number;
  /** The model card used for `seen` (path), when one was found. */
  card?: string;
}

export interface InputRecord {
  /** Display name: file path or `corpus:split`. */
  name: string;
  path?: string;
  corpus?: string;
  /** SHA-256 of the whole source file and of the slice actually compressed. */
  fileSha256: string;
  sliceSha256: string;
  fileBytes: number;
  offset: number;
  limit: number | null;
}

/** One LM's pooled bits/byte on seen and unseen inputs (computed by records/generalization.ts). */
export interface GapRecord {
  compressor: string;
  weightsSha256: string;
  /** Pooled over the inputs of each kind: Σ 8·outputBytes / Σ inputBytes. */
  seenBitsPerByte: number | null;
  unseenBitsPerByte: number | null;
  seenInputs: number;
  unseenInputs: number;
  /** unseen − seen bits/byte: how much better the model codes its training data. Null unless both ran. */
  gap: number | null;
}

/** A record's runtimes map; a record from before the map names onnxruntime-node alone (written for every run then). */
export function runtimesOf(environment: RunEnvironment): Record<string, string> {
  if (environment.runtimes) return environment.runtimes;
  return environment.onnxruntime ? { 'onnxruntime-node': environment.onnxruntime } : {};
}
