#!/usr/bin/python3
"""Write a GGUF (v3) file, llama.cpp's `llama` architecture, from one of the tiny Llama test
models that scripts/test-models/build.py trains (rotary positions, grouped-query attention,
SwiGLU, Llama 2's 32k SentencePiece vocabulary): the llama.cpp backend's test of a RoPE model
with a SentencePiece tokenizer, and of llama.cpp's KV shift.

The weights come from build.py's saved training state (its `train` reloads them; it trains
only if they are missing), so the GGUF and the ONNX test model are the same network.

Usage: export-test-model-gguf.py TEST_MODELS_DIR OUT.gguf [--tokenizer llama2] [--type f32|f16|q8_0]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test-models"))

import build  # noqa: E402  (scripts/test-models/build.py)
from gguf_writer import ALIGN, ARRAY, BOOL, F32, FILE_TYPE, I32, STRING, U32, kv, write_gguf  # noqa: E402

# tokenizer.ggml.token_type (llama_token_type): normal, unknown, control, byte
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6


def rope_rows_interleaved(w, heads):
    """build.py rotates half-split pairs (i, i + d/2) — Hugging Face's layout; llama.cpp's `llama`
    architecture rotates adjacent pairs (2i, 2i + 1). Reorder each head's rows to match."""
    out_dim = w.shape[0]
    d = out_dim // heads
    return w.reshape(heads, 2, d // 2, -1).swapaxes(1, 2).reshape(out_dim, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("test_models_dir")
    ap.add_argument("out")
    ap.add_argument("--tokenizer", choices=["llama2", "mistral"], default="llama2")
    ap.add_argument("--type", choices=sorted(FILE_TYPE), default="f32")
    args = ap.parse_args()

    arch, tokname = "llama", args.tokenizer
    a, t = build.ARCH[arch], build.TOKENIZERS[tokname]
    model_dir = os.path.join(args.test_models_dir, f"{arch}-{tokname}")
    tok = json.load(open(os.path.join(model_dir, "tokenizer.json")))
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    lm = build.train(arch, tokname, args.test_models_dir, 400, 1)
    sd = {k: v.detach().float().numpy() for k, v in lm.state_dict().items()}

    tensors = [("token_embd.weight", sd["embed_tokens.weight"]), ("output_norm.weight", sd["norm.weight"]), ("output.weight", sd["lm_head.weight"])]
    for i in range(a["layers"]):
        p = f"layers.{i}."
        tensors += [
            (f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"]),
            (f"blk.{i}.attn_q.weight", rope_rows_interleaved(sd[p + "self_attn.q_proj.weight"], a["heads"])),
            (f"blk.{i}.attn_k.weight", rope_rows_interleaved(sd[p + "self_attn.k_proj.weight"], a["kv_heads"])),
            (f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"]),
            (f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"]),
            (f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"]),
            (f"blk.{i}.ffn_gate.weight", sd[p + "gate_proj.weight"]),
            (f"blk.{i}.ffn_up.weight", sd[p + "up_proj.weight"]),
            (f"blk.{i}.ffn_down.weight", sd[p + "down_proj.weight"]),
        ]

    vocab = tok["model"]["vocab"]
    tokens = [None] * t["vocab"]
    for piece, i in vocab.items():
        tokens[i] = piece
    if any(x is None for x in tokens):
        sys.exit("export-test-model-gguf: tokenizer.json's vocabulary has holes")
    special = {x["id"] for x in tok.get("added_tokens", []) if x.get("special")}
    unk = vocab.get("<unk>", 0)

    def ttype(i, piece):
        if i == unk:
            return UNKNOWN
        if i in special:
            return CONTROL
        if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
            return BYTE
        return NORMAL

    # llama.cpp's SentencePiece tokenizer merges the adjacent pair whose merged piece scores
    # highest: a piece's score is minus the rank of the merge that makes it (tokenizer.json's
    # merges, in order); pieces no merge makes (characters, bytes, specials) are never merged into.
    scores = [0.0] * len(tokens)
    ranked = set()
    for rank, m in enumerate(tok["model"]["merges"]):
        left, right = m.split(" ", 1) if isinstance(m, str) else m
        i = vocab.get(left + right)
        if i is not None and i not in ranked:
            scores[i] = -float(rank)
            ranked.add(i)
    meta = [
        kv("general.architecture", STRING, arch),
        kv("general.name", STRING, f"{arch}-{tokname}"),
        kv("general.file_type", U32, FILE_TYPE[args.type]),
        kv("general.alignment", U32, ALIGN),
        kv("llama.context_length", U32, cfg["max_position_embeddings"]),
        kv("llama.embedding_length", U32, a["hidden"]),
        kv("llama.feed_forward_length", U32, a["inter"]),
        kv("llama.block_count", U32, a["layers"]),
        kv("llama.attention.head_count", U32, a["heads"]),
        kv("llama.attention.head_count_kv", U32, a["kv_heads"]),
        kv("llama.attention.key_length", U32, a["head_dim"]),
        kv("llama.attention.value_length", U32, a["head_dim"]),
        kv("llama.rope.dimension_count", U32, a["head_dim"]),
        kv("llama.rope.freq_base", F32, a["rope_theta"]),
        kv("llama.attention.layer_norm_rms_epsilon", F32, cfg.get("rms_norm_eps", 1e-6)),
        kv("llama.vocab_size", U32, len(tokens)),
        kv("tokenizer.ggml.model", STRING, "llama"),
        kv("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        kv("tokenizer.ggml.scores", ARRAY, (F32, scores)),
        kv("tokenizer.ggml.token_type", ARRAY, (I32, [ttype(i, p) for i, p in enumerate(tokens)])),
        kv("tokenizer.ggml.bos_token_id", U32, t["bos"]),
        kv("tokenizer.ggml.eos_token_id", U32, t["eos"]),
        kv("tokenizer.ggml.unknown_token_id", U32, unk),
        kv("tokenizer.ggml.add_bos_token", BOOL, False),
        kv("tokenizer.ggml.add_space_prefix", BOOL, True),
    ]
    write_gguf(args.out, meta, tensors, args.type)


if __name__ == "__main__":
    main()
