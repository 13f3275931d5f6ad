#!/bin/bash
# Queue the shard array, then the merge job once all of its tasks have succeeded. The work is
# given by the variables shards.sbatch lists (INPUTS, MODEL, DEVICE, BASELINES, CHUNK, SHARDS,
# RECORDS, EXTRA_ARGS; merge.sbatch: MERGED); sbatch hands this environment to both jobs
# (--export=ALL; not --export=VAR=value, which would split values such as gzip:9,xz:9 on commas).
# This script also reads:
#   GPUS   GPUs per task (--gres=gpu:N); 0: none, and DEVICE defaults to cpu   [1]
#   CPUS, MEM, TIME_LIMIT   per-task --cpus-per-task, --mem, --time (unset: shards.sbatch's #SBATCH lines)
#   TASKS  the array indices to queue [0-(SHARDS-1)]; TASKS=3 resubmits the one failed task
#          (it resumes its record) and queues a new merge after it
#   LOGS   the job logs, shard-I.out and merge.out                              [$RECORDS/logs]
# Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SHARDS=${SHARDS:-8}
export RECORDS=${RECORDS:-$PWD/records}
GPUS=${GPUS:-1}
if [ "$GPUS" -gt 0 ]; then export DEVICE=${DEVICE:-cuda}; else export DEVICE=${DEVICE:-cpu}; fi
TASKS=${TASKS:-0-$((SHARDS - 1))}
LOGS=${LOGS:-$RECORDS/logs}
mkdir -p "$RECORDS" "$LOGS"

opts=(--parsable --export=ALL --array="$TASKS" --output="$LOGS/shard-%a.out")
if [ "$GPUS" -gt 0 ]; then opts+=(--gres="gpu:$GPUS"); fi
if [ -n "${CPUS:-}" ]; then opts+=(--cpus-per-task="$CPUS"); fi
if [ -n "${MEM:-}" ]; then opts+=(--mem="$MEM"); fi
if [ -n "${TIME_LIMIT:-}" ]; then opts+=(--time="$TIME_LIMIT"); fi
shards=$(sbatch "${opts[@]}" "$here/shards.sbatch")
shards=${shards%%;*} # --parsable prints "id;cluster" on a multi-cluster site
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$shards" --output="$LOGS/merge.out" "$here/merge.sbatch")
echo "submitted: shards job $shards (array $TASKS of $SHARDS), merge job ${merge%%;*} after it (afterok)"
