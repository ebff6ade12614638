"""The sleep reference (hope_export/sleep.py): the runtime's random numbers, the expert's start as a
no-op, the analytic expert gradient against autograd, that a sleep lowers the distillation loss,
the guard, the sampled / anchor / dream paths, and that the committed Java fixture is what the
golden command writes."""
from __future__ import annotations

import dataclasses
import math
import json
from pathlib import Path

import pytest
import torch

from hope_export import safetensors
from hope_export.export import sha256
from hope_export.model import HopeConfig, HopeModel, Learning
from hope_export.sleep import (
    Expert,
    ExpertPool,
    Levels,
    SleepConfig,
    SplitMix64,
    _bytes,
    bits_per_byte,
    commit,
    consolidate,
    distil_gradients,
    fresh_context,
    golden_experience,
    golden_probe,
    logits_of,
    probs,
    pretrained_levels,
    student_levels,
    write_golden_bundle,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT.parent / "runtime" / "src" / "test" / "resources" / "org" / "hope4j" / "sleep-golden"
TINY = dict(d_model=16, n_heads=2, slow_hidden=32, mid_hidden=16, fast_hidden=16, c0=8, c1=16, c2=64, lr1_init=0.05, lr2_init=1e-3)
DET = SleepConfig(pool_size=2, rank=3, window_bytes=32, learning_rate=1e-2, sampled_fraction=0.0, anchor_fraction=0.0,
                  anchor_windows=0, prompt_bytes=8, dream=False, eval_bytes=512, steps=4, seed=5)


def tiny(n_blocks: int = 2, seed: int = 0, **kw) -> HopeModel:
    torch.manual_seed(seed)
    return HopeModel(HopeConfig(n_blocks=n_blocks, **{**TINY, **kw})).double().eval()


def observed(model: HopeModel, text: bytes):
    with torch.no_grad():
        st = model.init_state(1)
        model(st, _bytes(text), Learning())
    return st


EXPERIENCE = golden_experience(768, seed=9)
PROBE = golden_probe()[:512]


def test_splitmix64_matches_java() -> None:
    r = SplitMix64(0)  # the published SplitMix64 sequence of seed 0
    assert r.next_long() == 0xE220A8397B1DCDAF
    assert r.next_long() == 0x6E789E6AA1B965F4
    r = SplitMix64(-1)  # a negative Java seed; values from SplitMix64.java (jshell)
    assert r.next_long() == 0xE4D971771B652C20
    assert r.next_long() == 0xE99FF867DBF682C9
    r = SplitMix64(5 + 0x9E3779B9 * 3)  # the seed of a third sleep with seed 5
    assert r.next_double() == 0.4661066842442265
    assert r.next_int(1000) == 856


def test_sleep_config_round_trips_through_java_names() -> None:
    m = DET.to_java()
    assert m["windowBytes"] == "32" and m["dream"] == "false" and m["learningRate"] == "0.01"
    assert SleepConfig.from_java(m) == DET
    with pytest.raises(ValueError):
        SleepConfig(prompt_bytes=128, window_bytes=128)


def test_fresh_expert_is_a_no_op() -> None:
    model = tiny()
    st = model.init_state(1)  # L1 not changed: the student is the teacher
    teacher = Levels.of_state(st)
    e = Expert.fresh(2, 16, 16, 3, [True, True], SplitMix64(1))
    assert all(float(t.abs().sum()) == 0 for t in e.u + e.p) and all(float(t.abs().sum()) > 0 for t in e.v + e.q)
    student = student_levels(model, teacher, e)
    text = EXPERIENCE[:100]
    assert torch.equal(logits_of(model, student, text), logits_of(model, teacher, text))


@pytest.mark.parametrize("n_blocks,plastic", [(1, ()), (2, (1,))])
def test_expert_gradient_equals_autograd_where_the_teach_signal_is_exact(n_blocks: int, plastic: tuple) -> None:
    model = tiny(n_blocks, seed=2, plastic_blocks=plastic)
    top = n_blocks - 1
    live = observed(model, EXPERIENCE[:300])
    teacher = Levels.of_state(live)
    gen = torch.Generator().manual_seed(3)
    e = Expert.fresh(n_blocks, 16, 16, 3, [model.cfg.is_plastic(b) for b in range(n_blocks)], SplitMix64(4))
    e.u[top] = 0.1 * torch.randn(16, 3, generator=gen)
    e.p[top] = 0.1 * torch.randn(16, 3, generator=gen)
    window = EXPERIENCE[400:448]
    p_t = probs(model, teacher, window)
    lv = student_levels(model, teacher, e)
    _, g_up, g_down = distil_gradients(model, lv, window, p_t)
    u, v, p, q = (getattr(e, n)[top].double() for n in "uvpq")
    analytic = [g_down[top] @ v.t(), u.t() @ g_down[top], g_up[top] @ q.t(), p.t() @ g_up[top]]
    # autograd of the mean KL(teacher || student) w.r.t. the factors
    fu, fv, fp, fq = (t.clone().requires_grad_() for t in (u, v, p, q))
    with torch.enable_grad():
        st = fresh_context(model, lv)
        st.blocks[top].up2 = (teacher.up2[top] + fp @ fq).unsqueeze(0)
        st.blocks[top].down2 = (teacher.down2[top] + fu @ fv).unsqueeze(0)
        logits = model(st, _bytes(window), Learning(True, False, False))[0]
        kl = (p_t * (torch.log(p_t) - torch.log_softmax(logits, -1))).sum() / len(window)
        auto = torch.autograd.grad(kl, [fu, fv, fp, fq])
    for a, b in zip(analytic, auto):
        assert float(b.abs().max()) > 1e-8
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-12)


def mean_kl(model: HopeModel, teacher: Levels, student: Levels, text: bytes, w: int) -> float:
    kls = []
    for s in range(0, len(text) - w + 1, w):
        win = text[s : s + w]
        kls.append(distil_gradients(model, student, win, probs(model, teacher, win))[0])
    return sum(kls) / len(kls)


def test_sleep_lowers_the_kl_on_the_experience_and_commits() -> None:
    model = tiny()
    live = observed(model, EXPERIENCE)
    teacher = Levels.of_state(live)
    pool = ExpertPool(2, 3)
    cfg = dataclasses.replace(DET, steps=30, probe_bound=10.0)
    res = consolidate(model, live, pool, EXPERIENCE, PROBE, cfg, max_seconds=120)
    assert res.accepted, res.reason
    assert res.steps == 30 and res.slot == 0 and res.evicted_slot == -1 and pool.sleeps == 0
    start = student_levels(model, teacher, Expert.zeros(2, 16, 16, 3))
    before = mean_kl(model, teacher, start, EXPERIENCE, 32)
    after = mean_kl(model, teacher, res.l2_after, EXPERIENCE, 32)
    assert after < 0.9 * before, (before, after)
    assert res.recent_after < res.recent_reset_only
    # the guard's reference is the pretrained model (L1, L2 as the model ships them), not the teacher
    assert res.probe_pretrained == bits_per_byte(model, pretrained_levels(model, teacher.up2[0].dtype), PROBE)
    assert res.probe_pretrained != res.probe_before
    assert res.probe_after <= max(res.probe_pretrained, res.probe_reset_only) * (1 + cfg.probe_bound)
    st = commit(model, live, res, pool)
    assert pool.sleeps == 1 and pool.experts[0] is res.expert
    assert torch.equal(st.blocks[0].up1[0], model.up1[0]) and torch.equal(st.blocks[1].up2[0], res.l2_after.up2[1])
    assert torch.equal(live.blocks[0].up1, observed(model, EXPERIENCE).blocks[0].up1)  # the live state is untouched
    # a full pool folds its oldest expert: the next sleep takes its slot
    pool.commit(1, -1, res.expert.copy())
    res2 = consolidate(model, st, pool, EXPERIENCE, PROBE, DET, max_seconds=120)
    assert res2.slot == 0 and res2.evicted_slot == 0


def test_guard_rolls_back() -> None:
    model = tiny()
    live = observed(model, EXPERIENCE)
    pool = ExpertPool(2, 3)
    # a sleep that makes the probe worse than the teacher's, but still better than the pretrained model's, commits:
    # the guard's reference is the pretrained model (this random model's probe improves by learning the experience)
    wild = consolidate(model, live, pool, EXPERIENCE, PROBE, dataclasses.replace(DET, learning_rate=10.0), max_seconds=120)
    assert wild.accepted and wild.probe_before < wild.probe_after <= max(wild.probe_pretrained, wild.probe_reset_only) * 1.01, wild.reason
    # an expert that makes a probe the experience never resembles (high bytes) worse than both the pretrained model and
    # L1 reset alone leave it: the sleep rolls back and says against what
    alien = bytes(160 + (i * 37) % 96 for i in range(512))
    res = consolidate(model, live, pool, EXPERIENCE, alien, dataclasses.replace(DET, learning_rate=0.1, steps=8), max_seconds=120)
    assert not res.accepted and "retention probe" in res.reason and "pretrained model" in res.reason, res.reason
    assert res.probe_after > max(res.probe_pretrained, res.probe_reset_only) * 1.01 or math.isnan(res.probe_after)
    with pytest.raises(ValueError):
        commit(model, live, res, pool)
    assert pool.sleeps == 0 and pool.free_slot() == 0
    short = consolidate(model, live, pool, EXPERIENCE[:20], PROBE, DET)
    assert not short.accepted and "nothing to consolidate" in short.reason


def test_sampled_anchor_and_dream_windows_run() -> None:
    model = tiny()
    live = observed(model, EXPERIENCE)
    cfg = SleepConfig(pool_size=2, rank=3, window_bytes=24, learning_rate=1e-2, sampled_fraction=0.5, anchor_fraction=0.3,
                      anchor_windows=2, prompt_bytes=8, dream=True, dream_candidates=2, dream_steps=1, held_out_bytes=128,
                      eval_bytes=256, steps=6, seed=7)
    res = consolidate(model, live, ExpertPool(2, 3), EXPERIENCE, PROBE, cfg, max_seconds=120)
    assert res.steps == 6 and res.dreams_tried == 2 and 0 <= res.dreams_kept <= 2
    assert res.consolidated_bytes == len(EXPERIENCE) - 128
    assert res.expert.finite()


def test_golden_fixture_round_trips(tmp_path: Path) -> None:
    out = write_golden_bundle(tmp_path / "sleep-golden")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["golden/sleep.safetensors"] == sha256(out / "golden" / "sleep.safetensors")
    assert manifest["probe"]["bytes"] == len(golden_probe())
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 1 << 20
    new, meta = safetensors.load(out / "golden" / "sleep.safetensors")
    assert meta["steps"] == "6" and SleepConfig.from_java({k[7:]: v for k, v in meta.items() if k.startswith("config.")}).steps == 6
    assert bytes(new["experience"].tolist()) == golden_experience()
    assert float(new["expert.blocks.0.u"].abs().max()) > 0  # the expert trained
    # the committed fixture is what this command writes
    assert (FIXTURE / "manifest.json").is_file(), f"the Java fixture is missing: {FIXTURE}"
    old, old_meta = safetensors.load(FIXTURE / "golden" / "sleep.safetensors")
    assert set(old) == set(new)
    for k in old:
        torch.testing.assert_close(new[k], old[k], rtol=1e-5, atol=1e-6)
    for k in ("recentBefore", "recentResetOnly", "recentAfter", "probeBefore", "probeAfter", "probePretrained", "probeResetOnly"):
        assert abs(float(meta[k]) - float(old_meta[k])) < 1e-6
    assert {k: v for k, v in meta.items() if k.startswith("config.")} == {k: v for k, v in old_meta.items() if k.startswith("config.")}
