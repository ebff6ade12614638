"""Evaluate Hope checkpoints on the synthetic paper tasks (hope_export.tasks) and write JSON.

    /usr/bin/python3 -m hope_export.paper_tasks --variants build/paper --corpus build/corpus \\
        --json ../tests/results/paper-tasks.json
    /usr/bin/python3 -m hope_export.paper_tasks --checkpoint mine=build/train/model.pt --quick --json out.json

Every episode is read from a fresh state with learning on as in inference (L0 memories and the
CMS levels update inside the forward pass). After a query's prompt the model decodes greedily
(until a newline or len(answer) + 4 bytes for recall/copy/NIAH, 2 * len(answer) + 8 for
translation); then its own output is discarded (the state is restored) and the true answer and a
newline are fed, so every later query sees the same text. Scores: exact match (recall, copy),
corpus chrF (translation), containment of the 7 digits in the output (NIAH, as RULER scores); for
every task also the teacher-forced bits/byte of the true answers (a softer measure). Seeds and sizes
are fixed, so two runs on one checkpoint write the same numbers.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from . import tasks
from .model import HopeConfig, HopeModel, Learning, count_parameters

log = logging.getLogger("hope_export.paper_tasks")

FULL = {"recall": 100, "copy": 100, "translate1": 60, "translate2": 60, "niah_lengths": list(tasks.NIAH_LENGTHS), "niah_depths": [0.1, 0.5, 0.9], "niah_reps": 1, "prose_windows": 16}
QUICK = {"recall": 3, "copy": 3, "translate1": 2, "translate2": 2, "niah_lengths": [1024, 2048], "niah_depths": [0.5], "niah_reps": 1, "prose_windows": 2}
MODES = {"learning": Learning(), "l0_only": Learning(True, False, False), "frozen": Learning.off()}
EVAL_SEED = 20251130


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hope_export.paper_tasks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH", help="a model.pt to evaluate under NAME (repeatable)")
    p.add_argument("--variants", type=Path, help="directory holding levels1/, levels2/, levels3/ (paper-train.sh): evaluate each model.pt found")
    p.add_argument("--corpus", type=Path, help="directory with heldout.txt: NIAH filler and held-out prose bits/byte (default: generated filler, no prose score)")
    p.add_argument("--json", type=Path, required=True, help="write the result here")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test: < 1 min on a tiny model)")
    p.add_argument("--modes", default="learning", help="comma-separated learning modes for the non-NIAH tasks: learning,l0_only,frozen (default learning)")
    p.add_argument("--resume", action="store_true", help="keep the variants already in --json (same settings) and evaluate only the others")
    p.add_argument("--seed", type=int, default=EVAL_SEED, help=f"evaluation seed (default {EVAL_SEED}; pre-training episodes use other seeds)")
    a = p.parse_args(argv)
    a.models = []
    for spec in a.checkpoint:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            p.error(f"--checkpoint: expected NAME=PATH, found {spec!r}")
        if not Path(path).is_file():
            p.error(f"--checkpoint: {path} not found")
        a.models.append((name, Path(path)))
    if a.variants is not None:
        if not a.variants.is_dir():
            p.error(f"--variants: {a.variants} is not a directory")
        found = [(f"levels{k}", a.variants / f"levels{k}" / "model.pt") for k in (1, 2, 3) if (a.variants / f"levels{k}" / "model.pt").is_file()]
        if not found:
            p.error(f"--variants: no levels1/2/3/model.pt under {a.variants}")
        a.models += found
    if not a.models:
        p.error("give --checkpoint NAME=PATH or --variants DIR")
    if a.corpus is not None and not (a.corpus / "heldout.txt").is_file():
        p.error(f"--corpus: {a.corpus / 'heldout.txt'} not found")
    a.mode_list = a.modes.split(",")
    for m in a.mode_list:
        if m not in MODES:
            p.error(f"--modes: unknown mode {m!r} (known: {', '.join(MODES)})")
    return a


def load(path: Path) -> tuple[HopeModel, dict]:
    state = torch.load(path)
    model = HopeModel(HopeConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    return model.eval(), state


# ----------------------------------------------------------------------------------------------
# reading an episode


def _feed(model: HopeModel, st, data: bytes, learning: Learning) -> torch.Tensor:
    x = torch.tensor([list(data)], dtype=torch.long)
    return model(st, x, learning)[0]  # [n, 256]


@torch.no_grad()
def run_episode(model: HopeModel, ep: tasks.Episode, learning: Learning, max_new) -> tuple[list[str], list[float]]:
    """Greedy outputs and teacher-forced answer bits/byte of every query of an episode."""
    st = model.init_state(1)
    outs, bits = [], []
    pre = ep.context.encode()
    for q in ep.queries:
        logits = _feed(model, st, pre + q.prompt.encode(), learning)
        last = logits[-1]
        saved = copy.deepcopy(st)
        out = bytearray()
        limit = max_new(q.answer)
        nxt = int(last.argmax())
        while nxt != 10 and len(out) < limit:
            out.append(nxt)
            if len(out) == limit:
                break
            nxt = int(_feed(model, st, bytes([nxt]), learning)[-1].argmax())
        outs.append(out.decode("utf-8", errors="replace"))
        st = saved
        ans = q.answer.encode()
        tf = _feed(model, st, ans + b"\n", learning)
        pred = torch.cat([last.unsqueeze(0), tf[: len(ans) - 1]], dim=0)
        nll = F.cross_entropy(pred, torch.tensor(list(ans)), reduction="sum").item()
        bits.append(nll / math.log(2) / len(ans))
        pre = b""
    return outs, bits


def _short(ans: str) -> int:
    return len(ans) + 4


def _long(ans: str) -> int:
    return 2 * len(ans) + 8


def episodes(task: str, n: int, seed: int) -> list[tasks.Episode]:
    return [tasks.make_episode(task, random.Random(f"eval-{seed}-{task}-{i}")) for i in range(n)]


def eval_task(model: HopeModel, task: str, eps: list[tasks.Episode], learning: Learning) -> dict:
    hyps, refs, bits = [], [], []
    for ep in eps:
        o, b = run_episode(model, ep, learning, _long if task.startswith("translate") else _short)
        hyps += o
        refs += [q.answer for q in ep.queries]
        bits += b
    res = {"queries": len(refs), "exact": round(sum(h == r for h, r in zip(hyps, refs)) / len(refs), 4), "answer_bits_per_byte": round(sum(bits) / len(bits), 4)}
    if task.startswith("translate"):
        res["chrf"] = round(tasks.corpus_chrf(hyps, refs), 2)
        res["sample"] = {"reference": refs[0], "output": hyps[0]}
    return res


def reference_points(eps: list[tasks.Episode]) -> dict:
    refs = [q.answer for ep in eps for q in ep.queries]
    copy_h = [h for ep in eps for h in tasks.copy_reference(ep)]
    look_h = [h for ep in eps for h in tasks.lookup_reference(ep)]
    return {"copy_source_chrf": round(tasks.corpus_chrf(copy_h, refs), 2), "dictionary_lookup_chrf": round(tasks.corpus_chrf(look_h, refs), 2), "dictionary_lookup_exact": round(sum(h == r for h, r in zip(look_h, refs)) / len(refs), 4)}


def eval_niah(model: HopeModel, sizes: dict, seed: int, filler: bytes | None) -> dict:
    acc, bits = {}, {}
    for length in sizes["niah_lengths"]:
        hits, bs = [], []
        for depth in sizes["niah_depths"]:
            for r in range(sizes["niah_reps"]):
                ep = tasks.niah(random.Random(f"eval-{seed}-niah-{length}-{depth}-{r}"), length, depth, filler)
                o, b = run_episode(model, ep, MODES["learning"], _short)
                hits.append(ep.queries[0].answer in o[0])
                bs += b
        acc[str(length)] = round(sum(hits) / len(hits), 4)
        bits[str(length)] = round(sum(bs) / len(bs), 4)
    return {"accuracy_by_length": acc, "answer_bits_per_byte_by_length": bits, "per_length": len(sizes["niah_depths"]) * sizes["niah_reps"], "depths": sizes["niah_depths"]}


@torch.no_grad()
def prose_bits(model: HopeModel, heldout: bytes, n: int, length: int = 4096) -> float:
    span = len(heldout) - length - 1
    total = 0.0
    for i in range(n):
        s = int(i * span / max(n - 1, 1))
        x = torch.tensor([list(heldout[s : s + length + 1])], dtype=torch.long)
        logits = model(model.init_state(1), x, MODES["learning"])
        total += F.cross_entropy(logits[0, :length], x[0, 1:]).item()
    return round(total / n / math.log(2), 4)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    sizes = QUICK if a.quick else FULL
    heldout = (a.corpus / "heldout.txt").read_bytes() if a.corpus else None
    task_eps = {t: episodes(t, sizes[t], a.seed) for t in ("recall", "copy", "translate1", "translate2")}
    result: dict = {
        "settings": {"quick": a.quick, "seed": a.seed, "sizes": sizes, "modes": a.mode_list, "niah_filler": "held-out corpus prose (corpus.py heldout.txt, non-ASCII bytes -> spaces)" if heldout else "generated sentences (tasks.generated_filler)", "decoding": "greedy; true answer fed after each query"},
        "reference_points": {t: reference_points(task_eps[t]) for t in ("translate1", "translate2")},
        "variants": {},
    }
    if a.resume and a.json.is_file():
        old = json.loads(a.json.read_text())
        if old.get("settings") != result["settings"]:
            log.error("--resume: %s was written with other settings", a.json)
            return 2
        result["variants"] = old["variants"]
    for name, path in a.models:
        if name in result["variants"]:
            log.info("%s: already in %s", name, a.json)
            continue
        t0 = time.time()
        model, state = load(path)
        hist = state.get("history") or []
        v: dict = {"checkpoint": str(path), "parameters": count_parameters(model), "cms_levels": model.cfg.cms_levels, "config": model.cfg.to_dict()}
        if hist:
            v["training"] = {"steps": hist[-1]["step"], "bytes_seen": hist[-1].get("bytes"), "seconds": round(hist[-1].get("elapsed_s", 0)), "heldout_bits_per_byte_1k": round(hist[-1]["heldout_bits_per_byte"], 4)}
        if heldout:
            v["heldout_prose_bits_per_byte"] = prose_bits(model, heldout, sizes["prose_windows"])
        v["tasks"] = {}
        for mode in a.mode_list:
            if mode == "l0_only" and model.cfg.cms_levels == 1:
                continue  # no plastic CMS level: identical to learning (tests/test_tasks.py)
            for t, eps in task_eps.items():
                key = t if mode == "learning" else f"{t}@{mode}"
                v["tasks"][key] = eval_task(model, t, eps, MODES[mode])
                log.info("%s %s: %s", name, key, {k: x for k, x in v["tasks"][key].items() if k != "sample"})
        v["tasks"]["niah"] = eval_niah(model, sizes, a.seed, heldout)
        log.info("%s niah: %s", name, v["tasks"]["niah"]["accuracy_by_length"])
        v["eval_seconds"] = round(time.time() - t0, 1)
        result["variants"][name] = v
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=1) + "\n")  # partial results survive an interruption
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=1) + "\n")
    log.info("wrote %s", a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
