#!/usr/bin/python3
"""Write a GGUF (v3) file from a GPT-2 model in the transformers.js layout (onnx/model.onnx,
config.json, tokenizer.json), for llama.cpp's `gpt2` architecture.

Only Debian's python3-onnx and numpy are needed (nothing from PyPI). The file itself is
written by gguf_writer.py.

Usage: export-gpt2-gguf.py MODEL_DIR OUT.gguf --type f32|f16|q8_0
"""
import argparse
import json
import os
import sys

import onnx
from onnx import numpy_helper

from gguf_writer import ALIGN, ARRAY, BOOL, F32, FILE_TYPE, I32, STRING, U32, kv, write_gguf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--type", choices=sorted(FILE_TYPE), default="f32")
    args = ap.parse_args()

    cfg = json.load(open(os.path.join(args.model_dir, "config.json")))
    if cfg.get("model_type") != "gpt2":
        sys.exit(f"export-gpt2-gguf: {args.model_dir} is a {cfg.get('model_type')} model, not gpt2")
    tok = json.load(open(os.path.join(args.model_dir, "tokenizer.json")))
    model = onnx.load(os.path.join(args.model_dir, "onnx", "model.onnx"))
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}

    def p(name):
        key = "params." + name.replace(".", "_")
        if key not in init:
            sys.exit(f"export-gpt2-gguf: initializer {key} not found in the ONNX graph")
        return init[key]

    n_layer, n_embd = cfg["n_layer"], cfg["n_embd"]
    # GPT-2's Conv1D stores weights as [in, out]; ggml wants ne0 = in, i.e. numpy [out, in].
    tensors = [
        ("token_embd.weight", p("transformer.wte.weight")),
        ("position_embd.weight", p("transformer.wpe.weight")),
        ("output_norm.weight", p("transformer.ln_f.weight")),
        ("output_norm.bias", p("transformer.ln_f.bias")),
    ]
    if not cfg.get("tie_word_embeddings", True):
        tensors.append(("output.weight", init["params.lm_head_weight"]))
    for i in range(n_layer):
        h = f"transformer.h.{i}."
        tensors += [
            (f"blk.{i}.attn_norm.weight", p(h + "ln_1.weight")),
            (f"blk.{i}.attn_norm.bias", p(h + "ln_1.bias")),
            (f"blk.{i}.attn_qkv.weight", p(h + "attn.c_attn.weight").T),
            (f"blk.{i}.attn_qkv.bias", p(h + "attn.c_attn.bias")),
            (f"blk.{i}.attn_output.weight", p(h + "attn.c_proj.weight").T),
            (f"blk.{i}.attn_output.bias", p(h + "attn.c_proj.bias")),
            (f"blk.{i}.ffn_norm.weight", p(h + "ln_2.weight")),
            (f"blk.{i}.ffn_norm.bias", p(h + "ln_2.bias")),
            (f"blk.{i}.ffn_up.weight", p(h + "mlp.c_fc.weight").T),
            (f"blk.{i}.ffn_up.bias", p(h + "mlp.c_fc.bias")),
            (f"blk.{i}.ffn_down.weight", p(h + "mlp.c_proj.weight").T),
            (f"blk.{i}.ffn_down.bias", p(h + "mlp.c_proj.bias")),
        ]

    vocab = tok["model"]["vocab"]
    tokens = [None] * len(vocab)
    for piece, i in vocab.items():
        tokens[i] = piece
    special = {t["id"] for t in tok.get("added_tokens", []) if t.get("special")}
    for t in tok.get("added_tokens", []):
        if t["id"] >= len(tokens):
            tokens += [None] * (t["id"] + 1 - len(tokens))
        tokens[t["id"]] = t["content"]
    if any(t is None for t in tokens):
        sys.exit("export-gpt2-gguf: tokenizer.json's vocabulary has holes")
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    n_vocab = init["params.transformer_wte_weight"].shape[0]
    if n_vocab != len(tokens):
        sys.exit(f"export-gpt2-gguf: embedding has {n_vocab} rows but the tokenizer {len(tokens)} tokens")

    name = os.path.basename(os.path.normpath(args.model_dir))
    meta = [
        kv("general.architecture", STRING, "gpt2"),
        kv("general.name", STRING, name),
        kv("general.file_type", U32, FILE_TYPE[args.type]),
        kv("general.alignment", U32, ALIGN),
        kv("gpt2.context_length", U32, cfg["n_positions"]),
        kv("gpt2.embedding_length", U32, n_embd),
        kv("gpt2.feed_forward_length", U32, cfg.get("n_inner") or 4 * n_embd),
        kv("gpt2.block_count", U32, n_layer),
        kv("gpt2.attention.head_count", U32, cfg["n_head"]),
        kv("gpt2.attention.layer_norm_epsilon", F32, cfg.get("layer_norm_epsilon", 1e-5)),
        kv("tokenizer.ggml.model", STRING, "gpt2"),
        kv("tokenizer.ggml.pre", STRING, "gpt-2"),
        kv("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        # 1: normal, 3: control
        kv("tokenizer.ggml.token_type", ARRAY, (I32, [3 if i in special else 1 for i in range(len(tokens))])),
        kv("tokenizer.ggml.merges", ARRAY, (STRING, merges)),
        kv("tokenizer.ggml.bos_token_id", U32, cfg.get("bos_token_id", 50256)),
        kv("tokenizer.ggml.eos_token_id", U32, cfg.get("eos_token_id", 50256)),
        kv("tokenizer.ggml.add_bos_token", BOOL, False),
    ]

    write_gguf(args.out, meta, tensors, args.type)


if __name__ == "__main__":
    main()
