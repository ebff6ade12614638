"""hope_export.bench_reference: the JSON of a tiny run, the MatMul graph, and refused arguments."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "model": {"d_model": 16, "n_blocks": 1, "n_heads": 2, "slow_hidden": 24, "mid_hidden": 16, "fast_hidden": 16, "conv_width": 4, "eta_max": 0.0625},
    "levels": [{"name": "L0", "period": 4}, {"name": "L1", "period": 8}, {"name": "L2", "period": 16}, {"name": "L3", "period": None}],
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hope_export.bench_reference", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tmp_path / "manifest.json"
    cfg.write_text(json.dumps(TINY))
    text = tmp_path / "text.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. ")
    return cfg, text


def test_tiny_run_prints_the_json(files: tuple[Path, Path]) -> None:
    cfg, text = files
    r = run("--config-json", str(cfg), "--input", str(text), "--bytes", "100", "--chunk", "32", "--warmup", "8")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for k in ("score_bytes_per_s", "observe_bytes_per_s", "bytes", "torch_threads"):
        assert k in out, out
    assert out["bytes"] == 100  # the input is repeated to --bytes
    assert out["torch_threads"] == 1
    assert out["score_bytes_per_s"] > 0 and out["observe_bytes_per_s"] > 0


def test_skip_observe(files: tuple[Path, Path]) -> None:
    cfg, text = files
    r = run("--config-json", str(cfg), "--input", str(text), "--bytes", "40", "--skip-observe")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["score_bytes_per_s"] > 0 and out["observe_bytes_per_s"] is None


def test_write_matmul(tmp_path: Path) -> None:
    path = tmp_path / "matmul.onnx"
    r = run("--write-matmul", str(path))
    assert r.returncode == 0, r.stderr
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    assert m.opset_import[0].version == 17
    assert [n.op_type for n in m.graph.node] == ["MatMul"]
    dims = {i.name: [d.dim_param for d in i.type.tensor_type.shape.dim] for i in m.graph.input}
    assert dims == {"A": ["M", "K"], "B": ["K", "N"]}


def test_bundled_matmul_is_the_generated_graph(tmp_path: Path) -> None:
    bundled = ROOT.parent / "device/src/main/resources/org/hope4j/device/matmul.onnx"
    path = tmp_path / "matmul.onnx"
    assert run("--write-matmul", str(path)).returncode == 0
    assert bundled.read_bytes() == path.read_bytes(), "regenerate with: python -m hope_export.bench_reference --write-matmul " + str(bundled)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bytes", "0"], "--bytes"),
        (["--chunk", "0"], "--chunk"),
        ([], None),
    ],
)
def test_bad_arguments_exit_2(files: tuple[Path, Path], args: list[str], message: str | None) -> None:
    cfg, text = files
    r = run("--config-json", str(cfg), "--input", str(text), *args) if message else run()
    assert r.returncode == 2
    assert "error" in r.stderr and (message is None or message in r.stderr), r.stderr


def test_bad_config_is_refused(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _, text = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": {"d_model": 16}, "levels": TINY["levels"]}))
    r = run("--config-json", str(bad), "--input", str(text))
    assert r.returncode == 2 and "model.n_blocks is missing" in r.stderr, r.stderr
    r = run("--config-json", str(tmp_path / "absent.json"), "--input", str(text))
    assert r.returncode == 2 and "not found" in r.stderr, r.stderr
