#!/usr/bin/env bash
# The whole Hope4J test suite: Java (mvn verify: unit, parity, cross-module) and the PyTorch
# reference (pytest). Installs the Debian packages the Python tests need when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
# torch, onnx, pytest, OpenBLAS: the Python tests; perl-modules, python stdlib: domains of the continual benchmark;
# 7zip, zpaq: the classical peers (PPMd, zpaq -m5) measured beside the learner; strace: PrivacyIT proves no network use
PKGS="python3-torch python3-onnx python3-pytest python3-numpy libopenblas0-pthread perl-modules-5.36 libpython3.11-stdlib 7zip zpaq strace"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "missing Debian packages:$missing (run: sudo apt-get install -y$missing)" >&2
    exit 1
  fi
fi
mvn -B -ntp verify
# The CUDA engine's kernels run on the CPU under the stand-in nvcc of ../shared/tools/cuda-emu (fibers switched
# in forward, reverse and random order at each barrier, NaN-filled fresh memory, guard pages): the call-by-call
# comparison with the CPU engine (default model, and ragged shapes with the shared-memory opt-in), the finite-or-
# rolled-back guards, the decay-to-prior golden parity and whole spans, in all three orders (the launch and copy
# counts, the failover and the learner-level checks in the forward order only: fiber order does not change them).
EMU="$PWD/../shared/tools/cuda-emu/nvcc"
if [ -x "$EMU" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  for order in forward reverse random; do
    echo "== CUDA engine under cuda-emu, $order order"
    EMU_ORDER=$order mvn -B -ntp -q verify -pl native -am -Dnvcc="$EMU" -Dhope4j.test.cuda=1 \
      -Dtest='CudaEngineTest,CudaDecayParityTest,CudaRollbackTest,CudaShapesTest,CudaLaunchBudgetTest,CudaFailoverTest,CudaSpanTest' -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=NONE -Dfailsafe.failIfNoSpecifiedTests=false
  done
  # the GPU check end to end, with the emulator standing in for the GPU machine: the trace recorded from the CPU
  # engine, replayed through the CUDA engine (parity of every call and checkpoint, the bench mode)
  echo "== native/gpu-check.sh under cuda-emu"
  native/gpu-check.sh prepare
  NVCC="$EMU" native/gpu-check.sh run
else
  echo "== CUDA engine under cuda-emu: skipped (no $EMU or no /usr/local/cuda/bin/nvcc)"
fi
cd model-export && OMP_NUM_THREADS=1 /usr/bin/python3 -m pytest -q tests
