/** A fixed, synthetic RunRecord envelope for report and gate tests (results supplied by each test). */
import { RECORD_VERSION, type ResultRecord, type RunRecord } from '../../src/records/run-record.js';

export function syntheticRecord(results: ResultRecord[], argv: string[] = ['run', 'enwik8:test']): RunRecord {
  return {
    recordVersion: RECORD_VERSION,
    startedAt: '2025-01-02T03:04:05.000Z',
    harness: { name: 'compress-bench', version: '0.1.0', gitCommit: '0123456789abcdef' },
    environment: { node: 'v20.20.2', onnxruntime: '1.30.0', platform: 'linux', arch: 'x64', cpu: 'Test CPU', cpuCount: 16, gpu: null },
    argv,
    results,
  };
}
