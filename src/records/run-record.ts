/**
 * `RunRecord`: everything needed to reproduce and compare one run. Reports, tables and the
 * `check` gate read nothing else. Bump RECORD_VERSION on any breaking change of shape.
 */
export const RECORD_VERSION = 1;

export interface RunRecord {
  recordVersion: number;
  /** ISO 8601 start time. */
  startedAt: string;
  harness: { name: 'compress-bench'; version: string; gitCommit: string | null };
  environment: {
    node: string;
    onnxruntime: string | null;
    platform: string;
    arch: string;
    cpu: string;
    cpuCount: number;
    gpu: string | null;
  };
  /** The command line that produced this record (argv after `compress-bench`). */
  argv: string[];
  /** False while a run is in progress (records are saved after every result); `--resume` continues it. */
  complete?: boolean;
  results: ResultRecord[];
}

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
  decompressor: { bytes: number; source: string };
  /** Hutter-style: outputBytes + decompressor bytes, and bpb of that total. */
  totalBytes: number;
  totalBitsPerByte: number | null;
  timing?: Record<string, number>;
  codec?: Record<string, unknown>;
  error?: string;
}

export interface ModelRecord {
  id: string;
  weightsSha256: string;
  tokenizerSha256: string;
  dtype: string;
  device: string;
  /** e.g. `onnxruntime-node 1.30.0 cpu`: floating point is only promised equal on the same one. */
  runtime?: string;
  parameters?: number;
  weightsBytes: number;
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
