#!/bin/bash
# Queue the shard array, then the merge job once all of its tasks have succeeded.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
shards=$(sbatch --parsable shards.sbatch)
sbatch --dependency="afterok:${shards%%;*}" merge.sbatch
