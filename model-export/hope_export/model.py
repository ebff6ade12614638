"""The reference Hope model of Hope4J: the definition of the semantics.

A byte-level language model (vocabulary = the 256 byte values):

    embed -> N Hope blocks -> final RMSNorm -> LM head

Each Hope block (Nested Learning, arXiv 2512.24695, Eqs. 70-71 and 86-97):

    h   = RMSNorm(x)
    p   = h W_in^T                                  frozen (L3)
    u,q = causal depthwise conv4(p); u = SiLU(u); q = l2norm per head(q)
    o   = self-modifying Titans memory read (L0, per head)     <- engine
    x1  = x + W_o (RMSNorm(o) * SiLU(W_gate h))       frozen (L3)
    x2  = x1 + MLP_slow(RMSNorm(x1))                  frozen (L3)
    x3  = x2 + MLP_mid(RMSNorm(x2))                   L2, updated every C2 positions  <- engine
    x4  = x3 + MLP_fast(RMSNorm(x3))                  L1, updated every C1 positions  <- engine

Levels are update frequencies. Position t reads byte t and predicts byte t+1; its loss is known
when byte t+1 arrives. A CMS level of period C holds one parameter value for the positions
[jC, (j+1)C) and, once all their losses are known (i.e. when byte (j+1)C arrives, before position
(j+1)C runs), takes one step along the *sum* of their gradients taken at that value (Eq. 71).

Decay to the prior (optional per level; HopeConfig.decay1_init / decay2_init > 0 creates the
meta-learned retention parameters ``logit_decay1`` / ``logit_decay2``, one per block):

    theta_new = theta0 + (1 - lambda) (theta - theta0) - eta * G,     lambda = sigmoid(logit_decay)

applied once per level update (every C positions), where theta is the level's value during the
chunk that just ended (the chunk-start value), G = sum over that chunk's positions of the per-position
gradients, all taken at theta (the same G as without decay), and theta0 is the level's initial
(pretrained, meta-learned) value: the bundle's ``l1.up`` etc. Decay and gradient apply in the same
step, both to the chunk-start value: the decay does *not* act on the gradient step
(equivalently theta_new = theta - lambda (theta - theta0) - eta G). lambda = 0 (no parameter, or
logit = -inf) is the plain rule of Eq. 71; eta = 0 and lambda = 0 is the frozen model. This is the
decay-to-prior of dynamic evaluation (Krause et al. 2018): it bounds how far a level drifts from
the pretrained value on a long stream (the fixed point of a constant gradient is
theta0 - eta G / lambda).

The L0 memories follow the chunk-wise semantics of Titans / Hope (Eqs. 90-91): inside a chunk of
C0 positions every projection, target and gradient uses the chunk-start state W0; the running
state M_t = a_t M_{t-1} - e_t grad_t(W0) is read by the token (Titans' parallel form) and committed
at the chunk end. The streaming form (byte by byte) and the chunked form compute the same
function; see tests/test_model.py.

Everything here is plain PyTorch so autograd can differentiate through the in-context updates
(the outer loop of pre-training). Analytic gradients (not autograd) define the device rule so the
Java engine can mirror them line by line.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EPS = 1e-5
VOCAB = 256
N_MEM_TYPES = 5  # k, v, memory, eta, alpha
MEM_K, MEM_V, MEM_MEM, MEM_ETA, MEM_ALPHA = range(N_MEM_TYPES)


@dataclass(frozen=True)
class HopeConfig:
    """Model shape and level periods. Every value is ours to choose (HOPE-MODEL.md)."""

    d_model: int = 128
    n_blocks: int = 4
    n_heads: int = 4
    slow_hidden: int = 512
    mid_hidden: int = 128
    fast_hidden: int = 128
    conv_width: int = 4
    c0: int = 16  # L0 memory chunk (positions)
    c1: int = 64  # L1 fast CMS period
    c2: int = 256  # L2 mid CMS period
    eta_max: float = 0.0625  # bound of the memories' inner rate, eta = eta_max * sigmoid(.); c0 * eta_max <= 1 keeps a chunk's summed step stable
    lr1_init: float = 1e-3  # initial inner rate of L1 (meta-learned in pre-training)
    lr2_init: float = 3e-4  # initial inner rate of L2 (meta-learned in pre-training)
    teach: str = "residual"  # "residual" (device rule) or "exact" (autograd Eq. 71)
    memory: str = "linear"  # main memory: "linear" (matrix) or "mlp" (residual 2-layer MLP, Eq. 89; reference-only experiment)
    plastic_blocks: tuple[int, ...] = field(default=())  # empty = all blocks
    decay1_init: float = 0.0  # initial decay-to-prior of L1 per update (0: no decay parameter, the plain Eq. 71 rule)
    decay2_init: float = 0.0  # initial decay-to-prior of L2 per update (0: no decay parameter)
    # mid_hidden = 0 or fast_hidden = 0 removes that CMS level (its MLP adds 0 and never updates):
    # models with fewer CMS levels for the paper tasks (see `cms_levels`; defaults keep all three)

    def __post_init__(self) -> None:
        if self.slow_hidden <= 0 or self.mid_hidden < 0 or self.fast_hidden < 0:
            raise ValueError(f"slow_hidden must be positive and mid_hidden, fast_hidden >= 0, found {self.slow_hidden}, {self.mid_hidden}, {self.fast_hidden}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        if self.c2 % self.c1:
            raise ValueError(f"c2 ({self.c2}) must be a multiple of c1 ({self.c1})")
        if self.memory not in ("linear", "mlp"):
            raise ValueError(f"memory must be 'linear' or 'mlp', found {self.memory!r}")
        if self.teach not in ("residual", "exact"):
            raise ValueError(f"teach must be 'residual' or 'exact', found {self.teach!r}")
        for name in ("decay1_init", "decay2_init"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must lie in [0, 1), found {getattr(self, name)}")
        for b in self.plastic_blocks:
            if not 0 <= b < self.n_blocks:
                raise ValueError(f"plastic_blocks: block {b} out of range 0..{self.n_blocks - 1}")

    @property
    def cms_levels(self) -> int:
        """CMS levels present: the frozen slow MLP (L3) plus L2 if mid_hidden > 0 plus L1 if fast_hidden > 0."""
        return 1 + (self.mid_hidden > 0) + (self.fast_hidden > 0)

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def mem_rows(self) -> int:
        """Rows of the stacked memory matrix of one head: M_k, M_v, M_memory (dh each), M_eta, M_alpha (5 each)."""
        return 3 * self.head_dim + 2 * N_MEM_TYPES + (self.head_dim if self.memory == "mlp" else 0)

    def is_plastic(self, block: int) -> bool:
        return not self.plastic_blocks or block in self.plastic_blocks

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["plastic_blocks"] = list(self.plastic_blocks)
        return d

    @staticmethod
    def from_dict(d: dict) -> "HopeConfig":
        d = dict(d)
        d["plastic_blocks"] = tuple(d.get("plastic_blocks", ()))
        return HopeConfig(**d)


@dataclass(frozen=True)
class Learning:
    """Which levels learn. All False = the frozen model."""

    l0: bool = True
    l1: bool = True
    l2: bool = True

    @staticmethod
    def off() -> "Learning":
        return Learning(False, False, False)


# ----------------------------------------------------------------------------------------------
# element-wise pieces, written so the Java engine can mirror them


def rmsnorm(x: Tensor, g: Tensor) -> Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * g


def rmsnorm_backward(x: Tensor, g: Tensor, dy: Tensor) -> Tensor:
    """d/dx of <dy, rmsnorm(x, g)>: r = (mean x^2 + eps)^-1/2, dx = r*(g*dy) - x r^3 mean(x*g*dy)."""
    r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS)
    gdy = g * dy
    return r * gdy - x * r.pow(3) * (x * gdy).mean(-1, keepdim=True)


def silu_grad(a: Tensor) -> Tensor:
    s = torch.sigmoid(a)
    return s * (1 + a * (1 - s))


def l2norm(x: Tensor) -> Tensor:
    return x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + EPS)


def mem_row_types(cfg: HopeConfig) -> Tensor:
    dh = cfg.head_dim
    t = [MEM_K] * dh + [MEM_V] * dh + [MEM_MEM] * dh + [MEM_ETA] * N_MEM_TYPES + [MEM_ALPHA] * N_MEM_TYPES
    if cfg.memory == "mlp":
        t += [MEM_MEM] * dh  # W2 of the MLP main memory (its W1 takes the linear memory's rows)
    return torch.tensor(t, dtype=torch.long)


# ----------------------------------------------------------------------------------------------
# frozen segments (exported to ONNX)


class MixerIn(nn.Module):
    """Frozen front of the mixer: norm, input projection, causal conv (state carried explicitly)."""

    def __init__(self, cfg: HopeConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.cfg = cfg
        self.norm = nn.Parameter(torch.ones(d))
        self.w_in = nn.Parameter(torch.randn(2 * d, d) / math.sqrt(d))
        conv = torch.zeros(2 * d, cfg.conv_width)
        conv[:, -1] = 1.0
        self.conv = nn.Parameter(conv + 0.02 * torch.randn_like(conv))
        ind = torch.zeros(d, cfg.n_heads)
        for i in range(d):
            ind[i, i // cfg.head_dim] = 1.0
        self.register_buffer("head_indicator", ind, persistent=False)

    def forward(self, x: Tensor, conv_state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x [..., n, D], conv_state [..., W-1, 2D] -> q [..., n, D], u [..., n, D], new conv_state.

        Written with negative slices and an indicator matmul instead of reshapes so the traced ONNX
        graph keeps a dynamic sequence axis."""
        cfg = self.cfg
        d, w = cfg.d_model, cfg.conv_width
        p = rmsnorm(x, self.norm) @ self.w_in.t()
        ext = torch.cat([conv_state, p], dim=-2)  # [..., W-1+n, 2D]
        c = ext[..., w - 1 :, :] * self.conv[:, w - 1]
        for j in range(w - 1):
            c = c + ext[..., j : j - (w - 1), :] * self.conv[:, j]
        u = F.silu(c[..., :d])
        cq = c[..., d:]
        heads = self.head_indicator.to(cq.dtype)  # [D, H]
        ss = (cq * cq) @ heads @ heads.t()  # per-head sum of squares, broadcast back to [..., n, D]
        q = cq / torch.sqrt(ss + EPS)
        return q, u, ext[..., -(w - 1) :, :]


class MixerOut(nn.Module):
    """Frozen back of the mixer plus the slow CMS level (L3): output norm, gate, projection, MLP."""

    def __init__(self, cfg: HopeConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.norm_o = nn.Parameter(torch.ones(d))
        self.w_gate = nn.Parameter(torch.randn(d, d) / math.sqrt(d))
        self.w_o = nn.Parameter(torch.randn(d, d) / math.sqrt(d) / math.sqrt(2 * cfg.n_blocks))
        self.norm3 = nn.Parameter(torch.ones(d))
        self.up3 = nn.Parameter(torch.randn(cfg.slow_hidden, d) / math.sqrt(d))
        self.down3 = nn.Parameter(torch.randn(d, cfg.slow_hidden) / math.sqrt(cfg.slow_hidden) / math.sqrt(2 * cfg.n_blocks))

    def forward(self, x: Tensor, o: Tensor, norm_in: Tensor) -> Tensor:
        h = rmsnorm(x, norm_in)
        x1 = x + (rmsnorm(o, self.norm_o) * F.silu(h @ self.w_gate.t())) @ self.w_o.t()
        return x1 + F.silu(rmsnorm(x1, self.norm3) @ self.up3.t()) @ self.down3.t()


# ----------------------------------------------------------------------------------------------
# the engine side: L0 memory, L1/L2 CMS, head


def memory_chunk(
    cfg: HopeConfig,
    init: Tensor,
    w0: Tensor,
    wt: Tensor,
    u: Tensor,
    q: Tensor,
    b_eta: Tensor,
    b_alpha: Tensor,
    learn: bool,
) -> tuple[Tensor, Tensor]:
    """Self-modifying Titans memories of one block over positions that lie inside one L0 chunk.

    w0: chunk-start state [..., H, R, dh]; wt: running state before these positions (= w0 at a chunk
    start); u, q: [..., H, m, dh]. Returns the reads o [..., H, m, dh] and the running state after.

    Per position s (all projections, targets and gradients at the chunk-start state W0, Eqs. 90-91):
        k = l2norm(M_k u), v = M_v u, e = eta_max sigmoid(M_eta u + b_eta), a = sigmoid(M_alpha u + b_alpha)
        target of M_memory: v; target of M_box for box in {k, v, eta, alpha}: M_box(l2norm(v))  (Eqs. 94-97)
        err_box = M_box k - target_box;  grad_box = err_box k^T                           (Eq. 93)
        M_box,s = I_box + a_box (M_box,s-1 - I_box) - e_box grad_box   (DGD with retention, Eqs. 86-88)
        o_s = M_memory,s q_s                                (read after the position's own update)

    Retention pulls each memory back towards its meta-learned initial state I (`init`), not towards
    zero, so the self-modifying projection memories keep their scale over unbounded streams.
    """
    dh = cfg.head_dim
    if cfg.memory == "mlp":
        return _memory_chunk_mlp(cfg, init, w0, wt, u, q, b_eta, b_alpha, learn)
    if not learn:
        o = q @ wt[..., 2 * dh : 3 * dh, :].transpose(-1, -2)
        return o, wt
    proj = u @ w0.transpose(-1, -2)  # [..., H, m, R]
    k = l2norm(proj[..., 0:dh])
    v = proj[..., dh : 2 * dh]
    ze = proj[..., 3 * dh : 3 * dh + N_MEM_TYPES] + b_eta.unsqueeze(-2)
    za = proj[..., 3 * dh + N_MEM_TYPES :] + b_alpha.unsqueeze(-2)
    e = cfg.eta_max * torch.sigmoid(ze)  # [..., H, m, 5]
    log_a = F.logsigmoid(za)  # [..., H, m, 5]
    pred = k @ w0.transpose(-1, -2)  # [..., H, m, R]
    target = l2norm(v) @ w0.transpose(-1, -2)
    target = torch.cat([target[..., : 2 * dh], v, target[..., 3 * dh :]], dim=-1)
    err = pred - target
    types = mem_row_types(cfg).to(u.device)
    cum = torch.cumsum(log_a, dim=-2)  # [..., H, m, 5]
    last = cum[..., -1:, :]  # [..., H, 1, 5]
    # commit: M_end = A_m W_t - sum_r (A_m / A_r) e_r err_r k_r^T, per memory type
    coef = (torch.exp(last - cum) * e)[..., types] * err  # [..., H, m, R]
    w_new = init + torch.exp(last[..., 0, :])[..., types].unsqueeze(-1) * (wt - init) - coef.transpose(-1, -2) @ k
    # read of the main memory: o_s = A_s W_t,mem q_s - sum_{r<=s} (A_s/A_r) e_r err_mem,r (k_r . q_s)
    cm = cum[..., MEM_MEM]  # [..., H, m]
    m = u.shape[-2]
    diff = cm.unsqueeze(-1) - cm.unsqueeze(-2)  # [..., H, s, r]
    mask = torch.ones(m, m, dtype=torch.bool, device=u.device).tril()
    decay = torch.exp(diff.masked_fill(~mask, float("-inf")))
    wts = decay * e[..., MEM_MEM].unsqueeze(-2) * (q @ k.transpose(-1, -2))  # [..., H, s, r]
    imem = init[..., 2 * dh : 3 * dh, :]
    wmem = wt[..., 2 * dh : 3 * dh, :] - imem
    o = q @ imem.transpose(-1, -2) + torch.exp(cm).unsqueeze(-1) * (q @ wmem.transpose(-1, -2)) - wts @ err[..., 2 * dh : 3 * dh]
    return o, w_new


def _memory_chunk_mlp(cfg: HopeConfig, init: Tensor, w0: Tensor, wt: Tensor, u: Tensor, q: Tensor, b_eta: Tensor, b_alpha: Tensor, learn: bool) -> tuple[Tensor, Tensor]:
    """`memory_chunk` with the main memory a residual MLP M(z) = z + W1 SiLU(W2 z) (Eq. 89), plain GD
    on ||M(k) - v||^2 at the chunk-start state; the projection memories stay linear. W1 takes the
    linear memory's rows, W2 the last dh rows. Reads use the running state in closed form."""
    dh = cfg.head_dim
    r1 = slice(2 * dh, 3 * dh)
    r2 = slice(3 * dh + 2 * N_MEM_TYPES, 4 * dh + 2 * N_MEM_TYPES)
    if not learn:
        g = F.silu(q @ wt[..., r2, :].transpose(-1, -2))
        return q + g @ wt[..., r1, :].transpose(-1, -2), wt
    proj = u @ w0.transpose(-1, -2)
    k = l2norm(proj[..., 0:dh])
    v = proj[..., dh : 2 * dh]
    e = cfg.eta_max * torch.sigmoid(proj[..., 3 * dh : 3 * dh + N_MEM_TYPES] + b_eta.unsqueeze(-2))
    log_a = F.logsigmoid(proj[..., 3 * dh + N_MEM_TYPES : 3 * dh + 2 * N_MEM_TYPES] + b_alpha.unsqueeze(-2))
    # projection memories (linear, self-generated targets)
    pred = k @ w0.transpose(-1, -2)
    target = l2norm(v) @ w0.transpose(-1, -2)
    err = pred - target
    # the MLP main memory at the chunk-start state
    w1, w2 = w0[..., r1, :], w0[..., r2, :]
    a2 = k @ w2.transpose(-1, -2)
    hk = F.silu(a2)
    err_m = k + hk @ w1.transpose(-1, -2) - v  # dL/d(out) of 1/2 ||M(k) - v||^2
    delta2 = (err_m @ w1) * silu_grad(a2)
    err = torch.cat([err[..., : 2 * dh], err_m, err[..., 3 * dh : 3 * dh + 2 * N_MEM_TYPES], delta2], dim=-1)
    types = mem_row_types(cfg).to(u.device)
    cum = torch.cumsum(log_a, dim=-2)
    last = cum[..., -1:, :]
    coef = (torch.exp(last - cum) * e)[..., types] * err
    upd = coef.transpose(-1, -2) @ k
    upd = torch.cat([upd[..., : 2 * dh, :], coef[..., r1].transpose(-1, -2) @ hk, upd[..., 3 * dh :, :]], dim=-2)
    w_new = init + torch.exp(last[..., 0, :])[..., types].unsqueeze(-1) * (wt - init) - upd
    # reads of the running state: W_s = I + A_s (W_t - I) - sum_{r<=s} (A_s/A_r) e_r grad_r
    cm = cum[..., MEM_MEM]
    m = u.shape[-2]
    diff = cm.unsqueeze(-1) - cm.unsqueeze(-2)
    mask = torch.ones(m, m, dtype=torch.bool, device=u.device).tril()
    dmat = torch.exp(diff.masked_fill(~mask, float("-inf"))) * e[..., MEM_MEM].unsqueeze(-2)
    a_s = torch.exp(cm).unsqueeze(-1)
    i1, i2 = init[..., r1, :], init[..., r2, :]
    z2 = q @ i2.transpose(-1, -2) + a_s * (q @ (wt[..., r2, :] - i2).transpose(-1, -2)) - (dmat * (q @ k.transpose(-1, -2))) @ delta2
    g = F.silu(z2)
    o = q + g @ i1.transpose(-1, -2) + a_s * (g @ (wt[..., r1, :] - i1).transpose(-1, -2)) - (dmat * (g @ hk.transpose(-1, -2))) @ err_m
    return o, w_new


def mlp(z: Tensor, up: Tensor, down: Tensor) -> tuple[Tensor, Tensor]:
    """z [..., n, D] -> (y, pre-activation a). up [..., F, D], down [..., D, F] (batched weights)."""
    a = z @ up.transpose(-1, -2)
    return F.silu(a) @ down.transpose(-1, -2), a


def mlp_grads(z: Tensor, a: Tensor, down: Tensor, up: Tensor, dy: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Sum over positions of the gradients of <dy, MLP(z)>: returns (d_up, d_down, dz)."""
    s = F.silu(a)
    d_down = dy.transpose(-1, -2) @ s  # [..., D, F]
    da = (dy @ down) * silu_grad(a)
    d_up = da.transpose(-1, -2) @ z  # [..., F, D]
    return d_up, d_down, da @ up


@dataclass
class BlockState:
    conv: Tensor  # [B, W-1, 2D]
    w0: Tensor  # [B, H, R, dh] committed memory
    wt: Tensor  # [B, H, R, dh] running memory inside the current chunk
    up2: Tensor  # [B, F2, D]   L2 (mid) weights
    down2: Tensor
    up1: Tensor  # [B, F1, D]   L1 (fast) weights
    down1: Tensor
    g_up2: Tensor  # gradient sums of the current L2 / L1 chunk
    g_down2: Tensor
    g_up1: Tensor
    g_down1: Tensor


@dataclass
class Pending:
    """The last position whose target byte has not arrived yet: what its gradient needs."""

    xf: Tensor  # [B, 1, D] input of the final norm
    x2: list[Tensor]  # per block [B, 1, D] input of the mid MLP
    x3: list[Tensor]  # per block [B, 1, D] input of the fast MLP
    keep: Tensor | None = None  # [B] 1 = the row continues, 0 = the row was reset (its pending gradient is dropped)


@dataclass
class HopeState:
    pos: int  # positions processed so far
    blocks: list[BlockState]
    pending: Pending | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"l0": 0, "l1": 0, "l2": 0})


class HopeModel(nn.Module):
    def __init__(self, cfg: HopeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # pre-training only: treat the CMS levels' inner gradients as constants in the outer loop
        # (first-order meta-gradient; initial values and inner rates still receive gradients)
        self.first_order = False
        d, h, dh, r = cfg.d_model, cfg.n_heads, cfg.head_dim, cfg.mem_rows
        self.embed = nn.Parameter(torch.randn(VOCAB, d))
        self.mixer_in = nn.ModuleList(MixerIn(cfg) for _ in range(cfg.n_blocks))
        self.mixer_out = nn.ModuleList(MixerOut(cfg) for _ in range(cfg.n_blocks))
        mem = torch.zeros(cfg.n_blocks, h, r, dh)
        eye = torch.eye(dh)
        mem[:, :, 0:dh] = eye + 0.1 * torch.randn(cfg.n_blocks, h, dh, dh)
        mem[:, :, dh : 2 * dh] = eye + 0.1 * torch.randn(cfg.n_blocks, h, dh, dh)
        mem[:, :, 2 * dh : 3 * dh] = 0.01 * torch.randn(cfg.n_blocks, h, dh, dh)
        mem[:, :, 3 * dh : 3 * dh + 2 * N_MEM_TYPES] = 0.02 * torch.randn(cfg.n_blocks, h, 2 * N_MEM_TYPES, dh)
        if cfg.memory == "mlp":
            mem[:, :, 3 * dh + 2 * N_MEM_TYPES :] = eye + 0.1 * torch.randn(cfg.n_blocks, h, dh, dh)
        self.mem_init = nn.Parameter(mem)  # L0 initial states, meta-learned
        self.b_eta = nn.Parameter(torch.full((cfg.n_blocks, h, N_MEM_TYPES), -1.0))
        self.b_alpha = nn.Parameter(torch.full((cfg.n_blocks, h, N_MEM_TYPES), 4.0))
        nb = cfg.n_blocks
        scale = 1.0 / math.sqrt(2 * nb)
        self.norm2 = nn.Parameter(torch.ones(nb, d))
        self.up2 = nn.Parameter(torch.randn(nb, cfg.mid_hidden, d) / math.sqrt(d))
        self.down2 = nn.Parameter(torch.randn(nb, d, cfg.mid_hidden) / math.sqrt(cfg.mid_hidden) * scale)
        self.norm1 = nn.Parameter(torch.ones(nb, d))
        self.up1 = nn.Parameter(torch.randn(nb, cfg.fast_hidden, d) / math.sqrt(d))
        self.down1 = nn.Parameter(torch.randn(nb, d, cfg.fast_hidden) / math.sqrt(cfg.fast_hidden) * scale)
        # inner rates of the plastic CMS levels, meta-learned in log space
        self.log_lr1 = nn.Parameter(torch.full((nb,), math.log(cfg.lr1_init)))
        self.log_lr2 = nn.Parameter(torch.full((nb,), math.log(cfg.lr2_init)))
        # decay-to-prior of the plastic CMS levels, lambda = sigmoid(logit), meta-learned (absent when 0)
        self.logit_decay1 = nn.Parameter(torch.full((nb,), _logit(cfg.decay1_init))) if cfg.decay1_init > 0 else None
        self.logit_decay2 = nn.Parameter(torch.full((nb,), _logit(cfg.decay2_init))) if cfg.decay2_init > 0 else None
        self.norm_f = nn.Parameter(torch.ones(d))
        self.head = nn.Parameter(torch.randn(VOCAB, d) / math.sqrt(d))
        self._zeros: dict[tuple, Tensor] = {}

    def _zero(self, like: Tensor) -> Tensor:
        """A shared zero tensor shaped like `like`: the gradient sum of a chunk that has none yet.
        States are never modified in place, so one tensor serves every block and step (no 1 MB fill
        per level and step), and `_plus` recognises it by identity."""
        key = (tuple(like.shape), like.dtype, like.device)
        z = self._zeros.get(key)
        if z is None:
            z = self._zeros[key] = torch.zeros(key[0], dtype=like.dtype, device=like.device)
        return z

    def _plus(self, g: Tensor, d: Tensor) -> Tensor:
        """g + d, without the addition when g is the shared zero."""
        return d if g is self._zeros.get((tuple(g.shape), g.dtype, g.device)) else g + d

    # -- state ------------------------------------------------------------------------------------

    def init_state(self, batch: int) -> HopeState:
        cfg = self.cfg
        blocks = []
        for b in range(cfg.n_blocks):
            w = self.mem_init[b].unsqueeze(0).expand(batch, -1, -1, -1)
            up2 = self.up2[b].unsqueeze(0).expand(batch, -1, -1)
            down2 = self.down2[b].unsqueeze(0).expand(batch, -1, -1)
            up1 = self.up1[b].unsqueeze(0).expand(batch, -1, -1)
            down1 = self.down1[b].unsqueeze(0).expand(batch, -1, -1)
            blocks.append(
                BlockState(
                    conv=self.embed.new_zeros(batch, cfg.conv_width - 1, 2 * cfg.d_model),
                    w0=w,
                    wt=w,
                    up2=up2,
                    down2=down2,
                    up1=up1,
                    down1=down1,
                    g_up2=self._zero(up2),
                    g_down2=self._zero(down2),
                    g_up1=self._zero(up1),
                    g_down1=self._zero(down1),
                )
            )
        return HopeState(pos=0, blocks=blocks)

    def lr1(self) -> Tensor:
        return torch.exp(self.log_lr1)

    def lr2(self) -> Tensor:
        return torch.exp(self.log_lr2)

    def decay1(self) -> Tensor | None:
        """lambda of L1 per block (None: no decay)."""
        return None if self.logit_decay1 is None else torch.sigmoid(self.logit_decay1)

    def decay2(self) -> Tensor | None:
        """lambda of L2 per block (None: no decay)."""
        return None if self.logit_decay2 is None else torch.sigmoid(self.logit_decay2)

    def detach_state(self, st: HopeState) -> HopeState:
        """Cut the autograd history of a state (truncated back-propagation between segments): the
        values are kept, gradients stop at the segment boundary. Mutates and returns st."""
        for bs in st.blocks:
            for f in dataclasses.fields(bs):
                t = getattr(bs, f.name)
                if t is not self._zeros.get((tuple(t.shape), t.dtype, t.device)):
                    setattr(bs, f.name, t.detach())
        if st.pending is not None:
            p = st.pending
            st.pending = Pending(p.xf.detach(), [t.detach() for t in p.x2], [t.detach() for t in p.x3], None if p.keep is None else p.keep.detach())
        return st

    def reset_rows(self, st: HopeState, rows: Tensor) -> HopeState:
        """Start a new stream in the batch rows where ``rows`` [B] (bool) is set: their conv
        history, memories, level weights and gradient sums become those of a fresh state and the
        gradient of their pending position (whose target belongs to the new stream) is dropped. The
        position counter stays shared, so call this at a multiple of C2 (a segment boundary), where
        a reset row's schedule matches a fresh state's. Mutates and returns st."""
        if st.pos % self.cfg.c2:
            raise ValueError(f"reset_rows at position {st.pos}: not a multiple of c2 ({self.cfg.c2})")
        if not bool(rows.any()):
            return st
        fresh = self.init_state(rows.shape[0])
        for bs, fs in zip(st.blocks, fresh.blocks):
            for f in dataclasses.fields(bs):
                old, new = getattr(bs, f.name), getattr(fs, f.name)
                m = rows.view(-1, *([1] * (old.dim() - 1)))
                setattr(bs, f.name, torch.where(m, new, old))
        if st.pending is not None:
            keep = (~rows).to(st.pending.xf.dtype)
            st.pending.keep = keep if st.pending.keep is None else st.pending.keep * keep
        return st

    # -- forward ----------------------------------------------------------------------------------

    def head_delta(self, xf: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """Logits' loss gradient at the final norm's input: delta = d CE / d xf (per position)."""
        z = rmsnorm(xf, self.norm_f)
        logits = z @ self.head.t()
        dl = torch.softmax(logits, dim=-1) - F.one_hot(targets, VOCAB).to(logits.dtype)
        return rmsnorm_backward(xf, self.norm_f, dl @ self.head), logits

    def _accumulate(self, st: HopeState, xf: Tensor, x2s: list[Tensor], x3s: list[Tensor], targets: Tensor, learning: Learning, acts: list | None = None,
                    row_weight: Tensor | None = None) -> None:
        """Device rule: delta at the head input, passed to every plastic block through the residual
        stream (exact for the top block), then back through the block's own fast MLP for L2.
        acts: per block (z2, a2, z3, a1) of these positions from the forward pass (recomputed if None).
        row_weight [B]: scales each row's gradients (0 drops a reset row's pending position)."""
        with torch.no_grad() if self.first_order else contextlib.nullcontext():
            self._accumulate_inner(st, xf, x2s, x3s, targets, learning, acts, row_weight)

    def _accumulate_inner(self, st: HopeState, xf: Tensor, x2s: list[Tensor], x3s: list[Tensor], targets: Tensor, learning: Learning, acts: list | None = None,
                          row_weight: Tensor | None = None) -> None:
        cfg = self.cfg
        delta, _ = self.head_delta(xf, targets)
        if row_weight is not None:
            delta = delta * row_weight.view(-1, *([1] * (delta.dim() - 1)))
        for b, bs in enumerate(st.blocks):
            if not cfg.is_plastic(b):
                continue
            if acts is not None:
                z2, a2, z3, a1 = acts[b]
            else:
                z3 = rmsnorm(x3s[b], self.norm1[b])
                _, a1 = mlp(z3, bs.up1, bs.down1)
            d_up1, d_down1, dz3 = mlp_grads(z3, a1, bs.down1, bs.up1, delta)
            if learning.l1:
                bs.g_up1 = self._plus(bs.g_up1, d_up1)
                bs.g_down1 = self._plus(bs.g_down1, d_down1)
            if learning.l2:
                d3 = delta + rmsnorm_backward(x3s[b], self.norm1[b], dz3)
                if acts is None:
                    z2 = rmsnorm(x2s[b], self.norm2[b])
                    _, a2 = mlp(z2, bs.up2, bs.down2)
                d_up2, d_down2, _ = mlp_grads(z2, a2, bs.down2, bs.up2, d3)
                bs.g_up2 = self._plus(bs.g_up2, d_up2)
                bs.g_down2 = self._plus(bs.g_down2, d_down2)

    def _accumulate_exact(self, st: HopeState, loss_sum: Tensor, learning: Learning) -> None:
        """Reference-only rule: the end-to-end gradient of the chunk's loss (Eq. 71) by autograd."""
        params: list[Tensor] = []
        for b, bs in enumerate(st.blocks):
            if self.cfg.is_plastic(b):
                params += [bs.up1, bs.down1, bs.up2, bs.down2]
        with torch.enable_grad():
            grads = torch.autograd.grad(loss_sum, params, create_graph=torch.is_grad_enabled() and self.training, allow_unused=True)
        i = 0
        for b, bs in enumerate(st.blocks):
            if not self.cfg.is_plastic(b):
                continue
            g = [x if x is not None else torch.zeros_like(p) for x, p in zip(grads[i : i + 4], params[i : i + 4])]
            i += 4
            if learning.l1:
                bs.g_up1, bs.g_down1 = bs.g_up1 + g[0], bs.g_down1 + g[1]
            if learning.l2:
                bs.g_up2, bs.g_down2 = bs.g_up2 + g[2], bs.g_down2 + g[3]

    def _apply_updates(self, st: HopeState, learning: Learning) -> None:
        """At position st.pos (a multiple of C1): one step of every level whose chunk just ended."""
        cfg = self.cfg
        pos = st.pos
        if pos == 0 or pos % cfg.c1:
            return
        do2 = pos % cfg.c2 == 0
        lr1, lr2 = self.lr1(), self.lr2()
        lam1, lam2 = self.decay1(), self.decay2()

        def step(theta: Tensor, theta0: Tensor, lr: Tensor, lam: Tensor | None, g: Tensor) -> Tensor:
            # Eq. 71 with decay to the prior: theta0 + (1 - lam)(theta - theta0) - lr * g, g taken at theta
            if lam is None:
                return theta - lr * g
            return theta - lam * (theta - theta0) - lr * g

        for b, bs in enumerate(st.blocks):
            if not cfg.is_plastic(b):
                continue
            if learning.l1:  # Eq. 71: theta <- theta - eta * sum of per-position gradients (+ decay to the prior)
                bs.up1 = step(bs.up1, self.up1[b], lr1[b], None if lam1 is None else lam1[b], bs.g_up1)
                bs.down1 = step(bs.down1, self.down1[b], lr1[b], None if lam1 is None else lam1[b], bs.g_down1)
                bs.g_up1 = self._zero(bs.g_up1)
                bs.g_down1 = self._zero(bs.g_down1)
            if do2 and learning.l2:
                bs.up2 = step(bs.up2, self.up2[b], lr2[b], None if lam2 is None else lam2[b], bs.g_up2)
                bs.down2 = step(bs.down2, self.down2[b], lr2[b], None if lam2 is None else lam2[b], bs.g_down2)
                bs.g_up2 = self._zero(bs.g_up2)
                bs.g_down2 = self._zero(bs.g_down2)
        if learning.l1 and cfg.fast_hidden:
            st.counts["l1"] += 1
        if do2 and learning.l2 and cfg.mid_hidden:
            st.counts["l2"] += 1

    def _span(self, st: HopeState, x: Tensor, learning: Learning, acts: list | None = None) -> tuple[Tensor, Tensor, list[Tensor], list[Tensor]]:
        """Forward positions that share one value of every CMS level. Returns logits, xf, x2s, x3s;
        appends per block (z2, a2, z3, a1), the CMS MLPs' inputs and pre-activations, to acts if given."""
        cfg = self.cfg
        h, dh = cfg.n_heads, cfg.head_dim
        bsz, n = x.shape
        hid = self.embed[x]  # [B, n, D]
        x2s, x3s = [], []
        for b, bs in enumerate(st.blocks):
            q, u, bs.conv = self.mixer_in[b](hid, bs.conv)
            qh = q.reshape(bsz, n, h, dh).transpose(1, 2)
            uh = u.reshape(bsz, n, h, dh).transpose(1, 2)
            outs = []
            start = 0
            pos = st.pos
            while start < n:
                off = pos % cfg.c0
                m = min(n - start, cfg.c0 - off)
                o, bs.wt = memory_chunk(cfg, self.mem_init[b], bs.w0, bs.wt, uh[:, :, start : start + m], qh[:, :, start : start + m], self.b_eta[b], self.b_alpha[b], learning.l0)
                outs.append(o)
                start += m
                pos += m
                if pos % cfg.c0 == 0:
                    bs.w0 = bs.wt
                    if b == 0 and learning.l0:
                        st.counts["l0"] += 1
            o = torch.cat(outs, dim=-2).transpose(1, 2).reshape(bsz, n, cfg.d_model)
            x2 = self.mixer_out[b](hid, o, self.mixer_in[b].norm)
            z2 = rmsnorm(x2, self.norm2[b])
            y2, a2 = mlp(z2, bs.up2, bs.down2)
            x3 = x2 + y2
            z3 = rmsnorm(x3, self.norm1[b])
            y1, a1 = mlp(z3, bs.up1, bs.down1)
            hid = x3 + y1
            if acts is not None:
                acts.append((z2, a2, z3, a1))
            x2s.append(x2)
            x3s.append(x3)
        logits = rmsnorm(hid, self.norm_f) @ self.head.t()
        return logits, hid, x2s, x3s

    def forward(self, st: HopeState, x: Tensor, learning: Learning = Learning()) -> Tensor:
        """Read bytes x [B, n] (n >= 1) continuing from state st (mutated). Returns logits [B, n, 256]:
        logits[:, t] predict the byte after x[:, t]. Learning happens as the bytes arrive."""
        cfg = self.cfg
        n = x.shape[1]
        learn_cms = learning.l1 or learning.l2
        exact = cfg.teach == "exact"
        out = []
        i = 0
        while i < n:
            if st.pending is not None and learn_cms:
                if exact:
                    raise RuntimeError("teach='exact' is defined for whole sequences only: call forward once per sequence")
                p = st.pending
                self._accumulate(st, p.xf, p.x2, p.x3, x[:, i : i + 1], learning, row_weight=p.keep)
            st.pending = None
            if learn_cms:
                self._apply_updates(st, learning)
            m = min(n - i, cfg.c1 - st.pos % cfg.c1)
            if exact and learn_cms:
                for bs in st.blocks:  # outside autograd (evaluation): make the level weights leaves of a local graph
                    for name in ("up1", "down1", "up2", "down2"):
                        w = getattr(bs, name)
                        if not w.requires_grad:
                            setattr(bs, name, w.detach().requires_grad_())
            acts: list | None = [] if learn_cms and not exact else None
            with torch.enable_grad() if exact and learn_cms else contextlib.nullcontext():
                logits, xf, x2s, x3s = self._span(st, x[:, i : i + m], learning, acts)
            out.append(logits)
            if learn_cms:
                known = m if i + m < n else m - 1  # positions whose target byte is in this call
                if known > 0:
                    tgt = x[:, i + 1 : i + 1 + known]
                    if exact:
                        with torch.enable_grad():
                            loss = F.cross_entropy(logits[:, :known].reshape(-1, VOCAB), tgt.reshape(-1), reduction="sum")
                            self._accumulate_exact(st, loss, learning)
                        if not (torch.is_grad_enabled() and self.training):
                            # evaluation: the local graph served its purpose; carry plain values on
                            for bs in st.blocks:
                                for f in dataclasses.fields(bs):
                                    setattr(bs, f.name, getattr(bs, f.name).detach())
                    else:
                        acts_k = [tuple(t[:, :known] for t in a) for a in acts] if acts is not None else None
                        self._accumulate(st, xf[:, :known], [t[:, :known] for t in x2s], [t[:, :known] for t in x3s], tgt, learning, acts_k)
                if known < m:
                    st.pending = Pending(xf[:, -1:], [t[:, -1:] for t in x2s], [t[:, -1:] for t in x3s])
            st.pos += m
            i += m
        logits = torch.cat(out, dim=1)
        return logits if torch.is_grad_enabled() else logits.detach()

    # -- export helpers ---------------------------------------------------------------------------

    def frozen_mixer_out(self, b: int) -> nn.Module:
        """MixerOut of block b with its input norm bound (the ONNX segment `mixer_out_b`)."""
        model = self

        class Bound(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model.mixer_out[b]
                self.norm_in = model.mixer_in[b].norm

            def forward(self, x: Tensor, o: Tensor) -> Tensor:
                return self.inner(x, o, self.norm_in)

        return Bound()


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def count_parameters(model: HopeModel) -> int:
    return sum(p.numel() for p in model.parameters())
