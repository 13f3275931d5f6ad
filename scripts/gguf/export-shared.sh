#!/usr/bin/env bash
# GGUF exports (f32, f16, q8_0) of the shared docmix models, written to the cache dir
# ($COMPRESS_BENCH_CACHE or ~/.cache/compress-bench)/gguf/<model>-<type>.gguf; never committed.
# Usage: scripts/gguf/export-shared.sh [SHARED_MODELS_DIR] [MODEL...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
models_dir="${1:-$here/../../../shared/models}"
shift || true
out="${COMPRESS_BENCH_CACHE:-$HOME/.cache/compress-bench}/gguf"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(gpt2-docmix-7m gpt2-docmix-16m gpt2-docmix-30m)
for m in "${models[@]}"; do
  for t in f32 f16 q8_0; do
    /usr/bin/python3 "$here/export-gpt2-gguf.py" "$models_dir/$m" "$out/$m-$t.gguf" --type "$t"
  done
done
