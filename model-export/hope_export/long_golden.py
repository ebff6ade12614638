"""The long parity fixture (runtime LongParityTest): the default bundle's model, rebuilt from the
bundle with its decay to the prior, reads 64 KiB with every level learning in the float64 reference
-- 1,023 L1 and 255 L2 update steps, 4,096 L0 chunks -- and the fixture keeps the logits of the
last 256 positions and the learned state at the end (L0 memories, L1 and L2 weights).

The stream is built from the bundle itself, so the fixture needs no text of its own: the bundle's
rehearsal text (training split) then its retention probe, repeated to 64 KiB.

    /usr/bin/python3 -m hope_export.long_golden --bundle ../runtime/src/main/resources/org/hope4j/default-bundle \\
        --out ../runtime/src/test/resources/org/hope4j/long-parity.safetensors

Run it again whenever the default bundle changes (rebuild-default.sh does).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import torch

from . import safetensors
from .model import HopeModel, Learning
from .train import model_from_bundle

log = logging.getLogger("hope_export.long_golden")

LONG_BYTES = 65536
KEEP_LOGITS = 256
KEEP = ("l0.w0", "l0.wt", "l1.up", "l1.down", "l2.up", "l2.down")


def long_stream(bundle: Path, n: int = LONG_BYTES) -> bytes:
    """The bundle's rehearsal text then its probe, repeated and cut to n bytes (LongParityTest builds the same)."""
    man = json.loads((bundle / "manifest.json").read_text())
    base = (bundle / man["rehearsal"]["file"]).read_bytes() + (bundle / man["probe"]["file"]).read_bytes()
    return (base * (n // len(base) + 1))[:n]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def bundle_model(bundle: Path) -> HopeModel:
    """The bundle's model with the manifest's per-block L1/L2 rates and decays to the prior."""
    man = json.loads((bundle / "manifest.json").read_text())
    levels = {lv["name"]: lv for lv in man["levels"]}
    d1, d2 = levels["L1"].get("decay"), levels["L2"].get("decay")
    cfg = {"decay1_init": 0.5, "decay2_init": 0.5} if d1 else {}
    model = model_from_bundle(bundle, **cfg)
    if d1:
        with torch.no_grad():
            model.logit_decay1.copy_(torch.tensor([_logit(p) for p in d1]))
            model.logit_decay2.copy_(torch.tensor([_logit(p) for p in d2]))
    return model


@torch.no_grad()
def long_golden(bundle: Path, out: Path, n: int = LONG_BYTES) -> dict:
    from .export import state_tensors

    model = bundle_model(bundle)
    m64 = HopeModel(model.cfg).double()
    m64.load_state_dict(model.state_dict())
    m64.eval()
    stream = long_stream(bundle, n)
    st = m64.init_state(1)
    logits = m64(st, torch.tensor(list(stream), dtype=torch.long).unsqueeze(0), Learning())
    tensors = {"logits": logits[0, -KEEP_LOGITS:].float().contiguous(),
               **{k: v for k, v in state_tensors(st).items() if k.split(".", 2)[2] in KEEP}}
    meta = {"stream_bytes": str(n), "keep_logits": str(KEEP_LOGITS), "pos": str(st.pos),
            **{f"count_{k}": str(v) for k, v in st.counts.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    safetensors.save(tensors, out, meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", type=Path, required=True, help="the exported bundle directory")
    p.add_argument("--out", type=Path, required=True, help="the fixture file to write (safetensors)")
    p.add_argument("--bytes", type=int, default=LONG_BYTES, help="stream length (default 65536: 1,023 L1 steps)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not (a.bundle / "manifest.json").is_file():
        p.error(f"--bundle: {a.bundle} holds no manifest.json")
    if a.bytes < 2:
        p.error(f"--bytes must be >= 2, found {a.bytes}")
    torch.set_num_threads(1)
    meta = long_golden(a.bundle, a.out, a.bytes)
    log.info("wrote %s: %s", a.out, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
