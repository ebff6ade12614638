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
