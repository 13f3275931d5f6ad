/**
 * A lossless wrapper around a Hugging Face tokenizer (tokenizer.json, run by transformers.js).
 *
 * Encoding: well-formed UTF-8 runs go through the real tokenizer; the ids are then mapped
 * back to bytes and compared with the input. Anything the tokenizer cannot reproduce
 * exactly (invalid UTF-8, normalizer rewrites, unknown characters) is coded as single-byte
 * tokens: byte-level BPE (GPT-2, Qwen, SmolLM, Llama 3) has one for every byte, and
 * SentencePiece with byte fallback has `<0xNN>`. Decoding maps ids to bytes directly and
 * never re-tokenizes, so decode(encode(x)) === x by construction, and encode verifies it.
 */
import { utf8Runs } from './utf8-runs.js';
import type { LosslessTokenizer } from './language-model.js';

/** The text tokenizer we delegate to (transformers.js `PreTrainedTokenizer` fits). */
export interface TextTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

interface TokenizerJson {
  model: { type?: string; vocab: Record<string, number> | [string, number][]; byte_fallback?: boolean };
  decoder?: { type: string; decoders?: { type: string }[] } | null;
  added_tokens?: { id: number; content: string }[];
}

/** GPT-2's reversible byte ⇄ printable-character table used by byte-level BPE. */
export function byteLevelAlphabet(): string[] {
  const chars: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    chars[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return chars;
}

const encoder = new TextEncoder();

/** id → exact bytes, from tokenizer.json alone (independent of any library's decode()). */
export function tokenBytesTable(json: TokenizerJson): Uint8Array[] {
  const decoders = json.decoder ? [json.decoder, ...(json.decoder.decoders ?? [])] : [];
  const byteLevel = decoders.some((d) => d.type === 'ByteLevel');
  const metaspace = decoders.some((d) => d.type === 'Metaspace' || d.type === 'Replace');
  const unicodeToByte = new Map(byteLevelAlphabet().map((c, b) => [c, b]));

  const pieces: [string, number][] = Array.isArray(json.model.vocab)
    ? json.model.vocab.map(([piece], id) => [piece, id])
    : Object.entries(json.model.vocab);
  const table: Uint8Array[] = [];
  const toBytes = (piece: string): Uint8Array => {
    const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
    if (hex && (json.model.byte_fallback || !byteLevel)) return Uint8Array.of(parseInt(hex[1], 16));
    if (byteLevel) {
      const out: number[] = [];
      for (const ch of piece) {
        const b = unicodeToByte.get(ch);
        if (b === undefined) out.push(...encoder.encode(ch));
        else out.push(b);
      }
      return Uint8Array.from(out);
    }
    return encoder.encode(metaspace ? piece.replaceAll('\u2581', ' ') : piece);
  };
  for (const [piece, id] of pieces) table[id] = toBytes(piece);
  // Added/special tokens are emitted verbatim as their content.
  for (const t of json.added_tokens ?? []) table[t.id] = encoder.encode(t.content);
  for (let i = 0; i < table.length; i++) table[i] ??= new Uint8Array(0);
  return table;
}

/** For each byte value, a token whose bytes are exactly that byte. */
function singleByteTokens(table: Uint8Array[]): Int32Array {
  const byByte = new Int32Array(256).fill(-1);
  table.forEach((bytes, id) => {
    if (bytes.length === 1 && byByte[bytes[0]] === -1) byByte[bytes[0]] = id;
  });
  const missing = [...byByte].findIndex((id) => id === -1);
  if (missing !== -1) {
    throw new Error(
      `tokenizer has no single-byte token for byte 0x${missing.toString(16).padStart(2, '0')}: ` +
        'compress-bench needs byte-level BPE or SentencePiece with byte_fallback to stay lossless',
    );
  }
  return byByte;
}

/** Split long text at newlines so one tokenizer call stays bounded in memory. */
const CHUNK_CHARS = 1 << 20;

export class HfLosslessTokenizer implements LosslessTokenizer {
  private readonly table: Uint8Array[];
  private readonly byteToken: Int32Array;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly text: TextTokenizer,
    json: TokenizerJson,
    readonly sha256: string,
  ) {
    this.table = tokenBytesTable(json);
    this.byteToken = singleByteTokens(this.table);
  }

  encode(bytes: Uint8Array): Int32Array {
    const ids: number[] = [];
    for (const run of utf8Runs(bytes)) {
      const span = bytes.subarray(run.start, run.end);
      if (run.valid) this.encodeText(span, ids);
      else for (const b of span) ids.push(this.byteToken[b]);
    }
    return Int32Array.from(ids);
  }

  decode(ids: Int32Array): Uint8Array {
    let length = 0;
    for (const id of ids) length += this.bytesOf(id).length;
    const out = new Uint8Array(length);
    let at = 0;
    for (const id of ids) {
      const b = this.bytesOf(id);
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  private bytesOf(id: number): Uint8Array {
    const b = this.table[id];
    if (b === undefined) throw new Error(`token id ${id} is outside the tokenizer's vocabulary`);
    return b;
  }

  /** Tokenize well-formed UTF-8; keep only what maps back to the same bytes. */
  private encodeText(span: Uint8Array, ids: number[]): void {
    for (const piece of splitAt(span, CHUNK_CHARS)) {
      if (this.tryText(piece, ids)) continue;
      // The tokenizer rewrote something (normalizer, unknown char): retry line by line,
      // then fall back to single bytes for the lines that still do not round-trip.
      for (const line of splitAt(piece, 1)) {
        if (!this.tryText(line, ids)) for (const b of line) ids.push(this.byteToken[b]);
      }
    }
  }

  private tryText(span: Uint8Array, ids: number[]): boolean {
    const got = this.text.encode(this.decoder.decode(span), { add_special_tokens: false });
    let at = 0;
    for (const id of got) {
      const b = this.table[id];
      if (b === undefined || at + b.length > span.length) return false;
      for (let k = 0; k < b.length; k++) if (span[at + k] !== b[k]) return false;
      at += b.length;
    }
    if (at !== span.length) return false;
    for (const id of got) ids.push(id);
    return true;
  }
}

/** Pieces of at least `min` bytes, cut just after a newline (UTF-8 safe: '\n' is never inside a sequence). */
function* splitAt(span: Uint8Array, min: number): Generator<Uint8Array> {
  let start = 0;
  while (start < span.length) {
    let end = Math.min(span.length, start + min);
    while (end < span.length && span[end - 1] !== 0x0a) end++;
    yield span.subarray(start, end);
    start = end;
  }
}
