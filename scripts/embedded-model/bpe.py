#!/usr/bin/python3
"""A small byte-level BPE (GPT-2 style) trained on the training text, in plain Python (no `tokenizers` package here).

Vocabulary: ids 0..255 are the single bytes (so any input stays codable), 256 is <|endoftext|>, then one id per
merge in the order learned. Pre-tokenization follows GPT-2's regex as transformers.js' ByteLevel pre-tokenizer
applies it; Python's `re` has no \\p{L}/\\p{N}, so letters are [^\\W\\d_] and numbers \\d, which agree on the
ASCII/Latin text trained on (a disagreement only changes how some rare piece is split, never losslessness:
the codec maps tokens back to bytes and checks).
"""
import heapq, re
from collections import Counter, defaultdict

EOT = 256
# GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def pieces(doc: bytes):
    """Pre-tokenized pieces as bytes. Invalid UTF-8 survives as surrogate escapes; such a piece is marked
    (returned as None-prefixed) so it is coded byte by byte, as the codec does with invalid runs."""
    for m in PAT.finditer(doc.decode('utf-8', 'surrogateescape')):
        s = m.group()
        try:
            yield s.encode('utf-8')
        except UnicodeEncodeError:
            yield None, s.encode('utf-8', 'surrogateescape')


def train(docs, n_merges, log=print):
    """Classic BPE on piece counts, with incremental pair counts and a lazy max-heap (ties: smallest pair)."""
    counts = Counter()
    for d in docs:
        for p in pieces(d):
            if not isinstance(p, tuple):
                counts[p] += 1
    words = [list(w) for w in counts]; freq = list(counts.values())
    pair_n, where = Counter(), defaultdict(set)
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_n[a, b] += freq[i]; where[a, b].add(i)
    heap = [(-n, p) for p, n in pair_n.items()]; heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        n, p = heapq.heappop(heap)
        if pair_n.get(p, 0) != -n or n == 0:
            continue  # stale entry
        new = EOT + 1 + len(merges); merges.append(p)
        changed = set()
        for i in where.pop(p):
            w, f = words[i], freq[i]
            for a, b in zip(w, w[1:]):
                pair_n[a, b] -= f; changed.add((a, b))
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and (w[k], w[k + 1]) == p:
                    out.append(new); k += 2
                else:
                    out.append(w[k]); k += 1
            words[i] = out
            for a, b in zip(out, out[1:]):
                pair_n[a, b] += f; where[a, b].add(i); changed.add((a, b))
        for q in changed:
            if pair_n[q] > 0:
                heapq.heappush(heap, (-pair_n[q], q))
            else:
                pair_n.pop(q, None)
        if len(merges) % 500 == 0:
            log(f'bpe merges {len(merges)} last count {-n}')
    return merges


class Encoder:
    def __init__(self, merges):
        self.rank = {p: i for i, p in enumerate(merges)}
        self.cache = {}

    def word(self, w: bytes):
        ids = self.cache.get(w)
        if ids is None:
            ids = list(w)
            while len(ids) > 1:
                best = min(((self.rank.get((a, b), 1 << 30), k) for k, (a, b) in enumerate(zip(ids, ids[1:]))))
                if best[0] == 1 << 30:
                    break
                r, k = best; ids[k:k + 2] = [EOT + 1 + r]
            self.cache[w] = ids
        return ids

    def encode(self, doc: bytes):
        out = []
        for p in pieces(doc):
            out += list(p[1]) if isinstance(p, tuple) else self.word(p)
        return out


def token_bytes(merges):
    """id -> bytes for every id (EOT -> b'')."""
    t = [bytes([b]) for b in range(256)] + [b'']
    for a, b in merges:
        t.append(t[a] + t[b])
    return t
