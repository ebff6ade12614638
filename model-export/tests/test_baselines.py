"""The 5-gram baseline: proper distributions, and scored on exactly the windows the model is."""
from __future__ import annotations

import math

import pytest
import torch

from hope_export import baselines
from hope_export.train import heldout_windows

TEXT = b"the cat sat on the mat. the dog sat on the log. a cat and a dog sat together on a mat.\n" * 20


@pytest.fixture(scope="module")
def model() -> baselines.NgramModel:
    return baselines.NgramModel(TEXT)


@pytest.mark.parametrize("history", [b"the ", b"xq#!", b"\n\n\n\n", b" sat"])
def test_both_smoothings_are_distributions(model: baselines.NgramModel, history: bytes) -> None:
    assert math.isclose(sum(model.prob_kn(history, b) for b in range(256)), 1.0, abs_tol=1e-9)
    assert math.isclose(sum(model.prob_wb(history, b) for b in range(256)), 1.0, abs_tol=1e-9)


def test_windows_are_those_of_the_model_evaluation() -> None:
    heldout = bytes(range(256)) * 40
    ours = baselines.heldout_windows(heldout, 7, 300)
    theirs = heldout_windows(torch.frombuffer(bytearray(heldout), dtype=torch.uint8), 7, 300)
    assert [bytes(w.tolist()) for w in theirs] == ours


def test_window_score_predicts_every_byte_after_the_first(model: baselines.NgramModel) -> None:
    w = b"the dog sat on the cat."
    kn, wb = model.bits_per_byte_windows([w, w])
    data = baselines.PAD + w
    m = baselines.ORDER - 1
    want = -sum(math.log2(model.prob_kn(data[i - m : i], data[i])) for i in range(m + 1, len(data))) / (len(w) - 1)
    assert math.isclose(kn, want, rel_tol=1e-12)
    assert 0 < kn < 8 and 0 < wb < 8
    # seen text is cheap, unseen bytes are dear
    assert model.bits_per_byte_windows([b"zzqj#%&@"])[0] > 4 * kn


def test_peers_cold_and_primed_with_the_training_tail() -> None:
    train = b"a preamble that the tail leaves out. " * 50 + TEXT
    heldout = TEXT[:400]
    r = baselines.peer_bits_per_byte(train, heldout, ["ppmd", "zpaq"], len(TEXT))
    assert r["peers_primer_bytes"] == len(TEXT) and r["peers_primer"] == "tail of train.txt"
    for t in ("ppmd", "zpaq"):
        # a repeat costs next to nothing: at byte granularity zpaq may add no byte at all
        assert 0 <= r[f"{t}_bits_per_byte"] < r[f"{t}_cold_bits_per_byte"] < 8, (t, r)
    assert set(r["seconds"]) == {"ppmd", "zpaq"}
    none = baselines.peer_bits_per_byte(train, heldout, [], 0)
    assert none["ppmd_bits_per_byte"] is None and none["zpaq_cold_bits_per_byte"] is None and none["peers_primer_bytes"] is None


def test_main_keeps_its_keys_and_adds_the_peers(tmp_path, capsys) -> None:
    import json

    (tmp_path / "train.txt").write_bytes(TEXT * 3)
    (tmp_path / "heldout.txt").write_bytes(TEXT[:600])
    out = tmp_path / "b.json"
    assert baselines.main(["--corpus", str(tmp_path), "--windows", "2", "--length", "100", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for k in ("fivegram_bits_per_byte", "xz_bits_per_byte", "fivegram_windows_bits_per_byte", "xz_unconditioned_bits_per_byte",
              "ppmd_bits_per_byte", "ppmd_cold_bits_per_byte", "zpaq_bits_per_byte", "zpaq_cold_bits_per_byte"):
        assert isinstance(r[k], float), k
    assert r["peers_primer"] == "all of train.txt" and set(r["seconds"]) == {"fivegram", "xz", "ppmd", "zpaq"}
    assert baselines.main(["--corpus", str(tmp_path), "--windows", "0", "--peers", "none"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["ppmd_bits_per_byte"] is None
    with pytest.raises(SystemExit):
        baselines.main(["--corpus", str(tmp_path), "--peers", "bzip2"])
