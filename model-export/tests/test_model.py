"""The properties every implementation owes (HOPE-MODEL.md §4), on the reference itself."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from hope_export.model import VOCAB, HopeConfig, HopeModel, HopeState, Learning, rmsnorm, rmsnorm_backward

SMALL = HopeConfig(d_model=32, n_blocks=2, n_heads=2, slow_hidden=48, mid_hidden=40, fast_hidden=40, c0=4, c1=8, c2=16, lr1_init=3e-2, lr2_init=3e-2)


def make(cfg: HopeConfig = SMALL, seed: int = 0) -> HopeModel:
    torch.manual_seed(seed)
    m = HopeModel(cfg).double()
    m.eval()
    return m


def flat_state(st: HopeState) -> torch.Tensor:
    parts = []
    for b in st.blocks:
        parts += [b.conv, b.w0, b.wt, b.up1, b.down1, b.up2, b.down2, b.g_up1, b.g_down1, b.g_up2, b.g_down2]
    return torch.cat([p.reshape(-1) for p in parts])


def run_pieces(m: HopeModel, x: torch.Tensor, sizes: list[int], learning: Learning = Learning()) -> tuple[torch.Tensor, HopeState]:
    st = m.init_state(x.shape[0])
    out, i = [], 0
    with torch.no_grad():
        for s in sizes:
            out.append(m(st, x[:, i : i + s], learning))
            i += s
    return torch.cat(out, dim=1), st


def random_stream(n: int, batch: int = 2, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (batch, n), generator=g)


@pytest.mark.parametrize("memory", ["linear", "mlp"])
def test_chunked_equals_streaming(memory: str) -> None:
    m = make(HopeConfig(**{**SMALL.to_dict(), "memory": memory}))
    x = random_stream(70)
    whole, st_w = run_pieces(m, x, [70])
    stream, st_s = run_pieces(m, x, [1] * 70)
    assert torch.allclose(whole, stream, atol=1e-5, rtol=0)
    assert torch.allclose(flat_state(st_w), flat_state(st_s), atol=1e-5, rtol=0)
    assert st_w.pos == st_s.pos == 70 and st_w.counts == st_s.counts


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_pieces_of_any_size_equal_whole(seed: int) -> None:
    m = make(seed=seed)
    x = random_stream(90, seed=seed)
    g = torch.Generator().manual_seed(seed)
    sizes, left = [], 90
    while left:
        s = min(left, int(torch.randint(1, 23, (1,), generator=g)))
        sizes.append(s)
        left -= s
    whole, st_w = run_pieces(m, x, [90])
    parts, st_p = run_pieces(m, x, sizes)
    assert torch.allclose(whole, parts, atol=1e-5, rtol=0), sizes
    assert torch.allclose(flat_state(st_w), flat_state(st_p), atol=1e-5, rtol=0)


def test_learning_changes_the_function() -> None:
    m = make()
    x = random_stream(70)
    on, _ = run_pieces(m, x, [70])
    off, _ = run_pieces(m, x, [70], Learning.off())
    assert (on - off).abs().max() > 1e-3


def test_zero_inner_rates_reproduce_the_frozen_model() -> None:
    cfg = HopeConfig(**{**SMALL.to_dict(), "plastic_blocks": (), "eta_max": 0.0})
    m = make(cfg)
    with torch.no_grad():
        m.log_lr1.fill_(-math.inf)
        m.log_lr2.fill_(-math.inf)
    x = random_stream(70)
    on, st_on = run_pieces(m, x, [30, 40])
    off, st_off = run_pieces(m, x, [70], Learning.off())
    assert torch.equal(on, off)
    for a, b in zip(st_on.blocks, st_off.blocks):
        assert torch.equal(a.wt, b.wt) and torch.equal(a.up1, b.up1) and torch.equal(a.down2, b.down2)


@pytest.mark.parametrize("n", [1, 8, 9, 16, 17, 63, 64, 65])
def test_update_counts_match_periods(n: int) -> None:
    m = make()
    x = random_stream(n, batch=1)
    _, st = run_pieces(m, x, [n])
    assert st.counts == {"l0": n // SMALL.c0, "l1": (n - 1) // SMALL.c1, "l2": (n - 1) // SMALL.c2}


def test_levels_change_only_at_their_boundaries() -> None:
    m = make()
    x = random_stream(40, batch=1)
    st = m.init_state(1)
    prev = (st.blocks[0].up1.clone(), st.blocks[0].up2.clone())
    with torch.no_grad():
        for t in range(40):
            m(st, x[:, t : t + 1])
            cur = (st.blocks[0].up1, st.blocks[0].up2)
            # position t has just been read; updates happen before positions that are multiples of the period
            assert (not torch.equal(cur[0], prev[0])) == (t > 0 and t % SMALL.c1 == 0), t
            assert (not torch.equal(cur[1], prev[1])) == (t > 0 and t % SMALL.c2 == 0), t
            prev = (cur[0].clone(), cur[1].clone())


def test_cms_update_is_sum_of_per_position_gradients_at_chunk_start() -> None:
    """Top block: the device rule is exact; the update equals -lr * autograd of the chunk's summed loss."""
    cfg = HopeConfig(**{**SMALL.to_dict(), "plastic_blocks": (SMALL.n_blocks - 1,)})
    m = make(cfg)
    top = cfg.n_blocks - 1
    x = random_stream(cfg.c2 + 1, batch=1)
    # reference: autograd on a model whose top-block L1/L2 are leaves, learning of CMS off, L0 on
    st = m.init_state(1)
    blk = st.blocks[top]
    leaves = [blk.up1.clone().requires_grad_(), blk.down1.clone().requires_grad_(), blk.up2.clone().requires_grad_(), blk.down2.clone().requires_grad_()]
    blk.up1, blk.down1, blk.up2, blk.down2 = leaves
    with torch.enable_grad():
        logits = m(st, x[:, : cfg.c1], Learning(True, False, False))
        loss1 = F.cross_entropy(logits[0], x[0, 1 : cfg.c1 + 1], reduction="sum")
        g_up1, g_down1 = torch.autograd.grad(loss1, leaves[:2])
    # device rule, run the model for c1 + 1 bytes: the L1 step happens when byte c1 arrives
    st2 = m.init_state(1)
    with torch.no_grad():
        m(st2, x[:, : cfg.c1 + 1])
    lr1 = m.lr1()[top]
    assert torch.allclose(st2.blocks[top].up1, leaves[0].detach() - lr1 * g_up1, atol=1e-9)
    assert torch.allclose(st2.blocks[top].down1, leaves[1].detach() - lr1 * g_down1, atol=1e-9)
    # L2 keeps its value until c2 and accumulates the gradients of its whole chunk at chunk start
    assert torch.equal(st2.blocks[top].up2, leaves[2].detach())


def test_exact_rule_matches_autograd_and_differs_below_top() -> None:
    m_res = make(SMALL)
    m_ex = make(HopeConfig(**{**SMALL.to_dict(), "teach": "exact"}))
    x = random_stream(SMALL.c1 + 1, batch=1)
    st_r, st_e = m_res.init_state(1), m_ex.init_state(1)
    with torch.no_grad():
        m_res(st_r, x)
        m_ex(st_e, x)
    top = SMALL.n_blocks - 1
    assert torch.allclose(st_r.blocks[top].up1, st_e.blocks[top].up1, atol=1e-9)
    assert not torch.allclose(st_r.blocks[0].up1, st_e.blocks[0].up1, atol=1e-9)


def test_rmsnorm_backward_matches_autograd() -> None:
    torch.manual_seed(0)
    x = torch.randn(5, 16, dtype=torch.double, requires_grad=True)
    g = torch.randn(16, dtype=torch.double)
    dy = torch.randn(5, 16, dtype=torch.double)
    (ref,) = torch.autograd.grad((rmsnorm(x, g) * dy).sum(), x)
    assert torch.allclose(rmsnorm_backward(x.detach(), g, dy), ref, atol=1e-12)


def test_outer_loop_gradient_reaches_initial_states_and_rates() -> None:
    m = make()
    m.train()
    x = random_stream(40)
    st = m.init_state(2)
    logits = m(st, x)
    F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), x[:, 1:].reshape(-1)).backward()
    for name in ("mem_init", "b_eta", "b_alpha", "up1", "down2", "log_lr1", "log_lr2"):
        grad = getattr(m, name).grad
        assert grad is not None and grad.abs().sum() > 0, name
