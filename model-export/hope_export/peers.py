"""Classical online compressors as byte predictors, in bits per byte of a target text.

A compressor that adapts as it reads is an online predictor: its code length is the learner's
prequential code. Three peers, each measured

* cold: the target alone, 8 * |code(target)| / |target|;
* primed with a training text P: 8 * (|code(P + target)| - |code(P)|) / |target|, the primer and
  the target being ONE file, hence one stream (7-Zip solid block, zpaq block, xz stream), so the
  model built on P is the one that codes the target.

Peers and what is counted as the code (container overhead is excluded, not estimated):

* ``ppmd``: 7-Zip's PPMd var. H, ``7zz a -m0=PPMd:o=8:mem=256m`` (Debian ``7zip``); the input is
  piped (``-si``) so that 7-Zip does not shrink the model memory to the input's size; the code is
  the packed stream's size as ``7zz l -slt`` reports it (without the 7z headers).
* ``zpaq``: ``zpaq add ARCHIVE FILE -m5`` (Debian ``zpaq``, 7.15); the code is the arithmetic-coded
  payload of the archive's data blocks, parsed from the archive (without the block headers that
  hold the -m5 model description, the segment name and comment, the end marker, the SHA-1, and the
  journaling blocks: transaction header, fragment hashes, index). The payload still codes zpaq's
  fragment table (4 bytes a fragment + 8) per data block. A data block holds up to 64 MiB: a primed
  measurement must fit one block, else it is refused. -m5 chooses its model from the block: table
  sizes from the block's size, a word model if it finds text, periodic (column) models from the
  byte repetition gaps. So ``-m5`` on the primer alone would code the primer with another model
  than the one that codes primer + target, and the difference would not be the target's cost (the
  Apache log primed with 1 MB of books: 0.05 bits/byte, where the same model gives 0.22). Primed,
  the primer is therefore coded with the model -m5 chose for primer + target, rebuilt here as
  libzpaq 7.15 builds it (``zpaq_level5_method``) and passed as an explicit ``-method x...``.
* ``xz``: LZMA2 preset 9e (64 MiB dictionary) through Python's lzma in the raw format: the LZMA2
  chunks with their chunk headers and the end marker, without the .xz container.

    /usr/bin/python3 -m hope_export.peers --realtext build/realtext --primer build/corpus/train.txt \\
        [--primer-bytes 1000000,0] [--tools ppmd,zpaq,xz] --json OUT

``--primer-bytes``: a comma-separated list of how many leading bytes of the primer to use (0: all);
each is one set of primed figures. ``--target FILE`` (repeatable) measures other files as well.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

PPMD_METHOD = "PPMd:o=8:mem=256m"
ZPAQ_METHOD = "5"
XZ_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
XZ_DICT_BYTES = 64 * 1024 * 1024
ZPAQ_BLOCK_BYTES = 64 * 1024 * 1024
ZPAQ_CHECK_BYTES = 4 * 1024 * 1024  # up to this much primer + target, measure() checks the rebuilt -m5 model
TOOLS = ("ppmd", "zpaq", "xz")
# executable and Debian package of each external peer
EXTERNAL = {"ppmd": ("7zz", "7zip"), "zpaq": ("zpaq", "zpaq")}
# every ZPAQ block of a journaling archive starts with this 13-byte locator tag and "zPQ"
ZPAQ_TAG = bytes((0x37, 0x6B, 0x53, 0x74, 0xA0, 0x31, 0x83, 0xD3, 0x8C, 0xB2, 0x28, 0xB0, 0xD3)) + b"zPQ"


class PeerError(RuntimeError):
    """A peer's tool is missing, failed, or cannot measure what was asked."""


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[peers] {msg}", file=sys.stderr, flush=True)


def find_tool(peer: str, path: str | None = None) -> str:
    """The executable of an external peer on ``path`` (default: $PATH), else a one-line PeerError
    naming the Debian package."""
    exe, pkg = EXTERNAL[peer]
    found = shutil.which(exe, path=path)
    if found is None:
        raise PeerError(f"{exe} not found: apt-get install {pkg}")
    return found


def _run(cmd: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    r = subprocess.run(cmd, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env={**os.environ, "LC_ALL": "C"})
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).decode(errors="replace").strip().splitlines()
        raise PeerError(f"{Path(cmd[0]).name} failed ({r.returncode}): {tail[-1] if tail else ''}")
    return r.stdout.decode(errors="replace")


def ppmd_bytes(data: bytes, exe: str | None = None) -> int:
    """Size of 7-Zip's PPMd (order 8, 256 MB) stream for ``data``: 'Packed Size' of the 7z archive's
    one file (the archive's headers are not counted)."""
    exe = exe or find_tool("ppmd")
    with tempfile.TemporaryDirectory(prefix="hope4j-peers-") as tmp:
        _run([exe, "a", "-bd", "-bso0", "-bsp0", "-y", f"-m0={PPMD_METHOD}", "-sidata", "a.7z"], Path(tmp), stdin=data)
        listing = _run([exe, "l", "-slt", "a.7z"], Path(tmp))
    return parse_7z_packed_size(listing)


def parse_7z_packed_size(listing: str) -> int:
    """The 'Packed Size' of the only file of a ``7zz l -slt`` listing (a PeerError unless it is one
    PPMd block)."""
    entries = listing.split("\n----------\n", 1)[-1].split("\n\n")
    sizes = [int(m.group(1)) for e in entries for m in [re.search(r"^Packed Size = (\d+)$", e, re.M)] if m]
    methods = re.findall(r"^Method = (\S+)$", listing, re.M)
    if len(sizes) != 1 or not any(m.startswith("PPMD") for m in methods):
        raise PeerError(f"unexpected 7zz listing: {len(sizes)} packed sizes, methods {methods}")
    return sizes[0]


def zpaq_blocks(archive: bytes) -> list[bytes]:
    """The blocks of a zpaq journaling archive, each from its locator tag to the next one."""
    starts = [m.start() for m in re.finditer(re.escape(ZPAQ_TAG), archive)]
    if not starts or starts[0] != 0:
        raise PeerError("not a zpaq journaling archive")
    return [archive[a:b] for a, b in zip(starts, starts[1:] + [len(archive)])]


def zpaq_payload(archive: bytes) -> tuple[int, int]:
    """(arithmetic-coded bytes of the data blocks, number of data blocks) of a zpaq 7 archive.

    A block: tag (13) "zPQ" level type, header size (2, little endian) and the header (the model);
    then a segment: 1, name NUL, comment NUL, 0, the coded data closed by four zero bytes, 253 and a
    SHA-1 (or 254), and 255 for the end of the block. Data blocks are those whose segment name is
    ``jDC<date>d<number>``."""
    total = blocks = 0
    for blk in zpaq_blocks(archive):
        hsize = blk[18] | blk[19] << 8
        s = 20 + hsize
        if len(blk) < s + 4 or blk[s] != 1:
            raise PeerError("zpaq block without a segment")
        name_end = blk.index(b"\0", s + 1)
        name = blk[s + 1 : name_end]
        comment_end = blk.index(b"\0", name_end + 1)
        data_start = comment_end + 2  # the reserved 0 after the comment
        if not re.fullmatch(rb"jDC\d{14}d\d{10}", name):
            continue
        if blk[-1] != 255:
            raise PeerError("zpaq data block does not end with 255")
        trail = 22 if len(blk) >= 22 and blk[-22] == 253 else 2 if blk[-2] == 254 else None
        if trail is None or blk[-trail - 4 : -trail] != b"\0\0\0\0":
            raise PeerError("zpaq data block: no end of segment")
        total += len(blk) - trail - 4 - data_start
        blocks += 1
    return total, blocks


def zpaq_run(data: bytes, method: str = ZPAQ_METHOD, exe: str | None = None) -> tuple[int, int, list[tuple[int, str]]]:
    """(coded payload bytes, data blocks, [(block bytes, method) as zpaq prints them]) of
    ``zpaq add ... -method METHOD`` on ``data`` as one file."""
    exe = exe or find_tool("zpaq")
    with tempfile.TemporaryDirectory(prefix="hope4j-peers-") as tmp:
        (Path(tmp) / "data").write_bytes(data)
        out = _run([exe, "add", "a.zpaq", "data", "-method", method, "-threads", "1"], Path(tmp))
        size, blocks = zpaq_payload((Path(tmp) / "a.zpaq").read_bytes())
    printed = [(int(n), m) for n, m in re.findall(r"\] (\d+) -method (\S+)", out)]
    return size, blocks, printed


def zpaq_bytes_blocks(data: bytes, exe: str | None = None) -> tuple[int, int]:
    """(coded payload bytes, data blocks) of ``zpaq add ... -m5`` on ``data`` as one file."""
    size, blocks, _ = zpaq_run(data, ZPAQ_METHOD, exe)
    return size, blocks


def _repetition_gaps(data: bytes, nr: int) -> list[int]:
    """r[k] = how many bytes recur k bytes after their previous occurrence (0 < k < nr), where a
    byte's first occurrence counts its position (libzpaq's ``pt`` starts at 0)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is there wherever torch is
        r = [0] * nr
        pt = [0] * 256
        for i, b in enumerate(data):
            k = i - pt[b]
            if 0 < k < nr:
                r[k] += 1
            pt[b] = i
        return r
    a = np.frombuffer(data, dtype=np.uint8)
    if a.size == 0:
        return [0] * nr
    idx = np.argsort(a, kind="stable")
    same = np.empty(a.size, dtype=bool)
    same[0] = False
    same[1:] = a[idx][1:] == a[idx][:-1]
    prev = np.where(same, np.concatenate(([0], idx[:-1])), 0)
    k = idx - prev
    k = k[(k > 0) & (k < nr)]
    return np.bincount(k, minlength=nr).astype(np.int64).tolist()


def zpaq_level5_method(data: bytes, block_bytes: int, type_flags: int) -> str:
    """The explicit method that zpaq 7.15's ``-m5`` builds for a block (libzpaq ``compressBlock``):
    ``block_bytes`` is the block's size as zpaq prints it (data + fragment table), ``type_flags``
    the last number of the method zpaq prints (1: text, 2: x86). The periodic models are found on
    ``data`` (the fragment table's few bytes are left out)."""
    arg0 = max((block_bytes + 4095).bit_length() - 20, 0)
    m = f"x{arg0},{4 if type_flags & 2 else 0}"
    m += "w2c0,1010,255i1" if type_flags & 1 else "w1i1"
    m += "c256ci1,1,1,1,1,1,2a"
    nr = 1 << 12
    r = _repetition_gaps(data, nr)
    n1 = len(data) - r[1] - r[2] - r[3]
    for _ in range(2):
        period, score, t, j = 0, 0.0, 0, 5
        while j < nr and t < n1:
            sc = r[j] / (256.0 + n1 - t)
            if sc > score:
                score, period = sc, j
            t += r[j]
            j += 1
        if period > 4 and score > 0.1:
            m += f"c0,0,{999 + period},255i1"
            if period <= 255:
                m += f"c0,{period}i1"
            n1 -= r[period]
            r[period] = 0
        else:
            break
    return m + "c0,2,0,255i1c0,3,0,0,255i1c0,4,0,0,0,255i1mm16ts19t0"


def zpaq_primed_bytes(primer: bytes, target: bytes, check: bool = False,
                      cache: dict[tuple[str, str], int] | None = None) -> tuple[int, int, str]:
    """(|code(primer + target)| by -m5, |code(primer)| by the same model, that model). ``check``
    also codes primer + target with the rebuilt model and fails unless it is -m5's exactly;
    ``cache`` maps (SHA-256 of the primer, method) to the primer's code."""
    joint = primer + target
    size, blocks, printed = zpaq_run(joint)
    if blocks != 1 or len(printed) != 1:
        raise PeerError(f"zpaq: primer + target ({len(joint):,} bytes) took {blocks} blocks; the priming would not act")
    n, printed_method = printed[0]
    method = zpaq_level5_method(joint, n, int(printed_method.split(",")[-1]))
    if check:
        again = zpaq_run(joint, method)[0]
        if again != size:
            raise PeerError(f"zpaq: the rebuilt -m5 model codes primer + target in {again} bytes, -m5 in {size}")
    key = (hashlib.sha256(primer).hexdigest(), method)
    if cache is not None and key in cache:
        return size, cache[key], method
    base = zpaq_run(primer, method)[0] if primer else 0
    if cache is not None:
        cache[key] = base
    return size, base, method


def zpaq_bytes(data: bytes, exe: str | None = None) -> int:
    """Coded payload bytes of zpaq -m5 on ``data``."""
    return zpaq_bytes_blocks(data, exe)[0]


def xz_bytes(data: bytes) -> int:
    """Size of the raw LZMA2 stream (preset 9e) of ``data``."""
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=XZ_FILTERS))


SIZERS: dict[str, Callable[[bytes], int]] = {"ppmd": ppmd_bytes, "zpaq": zpaq_bytes, "xz": xz_bytes}


def check_tools(tools: Iterable[str]) -> None:
    """A PeerError for the first external tool missing among ``tools``."""
    for t in tools:
        if t not in SIZERS:
            raise PeerError(f"unknown peer {t!r} (known: {', '.join(TOOLS)})")
        if t in EXTERNAL:
            find_tool(t)


def cold_bits_per_byte(tool: str, target: bytes) -> float:
    """The peer's code for ``target`` alone, bits per byte."""
    if not target:
        raise PeerError("empty target")
    return 8.0 * SIZERS[tool](target) / len(target)


def primed_bits_per_byte(tool: str, primer: bytes, target: bytes, primer_size: int | None = None,
                         zpaq_check: bool = False, zpaq_cache: dict[tuple[str, str], int] | None = None) -> float:
    """8 * (|code(primer + target)| - |code(primer)|) / |target|; ``primer_size`` is |code(primer)|
    when already known (PPMd, xz: the primer's code does not depend on the target; for zpaq it is
    the primer coded with the model -m5 chose for primer + target, see ``zpaq_primed_bytes``, whose
    ``check`` and ``cache`` are ``zpaq_check`` and ``zpaq_cache``). A PeerError if primer + target
    does not fit the peer's one stream (zpaq block, xz dictionary)."""
    if not target:
        raise PeerError("empty target")
    joint = primer + target
    if tool == "zpaq":
        size, base, _ = zpaq_primed_bytes(primer, target, zpaq_check, zpaq_cache)
        return 8.0 * (size - base) / len(target)
    if tool == "xz" and len(joint) > XZ_DICT_BYTES:
        raise PeerError(f"xz: primer + target ({len(joint):,} bytes) exceed the 64 MiB dictionary")
    size = SIZERS[tool](joint)
    base = SIZERS[tool](primer) if primer_size is None else primer_size
    return 8.0 * (size - base) / len(target)


def measure(targets: list[tuple[str, bytes]], primers: list[tuple[str, bytes]], tools: Iterable[str] = TOOLS) -> dict:
    """Cold and primed bits per byte of every target for every peer: ``{"cold": {name: {tool: bpb}},
    "primed": {primer label: {name: {tool: bpb}}}, "seconds": {tool: s}}``; each primer's own code
    is computed once."""
    tools = tuple(tools)
    check_tools(tools)
    cold: dict[str, dict[str, float]] = {n: {} for n, _ in targets}
    primed: dict[str, dict[str, dict[str, float]]] = {lab: {n: {} for n, _ in targets} for lab, _ in primers}
    seconds = {t: 0.0 for t in tools}
    zcache: dict[tuple[str, str], int] = {}
    for t in tools:
        t0 = time.perf_counter()
        for n, data in targets:
            cold[n][t] = round(cold_bits_per_byte(t, data), 4)
        for lab, p in primers:
            base = None if t == "zpaq" else SIZERS[t](p)
            for n, data in targets:
                check = len(p) + len(data) <= ZPAQ_CHECK_BYTES
                primed[lab][n][t] = round(primed_bits_per_byte(t, p, data, base, zpaq_check=check, zpaq_cache=zcache), 4)
                log(f"{t:4s} {n:10s} cold {cold[n][t]:.4f}  primed ({lab}) {primed[lab][n][t]:.4f}")
        seconds[t] = round(time.perf_counter() - t0, 1)
    return {"cold": cold, "primed": primed, "seconds": seconds}


def methods() -> dict[str, str]:
    """How each peer is run and what is counted, for a result file."""
    return {
        "ppmd": f"7zz a -m0={PPMD_METHOD} -si (7-Zip PPMd var. H); code = packed stream size from 7zz l -slt, 7z headers excluded",
        "zpaq": f"zpaq add -m{ZPAQ_METHOD} -threads 1 (zpaq 7.15); code = arithmetic-coded payload of the data blocks"
                " (model header, segment name, SHA-1 and journaling blocks excluded; zpaq's fragment table included);"
                " primed: the primer is coded with the model -m5 chose for primer + target (rebuilt as libzpaq does, explicit -method x...),"
                " checked to reproduce -m5's code of primer + target exactly up to 4 MiB",
        "xz": "LZMA2 preset 9e (64 MiB dictionary), raw stream (Python lzma FORMAT_RAW): chunk headers and end marker included, .xz container excluded",
        "primed": "8 * (|code(primer + target)| - |code(primer)|) / |target|, primer and target one file, hence one stream",
    }


def tool_versions() -> dict[str, str]:
    """The first line that each external tool prints about itself (for the record)."""
    out = {}
    for t, (exe, _) in EXTERNAL.items():
        path = shutil.which(exe)
        if path is None:
            continue
        r = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "LC_ALL": "C"})
        lines = [ln.strip() for ln in r.stdout.decode(errors="replace").splitlines() if ln.strip()]
        out[t] = lines[0] if lines else exe
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments; problems are reported through ``parser.error``."""
    p = argparse.ArgumentParser(prog="hope_export.peers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--realtext", type=Path, help="directory written by hope_export.realtext (its manifest.json)")
    p.add_argument("--target", type=Path, action="append", default=[], help="another file to measure (repeatable)")
    p.add_argument("--primer", type=Path, help="training text that primes the peers (e.g. build/corpus/train.txt)")
    p.add_argument("--primer-bytes", default="1000000",
                   help="comma-separated leading byte counts of the primer to use, 0 = all of it (default 1000000)")
    p.add_argument("--primer-slices", metavar="N:K", default=None,
                   help="prime with N slices of about K bytes spread evenly over the primer (each from a line start to a line end)"
                        " instead of its leading bytes: every part of a training split that concatenates its sources, in N*K bytes")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"peers to run (default {','.join(TOOLS)})")
    p.add_argument("--json", type=Path, help="write the result here (it is printed on stdout too)")
    a = p.parse_args(argv)
    if a.realtext is None and not a.target:
        p.error("give --realtext DIR and/or --target FILE")
    if a.realtext is not None and not (a.realtext / "manifest.json").is_file():
        p.error(f"--realtext: {a.realtext / 'manifest.json'} not found (run hope_export.realtext --out {a.realtext})")
    for t in a.target:
        if not t.is_file():
            p.error(f"--target: {t} not found")
    if a.primer is not None and not a.primer.is_file():
        p.error(f"--primer: {a.primer} not found")
    try:
        a.primer_bytes = [int(x) for x in a.primer_bytes.split(",")]
    except ValueError:
        p.error(f"--primer-bytes: not a list of integers: {a.primer_bytes}")
    if any(n < 0 for n in a.primer_bytes):
        p.error("--primer-bytes must be >= 0")
    if a.primer_slices is not None:
        try:
            n, k = (int(x) for x in a.primer_slices.split(":"))
        except ValueError:
            p.error(f"--primer-slices: not N:K (two integers): {a.primer_slices}")
        if n < 1 or k < 1:
            p.error(f"--primer-slices: N and K must be >= 1, found {a.primer_slices}")
        a.primer_slices = (n, k)
    a.tools = [t for t in a.tools.split(",") if t]
    try:
        check_tools(a.tools)
    except PeerError as exc:
        p.error(str(exc))
    if a.json is not None and (a.json.is_dir() or not a.json.absolute().parent.is_dir()):
        p.error(f"--json: cannot write {a.json}")
    return a


def slices(data: bytes, n: int, k: int) -> bytes:
    """n slices spread evenly over data, each from the first line start after i * len / n (so the
    first line is skipped) to the end of the line that reaches k bytes (the whole of data when it is
    not longer than n * k)."""
    if len(data) <= n * k:
        return data
    out = bytearray()
    for i in range(n):
        nl = data.find(b"\n", i * len(data) // n)
        s = nl + 1 if nl >= 0 else len(data)
        e = data.find(b"\n", s + k)
        out += data[s:(e + 1 if e >= 0 else len(data))]
    return bytes(out)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    from hope_export import realtext

    a = parse_args(argv)
    entries: list[dict] = []
    targets: list[tuple[str, bytes]] = []
    if a.realtext is not None:
        for e, data in realtext.load(a.realtext):
            entries.append({k: e[k] for k in ("format", "package", "version", "path", "file", "sha256", "bytes")})
            targets.append((e["format"], data))
    for t in a.target:
        data = t.read_bytes()
        entries.append({"format": t.name, "file": str(t), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        targets.append((t.name, data))
    primers: list[tuple[str, bytes]] = []
    primer_info = []
    if a.primer is not None:
        full = a.primer.read_bytes()
        if a.primer_slices is not None:
            n, k = a.primer_slices
            p = slices(full, n, k)
            label = f"{n} slices of {k:,} bytes"
            primers.append((label, p))
            primer_info.append({"label": label, "path": str(a.primer), "bytes": len(p), "sha256": hashlib.sha256(p).hexdigest()})
        for n in ([] if a.primer_slices is not None else a.primer_bytes):
            p = full[:n] if n else full
            label = "all" if len(p) == len(full) else f"first {len(p):,} bytes"
            primers.append((label, p))
            primer_info.append({"label": label, "path": str(a.primer), "bytes": len(p), "sha256": hashlib.sha256(p).hexdigest()})
    try:
        m = measure(targets, primers, a.tools)
    except PeerError as exc:
        print(f"hope_export.peers: {exc}", file=sys.stderr)
        return 1
    files = []
    for e in entries:
        name = e["format"]
        row = dict(e)
        row["cold"] = m["cold"][name]
        row["primed"] = {lab: m["primed"][lab][name] for lab, _ in primers}
        files.append(row)
    result = {"unit": "bits per byte of the target", "methods": methods(), "tools": tool_versions(),
              "primers": primer_info, "files": files, "seconds": m["seconds"]}
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if a.json is not None:
        a.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
