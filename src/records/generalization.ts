/**
 * The generalization view of a run: which results were on training data (`seen`, from the
 * model's card), the memorisation signal `lmZlibRatio`, and the gap between a model's bits on
 * held-out and on training inputs. Compression measures generalisation only on data the model
 * has not seen; on its training data it measures memorisation (Carlini et al. 2021 use the same
 * LM/zlib ratio as a membership signal; here it comes from a real coded stream).
 */
import { dirname } from 'node:path';
import zlib from 'node:zlib';
import { findCard, seenBy, stepFromName, type FoundCard } from './model-card.js';
import type { GapRecord, InputRecord, ResultRecord } from './run-record.js';

export type { GapRecord };

/** What the card (and the folder) say about one loaded model. */
export interface ModelFacts {
  card: FoundCard | null;
  /** The model has no weights (order-k): it was trained on nothing. */
  weightless: boolean;
  parameters?: number;
  step?: number;
}

const factsCache = new Map<string, ModelFacts>();

/** Card beside the weights (their folder or its parent: `DIR/onnx/model.onnx`), else the registry's. */
/** The parts of a model's identity (step/language-model.ts) the facts read; records sit below step. */
export interface ModelFiles {
  weightsSha256: string;
  files: string[];
  /** Filled by the backend that loaded the weights (counted from the graph by the ONNX backend). */
  parameters?: number;
}

export function modelFacts(identity: ModelFiles): ModelFacts {
  const weights = identity.files[0];
  const key = `${weights ?? ''}\0${identity.weightsSha256}`;
  const cached = factsCache.get(key);
  if (cached) return cached;
  let facts: ModelFacts;
  if (!weights) {
    facts = { card: null, weightless: true };
  } else {
    const dirs = [dirname(weights), dirname(dirname(weights))];
    const card = dirs.map((d) => findCard(d, identity.weightsSha256, [])).find((c) => c) ?? findCard(undefined, identity.weightsSha256);
    const step = card?.card.step ?? stepFromName(dirname(dirname(weights))) ?? stepFromName(dirname(weights));
    const parameters = card?.card.parameters ?? identity.parameters;
    facts = { card, weightless: false, ...(parameters ? { parameters } : {}), ...(step !== null && step !== undefined ? { step } : {}) };
  }
  factsCache.set(key, facts);
  return facts;
}

/** zlib's deflate at level 9 (gzip -9's stream), without gzip's 18 bytes of header and trailer. */
export function deflate9Bytes(bytes: Uint8Array): number {
  return zlib.deflateRawSync(bytes, { level: 9 }).length;
}

/** `seen` for one result's input under the model's facts. */
export function seenFor(facts: ModelFacts | null, input: InputRecord): boolean | null {
  if (!facts) return false; // a classic compressor: no training data
  if (facts.weightless) return false;
  return seenBy(facts.card?.card ?? null, input).seen;
}

/**
 * LM coded bits ÷ gzip -9 bits on the same bytes, both as coded streams without their fixed
 * framing (the LM's range-coded payload without the container header; gzip -9's raw deflate
 * stream without its header and trailer), so the ratio does not drift with slice length through
 * header bytes. Low on training data the model memorised, where gzip finds no such regularity.
 * Null for an empty input.
 */
export function lmZlibRatio(lmPayloadBytes: number, deflateBytes: number, inputBytes: number): number | null {
  return inputBytes === 0 || deflateBytes === 0 ? null : lmPayloadBytes / deflateBytes;
}


const pooled = (rs: ResultRecord[]) => {
  const bytes = rs.reduce((a, r) => a + r.inputBytes, 0);
  return bytes ? (8 * rs.reduce((a, r) => a + r.outputBytes, 0)) / bytes : null;
};

/** Per LM (compressor + weights): pooled bits/byte on seen and unseen inputs and their gap. */
export function generalizationGaps(results: ResultRecord[]): GapRecord[] {
  const groups = new Map<string, ResultRecord[]>();
  for (const r of results) {
    if (!r.model || !r.roundtrip || r.error) continue;
    const key = `${r.compressor}\0${r.model.weightsSha256}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: GapRecord[] = [];
  for (const rs of groups.values()) {
    const seen = rs.filter((r) => r.seen === true);
    const unseen = rs.filter((r) => r.seen === false);
    if (!seen.length && !unseen.length) continue;
    const s = pooled(seen);
    const u = pooled(unseen);
    out.push({
      compressor: rs[0].compressor,
      weightsSha256: rs[0].model!.weightsSha256,
      seenBitsPerByte: s,
      unseenBitsPerByte: u,
      seenInputs: seen.length,
      unseenInputs: unseen.length,
      gap: s !== null && u !== null ? u - s : null,
    });
  }
  return out;
}

/** "seen" / "unseen" / "?" for tables. */
export function seenLabel(seen: boolean | null | undefined): string {
  return seen === true ? 'seen' : seen === false ? 'unseen' : '?';
}

/**
 * ROC AUC of a membership score where LOWER means "seen" (as for lmZlibRatio): the probability
 * that a random seen input scores below a random unseen one, ties counting half. Null without both.
 */
export function rocAuc(seenScores: number[], unseenScores: number[]): number | null {
  if (!seenScores.length || !unseenScores.length) return null;
  let wins = 0;
  for (const s of seenScores) for (const u of unseenScores) wins += s < u ? 1 : s === u ? 0.5 : 0;
  return wins / (seenScores.length * unseenScores.length);
}
