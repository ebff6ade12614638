#!/bin/sh
# Pre-train the three CMS-level variants of the paper tasks (model-export/README.md, "Paper tasks"),
# one after another, the same way: same seed, data (prose + 6.25 % task-episode sequences), steps.
#   ./paper-train.sh [steps]      (from model-export/; logs and checkpoints in build/paper/)
set -eu
cd "$(dirname "$0")"
STEPS=${1:-450}
case $STEPS in
  ''|*[!0-9]*|0) echo "paper-train.sh: steps must be a positive integer, found '$STEPS'" >&2; exit 2 ;;
esac
PY=/usr/bin/python3
[ -f build/corpus/train.txt ] || $PY -m hope_export.corpus --out build/corpus
COMMON='"d_model": 64, "n_blocks": 2, "n_heads": 2'
for v in 1 2 3; do
  case $v in
    1) CFG="{$COMMON, \"slow_hidden\": 384, \"mid_hidden\": 0, \"fast_hidden\": 0}" ;;
    2) CFG="{$COMMON, \"slow_hidden\": 320, \"mid_hidden\": 0, \"fast_hidden\": 64}" ;;
    3) CFG="{$COMMON, \"slow_hidden\": 256, \"mid_hidden\": 64, \"fast_hidden\": 64}" ;;
  esac
  mkdir -p build/paper/levels$v
  nice -n 10 $PY -m hope_export.train --corpus build/corpus --out build/paper/levels$v --steps "$STEPS" \
    --batch 8 --seq 1024 --seed 1234 --threads 1 --task-fraction 0.0625 --eval-every 150 --eval-windows 8 \
    --ckpt-every 50 --config "$CFG" > build/paper/levels$v/train.log 2>&1
done
