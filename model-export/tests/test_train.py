"""The outer loop: data-parallel training over processes computes what one process computes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TINY = json.dumps({"d_model": 16, "n_blocks": 2, "n_heads": 2, "slow_hidden": 24, "mid_hidden": 8, "fast_hidden": 8, "c0": 4, "c1": 8, "c2": 16})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    c = tmp_path_factory.mktemp("corpus")
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex".split()
    text = " ".join(words[(i * 7 + i // 3) % len(words)] for i in range(3000))
    (c / "train.txt").write_text(text)
    (c / "heldout.txt").write_text(text[::-1])
    return c


def train(corpus: Path, out: Path, *extra: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "hope_export.train", "--corpus", str(corpus), "--out", str(out), "--steps", "4", "--batch", "4", "--seq", "32",
         "--eval-every", "2", "--eval-windows", "2", "--config", TINY, *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return torch.load(out / "model.pt")


def test_two_processes_train_the_same_model_as_one(corpus: Path, tmp_path: Path) -> None:
    one = train(corpus, tmp_path / "one")
    two = train(corpus, tmp_path / "two", "--procs", "2")
    assert [h["step"] for h in one["history"]] == [h["step"] for h in two["history"]] == [2, 4]
    for a, b in zip(one["history"], two["history"]):
        assert abs(a["heldout_bits_per_byte"] - b["heldout_bits_per_byte"]) < 1e-4
    assert one["model"].keys() == two["model"].keys()
    for k, v in one["model"].items():
        # the same batches and schedule; only the order of the gradient sums differs
        assert torch.allclose(v, two["model"][k], atol=1e-6, rtol=0), k  # measured 6e-8
    start = train(corpus, tmp_path / "zero", "--steps", "1", "--lr", "1e-9")
    moved = max((v - start["model"][k]).abs().max().item() for k, v in one["model"].items())
    assert moved > 1e-4, f"training moved no weight beyond the tolerance (max change {moved})"  # measured 6e-4


def test_a_failing_process_fails_the_run(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "bad"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    r = subprocess.run(
        [sys.executable, "-m", "hope_export.train", "--corpus", str(corpus), "--out", str(out), "--steps", "2", "--batch", "2", "--seq", "32",
         "--eval-windows", "2", "--config", TINY, "--procs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode != 0
    assert "training process failed" in r.stderr, r.stderr[-2000:]


def test_carried_state_two_processes_train_the_same_model_as_one(corpus: Path, tmp_path: Path) -> None:
    one = train(corpus, tmp_path / "one", "--stream-segments", "3")
    two = train(corpus, tmp_path / "two", "--stream-segments", "3", "--procs", "2")
    for k, v in one["model"].items():
        assert torch.allclose(v, two["model"][k], atol=1e-6, rtol=0), k
    # carried state changes what is trained (other data order and memories older than a segment)
    plain = train(corpus, tmp_path / "plain")
    assert max((v - plain["model"][k]).abs().max().item() for k, v in one["model"].items()) > 1e-6


def test_streams_read_consecutive_segments_and_restart() -> None:
    from hope_export.train import Streams

    data = torch.arange(10_000) % 251
    s = Streams(data.to(torch.uint8), batch=5, seq=16, mean_segments=3, gen=torch.Generator().manual_seed(0))
    prev, left = None, None
    restarts = 0
    for _ in range(40):
        segs, reset = s.next()
        assert segs.shape == (5, 17)
        if prev is not None:
            for r in range(5):
                if not reset[r]:  # a continuing row reads the 16 bytes after its previous segment
                    assert torch.equal(segs[r, 0], prev[r, 16])
                    assert torch.equal(segs[r, :1], prev[r, 16:17])
        restarts += int(reset.sum())
        prev = segs
    assert 5 < restarts < 5 * 40  # streams last 1..5 segments


def test_resume_from_a_compact_checkpoint(corpus: Path, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    first = train(corpus, tmp_path / "a", "--stream-segments", "2", "--ckpt-dir", str(ck), "--ckpt-minutes", "0.0001")
    state = torch.load(ck / "checkpoint.pt")
    assert state["step"] == 4 and "opt" in state and state["opt"]["state"]
    assert all(v.dtype == torch.float32 for v in state["model"].values())
    assert all(v.dtype == torch.float32 for s in state["opt"]["state"].values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0)
    for k, v in first["model"].items():
        assert torch.equal(v, state["model"][k]), k
    hist = json.loads((ck / "history.json").read_text())
    assert [h["step"] for h in hist["history"]] == [2, 4]
    # resume with a negligible learning rate: the weights stay, the step and the history go on
    r = subprocess.run(
        [sys.executable, "-m", "hope_export.train", "--corpus", str(corpus), "--out", str(tmp_path / "b"), "--steps", "2", "--batch", "4", "--seq", "32",
         "--eval-every", "2", "--eval-windows", "2", "--config", TINY, "--stream-segments", "2", "--resume", str(ck / "checkpoint.pt"), "--lr", "1e-12",
         "--ckpt-dir", str(ck)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stderr
    second = torch.load(tmp_path / "b" / "model.pt")
    for k, v in first["model"].items():
        assert torch.allclose(v, second["model"][k], atol=1e-8, rtol=0), k
    after = torch.load(ck / "checkpoint.pt")
    assert after["step"] == 6 and after["bytes"] == 6 * 4 * 32
    assert [h["step"] for h in after["history"]] == [2, 4, 6]


def test_resume_refuses_another_config(corpus: Path, tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    train(corpus, tmp_path / "a", "--ckpt-dir", str(ck))
    other = json.dumps({**json.loads(TINY), "fast_hidden": 4})
    r = subprocess.run(
        [sys.executable, "-m", "hope_export.train", "--corpus", str(corpus), "--out", str(tmp_path / "b"), "--steps", "2", "--batch", "4", "--seq", "32",
         "--config", other, "--resume", str(ck / "checkpoint.pt")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 2 and "another config" in r.stderr


def test_model_from_bundle_reproduces_the_exported_model(tmp_path: Path) -> None:
    from hope_export.export import write_bundle
    from hope_export.model import HopeConfig, HopeModel
    from hope_export.train import bundle_golden_error, model_from_bundle

    torch.manual_seed(3)
    model = HopeModel(HopeConfig.from_dict(json.loads(TINY)))
    with torch.no_grad():  # distinct rates and norm gains, as a trained model has (the exporter merges equal initializers)
        model.log_lr1.copy_(torch.tensor([-4.0, -5.0]))
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    out = write_bundle(model, tmp_path / "bundle")
    back = model_from_bundle(out)
    assert back.cfg == model.cfg
    for k, v in model.state_dict().items():
        assert torch.allclose(v, back.state_dict()[k], atol=1e-6, rtol=0), k
    assert bundle_golden_error(back, out) < 1e-6
    assert bundle_golden_error(back, out, "learn_off") < 1e-6
    with torch.no_grad():
        back.mixer_in[0].conv[:, [0, 1]] = back.mixer_in[0].conv[:, [1, 0]].clone()
    assert bundle_golden_error(back, out) > 1e-3
    dec = model_from_bundle(out, decay1_init=0.01, decay2_init=0.01)
    assert dec.logit_decay1 is not None and bundle_golden_error(dec, out) < 1e-6
