"""Throughput of the PyTorch reference model, the baseline `hope4j bench` compares against.

    /usr/bin/python3 -m hope_export.bench_reference --config-json manifest.json --input text.txt --bytes 32768
    /usr/bin/python3 -m hope_export.bench_reference --write-matmul matmul.onnx

The model shape comes from a bundle manifest (its "model" and "levels" objects). The weights are
random (torch.manual_seed(0)): the work per byte, hence the speed, does not depend on their values.
The same bytes are read twice from a fresh state, in chunks of --chunk bytes, under torch.no_grad()
on one torch thread: once as `Learner.score` reads (L0 memories learning in context, CMS levels
frozen) and once as `Learner.observe` reads (every level learning). One JSON line goes to stdout:

    {"score_bytes_per_s": ..., "observe_bytes_per_s": ..., "bytes": ..., "torch_threads": 1, ...}

--write-matmul PATH writes the ONNX graph `hope4j bench` uses to measure the ONNX Runtime MatMul
ceiling: two float inputs A[M, K] and B[K, N] with dynamic dimensions and one MatMul (opset 17).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

#: manifest "model" key -> HopeConfig field (the level periods come from "levels")
MODEL_KEYS = ("d_model", "n_blocks", "n_heads", "slow_hidden", "mid_hidden", "fast_hidden", "conv_width", "eta_max")


def config_from_manifest(manifest: dict):
    """HopeConfig of a manifest's model/levels objects (c0, c1, c2 = the periods of L0, L1, L2)."""
    from .model import HopeConfig

    model = manifest.get("model")
    levels = manifest.get("levels")
    if not isinstance(model, dict):
        raise ValueError('the config JSON has no "model" object')
    if not isinstance(levels, list) or len(levels) < 3:
        raise ValueError('the config JSON needs a "levels" array with at least L0, L1 and L2')
    kw: dict = {}
    for k in MODEL_KEYS:
        if k not in model:
            raise ValueError(f"model.{k} is missing")
        kw[k] = model[k]
    for i in range(3):
        period = levels[i].get("period") if isinstance(levels[i], dict) else None
        if not isinstance(period, int) or period < 1:
            raise ValueError(f"levels[{i}].period must be a positive integer, found {period!r}")
        kw[f"c{i}"] = period
    if manifest.get("plastic_blocks") is not None:  # which blocks learn changes the work of observe
        kw["plastic_blocks"] = tuple(manifest["plastic_blocks"])
    return HopeConfig(**kw)


def write_matmul(path: Path) -> None:
    """C[M, N] = A[M, K] B[K, N], float32, dynamic M, K, N; opset 17."""
    import onnx
    from onnx import TensorProto, helper

    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", "K"])
    b = helper.make_tensor_value_info("B", TensorProto.FLOAT, ["K", "N"])
    c = helper.make_tensor_value_info("C", TensorProto.FLOAT, ["M", "N"])
    graph = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"], name="matmul")], "matmul", [a, b], [c])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="hope_export.bench_reference")
    model.ir_version = 8  # readable by every ONNX Runtime that supports opset 17
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def throughput(model, data, chunk: int, learning, warmup: int) -> tuple[float, float]:
    """Bytes/s and seconds of reading `data` (a uint8 tensor) from a fresh state, chunk by chunk."""
    import torch

    if warmup > 0:  # first-call costs (allocator, kernels) are not part of the steady state
        model(model.init_state(1), data[:warmup].long().unsqueeze(0), learning)
    state = model.init_state(1)
    t0 = time.perf_counter()
    for i in range(0, data.numel(), chunk):
        model(state, data[i : i + chunk].long().unsqueeze(0), learning)
    secs = time.perf_counter() - t0
    return data.numel() / secs, secs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hope_export.bench_reference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config-json", type=Path, help="bundle manifest.json (or any JSON with its model and levels objects)")
    p.add_argument("--input", type=Path, help="bytes to read (repeated if shorter than --bytes)")
    p.add_argument("--bytes", type=int, default=32768, help="bytes to read per measurement (default 32768)")
    p.add_argument("--chunk", type=int, default=4096, help="bytes per model call (default 4096)")
    p.add_argument("--warmup", type=int, default=256, help="bytes read once before each timing, not counted (default 256)")
    p.add_argument("--skip-observe", action="store_true", help="measure the score reading only")
    p.add_argument("--write-matmul", type=Path, metavar="PATH", help="write the MatMul ONNX graph to PATH and exit")
    a = p.parse_args(argv)
    if a.write_matmul is not None:
        return a
    if a.config_json is None or a.input is None:
        p.error("--config-json and --input are required (or --write-matmul PATH)")
    if not a.config_json.is_file():
        p.error(f"--config-json: {a.config_json} not found")
    if not a.input.is_file():
        p.error(f"--input: {a.input} not found")
    if a.input.stat().st_size == 0:
        p.error(f"--input: {a.input} is empty")
    if a.bytes < 1:
        p.error(f"--bytes must be >= 1, found {a.bytes}")
    if a.chunk < 1:
        p.error(f"--chunk must be >= 1, found {a.chunk}")
    if a.warmup < 0:
        p.error(f"--warmup must be >= 0, found {a.warmup}")
    try:
        a.config = config_from_manifest(json.loads(a.config_json.read_text()))
    except (ValueError, TypeError, json.JSONDecodeError) as e:
        p.error(f"--config-json: {a.config_json}: {e}")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.write_matmul is not None:
        write_matmul(a.write_matmul)
        print(json.dumps({"wrote": str(a.write_matmul)}))
        return 0
    import torch

    from .model import HopeModel, Learning

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = HopeModel(a.config).eval()
    raw = a.input.read_bytes()
    raw = (raw * (a.bytes // len(raw) + 1))[: a.bytes]
    data = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
    warmup = min(a.warmup, len(raw))
    out: dict = {"bytes": len(raw), "torch_threads": torch.get_num_threads(), "chunk": a.chunk, "weights": "random (seed 0)"}
    with torch.no_grad():
        out["score_bytes_per_s"], out["score_seconds"] = throughput(model, data, a.chunk, Learning(True, False, False), warmup)
        if a.skip_observe:
            out["observe_bytes_per_s"], out["observe_seconds"] = None, None
        else:
            out["observe_bytes_per_s"], out["observe_seconds"] = throughput(model, data, a.chunk, Learning(), warmup)
    out["torch_version"] = torch.__version__
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
