/**
 * Inputs of a joint run: files, registered corpora (via `resolveInput`) or npm datasets
 * (`npm:sotu`), each cut to its first `limit` bytes, with a short display name for tables.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveInput } from '../corpora/index.js';
import { isNpmDatasetSpec, materializeNpmDataset } from '../corpora/npm-datasets.js';
import { readInputBytes } from '../runner/inputs.js';

export interface JointInputRecord {
  /** Short display name (file base name, corpus or `npm:` spec), unique within a run. */
  name: string;
  /** As given on the command line. */
  spec: string;
  source: 'file' | 'corpus' | 'npm';
  path: string;
  /** Bytes used: the first `limit` bytes of the range. */
  bytes: number;
  fileBytes: number;
  offset: number;
  sliceSha256: string;
  corpus?: string;
  /** npm datasets: package@version, license and how the text was built. */
  provenance?: string;
  /** Set when the input is known training data of a shipped model: its LM figures measure memorisation. */
  trainingData?: string;
}

export interface JointInput {
  name: string;
  bytes: Uint8Array;
  record: JointInputRecord;
}

/** `limit`: bytes per input, null for whole inputs. */
export async function loadJointInputs(specs: readonly string[], limit: number | null, datasetsDir?: string): Promise<JointInput[]> {
  const loaded: Omit<JointInputRecord, 'name'>[] = [];
  const data: Uint8Array[] = [];
  for (const spec of specs) {
    if (isNpmDatasetSpec(spec) && !existsSync(spec)) {
      const ds = await materializeNpmDataset(spec, datasetsDir);
      const { bytes, record } = await readInputBytes(ds.path, { limit, name: spec });
      data.push(bytes);
      loaded.push({
        spec, source: 'npm', path: ds.path, bytes: bytes.length, fileBytes: record.fileBytes, offset: 0, sliceSha256: record.sliceSha256,
        provenance: ds.provenance, ...(ds.dataset.trainingData ? { trainingData: ds.dataset.trainingData } : {}),
      });
      continue;
    }
    if (existsSync(spec)) {
      const { bytes, record } = await readInputBytes(spec, { limit });
      data.push(bytes);
      loaded.push({ spec, source: 'file', path: spec, bytes: bytes.length, fileBytes: record.fileBytes, offset: 0, sliceSha256: record.sliceSha256 });
      continue;
    }
    const r = await resolveInput(spec);
    const { bytes, record } = await readInputBytes(r.path, { offset: r.offset, limit: Math.min(r.length, limit ?? Infinity), name: r.name, corpus: r.corpus });
    data.push(bytes);
    loaded.push({
      spec, source: 'corpus', path: r.path, bytes: bytes.length, fileBytes: record.fileBytes, offset: r.offset, sliceSha256: record.sliceSha256,
      ...(r.corpus ? { corpus: r.corpus } : {}),
    });
  }
  const names = displayNames(loaded.map((l) => l));
  return loaded.map((l, i) => ({ name: names[i], bytes: data[i], record: { name: names[i], ...l } }));
}

/** Base names for files when they are unique, else the spec as given; duplicates are an error. */
function displayNames(inputs: { spec: string; source: string }[]): string[] {
  const short = inputs.map((x) => (x.source === 'file' ? basename(x.spec) : x.spec));
  const names = short.map((s, i) => (short.indexOf(s) === short.lastIndexOf(s) ? s : inputs[i].spec));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`input ${dup} is given twice: every input of a joint run must be distinct`);
  return names;
}
