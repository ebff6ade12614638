"""The golden fixture of the engines' decay-to-prior parity tests (runtime DecayParityTest, native
CudaDecayParityTest): a small seeded model whose L1 and L2 levels carry the decay-to-prior
parameters, exported through export.py with its golden run over a short stream.

    /usr/bin/python3 -m hope_export.decay_golden --out ../runtime/src/test/resources/org/hope4j/decay-golden

At every L1/L2 update (model.py, `_apply_updates`) the level takes

    theta <- theta - lambda[b] (theta - theta0) - eta[b] G

with theta0 the bundle's initial value. The fixture makes the rule visible and every index of it
checked: lambda and eta differ per block and per level (lambda 0.05-0.1, L1 rates 0.05 / 0.03),
the periods are short (C1 = 32, C2 = 128), so the 400-byte stream makes 12 L1 and 3 L2 updates,
most of them from a value away from theta0. Only the `learn_on` run is stored (the others do not
touch the rule), which keeps the fixture under 1 MB.
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

import torch

from . import export
from .model import HopeConfig, HopeModel

log = logging.getLogger("hope_export.decay_golden")

DECAY_CONFIG = HopeConfig(d_model=32, n_blocks=2, n_heads=2, slow_hidden=64, mid_hidden=32, fast_hidden=32,
                          c0=16, c1=32, c2=128, lr1_init=0.05, lr2_init=0.01, decay1_init=0.05, decay2_init=0.05)
DECAY_MODEL_SEED = 13
DECAY1 = (0.05, 0.1)  # lambda of L1 per block
DECAY2 = (0.08, 0.04)  # lambda of L2 per block
LR1 = (0.05, 0.03)  # eta of L1 per block
LR2 = (0.01, 0.02)  # eta of L2 per block
DECAY_STREAM_BYTES = 400


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def decay_model() -> HopeModel:
    """The seeded fixture model with per-block rates and decays."""
    torch.manual_seed(DECAY_MODEL_SEED)
    model = HopeModel(DECAY_CONFIG)
    with torch.no_grad():
        model.logit_decay1.copy_(torch.tensor([_logit(p) for p in DECAY1]))
        model.logit_decay2.copy_(torch.tensor([_logit(p) for p in DECAY2]))
        model.log_lr1.copy_(torch.tensor([math.log(p) for p in LR1]))
        model.log_lr2.copy_(torch.tensor([math.log(p) for p in LR2]))
    return model


def decay_stream(n: int = DECAY_STREAM_BYTES) -> bytes:
    """The first n bytes of the bundle's golden stream (English prose)."""
    return export.golden_stream()[:n]


def write_decay_golden(out: Path) -> Path:
    """Writes the fixture bundle (manifest with `decay` on L1 and L2, golden/learn_on.safetensors)."""
    model = decay_model()
    return export.write_bundle(model, out, {"purpose": "decay-to-prior parity fixture (hope_export.decay_golden)", "model_seed": DECAY_MODEL_SEED},
                               golden_bytes=decay_stream(), golden_runs=("learn_on",))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hope_export.decay_golden", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="bundle directory to (re)create")
    a = p.parse_args(argv)
    if a.out.exists() and not a.out.is_dir():
        p.error(f"--out: {a.out} exists and is not a directory")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    write_decay_golden(a.out)
    log.info("decay golden written to %s", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
