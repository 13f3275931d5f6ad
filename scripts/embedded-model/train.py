#!/usr/bin/python3
"""Train the embedded default model (GPT-2 with a small byte-level BPE, ~4M parameters) on CPU, then export it.

    /usr/bin/python3 scripts/embedded-model/train.py [--checkpoints DIR --checkpoint-every N]

Steps: build the training text (data.py; Debian packages are fetched into --cache), learn the BPE merges on it
(bpe.py), tokenize, hold out every 50th chunk of each source, train, export to models/embedded/ (export.py).
See README.md beside this file for the data, the recipe and the figures.
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '2')
os.environ.setdefault('OPENBLAS_NUM_THREADS', '2')
import argparse, hashlib, json, math, pickle, sys, time
from pathlib import Path
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
import bpe, data

from model import CFG, EOT, GPT2, N_MERGES, ROOT  # the network, shared with export.py (no import cycle)


# ---------------------------------------------------------------- data
def load_data(cache, val_every=50, chunk=16384):
    """Sources -> caps -> BPE merges learned on the kept text -> tokens. Each source's documents are joined by
    EOT and cut into chunks of 16,384 tokens; every `val_every`-th chunk of each source (offset by half) is held out.
    The merges are learned on all kept text (held-out chunks included: they only decide the vocabulary)."""
    src = data.sources(cache)
    kept = {}
    for name, docs in src.items():
        cap = int(data.CAPS.get(name, 1 << 62)); total = sum(map(len, docs))
        if total > cap:  # evenly spaced 64 KiB windows of the joined documents, up to the cap
            b = b'\n\n'.join(docs); n = cap // 65536; step = len(b) // n
            docs = [b[i * step:i * step + 65536] for i in range(n)]
        # Every 8th document with CRLF line ends, as many real text files have (a model that never saw '\r'
        # pays several bits for it at every line end of such a file).
        kept[name] = [d.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n') if i % 8 == 3 else d for i, d in enumerate(docs)]
    key = hashlib.sha256(b''.join(hashlib.sha256(d).digest() for n in sorted(kept) for d in kept[n])
                         + str((N_MERGES, val_every, chunk)).encode()).hexdigest()[:16]
    path = Path(cache) / f'tokens-{key}.pkl'
    if path.exists():
        return pickle.loads(path.read_bytes())
    t0 = time.time()
    merges = bpe.train([d for docs in kept.values() for d in docs], N_MERGES)
    print(f'bpe: {len(merges)} merges in {time.time() - t0:.0f}s', flush=True)
    enc = bpe.Encoder(merges)
    train, val, stats = {}, [], {}
    for name, docs in kept.items():
        ids = np.array([t for d in docs for t in enc.encode(d) + [EOT]], np.uint16)
        stats[name] = dict(docs=len(docs), bytes=int(sum(map(len, docs))), tokens=len(ids))
        tr = []
        for j, i in enumerate(range(0, len(ids), chunk)):
            (val if j % val_every == val_every // 2 else tr).append(ids[i:i + chunk])
        train[name] = np.concatenate(tr)
    val = np.concatenate(val)
    stats['train_tokens'], stats['val_tokens'] = sum(map(len, train.values())), len(val)
    print(f'tokenized in {time.time() - t0:.0f}s', flush=True)
    out = (merges, train, val, stats)
    path.write_bytes(pickle.dumps(out))
    return out


# ---------------------------------------------------------------- evaluation
@torch.no_grad()
def bits_per_byte(model, ids, nbytes, ctx, batch=8):
    """Non-overlapping windows of ctx+1 tokens, every target scored once from the window's earlier tokens.
    EOT targets (document separators) are not bytes and are left out; the sum is divided by the bytes coded."""
    n = (len(ids) - 1) // ctx
    w = torch.stack([ids[i * ctx:i * ctx + ctx + 1] for i in range(n)])
    nll, count = 0.0, 0
    for i in range(0, n, batch):
        x, y = w[i:i + batch, :-1], w[i:i + batch, 1:]
        lp = F.log_softmax(model.logits(x), -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        keep = y != EOT
        nll -= lp[keep].sum().item(); count += nbytes[y[keep]].sum().item()
    return nll / count / math.log(2)


@torch.no_grad()
def file_bits_per_byte(model, ids, nbytes, ctx, stride):
    """A whole tokenized file as the codec sees it: EOT then the tokens; sliding window of ctx, each token once."""
    ids = torch.tensor([EOT] + list(ids)); nll, done = 0.0, 1
    for start in range(0, len(ids), stride):
        end = min(start + ctx, len(ids))
        lp = F.log_softmax(model.logits(ids[start:end].unsqueeze(0))[0], -1)
        t = torch.arange(done, end)  # targets not yet scored
        nll -= lp[t - start - 1, ids[t]].sum().item(); done = end
        if end == len(ids):
            break
    return nll / nbytes[ids[1:]].sum().item() / math.log(2)


# ---------------------------------------------------------------- training
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=3000, help='length of the learning-rate schedule')
    ap.add_argument('--stop-after', type=int, default=3000,
                    help='stop (evaluate, save, export) after this many steps of the schedule (default: all of it)')
    ap.add_argument('--batch', type=int, default=8, help='windows of n_positions tokens per step')
    ap.add_argument('--short-steps', type=int, default=150, help='first steps on 64-token windows (4x the batch)')
    ap.add_argument('--lr', type=float, default=2.5e-3)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-every', type=int, default=100)
    ap.add_argument('--cache', default=os.path.expanduser('~/.cache/compress-bench/embedded-model'),
                    help='Debian packages, tokenized text (not the repository)')
    ap.add_argument('--checkpoints', help='also save weights + optimizer state here every --checkpoint-every steps')
    ap.add_argument('--checkpoint-every', type=int, default=100)
    ap.add_argument('--ckpt', default='/tmp/embedded-model/model.pt', help='final weights (HF names), not committed')
    ap.add_argument('--out', default=str(ROOT / 'models' / 'embedded'))
    ap.add_argument('--no-export', action='store_true')
    ap.add_argument('--probe', type=int, default=0, help='time this many steps of each window size and stop')
    ap.add_argument('--n-embd', type=int, default=CFG['n_embd'])
    ap.add_argument('--n-layer', type=int, default=CFG['n_layer'])
    a = ap.parse_args()
    CFG.update(n_embd=a.n_embd, n_layer=a.n_layer)
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)
    print('torch', torch.__version__, 'args', json.dumps(vars(a)), flush=True)

    merges, train, val, stats = load_data(a.cache)
    print('data', json.dumps(stats), flush=True)
    names = sorted(train)
    weight = np.array([data.WEIGHTS[n] for n in names], float); weight /= weight.sum()
    train = [torch.from_numpy(train[n].astype(np.int64)) for n in names]
    val = torch.from_numpy(val.astype(np.int64))
    nbytes = torch.tensor([len(b) for b in bpe.token_bytes(merges)], dtype=torch.float64)
    val_quick = val[:64 * 256 + 1]  # a fixed ~64 KiB of the held-out slice for the periodic check
    print('sampling weights', json.dumps(dict(zip(names, weight.round(4).tolist()))), flush=True)
    print(f'train {sum(map(len, train)):,} tokens; '
          f'val {len(val):,} tokens = {nbytes[val].sum().item():,.0f} bytes', flush=True)

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

    N = CFG['n_positions']
    t0 = time.time(); seen = 0; seen_bytes = 0.0
    steps = a.probe * 2 if a.probe else min(a.steps, a.stop_after)
    for step in range(steps):
        # First short windows at random position ids (cheap; the local heads form sooner), then full windows of
        # n_positions tokens, so every position and attention over the whole context is trained; the codec
        # uses the full context. Windows are cut anywhere in the text, so no position id marks a document start.
        short = step < (a.probe if a.probe else a.short_steps)
        T, B = (64, a.batch * 4) if short else (N, a.batch)
        # each window: a source drawn by data.WEIGHTS, then a uniform offset in it
        w = torch.stack([train[k][o:o + T + 1] for k in rng.choice(len(train), B, p=weight)
                         for o in [int(rng.integers(0, len(train[k]) - T - 1))]])
        p0 = torch.from_numpy(rng.integers(0, N - T + 1, (B, 1)))
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        logits = model(w[:, :-1], torch.ones(B, T, dtype=torch.int64), p0 + torch.arange(T), *model.empty_past(B))[0]
        loss = F.cross_entropy(logits.reshape(-1, CFG['vocab_size']), w[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        seen += B * T; seen_bytes += nbytes[w[:, 1:]].sum().item()
        if step % 10 == 0 or a.probe:
            el = time.time() - t0
            print(f'step {step} T {T} loss {loss.item():.4f} ({loss.item() * B * T / math.log(2) / nbytes[w[:, 1:]].sum().item():.3f} bits/byte) '
                  f'lr {lr_at(step):.2e} {el:.0f}s {seen / el:.0f} tok/s {seen_bytes / el:.0f} B/s', flush=True)
        done = step + 1
        if done % a.eval_every == 0 and done < steps:
            print(f'eval step {done} held-out ~64 KiB bits/byte {bits_per_byte(model, val_quick, nbytes, N):.4f} '
                  f'({time.time() - t0:.0f}s)', flush=True)
        if a.checkpoints and (done % a.checkpoint_every == 0 or done == steps):
            os.makedirs(a.checkpoints, exist_ok=True)
            torch.save(dict(step=done, tokens=seen, bytes=seen_bytes, seconds=time.time() - t0, cfg=CFG, merges=merges,
                            model=model.state_dict(), opt=opt.state_dict()), f'{a.checkpoints}/step-{done:06d}.pt')
    if a.probe:
        return
    train_s = time.time() - t0
    print(f'trained {steps} steps, {seen:,} tokens ({seen_bytes:,.0f} bytes) in {train_s:.0f}s', flush=True)

    model.eval()
    gpl = bpe.Encoder(merges).encode(Path(data.HELD_OUT_SAMPLE).read_bytes())
    res = dict(parameters=nparams, steps=steps, tokens=seen, bytes=round(seen_bytes), train_seconds=round(train_s),
               val_bpb=bits_per_byte(model, val, nbytes, N),
               gpl3_bpb=file_bits_per_byte(model, gpl, nbytes, N, N // 2), data=stats)
    print('final', json.dumps(res), flush=True)
    os.makedirs(os.path.dirname(a.ckpt), exist_ok=True)
    torch.save(dict(cfg=CFG, merges=merges, model=model.state_dict(), result=res), a.ckpt)
    if not a.no_export:
        import export  # beside this file
        export.export(model, CFG, merges, a.out)


if __name__ == '__main__':
    main()
