#!/usr/bin/env bash
# Collect A/B calibration runs on this machine: A/A runs (the same environment as base and head) and runs with a
# planted 10% compiled slowdown of head (--head-fault slow@0.1), alternating A/A, A/A, planted. Each run's verdict is
# written as JSON under calibration-data/ab/<cpu>-<date>/; `python -m harness ab-rates calibration-data/ab` tallies
# them; each process's medians and machine reference go to <machine>/processes.csv (the raw data, per pair). Usage:
#   PYTHON=.nox/results_env/bin/python calibration-data/ab/collect.sh ENV_DIR RUNS
# ENV_DIR: an environment with the bench extra installed (e.g. one `ab` built under .ab/envs/).
set -euo pipefail
cd "$(dirname "$0")/../.."
env_dir=$1
runs=${2:-12}
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //; s/[^A-Za-z0-9]\+/-/g; s/-$//')
out="calibration-data/ab/${cpu}-${STAMP_DATE:-$(date -u +%Y%m%d)}"
mkdir -p "$out"
for i in $(seq 1 "$runs"); do
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    if [ $((i % 3)) -eq 0 ]; then kind=planted; fault=(--head-fault slow@0.1); else kind=aa; fault=(); fi
    "${PYTHON:-python}" -m harness -q ab --base "env:$env_dir" --head "env:$env_dir" "${fault[@]}" --json "$out/$kind-$stamp.json" \
        > "$out/$kind-$stamp.txt" 2>&1 || true   # exit 1 is a verdict, recorded in the JSON
    run=$(ls -td .ab/runs/ab-* | head -1)
    mkdir -p "$out/rows-$stamp"
    find "$run" -name '*.parquet' -exec cp {} "$out/rows-$stamp/" \;
done
"${PYTHON:-python}" calibration-data/ab/processes.py "$out" && rm -rf "$out"/rows-*   # one CSV row per process
