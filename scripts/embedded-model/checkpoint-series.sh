#!/bin/sh
# Train/held-out curves over training, on a real coded stream: export each checkpoint of an embedded-model
# training run, give it a model card naming its step and its data split, and run the step series on seen and
# unseen text of the same sources.
#
#   scripts/embedded-model/checkpoint-series.sh [CHECKPOINT_DIR] [OUT_DIR]
#
# CHECKPOINT_DIR: train.py --checkpoints DIR (step-000500.pt, ...); default
#   ~/.cache/compress-bench/embedded-model/checkpoints-6k (a run of `train.py --steps 6000 --stop-after 6000
#   --checkpoint-every 500 --checkpoints DIR --no-export`). Nothing is trained here.
# OUT_DIR (default ~/.cache/compress-bench/generalization/checkpoints; never the repository):
#   split/               one training and one held-out chunk of brown, sotu and mail (split-texts.py)
#   models/step-NNNNNN/  each checkpoint exported (export.py), with card.json: its step, parameters, and
#                        trainedOn = the training chunks' SHA-256, heldOut = the held-out chunks', GPL-3, snappy
#   records/step-NNNNNN/ the run record of each checkpoint
#   report.md, report.html   compress-bench report --series step
# Already exported checkpoints and finished records are kept, so re-running after more checkpoints appear only
# does the new ones. Env: LIMIT (bytes per input, default 16384), SOURCES (default "brown sotu mail"), EXTRA (more inputs), SNAPPY (../shared's snappy
# testdata, whose SHA256SUMS the cards list as held out).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CKPTS=${1:-$HOME/.cache/compress-bench/embedded-model/checkpoints-6k}
OUT=${2:-$HOME/.cache/compress-bench/generalization/checkpoints}
LIMIT=${LIMIT:-16384}
SNAPPY=${SNAPPY:-$ROOT/../shared/corpora/snappy-testdata}
PY=/usr/bin/python3
mkdir -p "$OUT/models" "$OUT/records"
ls "$CKPTS"/step-*.pt >/dev/null 2>&1 || { echo "no checkpoints (step-*.pt) in $CKPTS" >&2; exit 2; }

# The split texts, from the token cache of the same run (train.py wrote it before training).
if [ ! -f "$OUT/split/split.json" ]; then
  mkdir -p "$OUT/split"
  nice -n 10 $PY "$ROOT/scripts/embedded-model/split-texts.py" "$OUT/split" > "$OUT/split/split.json.tmp"
  mv "$OUT/split/split.json.tmp" "$OUT/split/split.json"
fi

# Seen and unseen text of the same three sources, so the gap is not a difference of domain. EXTRA adds inputs
# (e.g. EXTRA="corpora/samples/gpl-3.0.txt ../shared/corpora/snappy-testdata/alice29.txt": held out by the card).
INPUTS="${EXTRA:-}"
for s in ${SOURCES:-brown sotu mail}; do INPUTS="$OUT/split/$s-train.txt $OUT/split/$s-heldout.txt $INPUTS"; done

for ck in "$CKPTS"/step-*.pt; do
  name=$(basename "$ck" .pt)
  dir="$OUT/models/$name"
  if [ ! -f "$dir/card.json" ]; then
    rm -rf "$dir.tmp"
    (cd "$ROOT/scripts/embedded-model" && nice -n 10 $PY export.py "$ck" "$dir.tmp" > /dev/null)
    # The card: step and parameter count from the checkpoint, the split's hashes from split.json.
    nice -n 10 $PY - "$ck" "$OUT/split/split.json" "$ROOT/corpora/samples/gpl-3.0.txt" "$dir.tmp/card.json" "$SNAPPY/SHA256SUMS" <<'PYEOF'
import hashlib, json, os, sys, torch
ck, split, gpl, out, sums = sys.argv[1:]
snappy = [l.split()[0] for l in open(sums)] if os.path.exists(sums) else []
c = torch.load(ck, map_location='cpu')
s = json.load(open(split))['files']
# Tied input/output embeddings are one parameter: count distinct tensors.
seen_ptrs, n = set(), 0
for k, v in c['model'].items():
    if v.data_ptr() not in seen_ptrs and not k.endswith('lm_head.weight'):
        seen_ptrs.add(v.data_ptr()); n += v.numel()
card = {
  'cardVersion': 1,
  'model': f"embedded-model checkpoint at step {c['step']} ({c['tokens']:,} tokens, {c['bytes']:,} bytes of text seen)",
  'parameters': n,
  'step': int(c['step']),
  'trainedOn': {
    'corpora': ['npm:brown', 'npm:sotu', 'npm:spam'],
    'sha256': sorted(f['sha256'] for f in s.values() if f['split'] == 'train'),
    'note': 'The training split of scripts/embedded-model/data.py sources (every 50th chunk of 16,384 tokens held out). '
            'seen = in the training split; windows are drawn at random, so an early checkpoint has drawn only part of it.',
  },
  'heldOut': {
    'corpora': ['snappy/*'],
    'sha256': sorted(f['sha256'] for f in s.values() if f['split'] == 'heldout') + [hashlib.sha256(open(gpl, 'rb').read()).hexdigest()] + snappy,
    'note': 'held-out chunks of the same sources (split-texts.py), corpora/samples/gpl-3.0.txt, ../shared/corpora',
  },
  'source': f'{ck} and split-texts.py',
}
json.dump(card, open(out, 'w'), indent=2)
PYEOF
    mv "$dir.tmp" "$dir"
  fi
  # One folder per checkpoint; a run killed midway is resumed (--resume keeps its verified results).
  recs="$OUT/records/$name"
  mkdir -p "$recs"
  rec=$(ls "$recs"/*.json 2>/dev/null | head -1 || true)
  if [ -z "$rec" ] || ! grep -q '"complete": true' "$rec"; then
    resume=""; [ -n "$rec" ] && resume="--resume $rec"
    nice -n 10 node "$ROOT/dist/cli.js" -m "$dir" --baselines gzip:9 --limit "$LIMIT" --series step -q \
      --record-dir "$recs" $resume $INPUTS > /dev/null
  fi
  echo "$name done" >&2
done
node "$ROOT/dist/cli.js" report "$OUT"/records/step-*/ --series step --out "$OUT/report" --title "embedded model: bits/byte over training (seen vs held-out)"
node "$ROOT/dist/cli.js" series "$OUT"/records/step-*/ --series step
