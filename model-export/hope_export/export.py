"""Export a trained Hope model to a Hope4J bundle (ARCHITECTURE.md §5).

    /usr/bin/python3 -m hope_export.export --checkpoint build/train/model.pt --out DIR [--probe-corpus build/corpus]
    /usr/bin/python3 -m hope_export.export --probe-corpus build/corpus --out DIR   (adds the probe and rehearsal text to a bundle)

Writes DIR/manifest.json, the frozen ONNX segments (opset 17, dynamic sequence axis),
plastic.safetensors (L0/L1/L2 initial values and the frozen head) and golden/ vectors computed by
the reference in float64 for the runtime's parity tests.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from . import safetensors
from .model import HopeConfig, HopeModel, HopeState, Learning, count_parameters

log = logging.getLogger("hope_export.export")
FORMAT_VERSION = 1
OPSET = 17
GOLDEN_TEXT = (
    "When in the Course of human events, it becomes necessary for one people to dissolve the political bands "
    "which have connected them with another, and to assume among the powers of the earth, the separate and equal "
    "station to which the Laws of Nature and of Nature's God entitle them, a decent respect to the opinions of "
    "mankind requires that they should declare the causes which impel them to the separation. We hold these truths "
    "to be self-evident, that all men are created equal, that they are endowed by their Creator with certain "
    "unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness. "
)
SEGMENT_LENGTHS = (1, 5, 37)


def golden_stream(n: int = 1024) -> bytes:
    """The fixed 1 KiB golden stream: English prose, then bytes outside ASCII (UTF-8 and raw)."""
    text = GOLDEN_TEXT.encode("utf-8")
    tail = "Grüße, café, naïve — 東京. ".encode("utf-8") + bytes(range(0, 256, 7))
    out = (text + tail) * 4
    return out[:n]


class EmbedSegment(nn.Module):
    def __init__(self, weight: Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone())

    def forward(self, tokens: Tensor) -> Tensor:
        return self.weight[tokens]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_segments(model: HopeModel, out: Path) -> list[dict]:
    cfg = model.cfg
    d, w = cfg.d_model, cfg.conv_width
    segments = []

    def onnx(module: nn.Module, name: str, args: tuple, inputs: list[tuple[str, list]], outputs: list[tuple[str, list]]) -> None:
        path = out / f"{name}.onnx"
        dyn = {}
        for nm, shape in inputs + outputs:
            if -1 in shape:
                dyn[nm] = {shape.index(-1): "n"}
        torch.onnx.export(
            module, args, str(path), opset_version=OPSET, input_names=[i[0] for i in inputs],
            output_names=[o[0] for o in outputs], dynamic_axes=dyn, do_constant_folding=True,
        )
        segments.append({
            "name": name, "file": path.name,
            "inputs": [{"name": n, "shape": s, "type": "int64" if n == "tokens" else "float32"} for n, s in inputs],
            "outputs": [{"name": n, "shape": s, "type": "float32"} for n, s in outputs],
        })

    n = 7
    onnx(EmbedSegment(model.embed), "embed", (torch.zeros(n, dtype=torch.long),), [("tokens", [-1])], [("x", [-1, d])])
    for b in range(cfg.n_blocks):
        onnx(model.mixer_in[b], f"mixer_in_{b}", (torch.randn(n, d), torch.randn(w - 1, 2 * d)),
             [("x", [-1, d]), ("conv_state", [w - 1, 2 * d])], [("q", [-1, d]), ("u", [-1, d]), ("conv_state_out", [w - 1, 2 * d])])
        onnx(model.frozen_mixer_out(b), f"mixer_out_{b}", (torch.randn(n, d), torch.randn(n, d)),
             [("x", [-1, d]), ("o", [-1, d])], [("x2", [-1, d])])
    return segments


def plastic_tensors(model: HopeModel) -> dict[str, Tensor]:
    t: dict[str, Tensor] = {}
    for b in range(model.cfg.n_blocks):
        t[f"blocks.{b}.l0.init"] = model.mem_init[b]
        t[f"blocks.{b}.l0.b_eta"] = model.b_eta[b]
        t[f"blocks.{b}.l0.b_alpha"] = model.b_alpha[b]
        t[f"blocks.{b}.l2.norm"] = model.norm2[b]
        t[f"blocks.{b}.l2.up"] = model.up2[b]
        t[f"blocks.{b}.l2.down"] = model.down2[b]
        t[f"blocks.{b}.l1.norm"] = model.norm1[b]
        t[f"blocks.{b}.l1.up"] = model.up1[b]
        t[f"blocks.{b}.l1.down"] = model.down1[b]
    t["head.norm"] = model.norm_f
    t["head.weight"] = model.head
    return {k: v.detach().float().contiguous() for k, v in t.items()}


def state_tensors(st: HopeState) -> dict[str, Tensor]:
    """A reference state (batch 1) under the names the runtime's state uses."""
    t: dict[str, Tensor] = {}
    for b, bs in enumerate(st.blocks):
        t[f"blocks.{b}.conv"] = bs.conv[0]
        t[f"blocks.{b}.l0.w0"] = bs.w0[0]
        t[f"blocks.{b}.l0.wt"] = bs.wt[0]
        t[f"blocks.{b}.l1.up"] = bs.up1[0]
        t[f"blocks.{b}.l1.down"] = bs.down1[0]
        t[f"blocks.{b}.l2.up"] = bs.up2[0]
        t[f"blocks.{b}.l2.down"] = bs.down2[0]
        t[f"blocks.{b}.l1.g_up"] = bs.g_up1[0]
        t[f"blocks.{b}.l1.g_down"] = bs.g_down1[0]
        t[f"blocks.{b}.l2.g_up"] = bs.g_up2[0]
        t[f"blocks.{b}.l2.g_down"] = bs.g_down2[0]
    return {k: v.detach().float().contiguous() for k, v in t.items()}


GOLDEN_RUNS = {"learn_on": Learning(), "learn_off": Learning.off(), "learn_l0": Learning(True, False, False)}


@torch.no_grad()
def write_golden(model: HopeModel, out: Path, stream: bytes | None = None, runs: tuple[str, ...] = tuple(GOLDEN_RUNS)) -> dict:
    """Golden vectors from the float64 reference: the stream (default `golden_stream()`) with
    learning on and off (`runs`, a subset of GOLDEN_RUNS), and each ONNX segment at several
    sequence lengths. A model with decay-to-prior parameters computes them with its decay."""
    g = out / "golden"
    g.mkdir(parents=True, exist_ok=True)
    m64 = HopeModel(model.cfg).double()
    m64.load_state_dict(model.state_dict())
    m64.eval()
    stream = golden_stream() if stream is None else stream
    (g / "stream.bin").write_bytes(stream)
    x = torch.tensor(list(stream), dtype=torch.long).unsqueeze(0)
    meta = {"stream": "stream.bin", "stream_bytes": len(stream), "runs": {}}
    if not runs or any(r not in GOLDEN_RUNS for r in runs):
        raise ValueError(f"golden runs must be a non-empty subset of {list(GOLDEN_RUNS)}, found {list(runs)}")
    for name in runs:
        learning = GOLDEN_RUNS[name]
        st = m64.init_state(1)
        logits = m64(st, x, learning)
        keep = {"learn_on": ("conv", "l0.w0", "l0.wt", "l1.up", "l1.down", "l2.up", "l2.down"), "learn_l0": ("conv", "l0.w0", "l0.wt"), "learn_off": ()}[name]
        tensors = {"logits": logits[0].float(), **{k: v for k, v in state_tensors(st).items() if k.split(".", 2)[2] in keep}}
        safetensors.save(tensors, g / f"{name}.safetensors", {"pos": str(st.pos), **{f"count_{k}": str(v) for k, v in st.counts.items()}})
        meta["runs"][name] = {"file": f"{name}.safetensors", "learning": {"l0": learning.l0, "l1": learning.l1, "l2": learning.l2}, "counts": st.counts}
    seg: dict[str, Tensor] = {}
    gen = torch.Generator().manual_seed(7)
    cfg = model.cfg
    d, w = cfg.d_model, cfg.conv_width
    for n in SEGMENT_LENGTHS:
        tok = torch.randint(0, 256, (n,), generator=gen)
        seg[f"embed.n{n}.tokens"] = tok.float()
        seg[f"embed.n{n}.x"] = m64.embed[tok].float()
        for b in range(cfg.n_blocks):
            xb = torch.randn(n, d, generator=gen, dtype=torch.double)
            cs = torch.randn(w - 1, 2 * d, generator=gen, dtype=torch.double)
            o = torch.randn(n, d, generator=gen, dtype=torch.double)
            q, u, cso = m64.mixer_in[b](xb, cs)
            x2 = m64.frozen_mixer_out(b)(xb, o)
            for k, v in {"x": xb, "conv_state": cs, "o": o, "q": q, "u": u, "conv_state_out": cso, "x2": x2}.items():
                seg[f"block{b}.n{n}.{k}"] = v.float()
    safetensors.save(seg, g / "segments.safetensors", {})
    meta["segments"] = {"file": "segments.safetensors", "lengths": list(SEGMENT_LENGTHS)}
    meta["tolerances"] = {"logits_max_rel": 1e-4, "weights_max_rel": 1e-3, "segments_max_abs": 1e-4,
                          "definition": "max |actual - expected| / max(1, max |expected|) over the tensor"}
    return meta


PROBE_FILE = "probe.txt"
PROBE_BYTES = 4096
PROBE_PIECES = 4
REHEARSAL_FILE = "rehearsal.txt"
REHEARSAL_BYTES = 16384
REHEARSAL_PIECES = 16


def probe_text(heldout: bytes, size: int = PROBE_BYTES, pieces: int = PROBE_PIECES) -> bytes:
    """The retention probe: `pieces` runs of general prose from evenly spaced places of the held-out
    split, each starting at a line start, `size` bytes in all (never seen in pre-training). Also
    cuts the rehearsal text, from the training split."""
    if len(heldout) < 4 * size:
        raise ValueError(f"the held-out text has {len(heldout)} bytes, the probe needs at least {4 * size}")
    each = size // pieces
    out = b""
    for i in range(pieces):
        at = (i * len(heldout)) // pieces + 1000
        at = heldout.index(b"\n", at) + 1
        take = size - len(out) if i == pieces - 1 else each
        out += heldout[at : at + take]
    assert len(out) == size
    return out


MANIFEST_SHA = "manifest.sha256"


def write_manifest(out: Path, manifest: dict) -> None:
    """Writes `out/manifest.json` and its own checksum `out/manifest.sha256` (the SHA-256 of the manifest's
    bytes, which the Java loader verifies before it parses a field). Every writer of a manifest goes through here."""
    data = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    (out / "manifest.json").write_bytes(data)
    (out / MANIFEST_SHA).write_text(hashlib.sha256(data).hexdigest() + "\n")


def add_text(out: Path, field: str, file: str, text: bytes, source: str) -> None:
    """Writes `text` as the bundle's `field` ("probe": the retention probe; "rehearsal": what sleep
    rehearses) and records it (and its SHA-256) in the manifest."""
    (out / file).write_bytes(text)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    files = dict(manifest["files"])
    files[file] = sha256(out / file)
    manifest.pop("files")
    manifest[field] = {"file": file, "bytes": len(text), "source": source}
    manifest["files"] = dict(sorted(files.items()))
    write_manifest(out, manifest)


def add_probe(out: Path, probe: bytes, source: str) -> None:
    """Writes `probe` as the bundle's retention probe."""
    add_text(out, "probe", PROBE_FILE, probe, source)


def probe_from_corpus(corpus: Path) -> tuple[bytes, str]:
    from .corpus import load_corpus

    _, heldout = load_corpus(corpus)
    return probe_text(heldout), f"{PROBE_BYTES} bytes in {PROBE_PIECES} runs of the held-out split of the pre-training corpus (hope_export.corpus)"


def rehearsal_from_corpus(corpus: Path) -> tuple[bytes, str]:
    from .corpus import load_corpus

    train, _ = load_corpus(corpus)
    return (probe_text(train, REHEARSAL_BYTES, REHEARSAL_PIECES),
            f"{REHEARSAL_BYTES} bytes in {REHEARSAL_PIECES} runs of the training split of the pre-training corpus (hope_export.corpus)")


def level_entries(model: HopeModel) -> list[dict]:
    """The manifest's `levels`: periods, the L1/L2 inner rates per block and, when the model has the
    decay-to-prior parameters, their lambda = sigmoid(logit_decay) per block as `decay` (absent:
    lambda 0, the plain Eq. 71 rule)."""
    cfg = model.cfg
    l1 = {"name": "L1", "what": "fast CMS MLP", "period": cfg.c1, "learning_rate": model.lr1().tolist()}
    l2 = {"name": "L2", "what": "mid CMS MLP", "period": cfg.c2, "learning_rate": model.lr2().tolist()}
    for entry, logit in ((l1, model.logit_decay1), (l2, model.logit_decay2)):
        if logit is not None:
            entry["decay"] = torch.sigmoid(logit.detach().double()).tolist()
    return [
        {"name": "L0", "what": "self-modifying Titans memories", "period": cfg.c0},
        l1,
        l2,
        {"name": "L3", "what": "frozen: embeddings, mixer projections, slow CMS MLP, head", "period": None},
    ]


def write_bundle(model: HopeModel, out: Path, training: dict | None = None, probe: tuple[bytes, str] | None = None,
                 rehearsal: tuple[bytes, str] | None = None, golden_bytes: bytes | None = None,
                 golden_runs: tuple[str, ...] = tuple(GOLDEN_RUNS)) -> Path:
    cfg = model.cfg
    if cfg.memory != "linear":
        raise ValueError(f"bundle format {FORMAT_VERSION} holds linear memories only; this model's main memory is {cfg.memory!r}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = model.float().eval()
    segments = export_segments(model, out)
    safetensors.save(plastic_tensors(model), out / "plastic.safetensors", {"format": "hope4j-plastic"})
    golden = write_golden(model, out, golden_bytes, golden_runs)
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file():
            files[p.relative_to(out).as_posix()] = sha256(p)
    manifest = {
        "format": "hope4j-bundle",
        "format_version": FORMAT_VERSION,
        "model": {
            "vocab": 256, "d_model": cfg.d_model, "n_blocks": cfg.n_blocks, "n_heads": cfg.n_heads,
            "head_dim": cfg.head_dim, "mem_rows": cfg.mem_rows, "conv_width": cfg.conv_width,
            "slow_hidden": cfg.slow_hidden, "mid_hidden": cfg.mid_hidden, "fast_hidden": cfg.fast_hidden,
            "norm_eps": 1e-5, "eta_max": cfg.eta_max, "parameters": count_parameters(model),
        },
        "levels": level_entries(model),
        "plastic_blocks": list(cfg.plastic_blocks) or list(range(cfg.n_blocks)),
        "teach": "residual",
        "segments": segments,
        "plastic": "plastic.safetensors",
        "golden": golden,
        "training": training or {},
        "files": files,
    }
    write_manifest(out, manifest)
    if probe is not None:
        add_probe(out, probe[0], probe[1])
    if rehearsal is not None:
        add_text(out, "rehearsal", REHEARSAL_FILE, rehearsal[0], rehearsal[1])
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hope_export.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, help="model.pt written by hope_export.train (without it: only add the probe to the bundle in --out)")
    p.add_argument("--out", type=Path, required=True, help="bundle directory to (re)create")
    p.add_argument("--training-json", type=Path, help="optional JSON with training facts to record in the manifest")
    p.add_argument("--probe-corpus", type=Path, help="corpus directory (hope_export.corpus): its held-out split gives the retention probe,"
                   " its training split the rehearsal text of sleep")
    a = p.parse_args(argv)
    if a.checkpoint is None:
        if a.probe_corpus is None:
            p.error("--checkpoint: required unless --probe-corpus adds a probe to an existing bundle")
        if not (a.out / "manifest.json").is_file():
            p.error(f"--out: {a.out} holds no bundle (no manifest.json) to add a probe to")
    elif not a.checkpoint.is_file():
        p.error(f"--checkpoint: {a.checkpoint} not found")
    if a.probe_corpus is not None and not a.probe_corpus.is_dir():
        p.error(f"--probe-corpus: {a.probe_corpus} is not a directory")
    if a.out.exists() and not a.out.is_dir():
        p.error(f"--out: {a.out} exists and is not a directory")
    if a.training_json is not None and not a.training_json.is_file():
        p.error(f"--training-json: {a.training_json} not found")
    return a


def load_model(checkpoint: Path, teach: str | None = None, **overrides: int) -> HopeModel:
    """The model of a checkpoint; `teach` and config `overrides` (e.g. periods) change how it runs, not its weights."""
    return model_from_state(torch.load(checkpoint), teach, **overrides)


def model_from_state(state: dict, teach: str | None = None, **overrides: int) -> HopeModel:
    """`load_model` of a checkpoint already read with torch.load."""
    cfg = {**state["config"], **overrides}
    if teach is not None:
        cfg["teach"] = teach
    model = HopeModel(HopeConfig.from_dict(cfg))
    model.load_state_dict(state["model"])
    return model


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(1)
    probe = probe_from_corpus(a.probe_corpus) if a.probe_corpus else None
    rehearsal = rehearsal_from_corpus(a.probe_corpus) if a.probe_corpus else None
    if a.checkpoint is None:
        add_probe(a.out, *probe)
        add_text(a.out, "rehearsal", REHEARSAL_FILE, *rehearsal)
        log.info("probe and rehearsal text added to %s", a.out)
        return 0
    model = load_model(a.checkpoint)
    training = json.loads(a.training_json.read_text()) if a.training_json else None
    out = write_bundle(model, a.out, training, probe, rehearsal)
    log.info("bundle written to %s", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
