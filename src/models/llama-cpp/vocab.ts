/**
 * The GGUF's tokenizer behind the lossless layer: the text side is llama.cpp's own
 * `llama_tokenize`; the id → bytes table comes from the GGUF's `tokenizer.ggml.tokens`, handed
 * to the lossless layer in the shape of a tokenizer.json (the GGUF → tokenizer.json adapter).
 */
import { HfLosslessTokenizer, type TextTokenizer } from '../hf-tokenizer.js';
import { sha256 } from '../../common/hash.js';
import type { LlamaApi } from './llama-api.js';
import { GgufModelError } from './errors.js';

/** The GGUF's `tokenizer.ggml.*` metadata. */
export interface GgufTokenizerMeta {
  model?: string;
  pre?: string;
  tokens: string[];
  token_type?: number[];
  merges?: string[];
}

/** `vocab`: the model's `llama_model_get_vocab`. */
export function ggufTokenizer(api: LlamaApi, vocab: ReturnType<LlamaApi['vocab']>, tok: GgufTokenizerMeta): HfLosslessTokenizer {
  const tokens = Array.from(tok.tokens);
  const types = Array.from(tok.token_type ?? []);
  // The GGUF's vocabulary as the lossless layer reads tokenizer.json: byte-level BPE (gpt2)
  // maps pieces through GPT-2's byte alphabet; SentencePiece (llama) has "▁" and <0xNN>.
  const byteLevel = tok.model === 'gpt2';
  const json = {
    model: { type: 'BPE', vocab: tokens.map((t) => [t, 0] as [string, number]), byte_fallback: !byteLevel },
    decoder: { type: byteLevel ? 'ByteLevel' : 'Metaspace' },
    // Control (3) and user-defined (4) tokens are emitted verbatim as their text.
    added_tokens: types.flatMap((t, id) => (t === 3 || t === 4 ? [{ id, content: tokens[id] }] : [])),
  };
  let ids = new Int32Array(1024);
  const text: TextTokenizer = {
    encode(s: string) {
      const bytes = Buffer.from(s, 'utf8');
      if (ids.length < bytes.length + 16) ids = new Int32Array(bytes.length + 16);
      let n = api.tokenize(vocab, bytes, bytes.length, ids, ids.length, false, false);
      if (n < 0) {
        ids = new Int32Array(-n);
        n = api.tokenize(vocab, bytes, bytes.length, ids, ids.length, false, false);
      }
      if (n < 0) throw new GgufModelError(`llama.cpp could not tokenize ${bytes.length} bytes`);
      return Array.from(ids.subarray(0, n));
    },
  };
  const tokenizerSha256 = sha256(JSON.stringify({ model: tok.model, pre: tok.pre, tokens, types, merges: tok.merges ?? [] }));
  return new HfLosslessTokenizer(text, json, tokenizerSha256);
}
