#!/usr/bin/env bash
# Re-create the default bundle that the Java runtime embeds: corpus -> baselines -> pre-training
# (about 42 minutes on one core) -> export into runtime/src/main/resources/org/hope4j/default-bundle.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
export OMP_NUM_THREADS=1
$PY -m hope_export.corpus --out build/corpus
$PY -m hope_export.baselines --corpus build/corpus --json build/baselines.json
$PY -m hope_export.train --corpus build/corpus --out build/train --steps 1000 --batch 16 --max-minutes 42 --eval-every 50 --ckpt-every 25
$PY -m hope_export.evaluate --checkpoint build/train/model.pt --corpus build/corpus --baselines build/baselines.json --history build/train/history.json --json build/training.json
$PY -m hope_export.export --checkpoint build/train/model.pt --out ../runtime/src/main/resources/org/hope4j/default-bundle --training-json build/training.json --probe-corpus build/corpus
