#!/usr/bin/env bash
# Re-create the default bundle that the Java runtime embeds: corpus -> baselines -> pre-training
# (42 minutes, two data-parallel processes of one thread each) -> export into
# runtime/src/main/resources/org/hope4j/default-bundle.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
export OMP_NUM_THREADS=1
# Let OpenBLAS pick the CPU's own kernel: a forced OPENBLAS_CORETYPE=Haswell (AVX2) on an AVX-512
# machine makes pre-training 1.2x slower.
unset OPENBLAS_CORETYPE
$PY -m hope_export.corpus --out build/corpus
$PY -m hope_export.baselines --corpus build/corpus --json build/baselines.json
$PY -m hope_export.train --corpus build/corpus --out build/train --steps 5000 --batch 16 --procs 2 --max-minutes 42 --eval-every 100 --ckpt-every 25
$PY -m hope_export.evaluate --checkpoint build/train/model.pt --corpus build/corpus --baselines build/baselines.json --history build/train/history.json --json build/training.json
$PY -m hope_export.export --checkpoint build/train/model.pt --out ../runtime/src/main/resources/org/hope4j/default-bundle --training-json build/training.json --probe-corpus build/corpus
