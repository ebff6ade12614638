"""Export round trip: ONNX segments are valid and have the manifest's shapes, the manifest's
checksums hold, the golden files match the reference, and scripts refuse bad arguments."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
import torch

from hope_export import safetensors
from hope_export.export import golden_stream, write_bundle
from hope_export.model import HopeConfig, HopeModel, Learning

ROOT = Path(__file__).resolve().parents[1]
TINY = HopeConfig(d_model=32, n_blocks=2, n_heads=2, slow_hidden=48, mid_hidden=40, fast_hidden=40, c0=4, c1=8, c2=16)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HopeModel]:
    torch.manual_seed(0)
    model = HopeModel(TINY)
    out = write_bundle(model, tmp_path_factory.mktemp("b") / "bundle", {"note": "test"})
    return out, model


def test_onnx_segments_check_and_have_manifest_shapes(bundle: tuple[Path, HopeModel]) -> None:
    out, _ = bundle
    manifest = json.loads((out / "manifest.json").read_text())
    names = {s["name"] for s in manifest["segments"]}
    assert names == {"embed"} | {f"mixer_in_{b}" for b in range(2)} | {f"mixer_out_{b}" for b in range(2)}
    for seg in manifest["segments"]:
        m = onnx.load(str(out / seg["file"]))
        onnx.checker.check_model(m)
        assert m.opset_import[0].version == 17
        graph_inputs = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in m.graph.input}
        graph_outputs = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in m.graph.output}
        for port in seg["inputs"]:
            assert graph_inputs[port["name"]] == ["n" if s == -1 else s for s in port["shape"]], (seg["name"], port["name"])
        for port in seg["outputs"]:
            # ONNX shape inference leaves a slice's length symbolic; the runtime checks real shapes
            got = graph_outputs[port["name"]]
            assert len(got) == len(port["shape"]) and all(g == s or isinstance(g, str) for g, s in zip(got, port["shape"])), (seg["name"], port["name"])
        # frozen weights are initializers, never graph inputs (ORT Java refuses overridable initializers)
        assert len(m.graph.input) == len(seg["inputs"])


def test_manifest_checksums_hold(bundle: tuple[Path, HopeModel]) -> None:
    out, _ = bundle
    manifest = json.loads((out / "manifest.json").read_text())
    listed = set(manifest["files"])
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name not in ("manifest.json", "manifest.sha256")}
    assert listed == on_disk
    # the manifest's own checksum, which the Java loader verifies first
    assert (out / "manifest.sha256").read_text().strip() == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    assert manifest["format_version"] == 1 and manifest["teach"] == "residual"
    assert [lv["period"] for lv in manifest["levels"]] == [4, 8, 16, None]


def test_plastic_tensors_round_trip(bundle: tuple[Path, HopeModel]) -> None:
    out, model = bundle
    tensors, meta = safetensors.load(out / "plastic.safetensors")
    assert meta["format"] == "hope4j-plastic"
    assert torch.equal(tensors["blocks.1.l1.up"], model.up1[1].detach().float())
    assert torch.equal(tensors["head.weight"], model.head.detach().float())
    assert tensors["blocks.0.l0.init"].shape == (2, 3 * 16 + 10, 16)


def test_golden_matches_the_reference(bundle: tuple[Path, HopeModel]) -> None:
    out, model = bundle
    stream = (out / "golden" / "stream.bin").read_bytes()
    assert stream == golden_stream() and len(stream) == 1024
    gold, meta = safetensors.load(out / "golden" / "learn_on.safetensors")
    assert int(meta["pos"]) == 1024 and int(meta["count_l1"]) == 1023 // 8
    x = torch.tensor(list(stream)).unsqueeze(0)
    st = model.init_state(1)
    with torch.no_grad():
        logits = model(st, x, Learning())
    assert torch.allclose(logits[0], gold["logits"], atol=1e-3)
    assert torch.allclose(st.blocks[1].up2[0], gold["blocks.1.l2.up"], atol=1e-4)
    off, _ = safetensors.load(out / "golden" / "learn_off.safetensors")
    assert (off["logits"] - gold["logits"]).abs().max() > 1e-3


def test_segment_goldens_reproduce_the_modules(bundle: tuple[Path, HopeModel]) -> None:
    out, model = bundle
    seg, _ = safetensors.load(out / "golden" / "segments.safetensors")
    with torch.no_grad():
        for n in (1, 5, 37):
            q, u, cs = model.mixer_in[1](seg[f"block1.n{n}.x"], seg[f"block1.n{n}.conv_state"])
            assert torch.allclose(q, seg[f"block1.n{n}.q"], atol=1e-5)
            assert torch.allclose(cs, seg[f"block1.n{n}.conv_state_out"], atol=1e-6)
            x2 = model.frozen_mixer_out(1)(seg[f"block1.n{n}.x"], seg[f"block1.n{n}.o"])
            assert torch.allclose(x2, seg[f"block1.n{n}.x2"], atol=1e-4)


@pytest.mark.parametrize(
    "module,args,needle",
    [
        ("hope_export.train", ["--corpus", "/nonexistent", "--out", "/tmp/x"], "--corpus"),
        ("hope_export.train", ["--corpus", ".", "--out", "/tmp/x", "--steps", "0"], "--"),
        ("hope_export.train", ["--corpus", "build/corpus", "--out", "/tmp/x", "--batch", "3", "--procs", "2"], "--procs"),
        ("hope_export.export", ["--checkpoint", "/nonexistent.pt", "--out", "/tmp/x"], "--checkpoint"),
        ("hope_export.corpus", ["--out", str(Path(__file__))], "--out"),
        ("hope_export.baselines", ["--corpus", "/nonexistent"], "--corpus"),
    ],
)
def test_scripts_refuse_bad_arguments(module: str, args: list[str], needle: str) -> None:
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert needle in r.stderr, r.stderr


# -- decay to the prior ------------------------------------------------------------------------------

DECAY_FIXTURE = ROOT.parent / "runtime" / "src" / "test" / "resources" / "org" / "hope4j" / "decay-golden"


def test_decay_is_omitted_without_the_parameters(bundle: tuple[Path, HopeModel]) -> None:
    out, model = bundle
    assert model.logit_decay1 is None and model.logit_decay2 is None
    manifest = json.loads((out / "manifest.json").read_text())
    assert all("decay" not in lv for lv in manifest["levels"])
    assert set(manifest["golden"]["runs"]) == {"learn_on", "learn_off", "learn_l0"}


def test_decay_is_written_per_block_beside_the_rates(tmp_path: Path) -> None:
    import dataclasses

    torch.manual_seed(1)
    model = HopeModel(dataclasses.replace(TINY, decay1_init=0.05, decay2_init=0.2))
    with torch.no_grad():
        model.logit_decay1.copy_(torch.tensor([-3.0, -2.0]))  # lambda differs per block
    out = write_bundle(model, tmp_path / "bundle", golden_bytes=golden_stream()[:64], golden_runs=("learn_on",))
    manifest = json.loads((out / "manifest.json").read_text())
    l0, l1, l2, l3 = manifest["levels"]
    assert "decay" not in l0 and "decay" not in l3
    assert list(l1) == ["name", "what", "period", "learning_rate", "decay"]
    assert l1["decay"] == pytest.approx(torch.sigmoid(torch.tensor([-3.0, -2.0], dtype=torch.float64)).tolist(), rel=1e-7)
    assert l2["decay"] == pytest.approx([0.2, 0.2], rel=1e-6)
    assert all(0 <= v < 1 for v in l1["decay"] + l2["decay"])
    assert set(manifest["golden"]["runs"]) == {"learn_on"} and manifest["golden"]["stream_bytes"] == 64
    # the golden run follows the model's decay: it is the reference with lambda, not without
    gold, meta = safetensors.load(out / "golden" / "learn_on.safetensors")
    x = torch.tensor(list(golden_stream()[:64])).unsqueeze(0)
    with torch.no_grad():
        st = model.init_state(1)
        logits = model(st, x, Learning())
        plain = HopeModel(TINY)
        plain.load_state_dict({k: v for k, v in model.state_dict().items() if "decay" not in k})
        st0 = plain.init_state(1)
        plain(st0, x, Learning())
    assert torch.allclose(logits[0], gold["logits"], atol=1e-3)
    assert torch.allclose(st.blocks[0].up1[0], gold["blocks.0.l1.up"], atol=1e-4)
    assert (st0.blocks[0].up1[0] - gold["blocks.0.l1.up"]).abs().max() > 1e-4


def test_decay_golden_fixture_round_trips(tmp_path: Path) -> None:
    from hope_export.decay_golden import DECAY1, DECAY2, write_decay_golden

    out = write_decay_golden(tmp_path / "decay-golden")
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 1 << 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["levels"][1]["decay"] == pytest.approx(list(DECAY1), rel=1e-6)
    assert manifest["levels"][2]["decay"] == pytest.approx(list(DECAY2), rel=1e-6)
    assert manifest["golden"]["runs"]["learn_on"]["counts"] == {"l0": 25, "l1": 12, "l2": 3}
    # the committed fixture is what this command writes
    assert (DECAY_FIXTURE / "manifest.json").is_file(), f"the Java fixture is missing: {DECAY_FIXTURE}"
    committed = json.loads((DECAY_FIXTURE / "manifest.json").read_text())
    assert committed["levels"] == manifest["levels"]
    new, _ = safetensors.load(out / "golden" / "learn_on.safetensors")
    old, _ = safetensors.load(DECAY_FIXTURE / "golden" / "learn_on.safetensors")
    assert set(new) == set(old)
    for k in old:
        torch.testing.assert_close(new[k], old[k], rtol=1e-5, atol=1e-6)


# -- long parity fixture -------------------------------------------------------------------------------

LONG_FIXTURE = ROOT.parent / "runtime" / "src" / "test" / "resources" / "org" / "hope4j" / "long-parity.safetensors"
DEFAULT_BUNDLE = ROOT.parent / "runtime" / "src" / "main" / "resources" / "org" / "hope4j" / "default-bundle"


def test_long_parity_fixture_is_what_the_default_bundle_computes(tmp_path: Path) -> None:
    """The committed 64 KiB fixture of the Java LongParityTest covers >= 1,000 L1 steps and is what
    hope_export.long_golden computes for the committed default bundle (regenerate it after a release)."""
    from hope_export.long_golden import long_golden, long_stream

    assert LONG_FIXTURE.is_file(), f"the Java fixture is missing: {LONG_FIXTURE}"
    old, meta = safetensors.load(LONG_FIXTURE)
    assert int(meta["count_l1"]) >= 1000 and int(meta["stream_bytes"]) == 65536
    stream = long_stream(DEFAULT_BUNDLE)
    assert len(stream) == 65536 and stream[:64] == (DEFAULT_BUNDLE / "rehearsal.txt").read_bytes()[:64]
    new_meta = long_golden(DEFAULT_BUNDLE, tmp_path / "long.safetensors")
    assert new_meta == meta
    new, _ = safetensors.load(tmp_path / "long.safetensors")
    assert set(new) == set(old)
    for k in old:
        torch.testing.assert_close(new[k], old[k], rtol=1e-5, atol=1e-6)
