"""Held-out bits/byte of a trained model, with every level learning, with only L0, and frozen.

    /usr/bin/python3 -m hope_export.evaluate --checkpoint build/train/model.pt --corpus build/corpus --json out.json

Each of --windows evenly spaced held-out windows of --length bytes is read from a fresh state
(prequential: every byte is scored before anything learns from it). ``--formats`` does the same on
every per-format split (``heldout-<format>.txt``).

``--l0-stability N`` reads the first N bytes of every per-format split as one stream twice, CMS
levels frozen, once with L0 learning and once with L0 frozen too, and compares them per 256-byte
window (issue 11's property: L0 learning must not make a window worse by more than 0.05 bits/byte
on average). ``--repeat`` scores a 1 KB passage of each format read 4 times in a row (learning on):
the score must fall with each repetition.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path

import torch

from .export import model_from_state
from .model import Learning, count_parameters
from .train import heldout_windows, sequence_loss

log = logging.getLogger("hope_export.evaluate")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hope_export.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True, help="model.pt from hope_export.train")
    p.add_argument("--corpus", type=Path, required=True, help="directory with heldout.txt")
    p.add_argument("--windows", type=int, default=32, help="held-out windows (default 32)")
    p.add_argument("--length", type=int, default=4096, help="bytes per window (default 4096)")
    p.add_argument("--baselines", type=Path, help="JSON from hope_export.baselines to copy into the result")
    p.add_argument("--history", type=Path, help="history.json from hope_export.train to copy into the result")
    p.add_argument("--json", type=Path, help="write the result here too")
    p.add_argument("--teach", choices=["residual", "exact"], default=None, help="override the CMS error signal (default: the checkpoint's)")
    p.add_argument("--periods", type=str, default=None, help="override the device periods C1,C2 (e.g. 128,512): the same weights read with other L1/L2 periods")
    p.add_argument("--modes", default="learning,l0_only,frozen", help="comma-separated subset of learning,l0_only,frozen")
    p.add_argument("--formats", action="store_true", help="also score every heldout-<format>.txt (same windows and modes)")
    p.add_argument("--l0-stability", type=int, default=0, metavar="N", help="per format: N bytes as one stream, L0 learning vs frozen, per 256-byte window")
    p.add_argument("--repeat", action="store_true", help="per format: a 1 KB passage read 4 times, bits/byte per repetition")
    p.add_argument("--skip-heldout", action="store_true", help="skip the mixed heldout.txt evaluation (only --formats / --l0-stability / --repeat)")
    a = p.parse_args(argv)
    if not a.checkpoint.is_file():
        p.error(f"--checkpoint: {a.checkpoint} not found")
    if not (a.corpus / "heldout.txt").is_file():
        p.error(f"--corpus: {a.corpus / 'heldout.txt'} not found")
    if a.windows <= 0 or a.length <= 1:
        p.error("--windows must be positive and --length > 1")
    for name in ("baselines", "history"):
        f = getattr(a, name)
        if f is not None and not f.is_file():
            p.error(f"--{name}: {f} not found")
    return a


@torch.no_grad()
def window_bits(model: torch.nn.Module, data: bytes, learning: Learning, window: int = 256) -> list[float]:
    """bits/byte of each `window`-byte piece of `data` read as one stream from a fresh state."""
    x = torch.tensor(list(data), dtype=torch.long).unsqueeze(0)
    logits = model(model.init_state(1), x, learning)
    nll = torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:], reduction="none") / math.log(2)
    n = nll.numel()
    return [nll[i : i + window].mean().item() for i in range(0, n - window + 1, window)]


def l0_stability(model: torch.nn.Module, data: bytes, window: int = 256) -> dict:
    """L0 learning vs L0 frozen (CMS frozen in both) per window: mean and worst difference (on - off)."""
    on = window_bits(model, data, Learning(True, False, False), window)
    off = window_bits(model, data, Learning.off(), window)
    d = [a - b for a, b in zip(on, off)]
    return {"bytes": len(data), "windows": len(d), "l0_on": round(sum(on) / len(on), 4), "l0_frozen": round(sum(off) / len(off), 4),
            "mean_diff": round(sum(d) / len(d), 4), "worst_window_diff": round(max(d), 4),
            "windows_worse_by_0.05": sum(x > 0.05 for x in d), "passes": sum(d) / len(d) <= 0.05}


def repetition(model: torch.nn.Module, passage: bytes, times: int = 4) -> list[float]:
    """bits/byte of each repetition of `passage` read `times` times in a row, learning on."""
    bits = window_bits(model, passage * times + passage[:1], Learning(), len(passage))
    return [round(b, 4) for b in bits[:times]]


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    overrides = {}
    if a.periods:
        try:
            c1, c2 = (int(v) for v in a.periods.split(","))
        except ValueError:
            log.error("--periods must be two integers C1,C2, found %s", a.periods)
            return 2
        overrides = {"c1": c1, "c2": c2}
    state = torch.load(a.checkpoint)
    model = model_from_state(state, teach=a.teach, **overrides).eval()
    heldout = torch.frombuffer(bytearray((a.corpus / "heldout.txt").read_bytes()), dtype=torch.uint8)
    windows = heldout_windows(heldout, a.windows, a.length)
    result: dict = {"parameters": count_parameters(model), "heldout_windows": a.windows, "heldout_window_bytes": a.length, "heldout_bits_per_byte": {}}
    result["periods"] = [model.cfg.c0, model.cfg.c1, model.cfg.c2]
    modes = {"learning": Learning(), "l0_only": Learning(True, False, False), "frozen": Learning.off()}
    result["teach"] = model.cfg.teach
    for name in a.modes.split(","):
        if name not in modes:
            log.error("--modes: unknown mode %s", name)
            return 2
        if a.skip_heldout:
            break
        learning = modes[name]
        t0 = time.time()
        total = 0.0
        with torch.no_grad():
            for i in range(0, a.windows, 8):
                # the exact rule needs autograd through the sequence: whole sequences, one call each
                total += sequence_loss(model, windows[i : i + 8], learning).item() * windows[i : i + 8].shape[0]
        bpb = total / a.windows / math.log(2)
        result["heldout_bits_per_byte"][name] = round(bpb, 4)
        log.info("%s: %.4f bits/byte (%.0f s)", name, bpb, time.time() - t0)
    fmts = {p.name[len("heldout-"):-len(".txt")]: p.read_bytes() for p in sorted(a.corpus.glob("heldout-*.txt"))}
    if a.formats:
        result["heldout_format_bits_per_byte"] = {}
        for fmt, data in fmts.items():
            fw = heldout_windows(torch.frombuffer(bytearray(data), dtype=torch.uint8), a.windows, a.length)
            res = {}
            for name in a.modes.split(","):
                with torch.no_grad():
                    res[name] = round(sum(sequence_loss(model, fw[i : i + 8], modes[name]).item() * fw[i : i + 8].shape[0] for i in range(0, a.windows, 8)) / a.windows / math.log(2), 4)
            result["heldout_format_bits_per_byte"][fmt] = res
            log.info("%s: %s", fmt, res)
    if a.l0_stability:
        result["l0_stability"] = {}
        for fmt, data in fmts.items():
            result["l0_stability"][fmt] = r = l0_stability(model, data[: a.l0_stability])
            log.info("L0 stability %s: %s", fmt, r)
    if a.repeat:
        result["repetition_bits_per_byte"] = {}
        for fmt, data in fmts.items():
            mid = len(data) // 2
            result["repetition_bits_per_byte"][fmt] = r = repetition(model, data[mid : mid + 1024])
            log.info("repetition %s: %s", fmt, r)
    if a.baselines:
        b = json.loads(a.baselines.read_text())
        result["baselines"] = {"fivegram_kn_bits_per_byte": b["fivegram_bits_per_byte"], "xz_conditioned_bits_per_byte": b["xz_bits_per_byte"]}
        if b.get("fivegram_windows_bits_per_byte") is not None and b.get("windows") == a.windows and b.get("window_bytes") == a.length:
            result["baselines"]["fivegram_kn_bits_per_byte_same_windows"] = b["fivegram_windows_bits_per_byte"]
    if a.history:
        hist = json.loads(a.history.read_text())
        if isinstance(hist, dict):  # checkpoints/history.json: {"prior": [...], "history": [...]}
            hist = hist["prior"] + hist["history"]
        result.update({"steps": hist[-1]["step"], "bytes_seen": hist[-1].get("bytes"), "seconds": round(hist[-1].get("compute_s", hist[-1].get("elapsed_s", 0))
                                                                                                  + (hist[0].get("elapsed_s", 0) if "bundle" in hist[0] and "compute_s" in hist[-1] else 0))})
    if "recipe" in state:
        result["recipe"] = state["recipe"]
    corpus_json = a.corpus / "corpus.json"
    if corpus_json.is_file():
        c = json.loads(corpus_json.read_text())
        result["corpus"] = (", ".join(v["package"] for v in c["sources"].values())
                            + f": {c['train']['bytes'] / 1e6:.1f} MB train, {c['heldout']['bytes'] / 1e6:.2f} MB held-out")
    text = json.dumps(result)
    print(text)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
