#!/usr/bin/python3
"""Export the embedded model to the transformers.js layout: config, byte-level BPE tokenizer, ONNX with a KV cache
(int8 weights, computed in fp32).

train.py calls export() when it finishes; to export saved weights (final or a checkpoint) without training:
    /usr/bin/python3 scripts/embedded-model/export.py [/tmp/embedded-model/model.pt] [models/embedded]
"""
import json, math, os, sys
import numpy as np, torch, torch.nn.functional as F
from model import CFG, EOT, GPT2, ROOT

EOT_TEXT = '<|endoftext|>'


def bytes_to_unicode():
    """GPT-2's printable stand-in character for each byte (the ByteLevel pre-tokenizer's alphabet)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer_files(merges, n_ctx):
    """GPT-2 byte-level BPE: ids 0..255 are the single bytes (token id = byte value), 256 is <|endoftext|>,
    257.. one per merge. Every byte has its own token, so any input can be coded."""
    u = bytes_to_unicode()
    text = [u[b] for b in range(256)] + [EOT_TEXT]
    for a, b in merges:
        text.append(text[a] + text[b])
    vocab = {t: i for i, t in enumerate(text)}
    assert len(vocab) == len(text), 'merged tokens must be distinct'
    merge_lines = [f'{text[a]} {text[b]}' for a, b in merges]
    byte_level = dict(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [dict(id=EOT, content=EOT_TEXT, single_word=False, lstrip=False, rstrip=False,
                              normalized=True, special=True)],
        'normalizer': None,
        'pre_tokenizer': dict(type='ByteLevel', **byte_level),
        'post_processor': dict(type='ByteLevel', **{**byte_level, 'trim_offsets': False}),
        'decoder': dict(type='ByteLevel', **byte_level),
        'model': dict(type='BPE', dropout=None, unk_token=None, continuing_subword_prefix='', end_of_word_suffix='',
                      fuse_unk=False, byte_fallback=False, vocab={k: v for k, v in vocab.items() if v != EOT},
                      merges=merge_lines),
    }
    tok_cfg = dict(model_max_length=n_ctx, bos_token=EOT_TEXT, eos_token=EOT_TEXT, unk_token=EOT_TEXT,
                   add_prefix_space=False, tokenizer_class='GPT2Tokenizer')
    return {'tokenizer.json': tok, 'tokenizer_config.json': tok_cfg, 'vocab.json': vocab}, merge_lines


def quantize_(model):
    """Round every weight matrix to int8 in place: symmetric, one fp32 scale per output channel (a row of the
    embedding tables, which for the tied wte is also the LM head's output channel; a column of Conv1D [in, out]).
    The model then computes exactly what the int8 file computes. Returns {parameter name: (int8, scale, axis)}."""
    out = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() != 2:
                continue
            axis = 0 if name.endswith(('wte.weight', 'wpe.weight')) else 1
            amax = p.abs().amax(dim=1 - axis, keepdim=True)
            scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax))
            q = torch.clamp(torch.round(p / scale), -127, 127)
            p.copy_(q * scale)
            out[name] = (q.to(torch.int8).numpy(), scale.numpy().astype(np.float32), axis)
    return out


def int8_initializers(path, quant):
    """Store each quantized weight as int8 + per-channel scale, recomputed by Cast -> Mul into the original name.
    Only initializers feed these nodes, so onnxruntime folds them at load: fp32 weights in memory (same speed
    and numbers as an fp32 export of the rounded weights), a quarter of the bytes on disk."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(path); g = m.graph
    inits = {t.name: t for t in g.initializer}
    front = []
    for name, (q, scale, axis) in quant.items():
        t = inits[name]
        assert np.array_equal(numpy_helper.to_array(t), q.astype(np.float32) * scale), name
        g.initializer.remove(t)
        g.initializer.extend([numpy_helper.from_array(q, name + '_int8'), numpy_helper.from_array(scale, name + '_scale')])
        front += [helper.make_node('Cast', [name + '_int8'], [name + '_f'], name=name + '_Cast', to=TensorProto.FLOAT),
                  helper.make_node('Mul', [name + '_f', name + '_scale'], [name], name=name + '_Dequantize')]
    nodes = list(g.node); del g.node[:]; g.node.extend(front + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def model_config(c):
    return {
        'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2', 'activation_function': 'gelu_new',
        'vocab_size': c['vocab_size'], 'n_positions': c['n_positions'], 'n_ctx': c['n_positions'],
        'n_embd': c['n_embd'], 'n_layer': c['n_layer'], 'n_head': c['n_head'], 'n_inner': None,
        'layer_norm_epsilon': 1e-5, 'initializer_range': 0.02,
        'resid_pdrop': 0.0, 'embd_pdrop': 0.0, 'attn_pdrop': 0.0, 'summary_first_dropout': 0.0,
        'summary_type': 'cls_index', 'summary_use_proj': True, 'summary_activation': None, 'summary_proj_to_labels': True,
        'scale_attn_weights': True, 'scale_attn_by_inverse_layer_idx': False, 'reorder_and_upcast_attn': False,
        'bos_token_id': EOT, 'eos_token_id': EOT, 'tie_word_embeddings': True, 'use_cache': True, 'torch_dtype': 'float32',
    }


def export(model, cfg, merges, out_dir):
    model.eval()
    quant = quantize_(model)
    os.makedirs(f'{out_dir}/onnx', exist_ok=True)
    L, H, D = cfg['n_layer'], cfg['n_head'], cfg['n_embd'] // cfg['n_head']
    tok_files, merge_lines = tokenizer_files(merges, cfg['n_positions'])
    files = {'config.json': model_config(cfg), 'generation_config.json': dict(bos_token_id=EOT, eos_token_id=EOT),
             **tok_files}
    for name, obj in files.items():
        with open(f'{out_dir}/{name}', 'w') as f:
            json.dump(obj, f, indent=2, ensure_ascii=False); f.write('\n')
    with open(f'{out_dir}/merges.txt', 'w') as f:
        f.write('#version: 0.2\n' + ''.join(l + '\n' for l in merge_lines))

    # Same I/O names and dynamic axes as Hugging Face optimum's GPT-2 export with past (text-generation-with-past).
    names_in = ['input_ids', 'attention_mask', 'position_ids'] + [f'past_key_values.{i}.{kv}' for i in range(L) for kv in ('key', 'value')]
    names_out = ['logits'] + [f'present.{i}.{kv}' for i in range(L) for kv in ('key', 'value')]
    dyn = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
           'position_ids': {0: 'batch_size', 1: 'sequence_length'}, 'logits': {0: 'batch_size', 1: 'sequence_length'}}
    dyn.update({n: {0: 'batch_size', 2: 'past_sequence_length'} for n in names_in[3:]})
    dyn.update({n: {0: 'batch_size', 2: 'total_sequence_length'} for n in names_out[1:]})
    # Trace with past 2 and sequence 3 (both non-trivial) so no shape gets baked in as a constant.
    B, T, P = 1, 3, 2
    ids = torch.tensor([[72, 105, 33]]); mask = torch.ones(B, P + T, dtype=torch.int64); pos = torch.arange(P, P + T).unsqueeze(0)
    past = [torch.zeros(B, H, P, D) for _ in range(2 * L)]
    path = f'{out_dir}/onnx/model.onnx'
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, pos, *past), path, input_names=names_in, output_names=names_out,
                          dynamic_axes=dyn, opset_version=14, do_constant_folding=False)
    int8_initializers(path, quant)
    check_kv_cache(model, cfg)
    print('exported', out_dir, os.path.getsize(path), 'bytes', flush=True)


@torch.no_grad()
def check_kv_cache(model, cfg, n=64):
    """A full forward and one-token-at-a-time stepping with the cache must give the same log-probs."""
    ids = torch.tensor([[EOT] + list(b'GNU GENERAL PUBLIC LICENSE, Version 3, 29 June 2007. Everyone is permitted')[:n - 1]])
    full = F.log_softmax(model.logits(ids), -1)
    past, steps = model.empty_past(1), []
    for t in range(ids.shape[1]):
        out = model(ids[:, t:t + 1], torch.ones(1, t + 1, dtype=torch.int64), torch.tensor([[t]]), *past)
        steps.append(F.log_softmax(out[0], -1)); past = out[1:]
    d = (full - torch.cat(steps, 1)).abs().max().item()
    print(f'kv-cache check: max |full - stepped| log-prob {d:.2e}', flush=True)
    assert d < 1e-4, d


if __name__ == '__main__':
    # export.py [weights.pt] [out dir]: the final weights train.py saved (--ckpt), or one of its --checkpoints.
    ckpt = sys.argv[1] if len(sys.argv) > 1 else '/tmp/embedded-model/model.pt'
    out = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / 'models' / 'embedded')
    torch.set_num_threads(1)
    c = torch.load(ckpt)
    m = GPT2(**c['cfg']); m.load_state_dict(c['model']); export(m, c['cfg'], c['merges'], out)
