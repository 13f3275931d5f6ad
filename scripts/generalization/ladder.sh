#!/bin/sh
# The docmix ladder on seen and unseen text: the table of README "Generalization, not memorisation".
#
#   scripts/generalization/ladder.sh [RECORD_DIR] [LIMIT]
#
# Seen (training data of gpt2-docmix-*, per their cards in models/cards/): slices of npm:brown,
# npm:sotu, npm:spam. Unseen (the cards' heldOut): the four snappy texts. corpora/samples/gpl-3.0.txt
# runs too but is unknown (null) for these models: their cards cannot rule it out.
# Each model runs on LIMIT-byte slices (default 4096) at four offsets, with gzip -9 beside it;
# one record per model and offset in RECORD_DIR (default ~/.cache/compress-bench/generalization/ladder).
# Then: compress-bench report RECORD_DIR --series params --out DIR, and scripts/generalization/calibrate.mjs RECORD_DIR.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$HOME/.cache/compress-bench/generalization/ladder}
LIMIT=${2:-4096}
SHARED=${SHARED:-$ROOT/../shared}
S=$SHARED/corpora/snappy-testdata
MODELS=${MODELS:-"gpt2-docmix-7m gpt2-docmix-16m gpt2-docmix-30m"}
OFFSETS=${OFFSETS:-"0 30000 60000 90000"}
mkdir -p "$OUT"
for m in $MODELS; do
  for off in $OFFSETS; do
    nice -n 10 node "$ROOT/dist/cli.js" -m "$m" --model-dir "$SHARED/models" --baselines gzip:9 \
      --limit "$LIMIT" --offset "$off" --record-dir "$OUT" -q --series params \
      npm:brown npm:sotu npm:spam "$S/alice29.txt" "$S/asyoulik.txt" "$S/lcet10.txt" "$S/plrabn12.txt"
  done
done
