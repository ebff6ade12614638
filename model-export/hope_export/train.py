"""Pre-train the default Hope4J model (the outer loop).

Back-propagates through the in-context updates of every level (L0 memories per chunk, L1/L2 CMS
steps at their periods) to learn all initial values, frozen weights and the inner rates.

    /usr/bin/python3 -m hope_export.train --corpus build/corpus --out build/train --steps 1200

Deterministic for a given seed and thread count; checkpoints atomically every --ckpt-every steps
and resumes from the newest checkpoint in --out.

--procs 2 trains data-parallel in two processes (one core each, gloo all-reduce of the averaged
gradient): each reads its half of every batch, so the batches, the schedule and the result are those
of one process up to the order of floating-point sums. On this 2-core machine two processes give
about 1.4x the bytes/s of one (memory bandwidth is shared); torch threads within a process do not
help (2 threads are slower than 1).
"""
from __future__ import annotations

import argparse
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
    p.add_argument("--second-order", action="store_true", help="back-propagate through the CMS inner gradients too (about 2x slower)")
    p.add_argument("--teach", choices=["residual", "exact"], default="residual", help="CMS error signal used in the inner loop")
    p.add_argument("--task-fraction", type=float, default=0.0, help="fraction of the training sequences that are synthetic task episodes (hope_export.tasks), spread evenly over the steps (default 0: prose only)")
    a = p.parse_args(argv)
    for name in ("steps", "batch", "seq", "threads", "procs", "eval_every", "eval_windows", "ckpt_every"):
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
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    flat = torch.nn.utils.parameters_to_vector(grads)
    dist.all_reduce(flat)
    torch.nn.utils.vector_to_parameters(flat / procs, grads)


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
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    gen = torch.Generator().manual_seed(a.seed)
    step = 0
    history: list[dict] = []
    ckpt = a.out / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt)
        if state["config"] != a.cfg.to_dict():
            log.error("%s was trained with another config; use a new --out", ckpt)
            return 2
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        step, history = state["step"], state["history"]
        log.info("resumed from %s at step %d", ckpt, step)
    log.info("model: %d parameters, config %s", count_parameters(model), json.dumps(a.cfg.to_dict()))
    log.info("corpus: %d train bytes, %d held-out bytes", train.numel(), heldout.numel())

    t_start = time.time()
    bytes_done = 0
    run_loss = None
    elapsed0 = history[-1].get("elapsed_s", 0.0) if history else 0.0

    def progress() -> float:
        p = step / a.steps
        if a.max_minutes:
            p = max(p, (elapsed0 + time.time() - t_start) / (60 * a.max_minutes))
        if a.procs > 1:  # the wall clock of rank 0 decides for all
            t = torch.tensor([p], dtype=torch.float64)
            dist.broadcast(t, 0)
            p = t.item()
        return p

    share = slice(rank * a.batch // a.procs, (rank + 1) * a.batch // a.procs)
    prog = progress()
    while prog < 1.0:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, prog, a.lr, a.warmup)
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
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.procs > 1:
            _all_reduce_grads(model, a.procs)
            loss = loss.detach().clone()
            dist.all_reduce(loss)
            loss /= a.procs
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        opt.step()
        step += 1
        bytes_done += a.batch * a.seq
        bpb = loss.item() / LN2
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
            history.append({"step": step, "elapsed_s": elapsed0 + time.time() - t_start, "bytes": step * a.batch * a.seq, "train_bits_per_byte": run_loss, "heldout_bits_per_byte": hb, "lr1": model.lr1().tolist(), "lr2": model.lr2().tolist()})
            log.info("step %d  held-out %.3f bits/byte (learning on)", step, hb)
        if step % a.ckpt_every == 0 or done:
            atomic_save({"config": a.cfg.to_dict(), "model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step, "history": history}, ckpt)
    if not lead:
        return 0
    atomic_save({"config": a.cfg.to_dict(), "model": model.state_dict(), "history": prior.get("prior_history", []) + history, "recipe": recipe(a)}, a.out / "model.pt")
    (a.out / "history.json").write_text(json.dumps(prior.get("prior_history", []) + history, indent=1))
    log.info("done: %s", a.out / "model.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
