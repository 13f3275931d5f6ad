#!/usr/bin/python3
"""Write, per source, one training chunk and one held-out chunk of the embedded model's token split as text
files, so a compression run can compare seen and unseen text of the SAME source (domain-matched).

    /usr/bin/python3 scripts/embedded-model/split-texts.py OUT_DIR [--tokens CACHE/tokens-*.pkl] [--sources brown,sotu,mail]

train.py cuts each source into chunks of 16,384 tokens and holds out every 50th (index 25, 75, ...). Here
`<source>-train.txt` is chunk 24 (the training chunk just before the first held-out one) and
`<source>-heldout.txt` is chunk 25, both decoded to bytes (<|endoftext|> between documents written as a blank
line). Prints their SHA-256 as JSON, for model cards (trainedOn.sha256 / heldOut.sha256). Reads only the
token cache train.py wrote; trains nothing.
"""
import argparse, glob, hashlib, json, os, pickle, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import bpe

CHUNK, VAL_EVERY = 16384, 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--tokens', help='default: the newest tokens-*.pkl in ~/.cache/compress-bench/embedded-model')
    ap.add_argument('--sources', default='brown,sotu,mail')
    a = ap.parse_args()
    path = a.tokens or max(glob.glob(os.path.expanduser('~/.cache/compress-bench/embedded-model/tokens-*.pkl')), key=os.path.getmtime)
    merges, train, val, stats = pickle.loads(Path(path).read_bytes())
    tb = bpe.token_bytes(merges)
    tb[bpe.EOT] = b'\n\n'
    text = lambda ids: b''.join(tb[int(t)] for t in ids)
    # Where each source's held-out chunks sit in `val` (sources in the order train.py tokenized them).
    val_at, pos = {}, 0
    for name in [k for k in stats if isinstance(stats[k], dict)]:
        total = stats[name]['tokens']
        for j in range((total + CHUNK - 1) // CHUNK):
            if j % VAL_EVERY == VAL_EVERY // 2:
                n = min(CHUNK, total - j * CHUNK)
                val_at.setdefault(name, (pos, n))
                pos += n
    assert pos == len(val), f'held-out layout mismatch: {pos} != {len(val)}'
    os.makedirs(a.out, exist_ok=True)
    out = {'tokens': path, 'files': {}}
    for name in a.sources.split(','):
        if name not in val_at:
            sys.exit(f'{name}: no held-out chunk (sources: {", ".join(val_at)})')
        start, n = val_at[name]
        k = VAL_EVERY // 2 - 1  # chunk 24: all chunks before the first held-out one are training chunks
        for kind, ids in (('train', train[name][k * CHUNK:(k + 1) * CHUNK]), ('heldout', val[start:start + n])):
            b = text(ids)
            f = Path(a.out) / f'{name}-{kind}.txt'
            f.write_bytes(b)
            out['files'][f.name] = dict(source=name, split=kind, tokens=len(ids), bytes=len(b), sha256=hashlib.sha256(b).hexdigest())
    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
