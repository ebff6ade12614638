"""Minimal safetensors reader/writer (float32/int64 only): 8-byte little-endian header length, a
JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, raw little-endian data.
Debian has no `safetensors` package, and the format is simple enough to own."""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import torch
from torch import Tensor

_DTYPES = {torch.float32: "F32", torch.int64: "I64"}
_BACK = {v: k for k, v in _DTYPES.items()}


def save(tensors: dict[str, Tensor], path: Path, metadata: dict[str, str]) -> None:
    header: dict = {"__metadata__": dict(metadata)} if metadata else {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {t.dtype}")
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * (-len(hb) % 8)
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        dtype = _BACK[info["dtype"]]
        out[name] = torch.frombuffer(bytearray(raw[base + a : base + b]), dtype=dtype).reshape(info["shape"]) if b > a else torch.zeros(info["shape"], dtype=dtype)
    return out, meta
