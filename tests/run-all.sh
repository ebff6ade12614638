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
cd model-export && OMP_NUM_THREADS=1 /usr/bin/python3 -m pytest -q tests
