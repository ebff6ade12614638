"""Sleep, Hope4J's variant (HOPE-MODEL.md §3): the PyTorch reference of the runtime's
`org.hope4j.consolidation.Consolidation`, function by function.

    /usr/bin/python3 -m hope_export.sleep golden --out DIR     (the Java parity fixture, see README)

One sleep, on a copy of the live state (the live state is never changed here):

1. Teacher = the live model. Student = the live model with L1 reset to its pretrained value and
   L2 = base + one new low-rank expert (ΔUp = P Q, ΔDown = U V per plastic block; U = P = 0 at the
   start, so the expert starts as a no-op). When the pool is full, its oldest expert is folded into
   L2 (kept) or pruned (taken back out of `base`).
2. Consolidation: only the expert trains (Adam), by distillation: the mean over a window's positions
   of KL(teacher || student) on next-byte distributions, every window read from a fresh context
   (L0 at its initial value, conv zero, position 0; CMS levels fixed). The gradient at the logits,
   (p_S - p_T) / W, reaches L2 through the device's residual teach signal (the rule of
   `HopeModel._accumulate_inner`), and from L2's summed gradients G_up, G_down to the factors:
   dU = G_down V^T, dV = U^T G_down, dP = G_up Q^T, dQ = P^T G_up.
3. Dreaming (optional): continuations sampled from the teacher, each trained on for a few steps and
   kept only if the bits/byte of held-out experience improves.
4. Guard: the retention probe's bits/byte with the student may exceed by at most `probe_bound`
   (relative) the larger of the pretrained model's (the bundle's L1 and L2, no expert) and the
   figure with L1 reset and no expert -- not the teacher's, which may already have forgotten: the
   expert may not damage general text itself, and need not beat the pretrained model; at every
   checkpoint and at the end; every value must be finite. `commit` then makes L2 = base + expert and resets L1.

Random numbers come from `SplitMix64`, bit-identical to the Java one, consumed in the same order,
so with `sampled_fraction = 0`, `anchor_fraction = 0`, `dream = False` and a fixed `steps` the Java
runtime and this reference take the same steps (Java in float32, this reference in the model's
dtype; the golden fixture runs it in float64). The expert's factors and Adam moments are float32
here too, updated with Java's roundings.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from . import safetensors
from .model import HopeConfig, HopeModel, HopeState, Learning, mlp, mlp_grads, rmsnorm, rmsnorm_backward

log = logging.getLogger("hope_export.sleep")

LN2 = math.log(2)
BETA1 = 0.9
BETA2 = 0.999
ADAM_EPS = 1e-8
READ = Learning(l0=True, l1=False, l2=False)  # CMS fixed, L0 in context: how sleep reads
MASK64 = (1 << 64) - 1


# ----------------------------------------------------------------------------------------------
# random numbers (SplitMix64.java)


class SplitMix64:
    """SplitMix64 (Steele, Lea, Flood 2014) with Java's `long` arithmetic: the state is kept as the
    unsigned 64-bit value of the Java long, products wrap modulo 2^64, `>>>` is `>>` of that value."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next_long(self) -> int:
        """The next output as an unsigned 64-bit int (the Java long's bit pattern)."""
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_double(self) -> float:
        """Uniform in [0, 1) from the top 53 bits."""
        return (self.next_long() >> 11) * 2.0**-53

    def next_int(self, n: int) -> int:
        """Uniform in [0, n), n > 0: floor(next_double() * n)."""
        return math.floor(self.next_double() * n)


# ----------------------------------------------------------------------------------------------
# configuration (SleepConfig.java)


@dataclass(frozen=True)
class SleepConfig:
    """What one sleep does; the fields and defaults of `org.hope4j.sleep.SleepConfig`."""

    pool_size: int = 4
    rank: int = 8
    window_bytes: int = 128
    learning_rate: float = 1e-3
    sampled_fraction: float = 0.1
    anchor_fraction: float = 0.5
    anchor_windows: int = 64
    prompt_bytes: int = 32
    dream: bool = True
    dream_candidates: int = 4
    dream_steps: int = 2
    held_out_bytes: int = 2048
    eval_bytes: int = 16384
    probe_bound: float = 0.01
    prune: bool = False
    steps: int = 600
    check_every: int = 25
    patience: int = 8
    clear_experience: bool = False
    seed: int = 1

    def __post_init__(self) -> None:
        if self.pool_size <= 0 or self.rank <= 0 or self.eval_bytes <= 0 or self.prompt_bytes <= 0:
            raise ValueError("pool_size, rank, eval_bytes and prompt_bytes must be > 0")
        if self.window_bytes < 2:
            raise ValueError(f"window_bytes must be >= 2, found {self.window_bytes}")
        if not (self.learning_rate > 0) or math.isinf(self.learning_rate):
            raise ValueError(f"learning_rate must be > 0 and finite, found {self.learning_rate}")
        if not 0 <= self.sampled_fraction <= 1:
            raise ValueError(f"sampled_fraction must be in [0, 1], found {self.sampled_fraction}")
        if not 0 <= self.anchor_fraction <= 1 or self.sampled_fraction + self.anchor_fraction > 1:
            raise ValueError(f"anchor_fraction must be in [0, 1 - sampled_fraction], found {self.anchor_fraction}")
        if self.anchor_windows < 0 or (self.anchor_fraction > 0 and self.anchor_windows == 0):
            raise ValueError(f"anchor_windows must be >= 0, and > 0 when anchor_fraction > 0, found {self.anchor_windows}")
        if self.prompt_bytes >= self.window_bytes:
            raise ValueError(f"prompt_bytes must be < window_bytes ({self.window_bytes}), found {self.prompt_bytes}")
        if min(self.dream_candidates, self.dream_steps, self.held_out_bytes, self.steps) < 0:
            raise ValueError("dream_candidates, dream_steps, held_out_bytes and steps must be >= 0")
        if self.check_every < 0 or self.patience < 1:
            raise ValueError(f"check_every must be >= 0 and patience >= 1, found {self.check_every}, {self.patience}")
        if not (self.probe_bound >= 0) or math.isinf(self.probe_bound):
            raise ValueError(f"probe_bound must be >= 0 and finite, found {self.probe_bound}")

    def to_java(self) -> dict[str, str]:
        """The fields under the Java record's component names, as strings (safetensors metadata)."""
        out = {}
        for f in dataclasses.fields(self):
            name = f.name.split("_")
            java = name[0] + "".join(w.capitalize() for w in name[1:])
            v = getattr(self, f.name)
            out[java] = ("true" if v else "false") if isinstance(v, bool) else repr(v)
        return out

    @staticmethod
    def from_java(m: dict[str, str]) -> "SleepConfig":
        kw = {}
        for f in dataclasses.fields(SleepConfig):
            name = f.name.split("_")
            s = m[name[0] + "".join(w.capitalize() for w in name[1:])]
            kw[f.name] = s == "true" if f.type in ("bool", bool) else (float(s) if f.type in ("float", float) else int(s))
        return SleepConfig(**kw)


# ----------------------------------------------------------------------------------------------
# the expert and its pool (Expert.java, ExpertPool.java)


@dataclass
class Expert:
    """One masked low-rank expert of L2: per block ΔUp = P Q ([F2, r] [r, D]), ΔDown = U V
    ([D, r] [r, F2]). float32 like the runtime's; blocks that do not learn hold zeros."""

    u: list[Tensor]
    v: list[Tensor]
    p: list[Tensor]
    q: list[Tensor]

    @staticmethod
    def zeros(nb: int, d: int, f2: int, rank: int) -> "Expert":
        z = lambda r, c: [torch.zeros(r, c, dtype=torch.float32) for _ in range(nb)]  # noqa: E731
        return Expert(z(d, rank), z(rank, f2), z(f2, rank), z(rank, d))

    @staticmethod
    def fresh(nb: int, d: int, f2: int, rank: int, plastic: list[bool], rng: SplitMix64) -> "Expert":
        """U = P = 0; V and Q uniform in ±1/sqrt(fan-in), drawn block by block, V before Q, row-major."""
        e = Expert.zeros(nb, d, f2, rank)
        av, aq = 1 / math.sqrt(f2), 1 / math.sqrt(d)
        for b in range(nb):
            if not plastic[b]:
                continue
            e.v[b] = torch.tensor([(2 * rng.next_double() - 1) * av for _ in range(rank * f2)], dtype=torch.float32).reshape(rank, f2)
            e.q[b] = torch.tensor([(2 * rng.next_double() - 1) * aq for _ in range(rank * d)], dtype=torch.float32).reshape(rank, d)
        return e

    @property
    def nb(self) -> int:
        return len(self.u)

    def copy(self) -> "Expert":
        return Expert([t.clone() for t in self.u], [t.clone() for t in self.v], [t.clone() for t in self.p], [t.clone() for t in self.q])

    def delta(self, b: int, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        """(ΔUp, ΔDown) of block b in `dtype`."""
        return self.p[b].to(dtype) @ self.q[b].to(dtype), self.u[b].to(dtype) @ self.v[b].to(dtype)

    def finite(self) -> bool:
        return all(bool(torch.isfinite(t).all()) for ts in (self.u, self.v, self.p, self.q) for t in ts)

    def tensors(self, prefix: str = "expert.") -> dict[str, Tensor]:
        out = {}
        for b in range(self.nb):
            for name in ("u", "v", "p", "q"):
                out[f"{prefix}blocks.{b}.{name}"] = getattr(self, name)[b]
        return out


class ExpertPool:
    """L2's pool: `slots` slots, each free or holding the expert of a committed sleep and its stamp."""

    def __init__(self, slots: int, rank: int) -> None:
        self.slots, self.rank = slots, rank
        self.experts: list[Expert | None] = [None] * slots
        self.stamps = [0] * slots
        self.sleeps = 0

    def free_slot(self) -> int:
        return next((i for i, e in enumerate(self.experts) if e is None), -1)

    def oldest_slot(self) -> int:
        best = -1
        for i, e in enumerate(self.experts):
            if e is not None and (best < 0 or self.stamps[i] < self.stamps[best]):
                best = i
        return best

    def commit(self, slot: int, evicted: int, e: Expert) -> None:
        if evicted >= 0:
            self.experts[evicted] = None
            self.stamps[evicted] = 0
        self.sleeps += 1
        self.experts[slot] = e
        self.stamps[slot] = self.sleeps


class Adam:
    """Adam over an expert's factors (β 0.9 / 0.999, eps 1e-8, bias-corrected), moments float32."""

    def __init__(self, like: Expert) -> None:
        nb, (d, r), f2 = like.nb, like.u[0].shape, like.v[0].shape[1]
        self.m = Expert.zeros(nb, d, f2, r)
        self.v = Expert.zeros(nb, d, f2, r)
        self.t = 0

    def copy(self) -> "Adam":
        a = copy.copy(self)
        a.m, a.v = self.m.copy(), self.v.copy()
        return a

    def step(self, e: Expert, g_up: list[Tensor | None], g_down: list[Tensor | None], plastic: list[bool], lr: float) -> None:
        """With G_down = dL/dDown [D, F2], G_up = dL/dUp [F2, D] of every plastic block:
        dU = G_down V^T, dV = U^T G_down, dP = G_up Q^T, dQ = P^T G_up, then one Adam step."""
        self.t += 1
        c1 = 1 - BETA1**self.t
        c2 = 1 - BETA2**self.t
        for b in range(e.nb):
            if not plastic[b]:
                continue
            gd, gu = g_down[b].double(), g_up[b].double()
            u, v, p, q = (t[b].double() for t in (e.u, e.v, e.p, e.q))
            grads = {"u": gd @ v.t(), "v": u.t() @ gd, "p": gu @ q.t(), "q": p.t() @ gu}  # computed before any update
            for name, g in grads.items():
                w, m1, m2 = getattr(e, name), getattr(self.m, name), getattr(self.v, name)
                w[b], m1[b], m2[b] = _adam_update(w[b], m1[b], m2[b], g.float(), lr, c1, c2)


def _adam_update(w: Tensor, m1: Tensor, m2: Tensor, g: Tensor, lr: float, c1: float, c2: float) -> tuple[Tensor, Tensor, Tensor]:
    """Java's `Adam.update`: moments in double, stored float32; the step in double, applied in float32."""
    g64 = g.double()
    m1 = (BETA1 * m1.double() + (1 - BETA1) * g64).float()
    m2 = (BETA2 * m2.double() + (1 - BETA2) * g64 * g64).float()
    step = (lr * (m1.double() / c1) / (torch.sqrt(m2.double() / c2) + ADAM_EPS)).float()
    return w - step, m1, m2


# ----------------------------------------------------------------------------------------------
# reading from a fresh context


@dataclass
class Levels:
    """The CMS weights a model reads with, per block [F, D] / [D, F] (no batch axis)."""

    up1: list[Tensor]
    down1: list[Tensor]
    up2: list[Tensor]
    down2: list[Tensor]

    @staticmethod
    def of_state(st: HopeState) -> "Levels":
        bs = st.blocks
        return Levels([b.up1[0].detach().clone() for b in bs], [b.down1[0].detach().clone() for b in bs],
                      [b.up2[0].detach().clone() for b in bs], [b.down2[0].detach().clone() for b in bs])


def fresh_context(model: HopeModel, lv: Levels) -> HopeState:
    """L0 at its initial value, conv zero, position 0, nothing pending, gradient sums zero, CMS = `lv`."""
    st = model.init_state(1)
    for b, bs in enumerate(st.blocks):
        bs.up1, bs.down1 = lv.up1[b].unsqueeze(0), lv.down1[b].unsqueeze(0)
        bs.up2, bs.down2 = lv.up2[b].unsqueeze(0), lv.down2[b].unsqueeze(0)
    return st


def _bytes(data: bytes | bytearray) -> Tensor:
    return torch.tensor(list(data), dtype=torch.long).unsqueeze(0)


@torch.no_grad()
def logits_of(model: HopeModel, lv: Levels, data: bytes | bytearray) -> Tensor:
    """Logits [n, 256] of `data` read from a fresh context."""
    return model(fresh_context(model, lv), _bytes(data), READ)[0]


def bits_per_byte(model: HopeModel, lv: Levels, data: bytes | bytearray) -> float:
    """Bits/byte of `data` read from a fresh context (CMS fixed, L0 in context); NaN below 2 bytes."""
    if len(data) < 2:
        return math.nan
    lp = torch.log_softmax(logits_of(model, lv, data)[:-1].double(), dim=-1)
    tgt = torch.tensor(list(data[1:]), dtype=torch.long)
    return float(-lp.gather(1, tgt.unsqueeze(1)).sum() / LN2 / (len(data) - 1))


def probs(model: HopeModel, lv: Levels, window: bytes | bytearray) -> Tensor:
    """A model's next-byte distributions [W, 256] over a window read from a fresh context."""
    return torch.softmax(logits_of(model, lv, window), dim=-1)


@torch.no_grad()
def sample_from(model: HopeModel, lv: Levels, window: bytearray, prompt_bytes: int, rng: SplitMix64) -> None:
    """Reads window[:prompt_bytes] from a fresh context, then samples the rest (temperature 1)."""
    st = fresh_context(model, lv)
    last = torch.softmax(model(st, _bytes(window[:prompt_bytes]), READ)[0, -1].float(), dim=-1).tolist()
    for i in range(prompt_bytes, len(window)):
        u = rng.next_double()
        pick = 255
        for j in range(256):
            u -= last[j]
            if u < 0:
                pick = j
                break
        window[i] = pick
        if i + 1 < len(window):
            last = torch.softmax(model(st, _bytes(window[i : i + 1]), READ)[0, -1].float(), dim=-1).tolist()


def sample_window(model: HopeModel, lv: Levels, experience: bytes, train_start: int, train_len: int, prompt_bytes: int,
                  window: bytearray, rng: SplitMix64) -> None:
    """A prompt of `prompt_bytes` from the training part of the experience, then the model's continuation."""
    s = train_start + rng.next_int(train_len - prompt_bytes + 1)
    window[:prompt_bytes] = experience[s : s + prompt_bytes]
    sample_from(model, lv, window, prompt_bytes, rng)


# ----------------------------------------------------------------------------------------------
# distillation


def l2_teach_gradients(model: HopeModel, st: HopeState, xf: Tensor, x2s: list[Tensor], x3s: list[Tensor],
                       dlogits: Tensor) -> tuple[list[Tensor | None], list[Tensor | None]]:
    """The device rule (`HopeModel._accumulate_inner`, CpuEngine.backward) with d loss / d logits
    given: delta at the head input, passed to every plastic block through the residual stream,
    back through the block's own L1 MLP, into L2. Returns the sums over positions (G_up, G_down)."""
    cfg = model.cfg
    delta = rmsnorm_backward(xf, model.norm_f, dlogits @ model.head)
    g_up: list[Tensor | None] = []
    g_down: list[Tensor | None] = []
    for b, bs in enumerate(st.blocks):
        if not cfg.is_plastic(b):
            g_up.append(None)
            g_down.append(None)
            continue
        z3 = rmsnorm(x3s[b], model.norm1[b])
        _, a1 = mlp(z3, bs.up1, bs.down1)
        _, _, dz3 = mlp_grads(z3, a1, bs.down1, bs.up1, delta)
        d3 = delta + rmsnorm_backward(x3s[b], model.norm1[b], dz3)
        z2 = rmsnorm(x2s[b], model.norm2[b])
        _, a2 = mlp(z2, bs.up2, bs.down2)
        d_up2, d_down2, _ = mlp_grads(z2, a2, bs.down2, bs.up2, d3)
        g_up.append(d_up2[0])
        g_down.append(d_down2[0])
    return g_up, g_down


def pretrained_levels(model: HopeModel, dt: torch.dtype) -> Levels:
    """L1 and L2 at their pretrained values (the bundle's), no expert."""
    nb = model.cfg.n_blocks
    return Levels([model.up1[b].detach().to(dt) for b in range(nb)], [model.down1[b].detach().to(dt) for b in range(nb)],
                  [model.up2[b].detach().to(dt) for b in range(nb)], [model.down2[b].detach().to(dt) for b in range(nb)])


def student_levels(model: HopeModel, base: Levels, expert: Expert) -> Levels:
    """L1 at its pretrained value, L2 = base + the expert."""
    dt = base.up2[0].dtype
    up2, down2 = [], []
    for b in range(model.cfg.n_blocks):
        du, dd = expert.delta(b, dt)
        up2.append(base.up2[b] + du)
        down2.append(base.down2[b] + dd)
    return Levels([model.up1[b].detach().to(dt) for b in range(model.cfg.n_blocks)],
                  [model.down1[b].detach().to(dt) for b in range(model.cfg.n_blocks)], up2, down2)


@torch.no_grad()
def distil_gradients(model: HopeModel, lv: Levels, window: bytes | bytearray, p_t: Tensor) -> tuple[float, list, list]:
    """The student (`lv`) reads `window` from a fresh context; returns the window's mean
    KL(teacher || student) in nats and L2's teach-signal gradients of it (G_up, G_down per block)."""
    w = len(window)
    st = fresh_context(model, lv)
    logits, xf, x2s, x3s = model._span(st, _bytes(window), READ)  # CMS fixed: one span = any spans
    p_s = torch.softmax(logits[0], dim=-1)
    p_t = p_t.to(p_s.dtype)
    dl = ((p_s - p_t) / w).unsqueeze(0)
    pos = p_t > 0
    kl = float((p_t[pos] * (torch.log(p_t[pos]) - torch.log(p_s[pos].clamp_min(1e-30)))).sum()) / w
    g_up, g_down = l2_teach_gradients(model, st, xf, x2s, x3s, dl)
    return kl, g_up, g_down


def distil_step(model: HopeModel, window: bytes | bytearray, p_t: Tensor, expert: Expert, adam: Adam, lr: float,
                base: Levels) -> float:
    """One Adam step of the expert on one window (Consolidation.distilStep); returns the mean KL (nats)."""
    kl, g_up, g_down = distil_gradients(model, student_levels(model, base, expert), window, p_t)
    adam.step(expert, g_up, g_down, [model.cfg.is_plastic(b) for b in range(model.cfg.n_blocks)], lr)
    return kl


# ----------------------------------------------------------------------------------------------
# one sleep


@dataclass
class SleepResult:
    """Consolidation.Result."""

    accepted: bool
    reason: str
    consolidated_bytes: int
    recent_before: float
    recent_reset_only: float
    recent_after: float
    probe_before: float
    probe_after: float
    probe_pretrained: float  # the bundle's L1 and L2, no expert
    probe_reset_only: float  # L1 reset, L2 as online learning left it, no expert
    steps: int
    dreams_kept: int
    dreams_tried: int
    slot: int
    evicted_slot: int
    expert: Expert | None
    l2_after: Levels | None  # up2/down2 only are meaningful
    kl: list[float] = field(default_factory=list)  # mean KL (nats) of every consolidation step

    def figures(self) -> dict[str, str]:
        return {"accepted": "true" if self.accepted else "false", "consolidatedBytes": str(self.consolidated_bytes),
                "recentBefore": repr(self.recent_before), "recentResetOnly": repr(self.recent_reset_only),
                "recentAfter": repr(self.recent_after), "probeBefore": repr(self.probe_before),
                "probeAfter": repr(self.probe_after), "probePretrained": repr(self.probe_pretrained),
                "probeResetOnly": repr(self.probe_reset_only), "steps": str(self.steps), "dreamsKept": str(self.dreams_kept),
                "dreamsTried": str(self.dreams_tried), "slot": str(self.slot), "evictedSlot": str(self.evicted_slot),
                "kl": json.dumps(self.kl)}


def consolidate(model: HopeModel, live: HopeState, pool: ExpertPool, experience: bytes, probe: bytes, cfg: SleepConfig,
                max_bytes: int = 64 * 1024, max_seconds: float = 60.0, rehearsal: bytes | None = None) -> SleepResult:
    """One sleep on `live` (the teacher's state) and `pool` (read only); changes neither.
    Mirrors Consolidation.runInner; `max_bytes`, `max_seconds` are the SleepBudget; `rehearsal` is the
    bundle's rehearsal text (anchor windows come from it; without it the student samples them)."""
    t_end = time.monotonic() + max_seconds
    mc = model.cfg
    nb = mc.n_blocks
    plastic = [mc.is_plastic(b) for b in range(nb)]
    n = len(experience)
    held_out = min(cfg.held_out_bytes, n // 4) if cfg.dream and cfg.dream_candidates > 0 else 0
    train_end = n - held_out
    train_len = min(train_end, max_bytes)
    train_start = train_end - train_len
    nan = math.nan
    if train_len < cfg.window_bytes:
        return SleepResult(False, f"nothing to consolidate: {n} bytes of experience, a sleep needs at least "
                           f"{cfg.window_bytes + held_out}", 0, nan, nan, nan, nan, nan, nan, nan, 0, 0, 0, -1, -1, None, None)
    rng = SplitMix64(cfg.seed + 0x9E3779B9 * pool.sleeps)
    teacher = Levels.of_state(live)
    base = Levels.of_state(live)
    slot = pool.free_slot()
    evicted = -1
    if slot < 0:
        slot = evicted = pool.oldest_slot()
        if cfg.prune:
            old = pool.experts[slot]
            for b in range(nb):
                du, dd = old.delta(b, base.up2[b].dtype)
                base.up2[b] = base.up2[b] - du
                base.down2[b] = base.down2[b] - dd
    expert = Expert.fresh(nb, mc.d_model, mc.mid_hidden, pool.rank, plastic, rng)
    adam = Adam(expert)

    ev = experience[max(0, n - cfg.eval_bytes) :]
    recent_before = bits_per_byte(model, teacher, ev)
    probe_before = bits_per_byte(model, teacher, probe)
    pretrained = pretrained_levels(model, base.up2[0].dtype)
    probe_pretrained = bits_per_byte(model, pretrained, probe)
    recent_reset_only = bits_per_byte(model, student_levels(model, base, expert), ev)
    probe_reset_only = bits_per_byte(model, student_levels(model, base, expert), probe)

    # anchors: general text (windows of the rehearsal text, or, without one, texts the student samples
    # from its start) with the pretrained model's distributions as targets, which pull what online learning
    # moved in L2 back toward the pretrained model on general text
    w = cfg.window_bytes
    anchors = cfg.anchor_windows if cfg.anchor_fraction > 0 else 0
    rehearse = rehearsal is not None and len(rehearsal) >= w
    anchor_text: list[bytearray] = []
    anchor_probs: list[Tensor] = []
    start_levels = student_levels(model, base, expert)
    for _ in range(anchors):
        if rehearse:
            at = rng.next_int(len(rehearsal) - w + 1)
            a = bytearray(rehearsal[at : at + w])
        else:
            a = bytearray(w)
            a[0] = ord("\n")
            sample_from(model, start_levels, a, 1, rng)
        anchor_text.append(a)
        anchor_probs.append(probs(model, pretrained, a))

    # consolidation: distil the teacher into the expert
    consolidate_end = time.monotonic() + (t_end - time.monotonic()) * (0.8 if held_out > 0 else 1.0)
    kls: list[float] = []
    steps = 0
    # checkpoints (Consolidation.check): held-out experience (or the newest eval bytes) and the probe
    val = experience[n - held_out :] if held_out > 0 else ev[max(0, len(ev) - 2048) :]
    # the guard: the expert may not leave general text more than probe_bound worse than the pretrained model,
    # or than resetting L1 alone leaves it when online learning already moved L2 further away
    probe_ref = max(probe_pretrained, probe_reset_only)
    probe_limit = probe_ref * (1 + cfg.probe_bound)
    best: tuple[int, float, Expert, Adam] | None = None  # step, held-out bits/byte, expert, adam
    checks = 0

    def check() -> tuple[int, float, Expert, Adam]:
        lv = student_levels(model, base, expert)
        pr = bits_per_byte(model, lv, probe)
        v = bits_per_byte(model, lv, val) if pr <= probe_limit else math.inf
        return steps, v, expert.copy(), adam.copy()

    def better(c: tuple[int, float, Expert, Adam], other: tuple[int, float, Expert, Adam] | None) -> bool:
        return c[1] < math.inf and (other is None or c[1] < other[1])

    while (steps < cfg.steps and time.monotonic() < t_end) if cfg.steps > 0 else time.monotonic() < consolidate_end:
        r = rng.next_double()
        window = bytearray(w)
        if r < cfg.sampled_fraction / 2:
            sample_window(model, teacher, experience, train_start, train_len, cfg.prompt_bytes, window, rng)
        elif r < cfg.sampled_fraction:
            sample_window(model, student_levels(model, base, expert), experience, train_start, train_len, cfg.prompt_bytes, window, rng)
        elif r < cfg.sampled_fraction + cfg.anchor_fraction:
            a = rng.next_int(anchors)
            kls.append(distil_step(model, anchor_text[a], anchor_probs[a], expert, adam, cfg.learning_rate, base))
            steps += 1
        else:
            s = train_start + rng.next_int(train_len - w + 1)
            window[:] = experience[s : s + w]
        if r >= cfg.sampled_fraction + cfg.anchor_fraction or r < cfg.sampled_fraction:
            kls.append(distil_step(model, window, probs(model, teacher, window), expert, adam, cfg.learning_rate, base))
            steps += 1
        if cfg.check_every > 0 and steps % cfg.check_every == 0:
            checks += 1
            c = check()
            if better(c, best):
                best = c
            elif best is not None and checks - best[0] // cfg.check_every >= cfg.patience:
                break
        if steps % 10 == 0:
            log.debug("sleep: %d steps, KL %.5f nats/byte", steps, sum(kls[-10:]) / 10)

    if cfg.check_every > 0 and steps >= cfg.check_every:
        if steps % cfg.check_every:
            c = check()
            if better(c, best):
                best = c
        if best is None:
            return SleepResult(False, f"no checkpoint of {steps} steps kept the retention probe within {100 * cfg.probe_bound:.2f} % "
                               f"of {probe_ref:.4f} bits/byte (pretrained model {probe_pretrained:.4f}, L1 reset without the sleep "
                               f"{probe_reset_only:.4f}, the model before the sleep {probe_before:.4f}); nothing was committed",
                               train_len, recent_before, recent_reset_only, nan, probe_before, nan, probe_pretrained, probe_reset_only, steps, 0, 0, slot, evicted, None, None, kls)
        expert, adam = best[2].copy(), best[3].copy()
    kept_step = steps if best is None else best[0]

    # dreaming: keep a dream only if held-out experience gets better
    kept = tried = 0
    if held_out > 0:
        held = experience[n - held_out :]
        held_bits = bits_per_byte(model, student_levels(model, base, expert), held)
        for _ in range(cfg.dream_candidates):
            if time.monotonic() >= t_end:
                break
            tried += 1
            window = bytearray(w)
            sample_window(model, teacher, experience, train_start, train_len, cfg.prompt_bytes, window, rng)
            p_t = probs(model, teacher, window)
            saved, saved_adam = expert.copy(), adam.copy()
            for _ in range(cfg.dream_steps):
                distil_step(model, window, p_t, expert, adam, cfg.learning_rate, base)
            lv = student_levels(model, base, expert)
            bits = bits_per_byte(model, lv, held)
            if bits < held_bits and bits_per_byte(model, lv, probe) <= probe_limit:
                held_bits = bits
                kept += 1
            else:
                expert, adam = saved, saved_adam

    # the guard
    after = student_levels(model, base, expert)
    recent_after = bits_per_byte(model, after, ev)
    probe_after = bits_per_byte(model, after, probe)
    figures = f"{steps} steps, the expert of step {kept_step} kept, {kept} of {tried} dreams kept"
    finite = expert.finite() and math.isfinite(recent_after) and math.isfinite(probe_after) and all(
        bool(torch.isfinite(t).all()) for t in after.up2 + after.down2)
    if not finite:
        accepted, reason = False, f"a value is NaN or infinite after consolidation ({figures})"
    elif probe_after > probe_limit:
        accepted = False
        reason = (f"retention probe at {probe_after:.4f} bits/byte, above {probe_ref:.4f} + {100 * cfg.probe_bound:.2f} % "
                  f"({100 * (probe_after / probe_pretrained - 1):+.2f} % against the pretrained model, "
                  f"{100 * (probe_after / probe_reset_only - 1):+.2f} % against L1 reset without the sleep, "
                  f"{100 * (probe_after / probe_before - 1):+.2f} % against the model before the sleep) ({figures})")
    else:
        accepted = True
        reason = (f"probe within bound ({100 * (probe_after / probe_pretrained - 1):+.2f} % against the pretrained model, "
                  f"{100 * (probe_after / probe_reset_only - 1):+.2f} % against L1 reset without the sleep, bound "
                  f"{100 * cfg.probe_bound:.2f} % of the larger; {100 * (probe_after / probe_before - 1):+.2f} % against the model "
                  f"before the sleep); "
                  f"{figures}; expert in slot {slot}")
    return SleepResult(accepted, reason, train_len, recent_before, recent_reset_only, recent_after, probe_before,
                       probe_after, probe_pretrained, probe_reset_only, steps, kept, tried, slot, evicted, expert, after, kls)


def commit(model: HopeModel, live: HopeState, result: SleepResult, pool: ExpertPool) -> HopeState:
    """The swap (Learner.commit): L2 takes the consolidated weights, the pool takes the expert, L1
    goes back to its pretrained value (gradient sums zero); L0, conv, position stay. Returns a new state."""
    if not result.accepted:
        raise ValueError(f"a rolled-back sleep cannot be committed: {result.reason}")
    st = copy.copy(live)
    st.blocks = [copy.copy(bs) for bs in live.blocks]
    st.counts = dict(live.counts)
    for b, bs in enumerate(st.blocks):
        bs.up2 = result.l2_after.up2[b].unsqueeze(0).clone()
        bs.down2 = result.l2_after.down2[b].unsqueeze(0).clone()
        bs.up1 = model.up1[b].detach().to(bs.up1.dtype).unsqueeze(0).clone()
        bs.down1 = model.down1[b].detach().to(bs.down1.dtype).unsqueeze(0).clone()
        bs.g_up1 = torch.zeros_like(bs.up1)
        bs.g_down1 = torch.zeros_like(bs.down1)
    pool.commit(result.slot, result.evicted_slot, result.expert)
    return st


# ----------------------------------------------------------------------------------------------
# the golden fixture of the Java parity test (runtime SleepParityTest)

GOLDEN_CONFIG = HopeConfig(d_model=32, n_blocks=2, n_heads=2, slow_hidden=64, mid_hidden=32, fast_hidden=32,
                           c0=16, c1=64, c2=256, lr1_init=0.05, lr2_init=1e-3)
GOLDEN_SLEEP = SleepConfig(pool_size=2, rank=4, window_bytes=64, learning_rate=1e-2, sampled_fraction=0.0,
                           anchor_fraction=0.0, anchor_windows=0, dream=False, eval_bytes=2048, probe_bound=0.5, steps=6,
                           check_every=2, patience=4, seed=5)
# probe_bound 0.5: the fixture's model is random, its probe rises ~17 %; the wide bound lets the sleep commit (also checked)
GOLDEN_MODEL_SEED = 11
GOLDEN_EXPERIENCE_SEED = 3
GOLDEN_EXPERIENCE_BYTES = 3584
GOLDEN_MAX_BYTES = 1 << 20
GOLDEN_STREAM_BYTES = 64  # the bundle's own golden stream, shortened to keep the fixture small
PROBE_TEXT = (
    "The river rises in the hills to the north and runs for some forty miles before it reaches the sea. "
    "For most of its length it is slow and wide, and the towns along its banks grew up around the old "
    "crossings, where a ford or a ferry once carried travellers from one side to the other. In the spring "
    "the water is high and brown with the soil of the upper valleys; by late summer it is low and clear, "
    "and children wade across the shallows where their grandparents once paid a penny for the boat.\n"
    "A library is a quiet place, but it is never still. Books go out and come back, new ones arrive in "
    "boxes, and old ones are mended, catalogued again, or sent away to make room. The people who work "
    "there know the collection the way a gardener knows a garden: which shelves are crowded, which are "
    "thin, and which corners nobody has visited in years.\n"
    "To make bread, mix flour, water, salt and a little yeast, and knead the dough until it is smooth. "
    "Let it rise in a warm place for an hour or two, shape it, let it rise again, and bake it in a hot "
    "oven until the crust is brown and the loaf sounds hollow when you tap it underneath.\n"
)


def golden_probe() -> bytes:
    """The fixture's retention probe: fixed English prose (1,736 bytes)."""
    from .export import GOLDEN_TEXT

    return (PROBE_TEXT + GOLDEN_TEXT).encode("ascii")


def golden_experience(n: int = GOLDEN_EXPERIENCE_BYTES, seed: int = GOLDEN_EXPERIENCE_SEED) -> bytes:
    """Seeded structured log lines (unlike the probe's prose), `n` bytes."""
    rng = SplitMix64(seed)
    halls = ["north hall", "south annex", "boiler room", "east wing", "greenhouse"]
    kinds = [("temperature", "C"), ("humidity", "%"), ("pressure", "hPa"), ("vibration", "mm/s")]
    out = []
    size = 0
    while size < n:
        kind, unit = kinds[rng.next_int(len(kinds))]
        line = (f"[{rng.next_int(24):02d}:{rng.next_int(60):02d}] sensor {100 + rng.next_int(40)} in the "
                f"{halls[rng.next_int(len(halls))]} reports {kind} {10 + rng.next_int(800) / 10:.1f} {unit}; "
                f"status {'ALERT' if rng.next_int(5) == 0 else 'nominal'}.\n")
        out.append(line)
        size += len(line)
    return "".join(out).encode("ascii")[:n]


def golden_model() -> HopeModel:
    torch.manual_seed(GOLDEN_MODEL_SEED)
    return HopeModel(GOLDEN_CONFIG)


def run_golden(model64: HopeModel, experience: bytes, probe: bytes, cfg: SleepConfig = GOLDEN_SLEEP) -> tuple[HopeState, SleepResult]:
    """Teacher = the state after reading `experience` with every level learning (what the Java
    `Learner.observe(experience)` produces), then one reference sleep with an empty pool."""
    with torch.no_grad():
        live = model64.init_state(1)
        model64(live, _bytes(experience), Learning())
    return live, consolidate(model64, live, ExpertPool(cfg.pool_size, cfg.rank), experience, probe, cfg, max_bytes=GOLDEN_MAX_BYTES, max_seconds=600)


def golden_tensors(live: HopeState, res: SleepResult, experience: bytes) -> dict[str, Tensor]:
    t: dict[str, Tensor] = {"experience": torch.tensor(list(experience), dtype=torch.int64)}
    t.update(res.expert.tensors("expert."))
    for b in range(len(live.blocks)):
        t[f"l2After.blocks.{b}.l2.up"] = res.l2_after.up2[b].float()
        t[f"l2After.blocks.{b}.l2.down"] = res.l2_after.down2[b].float()
        bs = live.blocks[b]
        for name, v in (("l1.up", bs.up1), ("l1.down", bs.down1), ("l2.up", bs.up2), ("l2.down", bs.down2)):
            t[f"teacher.blocks.{b}.{name}"] = v[0].float()
    return {k: v.detach().contiguous() for k, v in t.items()}


def write_golden_bundle(out: Path, cfg: SleepConfig = GOLDEN_SLEEP) -> Path:
    """The Java parity fixture: a small seeded model's bundle (with a probe) plus
    golden/sleep.safetensors (experience, config, expert factors, L2 after, bits/byte figures)."""
    from unittest import mock

    from . import export

    model = golden_model()
    probe = golden_probe()
    short = lambda n=GOLDEN_STREAM_BYTES: _short_stream(export, n)  # noqa: E731
    with mock.patch.object(export, "golden_stream", short):  # keep the bundle's own golden vectors small
        export.write_bundle(model, out, {"purpose": "sleep parity fixture (hope_export.sleep golden)", "model_seed": GOLDEN_MODEL_SEED},
                            (probe, "fixed English prose of hope_export.sleep.golden_probe"))
    model64 = HopeModel(model.cfg).double()
    model64.load_state_dict(model.state_dict())  # the bundle's float32 weights, computed in float64
    model64.eval()
    experience = golden_experience()
    live, res = run_golden(model64, experience, probe, cfg)
    meta = {"format": "hope4j-sleep-golden", "maxBytes": str(GOLDEN_MAX_BYTES), "dtype": "float64",
            **{f"config.{k}": v for k, v in cfg.to_java().items()}, **res.figures()}
    path = out / "golden" / "sleep.safetensors"
    safetensors.save(golden_tensors(live, res, experience), path, meta)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    files = dict(manifest.pop("files"))
    files["golden/sleep.safetensors"] = export.sha256(path)
    manifest["files"] = dict(sorted(files.items()))
    export.write_manifest(out, manifest)
    log.info("sleep golden: %s; KL per step %s", res.reason, ", ".join(f"{k:.5f}" for k in res.kl))
    return out


def _short_stream(export_module, n: int) -> bytes:
    text = export_module.GOLDEN_TEXT.encode("utf-8")
    return (text * (n // len(text) + 1))[:n]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hope_export.sleep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden", help="write the Java parity fixture (a bundle with golden/sleep.safetensors)")
    g.add_argument("--out", type=Path, required=True, help="bundle directory to (re)create")
    g.add_argument("--steps", type=int, default=GOLDEN_SLEEP.steps, help=f"distillation steps (default {GOLDEN_SLEEP.steps}, the committed fixture)")
    a = p.parse_args(argv)
    if a.out.exists() and not a.out.is_dir():
        p.error(f"--out: {a.out} exists and is not a directory")
    if a.steps < 1:
        p.error(f"--steps must be >= 1, found {a.steps}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    write_golden_bundle(a.out, dataclasses.replace(GOLDEN_SLEEP, steps=a.steps))
    log.info("written to %s", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
