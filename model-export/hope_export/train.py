"""Pre-train the default Hope4J model (the outer loop).

Back-propagates through the in-context updates of every level (L0 memories per chunk, L1/L2 CMS
steps at their periods) to learn all initial values, frozen weights and the inner rates.

    /usr/bin/python3 -m hope_export.train --corpus build/corpus --out build/train --steps 1200

Deterministic for a given seed and thread count; checkpoints atomically every --ckpt-every steps
and resumes from the newest checkpoint in --out (the same schedule: crash recovery).

Carried state (truncated back-propagation through time, ``--stream-segments K`` > 1): each of the
``--batch`` rows reads a stream of consecutive ``--seq``-byte segments of train.txt (documents
concatenated with their blank-line separator); every step feeds the next segment with the HopeState
of the previous step, detached (gradients stop at the segment boundary, values flow on), so the
model learns from memories and CMS levels that are thousands of bytes old. A row's stream lasts a
uniformly drawn 1..2K-1 segments (mean K) and then restarts at a random offset with a fresh state
for that row (``HopeModel.reset_rows``). K = 1 is the classic recipe: independent sequences from a
fresh state.

Warm start: ``--init-bundle DIR`` rebuilds the model of an exported bundle (``model_from_bundle``,
checked against the bundle's golden logits) and trains on with a fresh optimizer. ``--resume
CKPT`` continues from a compact checkpoint (weights, AdamW state, step, history: written every
``--ckpt-minutes`` to ``--ckpt-dir``, e.g. the committed ``model-export/checkpoints/``) with a new
schedule (warm-up, then cosine over this run's budget); the streams restart fresh.

--procs 2 trains data-parallel in two processes (one core each, gloo all-reduce of the averaged
gradient): each reads its half of every batch, so the batches, the schedule and the result are those
of one process up to the order of floating-point sums. On this 2-core machine two processes give
about 1.4x the bytes/s of one (memory bandwidth is shared); torch threads within a process do not
help (2 threads are slower than 1).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import random
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

from . import tasks
from .model import VOCAB, HopeConfig, HopeModel, Learning, count_parameters

log = logging.getLogger("hope_export.train")
LN2 = math.log(2.0)


# ------------------------------------------------------------------------------------------------
# warm start from an exported bundle


def _onnx_weights(path: Path) -> tuple[dict[str, torch.Tensor], list[str], list[str]]:
    """Initializers of an ONNX segment by name, and the initializer names used as the second input
    of MatMul / Mul nodes, in graph order."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    matmuls = [n.input[1] for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    muls = [n.input[1] for n in m.graph.node if n.op_type == "Mul" and n.input[1] in inits]
    return inits, matmuls, muls


def model_from_bundle(bundle: Path, **config: object) -> HopeModel:
    """Rebuild the HopeModel of an exported bundle (manifest.json, ONNX segments, plastic.safetensors):
    the frozen weights come back from the ONNX initializers, matched by their place in the graph
    (`export.export_segments` traces `MixerIn` / `MixerOut` with constant folding: w_in and the MLP
    weights appear transposed, the conv kernel as its four columns in the order the forward uses
    them), the plastic values and inner rates from plastic.safetensors and the manifest. ``config``
    overrides HopeConfig fields that add parameters (e.g. decay1_init), which keep their fresh values.
    Check the result with `bundle_golden_error`."""
    from . import safetensors

    man = json.loads((bundle / "manifest.json").read_text())
    mm = man["model"]
    levels = {lv["name"]: lv for lv in man["levels"]}
    cfg = HopeConfig(d_model=mm["d_model"], n_blocks=mm["n_blocks"], n_heads=mm["n_heads"], slow_hidden=mm["slow_hidden"], mid_hidden=mm["mid_hidden"],
                     fast_hidden=mm["fast_hidden"], conv_width=mm["conv_width"], eta_max=mm["eta_max"], c0=levels["L0"]["period"], c1=levels["L1"]["period"],
                     c2=levels["L2"]["period"], teach=man.get("teach", "residual"), plastic_blocks=tuple(man.get("plastic_blocks", ())) if len(man.get("plastic_blocks", ())) != mm["n_blocks"] else (),
                     **config)
    model = HopeModel(cfg)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    files = {s["name"]: bundle / s["file"] for s in man["segments"]}
    inits, _, _ = _onnx_weights(files["embed"])
    sd["embed"] = inits["weight"]
    w = cfg.conv_width
    for b in range(cfg.n_blocks):
        inits, matmuls, muls = _onnx_weights(files[f"mixer_in_{b}"])
        sd[f"mixer_in.{b}.norm"] = next(inits[n] for n in muls if inits[n].shape == (cfg.d_model,))
        sd[f"mixer_in.{b}.w_in"] = inits[matmuls[0]].t()
        cols = [inits[n] for n in muls if inits[n].shape == (2 * cfg.d_model,)]
        if len(cols) != w:
            raise ValueError(f"mixer_in_{b}: expected {w} conv columns, found {len(cols)}")
        conv = torch.stack([cols[1 + j] for j in range(w - 1)] + [cols[0]], dim=1)  # forward order: column w-1, then 0..w-2
        sd[f"mixer_in.{b}.conv"] = conv
        inits, matmuls, muls = _onnx_weights(files[f"mixer_out_{b}"])
        # the three norm gains in the order the forward uses them (torch's exporter merges
        # initializers of equal value, so names are not reliable): norm_in, norm_o, norm3
        norms = [inits[n] for n in muls if inits[n].shape == (cfg.d_model,)]
        if len(norms) != 3 or not torch.equal(norms[0], sd[f"mixer_in.{b}.norm"]):
            raise ValueError(f"mixer_out_{b}: expected the norm gains norm_in (= mixer_in_{b}'s norm), norm_o, norm3")
        sd[f"mixer_out.{b}.norm_o"] = norms[1]
        sd[f"mixer_out.{b}.norm3"] = norms[2]
        for name, init in zip(("w_gate", "w_o", "up3", "down3"), matmuls):
            sd[f"mixer_out.{b}.{name}"] = inits[init].t()
    plastic, _ = safetensors.load(bundle / man.get("plastic", "plastic.safetensors"))
    stack = lambda fmt: torch.stack([plastic[fmt.format(b)] for b in range(cfg.n_blocks)])  # noqa: E731
    sd["mem_init"] = stack("blocks.{}.l0.init")
    sd["b_eta"] = stack("blocks.{}.l0.b_eta")
    sd["b_alpha"] = stack("blocks.{}.l0.b_alpha")
    for lv in ("1", "2"):
        sd[f"norm{lv}"] = stack("blocks.{}.l" + lv + ".norm")
        sd[f"up{lv}"] = stack("blocks.{}.l" + lv + ".up")
        sd[f"down{lv}"] = stack("blocks.{}.l" + lv + ".down")
        sd[f"log_lr{lv}"] = torch.log(torch.tensor(levels[f"L{lv}"]["learning_rate"], dtype=torch.float32))
    sd["norm_f"] = plastic["head.norm"]
    sd["head"] = plastic["head.weight"]
    for k, v in sd.items():
        if v.shape != model.state_dict()[k].shape:
            raise ValueError(f"bundle tensor for {k} has shape {tuple(v.shape)}, the model expects {tuple(model.state_dict()[k].shape)}")
    model.load_state_dict(sd)
    return model


@torch.no_grad()
def bundle_golden_error(model: HopeModel, bundle: Path, run: str = "learn_on") -> float:
    """max |logits - golden| / max(1, max |golden|) of the bundle's golden run (float64, as
    export.write_golden computes it); decay parameters are ignored (set to lambda = 0)."""
    from . import safetensors

    man = json.loads((bundle / "manifest.json").read_text())
    g = man["golden"]
    stream = (bundle / "golden" / g["stream"]).read_bytes()
    expected, _ = safetensors.load(bundle / "golden" / g["runs"][run]["file"])
    lr = g["runs"][run]["learning"]
    m64 = HopeModel(dataclasses.replace(model.cfg, decay1_init=0.0, decay2_init=0.0)).double()
    m64.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("logit_decay")})
    m64.eval()
    logits = m64(m64.init_state(1), torch.tensor(list(stream), dtype=torch.long).unsqueeze(0), Learning(lr["l0"], lr["l1"], lr["l2"]))[0].float()
    ref = expected["logits"]
    return ((logits - ref).abs().max() / max(1.0, ref.abs().max().item())).item()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hope_export.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="directory with train.txt and heldout.txt (hope_export.corpus)")
    p.add_argument("--out", type=Path, required=True, help="directory for checkpoints and the training log")
    p.add_argument("--steps", type=int, default=1200, help="outer-loop steps (default 1200)")
    p.add_argument("--batch", type=int, default=8, help="sequences per step (default 8)")
    p.add_argument("--seq", type=int, default=512, help="bytes per sequence (default 512; >= 2*c2 so L2 updates act)")
    p.add_argument("--lr", type=float, default=3e-3, help="peak AdamW learning rate (default 3e-3)")
    p.add_argument("--warmup", type=int, default=50, help="linear warm-up steps (default 50)")
    p.add_argument("--seed", type=int, default=1234, help="random seed (default 1234)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process (default 1: fastest on 2 cores)")
    p.add_argument("--procs", type=int, default=1, help="data-parallel processes, one batch slice each (default 1; --batch must be a multiple)")
    p.add_argument("--eval-every", type=int, default=100, help="held-out evaluation period in steps (default 100)")
    p.add_argument("--eval-windows", type=int, default=16, help="held-out windows per evaluation (default 16)")
    p.add_argument("--ckpt-every", type=int, default=50, help="checkpoint period in steps (default 50)")
    p.add_argument("--config", type=str, default="{}", help="JSON object overriding HopeConfig fields")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget: the schedule follows max(step/steps, time/budget) and stops at 1 (not deterministic)")
    p.add_argument("--init-from", type=Path, help="start from the weights of this model.pt/checkpoint.pt (fresh optimizer and schedule): a continuation run")
    p.add_argument("--init-bundle", type=Path, help="start from the model of this exported bundle directory (fresh optimizer and schedule); --config may add decay1_init/decay2_init")
    p.add_argument("--resume", type=Path, help="continue from this compact checkpoint (weights, optimizer, step, history) with a new schedule over this run's budget")
    p.add_argument("--release", action="store_true", help="with --resume: write the checkpoint's weights as --out/model.pt and history.json (what export and evaluate read) and train nothing")
    p.add_argument("--stream-segments", type=int, default=1, help="mean number of consecutive --seq segments a batch row reads with its state carried (default 1: independent sequences)")
    p.add_argument("--ckpt-dir", type=Path, help="also write a compact checkpoint (checkpoint.pt: fp32 weights + AdamW state) and history.json here every --ckpt-minutes")
    p.add_argument("--ckpt-minutes", type=float, default=10.0, help="period of the --ckpt-dir checkpoint in minutes (default 10)")
    p.add_argument("--format-windows", type=int, default=4, help="held-out windows per format (heldout-<format>.txt) per evaluation (default 4; 0: none)")
    p.add_argument("--format-length", type=int, default=2048, help="bytes per per-format held-out window (default 2048)")
    p.add_argument("--second-order", action="store_true", help="back-propagate through the CMS inner gradients too (about 2x slower)")
    p.add_argument("--teach", choices=["residual", "exact"], default="residual", help="CMS error signal used in the inner loop")
    p.add_argument("--task-fraction", type=float, default=0.0, help="fraction of the training sequences that are synthetic task episodes (hope_export.tasks), spread evenly over the steps (default 0: prose only)")
    a = p.parse_args(argv)
    for name in ("steps", "batch", "seq", "threads", "procs", "eval_every", "eval_windows", "ckpt_every", "stream_segments", "format_length"):
        if getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, found {getattr(a, name)}")
    if a.batch % a.procs:
        p.error(f"--batch ({a.batch}) must be a multiple of --procs ({a.procs})")
    if a.lr <= 0:
        p.error(f"--lr must be positive, found {a.lr}")
    if not 0.0 <= a.task_fraction < 1.0:
        p.error(f"--task-fraction must lie in [0, 1), found {a.task_fraction}")
    if not (a.corpus / "train.txt").is_file():
        p.error(f"--corpus: {a.corpus / 'train.txt'} not found (run hope_export.corpus first)")
    if a.out.exists() and not a.out.is_dir():
        p.error(f"--out: {a.out} exists and is not a directory")
    try:
        overrides = json.loads(a.config)
        if not isinstance(overrides, dict):
            raise ValueError("not an object")
        a.cfg = HopeConfig(**{**overrides, "teach": a.teach})
    except (ValueError, TypeError) as e:
        p.error(f"--config: {e}")
    if a.init_from is not None and not a.init_from.is_file():
        p.error(f"--init-from: {a.init_from} not found")
    if a.init_bundle is not None and not (a.init_bundle / "manifest.json").is_file():
        p.error(f"--init-bundle: {a.init_bundle / 'manifest.json'} not found")
    if a.resume is not None and not a.resume.is_file():
        p.error(f"--resume: {a.resume} not found")
    if a.release and a.resume is None:
        p.error("--release needs --resume CHECKPOINT")
    if sum(x is not None for x in (a.init_from, a.init_bundle, a.resume)) > 1:
        p.error("--init-from, --init-bundle and --resume exclude each other")
    if a.format_windows < 0 or a.ckpt_minutes <= 0:
        p.error("--format-windows must be >= 0 and --ckpt-minutes positive")
    if a.stream_segments > 1 and a.seq % a.cfg.c2:
        p.error(f"--seq ({a.seq}) must be a multiple of c2 ({a.cfg.c2}) so a carried state is reset at a level boundary")
    if a.seq < 2 * a.cfg.c2:
        p.error(f"--seq ({a.seq}) must be at least 2*c2 ({2 * a.cfg.c2}) so every level updates inside a sequence")
    return a


def sequence_loss(model: HopeModel, seqs: torch.Tensor, learning: Learning = Learning()) -> torch.Tensor:
    """Mean next-byte cross entropy (nats) of seqs [B, T+1] read from a fresh state with learning on."""
    st = model.init_state(seqs.shape[0])
    logits = model(st, seqs, learning)
    t = seqs.shape[1] - 1
    return F.cross_entropy(logits[:, :t].reshape(-1, VOCAB), seqs[:, 1:].reshape(-1))


def heldout_windows(heldout: torch.Tensor, n: int, length: int) -> torch.Tensor:
    """n evenly spaced windows of length+1 bytes from the held-out text (deterministic)."""
    span = heldout.numel() - length - 1
    starts = [int(i * span / max(n - 1, 1)) for i in range(n)]
    return torch.stack([heldout[s : s + length + 1] for s in starts]).long()


@torch.no_grad()
def evaluate(model: HopeModel, windows: torch.Tensor, learning: Learning = Learning()) -> float:
    """Held-out bits/byte (prequential: the model keeps learning as it reads each window)."""
    model.eval()
    loss = sequence_loss(model, windows, learning).item()
    model.train()
    return loss / LN2


def recipe(a: argparse.Namespace) -> str:
    """The training recipe in words (recorded in model.pt and, through hope_export.evaluate, the manifest)."""
    budget = f"over a {a.max_minutes:g}-minute budget" if a.max_minutes else f"over {a.steps} steps"
    meta = "second-order" if a.second_order else "first-order"
    return (f"AdamW lr {a.lr:g} (beta2 0.95), {a.warmup} warm-up steps, cosine to {a.lr / 10:g} {budget}, batch {a.batch} x {a.seq} bytes"
            f" in {a.procs} data-parallel process{'es' if a.procs > 1 else ''} of {a.threads} thread{'s' if a.threads > 1 else ''}, grad clip 1, seed {a.seed},"
            f" {meta} CMS meta-gradient, teach signal {a.teach}" + (f", {a.task_fraction:g} task episodes" if a.task_fraction else ""))


def atomic_save(obj: object, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def lr_at(step: int, progress: float, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine from peak to peak/10 as progress goes 0 -> 1."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if a.procs == 1:
        return run(a, 0)
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:  # a free local port for the gloo rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    workers = [ctx.Process(target=_worker, args=(a, r, port), daemon=False) for r in range(a.procs)]
    for w in workers:
        w.start()
    from multiprocessing.connection import wait

    running = list(workers)
    while running:  # a process that fails stops the others (they would wait for it in the all-reduce)
        for sentinel in wait([w.sentinel for w in running]):
            w = next(w for w in running if w.sentinel == sentinel)
            w.join()
            running.remove(w)
            if w.exitcode != 0:
                for other in running:
                    other.terminate()
    for w in workers:
        w.join()
    bad = [w.exitcode for w in workers if w.exitcode != 0]
    if bad:
        log.error("a training process failed (exit codes %s)", [w.exitcode for w in workers])
        return bad[0] if bad[0] > 0 else 1
    return 0


def _worker(a: argparse.Namespace, rank: int, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=a.procs)
    try:
        code = run(a, rank)
    finally:
        dist.destroy_process_group()
    sys.exit(code)


def _all_reduce_grads(model: torch.nn.Module, procs: int) -> None:
    """Average the gradients over the processes: one flat all-reduce."""
    for p in model.parameters():  # a parameter that got no gradient in this process (e.g. initial states when none of its rows restarted) counts as 0
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in model.parameters()]
    flat = torch.nn.utils.parameters_to_vector(grads)
    dist.all_reduce(flat)
    torch.nn.utils.vector_to_parameters(flat / procs, grads)


class Streams:
    """The byte streams of the batch rows (carried-state training). Every process simulates all
    rows with the same generator (so the data does not depend on --procs) and reads its share."""

    def __init__(self, data: torch.Tensor, batch: int, seq: int, mean_segments: int, gen: torch.Generator) -> None:
        self.data, self.batch, self.seq, self.k, self.gen = data, batch, seq, mean_segments, gen
        self.pos = torch.zeros(batch, dtype=torch.long)
        self.left = torch.zeros(batch, dtype=torch.long)  # segments left in each row's stream; 0 = restart

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(segments [B, seq+1] = seq inputs and the byte after them, reset [B] bool: rows that start
        a new stream with this segment)."""
        starts = torch.randint(0, self.data.numel() - self.seq - 1, (self.batch,), generator=self.gen)
        lens = torch.randint(1, 2 * self.k, (self.batch,), generator=self.gen) if self.k > 1 else torch.ones(self.batch, dtype=torch.long)
        reset = (self.left <= 0) | (self.pos + self.seq + 1 > self.data.numel())
        self.pos = torch.where(reset, starts, self.pos)
        self.left = torch.where(reset, lens, self.left)
        segs = torch.stack([self.data[s : s + self.seq + 1] for s in self.pos.tolist()]).long()
        self.pos = self.pos + self.seq
        self.left = self.left - 1
        return segs, reset


def format_windows(corpus: Path, n: int, length: int) -> dict[str, torch.Tensor]:
    """n evenly spaced windows of length+1 bytes from every heldout-<format>.txt of the corpus."""
    out = {}
    for path in sorted(corpus.glob("heldout-*.txt")):
        data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)
        if data.numel() > length + 1 and n > 0:
            out[path.name[len("heldout-"):-len(".txt")]] = heldout_windows(data, n, length)
    return out


@torch.no_grad()
def evaluate_formats(model: HopeModel, windows: dict[str, torch.Tensor], learning: Learning = Learning()) -> dict[str, float]:
    """Held-out bits/byte per format (every window read from a fresh state, learning on), all in one batch."""
    if not windows:
        return {}
    names = list(windows)
    batch = torch.cat([windows[k] for k in names])
    model.eval()
    st = model.init_state(batch.shape[0])
    logits = model(st, batch, learning)
    t = batch.shape[1] - 1
    nll = F.cross_entropy(logits[:, :t].reshape(-1, VOCAB), batch[:, 1:].reshape(-1), reduction="none").view(batch.shape[0], t).mean(1)
    model.train()
    out, i = {}, 0
    for k in names:
        n = windows[k].shape[0]
        out[k] = nll[i : i + n].mean().item() / LN2
        i += n
    return out


def compact_state(model: HopeModel, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    """fp32 weights and AdamW state (the moments in fp32: ~3 x 4 bytes per parameter)."""
    weights = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    return weights, opt.state_dict()


def run(a: argparse.Namespace, rank: int) -> int:
    """The training loop of one process (rank 0 logs, evaluates and checkpoints)."""
    lead = rank == 0
    if not lead:
        log.setLevel(logging.WARNING)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    a.out.mkdir(parents=True, exist_ok=True)
    train = torch.frombuffer(bytearray((a.corpus / "train.txt").read_bytes()), dtype=torch.uint8)
    heldout = torch.frombuffer(bytearray((a.corpus / "heldout.txt").read_bytes()), dtype=torch.uint8)
    windows = heldout_windows(heldout, a.eval_windows, a.seq)
    fwindows = format_windows(a.corpus, a.format_windows, a.format_length) if lead else {}
    task_filler = bytes(train[: 1 << 20].tolist()) if a.task_fraction > 0 else None  # NIAH haystacks of training episodes: train-split prose

    torch.manual_seed(a.seed)
    model = HopeModel(a.cfg)
    model.first_order = not a.second_order
    prior: dict = {}
    if a.init_from is not None:
        init = torch.load(a.init_from)
        if init["config"] != a.cfg.to_dict():
            log.error("--init-from %s has another config: %s", a.init_from, init["config"])
            return 2
        model.load_state_dict(init["model"])
        prior = {"init_from": str(a.init_from), "prior_history": init.get("history", [])}
        log.info("initialised from %s", a.init_from)
    if a.init_bundle is not None:
        overrides = {k: getattr(a.cfg, k) for k in ("decay1_init", "decay2_init")}
        bm = model_from_bundle(a.init_bundle, **overrides)
        if bm.cfg.to_dict() != a.cfg.to_dict():
            log.error("--init-bundle %s has another config: %s (this run: %s)", a.init_bundle, bm.cfg.to_dict(), a.cfg.to_dict())
            return 2
        err = bundle_golden_error(bm, a.init_bundle)
        if err > 1e-4:
            log.error("--init-bundle %s: rebuilt model misses the golden logits by %.2e", a.init_bundle, err)
            return 2
        model.load_state_dict(bm.state_dict())
        tr = json.loads((a.init_bundle / "manifest.json").read_text()).get("training") or {}
        prior = {"init_from": str(a.init_bundle), "prior_history": [{"bundle": str(a.init_bundle), "bytes": tr.get("bytes_seen", 0), "elapsed_s": tr.get("seconds", 0.0),
                                                                     "heldout_bits_per_byte": tr.get("heldout_bits_per_byte"), "recipe": tr.get("recipe")}]}
        log.info("initialised from bundle %s (golden logits reproduced, max rel err %.1e)", a.init_bundle, err)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    gen = torch.Generator().manual_seed(a.seed)
    step = 0
    history: list[dict] = []
    bytes_before = int(prior["prior_history"][0].get("bytes") or 0) if a.init_bundle is not None else 0  # bytes seen by the lineage at step base_step (--resume / --init-bundle / crash recovery)
    base_step = 0
    elapsed0 = 0.0  # seconds of this schedule before this process (crash recovery)
    compute0 = 0.0  # training seconds of the whole lineage before this process
    ckpt = a.out / "checkpoint.pt"
    if a.resume is not None:
        state = torch.load(a.resume)
        if state["config"] != a.cfg.to_dict():
            log.error("--resume %s was trained with another config: %s", a.resume, state["config"])
            return 2
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        history = state.get("history", [])
        prior = {"prior_history": state.get("prior_history", [])}
        step = state["step"]
        bytes_before, base_step = state.get("bytes", 0), step
        compute0 = state.get("compute_s", 0.0)
        gen.manual_seed(a.seed + step)  # new streams, new randomness
        log.info("resumed from %s at step %d (%d bytes seen), new schedule over this run", a.resume, step, bytes_before)
        if a.release:
            a.out.mkdir(parents=True, exist_ok=True)
            lineage = prior.get("prior_history", []) + history
            legs = 1 + sum(1 for prev, e in zip(history, history[1:]) if e.get("elapsed_s", 0) < prev.get("elapsed_s", 0))
            rec = (f"state carried across segments, {legs} resumed legs to step {step} ({bytes_before / 1e6:.1f} MB seen in all, {state.get('compute_s', 0) / 3600:.1f} CPU h of one thread"
                   + (f" after a warm start from a bundle trained on {lineage[0]['bytes'] / 1e6:.1f} MB" if lineage and "bundle" in lineage[0] else "") + "); last leg: " + state.get("recipe", "?"))
            atomic_save({"config": state["config"], "model": model.state_dict(), "history": lineage, "recipe": rec}, a.out / "model.pt")
            (a.out / "history.json").write_text(json.dumps(lineage, indent=1))
            log.info("released step %d of %s as %s (nothing trained)", step, a.resume, a.out / "model.pt")
            return 0
    sched_step0 = step
    if ckpt.exists():
        state = torch.load(ckpt)
        if state["config"] != a.cfg.to_dict():
            log.error("%s was trained with another config; use a new --out", ckpt)
            return 2
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        step, history = state["step"], state["history"]
        prior = {"prior_history": state.get("prior_history", prior.get("prior_history", []))}
        bytes_before, base_step, compute0 = state.get("bytes", 0), step, state.get("compute_s", 0.0)
        sched_step0, elapsed0 = state.get("sched_step0", 0), state.get("sched_elapsed_s", history[-1].get("elapsed_s", 0.0) if history else 0.0)
        log.info("resumed from %s at step %d", ckpt, step)
    log.info("model: %d parameters, config %s", count_parameters(model), json.dumps(a.cfg.to_dict()))
    log.info("corpus: %d train bytes, %d held-out bytes, formats %s", train.numel(), heldout.numel(), list(fwindows))

    t_start = time.time()
    last_ckpt = t_start
    bytes_done = 0
    run_loss = None

    def progress() -> float:
        p = (step - sched_step0) / a.steps
        if a.max_minutes:
            p = max(p, (elapsed0 + time.time() - t_start) / (60 * a.max_minutes))
        if a.procs > 1:  # the wall clock of rank 0 decides for all
            t = torch.tensor([p], dtype=torch.float64)
            dist.broadcast(t, 0)
            p = t.item()
        return p

    def save(path: Path, with_gen: bool) -> None:
        weights, opt_state = compact_state(model, opt)
        el = time.time() - t_start
        obj = {"config": a.cfg.to_dict(), "model": weights, "opt": opt_state, "step": step, "history": history, "prior_history": prior.get("prior_history", []),
               "bytes": bytes_total(), "compute_s": compute0 + el, "sched_step0": sched_step0, "sched_elapsed_s": elapsed0 + el, "recipe": recipe(a)}
        if with_gen:
            obj["gen"] = gen.get_state()
        atomic_save(obj, path)

    def bytes_total() -> int:
        """Bytes seen by the whole lineage (the bundle's or checkpoint's, then this run's steps)."""
        return bytes_before + (step - base_step) * a.batch * a.seq

    share = slice(rank * a.batch // a.procs, (rank + 1) * a.batch // a.procs)
    streams = Streams(train, a.batch, a.seq, a.stream_segments, gen) if a.stream_segments > 1 else None
    st = None
    bad_steps = 0
    prog = progress()
    while prog < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_at(step - sched_step0, prog, a.lr, a.warmup)
        if streams is None:
            starts = torch.randint(0, train.numel() - a.seq - 1, (a.batch,), generator=gen)
            seqs = torch.stack([train[s : s + a.seq + 1] for s in starts.tolist()]).long()
            if a.task_fraction > 0:
                # the first k sequences of this step become task episodes; k follows the cumulative
                # fraction so the whole run holds task_fraction of the sequences (seeded per step)
                k = math.floor((step + 1) * a.batch * a.task_fraction) - math.floor(step * a.batch * a.task_fraction)
                for i in range(k):
                    rng = random.Random(f"train-{a.seed}-{step}-{i}")
                    ep = tasks.training_sequence(rng, a.seq + 1, filler=task_filler)
                    seqs[i] = torch.tensor(list(ep), dtype=torch.long)
            loss = sequence_loss(model, seqs[share])
        else:
            segs, reset = streams.next()
            segs, reset = segs[share], reset[share]
            if st is None or bool(reset.all()):
                st = model.init_state(segs.shape[0])
                st.pos = step * a.seq  # keeps the level schedule of a continuing stream (pos is a multiple of c2)
            else:
                model.reset_rows(st, reset)
            logits = model(st, segs[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), segs[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if st is not None:
            model.detach_state(st)
        if a.procs > 1:
            _all_reduce_grads(model, a.procs)
            loss = loss.detach().clone()
            dist.all_reduce(loss)
            loss /= a.procs
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        bpb = loss.item() / LN2
        if not (math.isfinite(bpb) and math.isfinite(gnorm)):
            # a non-finite loss or gradient: skip the update, restart the streams; give up after 20 in a row
            bad_steps += 1
            log.warning("step %d: non-finite loss %s / gradient norm %s, update skipped (%d in a row)", step, bpb, gnorm, bad_steps)
            st = None
            if streams is not None:
                streams.left.zero_()
            if bad_steps >= 20:
                log.error("20 non-finite steps in a row; stopping (the last checkpoint stands)")
                return 3
            continue
        bad_steps = 0
        opt.step()
        step += 1
        bytes_done += a.batch * a.seq
        run_loss = bpb if run_loss is None else 0.95 * run_loss + 0.05 * bpb
        prog = progress()
        done = prog >= 1.0
        if not lead:
            continue
        if step % 10 == 0 or done:
            el = time.time() - t_start
            rate = bytes_done / el
            eta = (1.0 - min(1.0, prog)) / max(prog, 1e-9) * (elapsed0 + el)
            log.info("step %d (%.0f%%)  train %.3f bits/byte (avg %.3f)  |g| %.2f  %.0f bytes/s  eta %.1f min", step, 100 * prog, bpb, run_loss, gnorm, rate, eta / 60)
        if step % a.eval_every == 0 or done:
            hb = evaluate(model, windows)
            fb = evaluate_formats(model, fwindows)
            entry = {"step": step, "elapsed_s": elapsed0 + time.time() - t_start, "compute_s": compute0 + time.time() - t_start,
                     "bytes": bytes_total(), "train_bits_per_byte": run_loss, "heldout_bits_per_byte": hb,
                     "heldout_format_bits_per_byte": fb, "lr": opt.param_groups[0]["lr"], "lr1": model.lr1().tolist(), "lr2": model.lr2().tolist()}
            for lv, lam in (("decay1", model.decay1()), ("decay2", model.decay2())):
                if lam is not None:
                    entry[lv] = lam.tolist()
            history.append(entry)
            log.info("step %d  held-out %.3f bits/byte (learning on); per format (%d x %d bytes): %s", step, hb, a.format_windows, a.format_length,
                     "  ".join(f"{k} {v:.3f}" for k, v in fb.items()))
            if a.ckpt_dir is not None:
                a.ckpt_dir.mkdir(parents=True, exist_ok=True)
                (a.ckpt_dir / "history.json").write_text(json.dumps({"prior": prior.get("prior_history", []), "history": history}, indent=1) + "\n")
        if step % a.ckpt_every == 0 or done:
            save(ckpt, True)
        if a.ckpt_dir is not None and (time.time() - last_ckpt >= 60 * a.ckpt_minutes or done):
            a.ckpt_dir.mkdir(parents=True, exist_ok=True)
            save(a.ckpt_dir / "checkpoint.pt", False)
            (a.ckpt_dir / "history.json").write_text(json.dumps({"prior": prior.get("prior_history", []), "history": history}, indent=1) + "\n")
            last_ckpt = time.time()
            log.info("compact checkpoint %s (step %d)", a.ckpt_dir / "checkpoint.pt", step)
    if not lead:
        return 0
    atomic_save({"config": a.cfg.to_dict(), "model": model.state_dict(), "history": prior.get("prior_history", []) + history, "recipe": recipe(a)}, a.out / "model.pt")
    (a.out / "history.json").write_text(json.dumps(prior.get("prior_history", []) + history, indent=1))
    log.info("done: %s", a.out / "model.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
