#!/usr/bin/env bash
# Issue 14's before/after tables: every bundled model (old: the files at the commit before this
# change, kept in bench/results/models_before/; new: steergan/assets) on the evaluation-only judge,
# fd_seg and fd_effnet (n=1000), plus each model's steering figure. Run from the repository root
# after exporting the new models; writes bench/results/quality_*.json.
set -euo pipefail
OLD=${OLD:-/tmp/steergan-models-before}
BEFORE=${BEFORE:-97525a7}            # the last commit before issue 14's models
mkdir -p "$OLD"
for m in rooms semantic creatures; do
  [ -f "$OLD/$m.safetensors" ] || git show "$BEFORE:steergan/assets/$m.safetensors" > "$OLD/$m.safetensors"
done
N=${N:-1000}
py=".venv/bin/python"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
$py bench/time_to_quality.py --models $OLD/rooms.safetensors,rooms,$OLD/semantic.safetensors,semantic,rooms-projected,rooms-stylegan2,linkgan \
    --data data/rooms64 --holdout data/rooms64-holdout --n $N --grids bench/results/quality_grids \
    --json bench/results/quality_rooms.json > /tmp/q_rooms.log 2>&1 &
$py bench/time_to_quality.py --models $OLD/creatures.safetensors,creatures --segmenter creatures \
    --data data/creatures64 --holdout data/creatures64-holdout --n $N --grids bench/results/quality_grids \
    --json bench/results/quality_creatures.json > /tmp/q_creatures.log 2>&1
wait
.venv/bin/steergan eval --model rooms --metric comove --n ${COMOVE_N:-1000} --json > bench/results/comove_rooms_new.json &
.venv/bin/steergan eval --model creatures --metric comove --n ${COMOVE_N:-1000} --json > bench/results/comove_creatures_new.json
wait
.venv/bin/steergan eval --model semantic --metric miou --n 500 --json > bench/results/semantic_miou_new.json &
$py bench/locality_table.py --n 500 --json bench/results/locality_table.json > /tmp/q_locality.log 2>&1
wait
