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
    # the weights never move (exact); the logits of 30 + 40 positions and of 70 at once agree to the BLAS's
    # rounding, which depends on the matrix shapes on some processors (exact on AMD with OpenBLAS' Haswell
    # kernel, not on an AVX-512 Xeon)
    torch.testing.assert_close(on, off, rtol=0, atol=1e-5)
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


# ---- decay to the prior (theta <- theta0 + (1 - lambda)(theta - theta0) - eta G) ----------------

DECAY = HopeConfig(**{**SMALL.to_dict(), "decay1_init": 0.05, "decay2_init": 0.1})


def twin_with_decay(lam_logit: float | None = None, seed: int = 0) -> tuple[HopeModel, HopeModel]:
    """A model without decay parameters and the same weights with them (logits set to lam_logit)."""
    plain, dec = make(SMALL, seed), make(DECAY, seed)
    dec.load_state_dict({**plain.state_dict(), "logit_decay1": dec.logit_decay1.detach(), "logit_decay2": dec.logit_decay2.detach()})
    if lam_logit is not None:
        with torch.no_grad():
            dec.logit_decay1.fill_(lam_logit)
            dec.logit_decay2.fill_(lam_logit)
    return plain, dec


def test_decay_parameters_exist_only_when_asked() -> None:
    assert make(SMALL).logit_decay1 is None and "logit_decay1" not in make(SMALL).state_dict()
    m = make(DECAY)
    assert m.logit_decay1.shape == m.logit_decay2.shape == (SMALL.n_blocks,)
    assert torch.allclose(m.decay1(), torch.full((SMALL.n_blocks,), 0.05, dtype=torch.double))
    assert torch.allclose(m.decay2(), torch.full((SMALL.n_blocks,), 0.1, dtype=torch.double))


def test_zero_decay_is_the_plain_rule_exactly() -> None:
    plain, dec = twin_with_decay(-math.inf)
    assert torch.equal(dec.decay1(), torch.zeros(SMALL.n_blocks, dtype=torch.double))
    x = random_stream(70)
    a, st_a = run_pieces(plain, x, [70])
    b, st_b = run_pieces(dec, x, [70])
    assert torch.equal(a, b)
    assert torch.equal(flat_state(st_a), flat_state(st_b))


def test_decay_update_equals_the_formula() -> None:
    _, m = twin_with_decay()
    lam1, lam2, lr1, lr2 = m.decay1(), m.decay2(), m.lr1(), m.lr2()
    seen: list[tuple[int, list, list]] = []
    orig = m._apply_updates

    def spy(st: HopeState, learning: Learning) -> None:
        before = [[t.clone() for t in (b.up1, b.down1, b.up2, b.down2, b.g_up1, b.g_down1, b.g_up2, b.g_down2)] for b in st.blocks]
        orig(st, learning)
        seen.append((st.pos, before, [[t.clone() for t in (b.up1, b.down1, b.up2, b.down2)] for b in st.blocks]))

    m._apply_updates = spy  # type: ignore[method-assign]
    x = random_stream(2 * SMALL.c2 + 1)
    run_pieces(m, x, [2 * SMALL.c2 + 1])
    checked = 0
    for pos, before, after in seen:
        if pos == 0 or pos % SMALL.c1:
            continue
        for b in range(SMALL.n_blocks):
            th0 = [m.up1[b], m.down1[b], m.up2[b], m.down2[b]]
            for i in range(4):
                level2 = i >= 2
                if level2 and pos % SMALL.c2:
                    assert torch.equal(after[b][i], before[b][i])  # L2 only at its own boundaries
                    continue
                lam, lr = (lam2[b], lr2[b]) if level2 else (lam1[b], lr1[b])
                expected = th0[i] + (1 - lam) * (before[b][i] - th0[i]) - lr * before[b][4 + i]
                assert torch.allclose(after[b][i], expected, atol=1e-12, rtol=0), (pos, b, i)
                checked += 1
    assert checked >= 4 * SMALL.n_blocks  # includes updates where theta != theta0 already (pos >= 2 c1)


def test_decay_pulls_towards_the_prior() -> None:
    """Same gradient-free drift twice: with decay the level ends closer to its initial value."""
    plain, dec = twin_with_decay()
    x = random_stream(4 * SMALL.c2 + 1)
    _, st_p = run_pieces(plain, x, [x.shape[1]])
    _, st_d = run_pieces(dec, x, [x.shape[1]])
    for b in range(SMALL.n_blocks):
        dp = (st_p.blocks[b].up2 - plain.up2[b]).norm()
        dd = (st_d.blocks[b].up2 - dec.up2[b]).norm()
        assert dd < dp


@pytest.mark.parametrize("lam_logit", [-math.inf, 0.0])
def test_zero_rates_with_decay_reproduce_the_frozen_model(lam_logit: float) -> None:
    """Rates 0: the levels never leave theta0, with lambda 0 and with lambda = 1/2."""
    cfg = HopeConfig(**{**DECAY.to_dict(), "eta_max": 0.0})
    m = make(cfg)
    with torch.no_grad():
        m.log_lr1.fill_(-math.inf)
        m.log_lr2.fill_(-math.inf)
        m.logit_decay1.fill_(lam_logit)
        m.logit_decay2.fill_(lam_logit)
    x = random_stream(70)
    on, st_on = run_pieces(m, x, [30, 40])
    off, _ = run_pieces(m, x, [70], Learning.off())
    torch.testing.assert_close(on, off, rtol=0, atol=1e-5)  # float rounding of other shapes; the levels are exact below
    for b, bs in enumerate(st_on.blocks):
        assert torch.equal(bs.up1[0], m.up1[b]) and torch.equal(bs.down2[1], m.down2[b])


def test_decay_rates_receive_outer_gradients() -> None:
    torch.manual_seed(0)
    m = HopeModel(DECAY)
    x = random_stream(3 * DECAY.c2 + 1, batch=2)  # lambda acts from the second update on (theta = theta0 before)
    logits = m(m.init_state(2), x)
    F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), x[:, 1:].reshape(-1)).backward()
    assert m.logit_decay1.grad.abs().sum() > 0 and m.logit_decay2.grad.abs().sum() > 0


# ---- carried state: detach between segments, per-row resets ------------------------------------


def test_detached_segments_compute_the_whole_stream() -> None:
    m = make(DECAY)
    x = random_stream(3 * SMALL.c2)
    whole, st_w = run_pieces(m, x, [x.shape[1]])
    st = m.init_state(2)
    outs = []
    for i in range(3):
        outs.append(m(st, x[:, i * SMALL.c2 : (i + 1) * SMALL.c2]))
        m.detach_state(st)
    assert torch.allclose(torch.cat(outs, 1), whole, atol=1e-10, rtol=0)
    assert torch.allclose(flat_state(st), flat_state(st_w), atol=1e-10, rtol=0)


def test_detach_cuts_the_graph_between_segments() -> None:
    torch.manual_seed(0)
    m = HopeModel(DECAY)
    x = random_stream(2 * DECAY.c2)
    st = m.init_state(2)
    m(st, x[:, : DECAY.c2])
    m.detach_state(st)
    assert all(not getattr(bs, f).requires_grad for bs in st.blocks for f in ("conv", "w0", "wt", "up1", "down1", "up2", "down2", "g_up1", "g_up2"))
    assert st.pending is not None and not st.pending.xf.requires_grad
    out = m(st, x[:, DECAY.c2 :])
    out.sum().backward()
    assert m.embed.grad is not None and m.logit_decay1.grad is not None


def test_reset_rows_restarts_only_those_rows() -> None:
    m = make(DECAY)
    seg = SMALL.c2
    x = random_stream(2 * seg, batch=3, seed=5)
    fresh_row = random_stream(seg, batch=1, seed=9)
    # rows 0 and 2 continue, row 1 starts a new stream at the segment boundary
    st = m.init_state(3)
    with torch.no_grad():
        first = m(st, x[:, :seg])
        m.reset_rows(st, torch.tensor([False, True, False]))
        x2 = x[:, seg:].clone()
        x2[1] = fresh_row[0]
        second = m(st, x2)
    cont, _ = run_pieces(m, x, [2 * seg])
    assert torch.allclose(second[[0, 2]], cont[[0, 2], seg:], atol=1e-10, rtol=0)
    # the reset row computes what a fresh state computes (its schedule restarts at a c2 boundary)
    alone, _ = run_pieces(m, fresh_row, [seg])
    assert torch.allclose(second[1], alone[0], atol=1e-10, rtol=0)
    with pytest.raises(ValueError):
        st2 = m.init_state(1)
        m(st2, x[:1, :3])
        m.reset_rows(st2, torch.tensor([True]))


def test_l0_stability_and_repetition_measures() -> None:
    """evaluate's measures on a tiny model: the shapes of the report and a falling repetition score."""
    from hope_export.evaluate import l0_stability, repetition, window_bits

    m = make()
    text = bytes(random_stream(600, batch=1)[0].tolist())
    bits = window_bits(m, text, Learning.off(), 100)
    assert len(bits) == 5 and all(b > 0 for b in bits)
    r = l0_stability(m, text, 100)
    assert r["windows"] == 5 and abs(r["mean_diff"] - (r["l0_on"] - r["l0_frozen"])) < 1e-3
    # L0 with a high rate learns a short passage read again and again
    passage = b"the cat sat on the mat. " * 4
    with torch.no_grad():
        m.b_eta.fill_(4.0)
    rep = repetition(m, passage, 3)
    assert len(rep) == 3 and rep[2] < rep[0]
