#!/usr/bin/env bash
# Re-create the default bundle that the Java runtime embeds: corpus -> baselines -> pre-training ->
# evaluation -> export into runtime/src/main/resources/org/hope4j/default-bundle.
#
#   ./rebuild-default.sh [checkpoint|resume|bundle|scratch] [MINUTES]
#
# checkpoint  train nothing: release the committed checkpoints/checkpoint.pt as it is (the default
#         bundle of this commit was made so; `train --resume ... --release`)
# resume  (default) continue from the committed compact checkpoint checkpoints/checkpoint.pt
#         (weights + AdamW state; a new warm-up + cosine schedule over MINUTES)
# bundle  warm start from the embedded default bundle (train.model_from_bundle, checked against its
#         golden logits), as the run that produced checkpoints/ began
# scratch from a random initialisation
#
# Pre-training reads the state carried over consecutive 512-byte segments (truncated BPTT, streams of
# 1..31 segments, mean 16), with the CMS decay to the prior (lambda initialised at 3e-3, meta-learned).
# One process of one thread; compact checkpoints every 10 minutes into checkpoints/ (commit them).
#
# export.py writes lambda per block and level into the manifest; the Java and CUDA engines apply it.
# Last, the episodic level's prior is fitted for the new model (hope4j fit-episodic) on training text
# only: the bundle's rehearsal text and 8 x 24 KB of the training split at evenly spaced offsets.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
MODE=${1:-resume}
MINUTES=${2:-150}
export OMP_NUM_THREADS=1
# Let OpenBLAS pick the CPU's own kernel: a forced OPENBLAS_CORETYPE=Haswell (AVX2) on an AVX-512
# machine makes pre-training 1.2x slower.
unset OPENBLAS_CORETYPE
BUNDLE=../runtime/src/main/resources/org/hope4j/default-bundle
$PY -m hope_export.corpus --out build/corpus
$PY -m hope_export.baselines --corpus build/corpus --json build/baselines.json
case "$MODE" in
  checkpoint) START=(--resume checkpoints/checkpoint.pt --release) ;;
  resume) START=(--resume checkpoints/checkpoint.pt) ;;
  bundle) START=(--init-bundle "$BUNDLE") ;;
  scratch) START=() ;;
  *) echo "usage: $0 [checkpoint|resume|bundle|scratch] [MINUTES]" >&2; exit 2 ;;
esac
rm -rf build/train
$PY -m hope_export.train --corpus build/corpus --out build/train "${START[@]}" --config '{"decay1_init": 0.003, "decay2_init": 0.003}' \
  --procs 1 --batch 16 --seq 512 --stream-segments 16 --steps 1000000 --lr 2e-3 --warmup 30 --max-minutes "$MINUTES" \
  --eval-every 100 --eval-windows 16 --format-windows 4 --format-length 2048 --ckpt-every 50 --ckpt-dir checkpoints --ckpt-minutes 10
$PY -m hope_export.evaluate --checkpoint build/train/model.pt --corpus build/corpus --baselines build/baselines.json --history build/train/history.json \
  --formats --json build/training.json
$PY -m hope_export.export --checkpoint build/train/model.pt --out "$BUNDLE" --training-json build/training.json --probe-corpus build/corpus
# the episodic level's prior for this model (and the Java build that embeds the bundle)
./refit-episodic.sh
# the Java LongParityTest's fixture: 64 KiB (1,023 L1 steps) of the new model in the float64 reference
$PY -m hope_export.long_golden --bundle "$BUNDLE" --out ../runtime/src/test/resources/org/hope4j/long-parity.safetensors
