/**
 * A lossless wrapper around a Hugging Face tokenizer (tokenizer.json, run by transformers.js).
 *
 * Encoding: well-formed UTF-8 runs go through the real tokenizer; the ids are then mapped
 * back to bytes and compared with the input. SentencePiece tokenizers (Llama 2, Mistral)
 * put a "▁" (a space) before the text of every call: that prefix is expected in the
 * comparison and then dropped, so plain text keeps the model's own tokens. Anything the
 * tokenizer still cannot reproduce exactly (invalid UTF-8, normalizer rewrites such as NFC,
 * unknown characters) is coded as single-byte tokens, word by word, and counted in
 * `lastStats.byteFallbackBytes`: byte-level BPE (GPT-2, Qwen, Llama 3) has a token for every
 * byte, and SentencePiece with byte fallback has `<0xNN>`. Decoding maps ids to bytes
 * directly and never re-tokenizes, so decode(encode(x)) === x by construction.
 */
import { utf8Runs } from './utf8-runs.js';
import type { LosslessTokenizer } from '../step/language-model.js';

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
  const pieceOf: string[] = [];
  for (const [piece, id] of pieces) {
    table[id] = toBytes(piece);
    pieceOf[id] = piece;
  }
  // Added/special tokens are emitted verbatim as their content, unless they are also
  // ordinary vocabulary pieces (Gemma lists its "▁▁…" space runs as added tokens).
  for (const t of json.added_tokens ?? []) if (pieceOf[t.id] !== t.content) table[t.id] = encoder.encode(t.content);
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

/**
 * Tokenizer calls get about this many bytes, cut after a newline that precedes a
 * non-space byte: a pre-token boundary for byte-level BPE, so the cut changes no token there;
 * SentencePiece without a pre-tokenizer (Llama 2) runs BPE over a whole call, which is
 * superlinear in transformers.js (measured on alice29.txt: 4.9 s in one call, 1.8 s by lines).
 */
const CHUNK_BYTES = 4096;

/** What the last `encode` did: how much went through the tokenizer and how much did not. */
export interface EncodeStats {
  bytes: number;
  tokens: number;
  /**
   * Bytes this layer coded as single-byte tokens because the tokenizer could not reproduce
   * them (invalid UTF-8, normalizer rewrites). The tokenizer's own `<0xNN>` tokens (Llama 2
   * codes "\n" that way) are its real tokens and do not count. ~0 on plain text.
   */
  byteFallbackBytes: number;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export class HfLosslessTokenizer implements LosslessTokenizer {
  private readonly table: Uint8Array[];
  private readonly byteToken: Int32Array;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Bytes a tokenizer call puts before the text (SentencePiece's "▁" prefix: a space), or none. */
  private readonly prefix: Uint8Array;
  /** Exact bytes → the vocabulary piece with those bytes (no byte-fallback or added tokens). */
  private pieceIndex?: Map<string, number>;
  private readonly normalPieces: Int32Array;
  private fallback = 0;
  lastStats: EncodeStats = { bytes: 0, tokens: 0, byteFallbackBytes: 0 };

  constructor(
    /** The library tokenizer itself (tests compare against its own token counts). */
    readonly text: TextTokenizer,
    json: TokenizerJson,
    readonly sha256: string,
  ) {
    this.table = tokenBytesTable(json);
    this.byteToken = singleByteTokens(this.table);
    this.normalPieces = normalPieceIds(json);
    this.prefix = this.addedPrefix();
  }

  encode(bytes: Uint8Array): Int32Array {
    const ids = new TokenBuffer(bytes.length);
    this.fallback = 0;
    for (const run of utf8Runs(bytes)) {
      const span = bytes.subarray(run.start, run.end);
      if (run.valid) this.encodeText(span, ids);
      else this.pushBytes(span, ids);
    }
    this.lastStats = { bytes: bytes.length, tokens: ids.length, byteFallbackBytes: this.fallback };
    return ids.array();
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

  private pushBytes(span: Uint8Array, ids: TokenBuffer): void {
    for (const b of span) ids.push(this.byteToken[b]);
    this.fallback += span.length;
  }

  /**
   * SentencePiece tokenizers (Llama 2, Mistral: normalizer Prepend "▁"; Metaspace with
   * prepend_scheme) add a space before the text of every call. Probe it once: "a" → " a".
   */
  private addedPrefix(): Uint8Array {
    const got = this.concat(this.text.encode('a', { add_special_tokens: false }));
    if (got && got.length > 1 && got[got.length - 1] === 0x61) return got.subarray(0, got.length - 1);
    return new Uint8Array(0);
  }

  private concat(ids: number[]): Uint8Array | null {
    const parts = ids.map((id) => this.table[id]);
    if (parts.some((p) => p === undefined)) return null;
    return Buffer.concat(parts);
  }

  /**
   * Tokenize well-formed UTF-8 and keep what maps back to the same bytes; narrow down to
   * lines, then space-separated words, so one normalizer rewrite (NFC, an unknown
   * character) costs single bytes for that word only.
   */
  private encodeText(span: Uint8Array, ids: TokenBuffer): void {
    for (const piece of splitAt(span, CHUNK_BYTES, true)) {
      if (this.tryText(piece, ids)) continue;
      for (const line of splitAt(piece, 1)) {
        if (this.tryText(line, ids)) continue;
        for (const word of words(line)) if (!this.tryText(word, ids)) this.pushBytes(word, ids);
      }
    }
  }

  private tryText(span: Uint8Array, ids: TokenBuffer): boolean {
    const got = this.text.encode(this.decoder.decode(span), { add_special_tokens: false });
    const want = this.prefix.length ? Buffer.concat([this.prefix, span]) : span;
    let at = 0;
    for (const id of got) {
      const b = this.table[id];
      if (b === undefined || at + b.length > want.length) return false;
      for (let k = 0; k < b.length; k++) if (want[at + k] !== b[k]) return false;
      at += b.length;
    }
    if (at !== want.length) return false;
    // Drop the added prefix: whole tokens inside it go; the token it ends in is replaced by
    // vocabulary pieces for its remaining bytes ("▁Hello" → "Hello").
    let skip = this.prefix.length;
    let k = 0;
    while (skip > 0) {
      const b = this.table[got[k++]];
      if (b.length <= skip) skip -= b.length;
      else {
        this.pushPieces(b.subarray(skip), ids);
        skip = 0;
      }
    }
    for (; k < got.length; k++) ids.push(got[k]);
    return true;
  }

  /** Greedy longest match over the vocabulary's pieces; single bytes only where none fits. */
  private pushPieces(bytes: Uint8Array, ids: TokenBuffer): void {
    const index = (this.pieceIndex ??= this.buildPieceIndex());
    let at = 0;
    while (at < bytes.length) {
      let end = bytes.length;
      for (; end > at; end--) {
        const id = index.get(latin1(bytes.subarray(at, end)));
        if (id !== undefined) {
          ids.push(id);
          break;
        }
      }
      if (end === at) {
        this.pushBytes(bytes.subarray(at, at + 1), ids);
        end = at + 1;
      }
      at = end;
    }
  }

  private buildPieceIndex(): Map<string, number> {
    const index = new Map<string, number>();
    for (const id of this.normalPieces) {
      const key = latin1(this.table[id]);
      if (key.length && !index.has(key)) index.set(key, id);
    }
    return index;
  }
}

/** Ids of the model's ordinary pieces: not `<0xNN>` byte fallback, not added tokens. */
function normalPieceIds(json: TokenizerJson): Int32Array {
  const added = new Set((json.added_tokens ?? []).map((t) => t.id));
  const entries: [string, number][] = Array.isArray(json.model.vocab)
    ? json.model.vocab.map(([piece], id) => [piece, id])
    : Object.entries(json.model.vocab);
  const ids = entries.filter(([piece, id]) => !added.has(id) && !/^<0x[0-9A-Fa-f]{2}>$/.test(piece)).map(([, id]) => id);
  return Int32Array.from(ids.sort((a, b) => a - b));
}

/** A line cut before each space, so " word" units match SentencePiece's "▁word" pieces. */
function* words(line: Uint8Array): Generator<Uint8Array> {
  let start = 0;
  for (let i = 1; i < line.length; i++) {
    if (line[i] === 0x20 && line[i - 1] !== 0x20) {
      yield line.subarray(start, i);
      start = i;
    }
  }
  if (start < line.length) yield line.subarray(start);
}

/**
 * Pieces of at least `min` bytes, cut just after a newline (UTF-8 safe: '\n' is never inside
 * a sequence); with `beforeText`, only where the next byte is not whitespace.
 */
/**
 * The token ids of one `encode`, in an Int32Array that grows by halves: a JavaScript number[]
 * takes 8 bytes a token and twice that while it grows, which for an 8 MB `--chunk` (≈ 5M tokens)
 * was most of the run's peak memory above the model and the mix's tables.
 */
class TokenBuffer {
  private data: Int32Array;
  length = 0;
  constructor(bytes: number) {
    this.data = new Int32Array(Math.max(16, bytes >> 2));
  }
  push(id: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length + (this.data.length >> 1) + 16);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = id;
  }
  array(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

function* splitAt(span: Uint8Array, min: number, beforeText = false): Generator<Uint8Array> {
  const space = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0b || b === 0x0c;
  let start = 0;
  while (start < span.length) {
    let end = Math.min(span.length, start + min);
    while (end < span.length && (span[end - 1] !== 0x0a || (beforeText && space(span[end])))) end++;
    yield span.subarray(start, end);
    start = end;
  }
}
