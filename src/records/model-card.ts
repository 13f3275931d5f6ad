/**
 * Model cards: what a model was trained on, so every result can say whether its input was
 * training data (`seen: true`), known held-out data (`false`) or unknown (`null`).
 *
 * A card is a small JSON file (schema below), found
 *   1. beside the model: `<model folder>/card.json` (or `training-data.json`), else
 *   2. in a registry keyed by the weights' SHA-256: `<registry>/<weightsSha256>.json`
 *      (`models/cards/` in this repo, plus `COMPRESS_BENCH_CARDS`, colon-separated).
 * No model is special-cased: the shared docmix models have registry cards like any other.
 *
 * Matching rule (`seenBy`), first hit wins:
 *   - `trainedOn.corpora` names the input's corpus (`input.corpus`, e.g. `npm:brown`,
 *     `snappy/alice29.txt`): exact, or a `*` glob (`snappy/*`) → true. Any slice of a corpus
 *     that was trained on counts as seen.
 *   - `trainedOn.sha256` holds the input's whole-file SHA-256 (any slice of it is seen) or its
 *     slice SHA-256 (exactly these bytes were trained on) → true.
 *   - the same two tests against `heldOut` → false.
 *   - `trainedOn.complete: true` (the card lists all training data) → false.
 *   - otherwise null. No card → null.
 * Plain file paths are never matched by name, only by hash: a path says nothing about content.
 * A model without weights (order-k, classic baselines) has seen nothing: false.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputRecord } from './run-record.js';

export interface CardSet {
  /** Corpus names (`npm:brown`) or globs (`snappy/*`). */
  corpora?: string[];
  /** SHA-256 of whole files or of exact slices. */
  sha256?: string[];
  /** Free text: what else, how much, caveats. */
  note?: string;
}

export interface ModelCard {
  cardVersion: 1;
  /** A human name for the model the card describes. */
  model?: string;
  /** The weights the card is about (the registry key); checked when present. */
  weightsSha256?: string;
  parameters?: number;
  /** Training step of a checkpoint, for `--series step`. */
  step?: number;
  trainedOn: CardSet & { complete?: boolean };
  heldOut?: CardSet;
  /** Where the card's claims come from (a README, a training log). */
  source?: string;
}

export interface FoundCard {
  card: ModelCard;
  /** The file it was read from. */
  path: string;
}

export const CARD_FILES = ['card.json', 'training-data.json'] as const;
export const REPO_CARDS_DIR = fileURLToPath(new URL('../../models/cards', import.meta.url));

export function cardRegistries(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.COMPRESS_BENCH_CARDS ?? '').split(':').filter(Boolean), REPO_CARDS_DIR];
}

export class CardError extends Error {}

/** Parse and validate a card; throws one line naming the file and the problem. */
export function parseCard(text: string, path: string): ModelCard {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CardError(`model card ${path}: not JSON (${(e as Error).message})`);
  }
  const c = raw as ModelCard;
  const bad = (why: string) => new CardError(`model card ${path}: ${why}`);
  if (typeof c !== 'object' || c === null || c.cardVersion !== 1) throw bad('expected "cardVersion": 1');
  if (typeof c.trainedOn !== 'object' || c.trainedOn === null) throw bad('missing "trainedOn" ({ corpora?, sha256?, complete? })');
  for (const [where, set] of [['trainedOn', c.trainedOn], ['heldOut', c.heldOut]] as const) {
    if (set === undefined) continue;
    if (set.corpora !== undefined && !(Array.isArray(set.corpora) && set.corpora.every((x) => typeof x === 'string'))) throw bad(`${where}.corpora must be an array of names`);
    if (set.sha256 !== undefined && !(Array.isArray(set.sha256) && set.sha256.every((x) => /^[0-9a-f]{64}$/.test(x)))) throw bad(`${where}.sha256 must be an array of lowercase hex SHA-256 digests`);
  }
  for (const k of ['parameters', 'step'] as const) {
    if (c[k] !== undefined && !(Number.isInteger(c[k]) && (c[k] as number) >= 0)) throw bad(`"${k}" must be a whole number`);
  }
  return c;
}

function readCard(path: string): FoundCard {
  return { card: parseCard(readFileSync(path, 'utf8'), path), path };
}

/** The card beside the model folder, else the registry's card for these weights, else null. */
export function findCard(modelDir: string | undefined, weightsSha256: string, registries: string[] = cardRegistries()): FoundCard | null {
  if (modelDir) {
    for (const name of CARD_FILES) if (existsSync(join(modelDir, name))) return checked(readCard(join(modelDir, name)), weightsSha256);
  }
  for (const dir of registries) {
    const path = join(dir, `${weightsSha256}.json`);
    if (existsSync(path)) return checked(readCard(path), weightsSha256);
  }
  return null;
}

/** A card that names other weights than the ones loaded is stale: refuse rather than mislabel. */
function checked(found: FoundCard, weightsSha256: string): FoundCard {
  const want = found.card.weightsSha256;
  if (want && want !== weightsSha256) {
    throw new CardError(`model card ${found.path} is for weights ${want.slice(0, 12)}…, but the model's weights are ${weightsSha256.slice(0, 12)}…: update or remove the card`);
  }
  return found;
}

function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(name);
}

function inSet(set: CardSet | undefined, input: Pick<InputRecord, 'corpus' | 'fileSha256' | 'sliceSha256'>): string | null {
  if (!set) return null;
  if (input.corpus) {
    const hit = set.corpora?.find((p) => globMatch(p, input.corpus!));
    if (hit) return `corpus ${hit}`;
  }
  if (set.sha256?.includes(input.fileSha256)) return 'file SHA-256';
  if (set.sha256?.includes(input.sliceSha256)) return 'slice SHA-256';
  return null;
}

/** `seen` for one input under a card, with the reason (for `--json` readers and debugging). */
export function seenBy(card: ModelCard | null, input: Pick<InputRecord, 'corpus' | 'fileSha256' | 'sliceSha256'>): { seen: boolean | null; why: string } {
  if (!card) return { seen: null, why: 'no model card' };
  const trained = inSet(card.trainedOn, input);
  if (trained) return { seen: true, why: `trainedOn ${trained}` };
  const held = inSet(card.heldOut, input);
  if (held) return { seen: false, why: `heldOut ${held}` };
  if (card.trainedOn.complete) return { seen: false, why: 'not in the complete trainedOn list' };
  return { seen: null, why: 'not named by the card' };
}

/** `checkpoint-1200`, `step-001200`, `step_1200.pt`, `ckpt-1200` → 1200 (the last such number in the path). */
export function stepFromName(path: string): number | null {
  const all = [...path.matchAll(/(?:checkpoint|step|ckpt)[-_]?0*(\d+)/gi)];
  const last = all.at(-1);
  return last ? Number(last[1]) : null;
}
