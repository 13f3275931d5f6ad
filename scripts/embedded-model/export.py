#!/usr/bin/python3
"""Export the embedded model to the transformers.js layout: config, byte-level tokenizer, fp32 ONNX with a KV cache.

train.py calls export() when it finishes; to re-export saved weights without training:
    /usr/bin/python3 scripts/embedded-model/export.py [/tmp/embedded-model/model.pt] [models/embedded]
"""
import json, math, os, sys
import torch, torch.nn.functional as F
from train import CFG, EOT, GPT2, ROOT

EOT_TEXT = '<|endoftext|>'


def bytes_to_unicode():
    """GPT-2's printable stand-in character for each byte (the ByteLevel pre-tokenizer's alphabet)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer_files(n_ctx):
    # Token id = byte value; with no merges, BPE leaves every byte its own token, so tokenization is exact for any input.
    vocab = {ch: b for b, ch in sorted(bytes_to_unicode().items())}
    vocab[EOT_TEXT] = EOT
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
                      fuse_unk=False, byte_fallback=False, vocab={k: v for k, v in vocab.items() if v != EOT}, merges=[]),
    }
    tok_cfg = dict(model_max_length=n_ctx, bos_token=EOT_TEXT, eos_token=EOT_TEXT, unk_token=EOT_TEXT,
                   add_prefix_space=False, tokenizer_class='GPT2Tokenizer')
    return {'tokenizer.json': tok, 'tokenizer_config.json': tok_cfg, 'vocab.json': vocab}


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


def export(model, cfg, out_dir):
    model.eval()
    os.makedirs(f'{out_dir}/onnx', exist_ok=True)
    L, H, D = cfg['n_layer'], cfg['n_head'], cfg['n_embd'] // cfg['n_head']
    files = {'config.json': model_config(cfg), 'generation_config.json': dict(bos_token_id=EOT, eos_token_id=EOT),
             **tokenizer_files(cfg['n_positions'])}
    for name, obj in files.items():
        with open(f'{out_dir}/{name}', 'w') as f:
            json.dump(obj, f, indent=2, ensure_ascii=False); f.write('\n')
    with open(f'{out_dir}/merges.txt', 'w') as f:
        f.write('#version: 0.2\n')

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
    import onnx
    onnx.checker.check_model(onnx.load(path))
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
    # export.py [model.pt] [out dir] [n_positions]: a smaller n_positions in config.json makes the codec
    # slide a shorter window (the shipped model scores better with 256 than with 1024, see README.md).
    ckpt = sys.argv[1] if len(sys.argv) > 1 else '/tmp/embedded-model/model.pt'
    out = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / 'models' / 'embedded')
    n_positions = int(sys.argv[3]) if len(sys.argv) > 3 else CFG['n_positions']
    torch.set_num_threads(1)
    m = GPT2(**CFG); m.load_state_dict(torch.load(ckpt)); export(m, dict(CFG, n_positions=n_positions), out)
