"""The real-text evaluation set: pins, extraction from a .deb, the cut, the manifest.

The synthetic tests build a small .deb with dpkg-deb. ``test_the_pinned_set_builds`` fetches the
eight real packages with apt-get (about 10 MB, once, into ~/.cache/hope4j/realtext); it is skipped
only when HOPE4J_NO_APT=1 is set.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from hope_export import realtext


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def make_deb(tmp: Path, name: str, version: str, files: dict[str, bytes]) -> Path:
    root = tmp / f"{name}-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
                                             f"Maintainer: t <t@example.org>\nDescription: test\n")
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    deb = tmp / "built.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    return deb


LINE = b"127.0.0.1 - - [22/Apr/2009:18:52:51 +1200] \"GET /index.html HTTP/1.1\" 200 986\n"


def test_cut_at_line() -> None:
    assert realtext.cut_at_line(b"abc\ndef\n", 100) == b"abc\ndef\n"
    assert realtext.cut_at_line(b"abc\ndef\nghi\n", 9) == b"abc\ndef\n"
    assert realtext.cut_at_line(b"abc\ndef\nghi\n", 8) == b"abc\ndef\n"
    assert realtext.cut_at_line(b"abc\ndef\nghi\n", 7) == b"abc\n"
    assert realtext.cut_at_line(b"abcdefgh", 4) == b"abcd"  # no line boundary: a hard cut
    big = LINE * 2000
    cut = realtext.cut_at_line(big)
    assert len(cut) <= realtext.MAX_BYTES and cut.endswith(b"\n") and big.startswith(cut)
    assert len(cut) > realtext.MAX_BYTES - len(LINE)


def test_the_set_covers_six_formats_from_allowed_packages() -> None:
    formats = [f.format for f in realtext.FILES]
    assert len(set(formats)) == len(formats) >= 6
    assert {"logs", "c", "json", "markdown", "german", "prose"} <= set(formats)
    for f in realtext.FILES:
        assert f.package not in realtext.FORBIDDEN_PACKAGES
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256) and re.fullmatch(r"[0-9a-f]{64}", f.source_sha256)
        assert f.version and f.members and "/" not in f.name
    assert len({f.name for f in realtext.FILES}) == len(realtext.FILES)


def test_the_untuned_set_is_new_formats_from_allowed_packages() -> None:
    files = realtext.UNTUNED_FILES
    formats = [f.format for f in files]
    assert len(set(formats)) == len(formats) == 5
    # nothing shared with the set E was tuned on: neither a format nor a file
    assert not set(formats) & {f.format for f in realtext.FILES}
    assert not {(f.package, f.path) for f in files} & {(f.package, f.path) for f in realtext.FILES}
    for f in files:
        assert f.package not in realtext.FORBIDDEN_PACKAGES
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256) and re.fullmatch(r"[0-9a-f]{64}", f.source_sha256)
        assert f.version and f.members and "/" not in f.name
    assert len({f.name for f in files}) == len(files)
    assert realtext.SETS == {"eval": realtext.FILES, "untuned": files, "extra": realtext.EXTRA_FILES}


def test_the_extra_set_is_three_more_formats_from_allowed_packages() -> None:
    files = realtext.EXTRA_FILES
    formats = [f.format for f in files]
    assert len(set(formats)) == len(formats) == 3
    earlier = realtext.FILES + realtext.UNTUNED_FILES
    assert not set(formats) & {f.format for f in earlier}
    assert not {f.package for f in files} & {f.package for f in earlier}
    for f in files:
        assert f.package not in realtext.FORBIDDEN_PACKAGES
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256) and re.fullmatch(r"[0-9a-f]{64}", f.source_sha256)
        assert f.version and f.members and "/" not in f.name
    assert len({f.name for f in files}) == len(files)


def test_extract_members_decompresses_and_orders(tmp_path) -> None:
    deb = make_deb(tmp_path, "toy", "1.0-1", {
        "usr/share/doc/toy/README.md.gz": gzip.compress(b"# Toy\n"),
        "usr/share/toy/manual/b.txt": b"B\n",
        "usr/share/toy/manual/a/z.txt": b"AZ\n",
        "usr/share/toy/manual/a.txt": b"A\n",
        "usr/share/toy/manual/c.png": b"\x89PNG",
    })
    assert realtext.extract_members(deb, ("usr/share/doc/toy/README.md.gz",)) == b"# Toy\n"
    # path order: a.txt < a/z.txt < b.txt
    assert realtext.extract_members(deb, ("usr/share/toy/manual/**/*.txt",)) == b"A\nAZ\nB\n"
    with pytest.raises(realtext.RealTextError, match="not in the package"):
        realtext.extract_members(deb, ("usr/share/toy/missing",))


def toy_spec(text: bytes, **kw) -> realtext.RealFile:
    cut = realtext.cut_at_line(text)
    base = dict(format="logs", package="toy", version="1.0-1", members=("var/log/toy.log",), name="logs.log",
                source_sha256=sha(text), sha256=sha(cut), description="toy log")
    base.update(kw)
    return realtext.RealFile(**base)


def test_build_writes_checked_files_and_manifest(tmp_path) -> None:
    text = LINE * 1600  # ~124 KB: cut to 100 KB at a line boundary
    cache = tmp_path / "cache"
    cache.mkdir()
    deb = make_deb(tmp_path, "toy", "1.0-1", {"var/log/toy.log": text})
    os.replace(deb, cache / realtext.deb_file_name("toy", "1.0-1"))
    out = tmp_path / "set"
    spec = toy_spec(text)
    entries = realtext.build(out, cache, (spec,))
    data = (out / "logs.log").read_bytes()
    assert data == realtext.cut_at_line(text) and len(data) <= realtext.MAX_BYTES
    manifest = json.loads((out / realtext.MANIFEST).read_text())
    assert manifest["files"] == entries
    e = entries[0]
    assert (e["format"], e["package"], e["version"], e["path"], e["sha256"], e["bytes"]) == \
           ("logs", "toy", "1.0-1", "var/log/toy.log", sha(data), len(data))
    assert e["truncated"] and e["source_bytes"] == len(text)
    assert realtext.load(out) == [(e, data)]
    # a pin that does not match is an error, not a silent change of the evaluation set
    with pytest.raises(realtext.RealTextError, match="pinned"):
        realtext.build(tmp_path / "bad", cache, (dataclasses.replace(spec, source_sha256="0" * 64),))
    with pytest.raises(realtext.RealTextError, match="pinned"):
        realtext.build(tmp_path / "bad", cache, (dataclasses.replace(spec, sha256="0" * 64),))
    # a file changed after the build is caught when it is loaded
    (out / "logs.log").write_bytes(data[:-1] + b"X")
    with pytest.raises(realtext.RealTextError, match="manifest says"):
        realtext.load(out)


def test_a_newer_version_with_the_same_text_is_accepted(tmp_path) -> None:
    text = LINE * 500
    cache = tmp_path / "cache"
    cache.mkdir()
    deb = make_deb(tmp_path, "toy", "1.0-2", {"var/log/toy.log": text})
    os.replace(deb, cache / realtext.deb_file_name("toy", "1.0-2"))
    entries = realtext.build(tmp_path / "set", cache, (toy_spec(text),))
    assert entries[0]["version"] == "1.0-2" and entries[0]["pinned_version"] == "1.0-1"


def test_forbidden_packages_are_refused(tmp_path) -> None:
    spec = toy_spec(LINE * 500, package="base-files")
    with pytest.raises(realtext.RealTextError, match="another benchmark"):
        realtext.build(tmp_path / "set", tmp_path, (spec,))


def test_cli_rejects_a_file_as_out(tmp_path, capsys) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(SystemExit):
        realtext.main(["--out", str(f)])
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.skipif(os.environ.get("HOPE4J_NO_APT") == "1", reason="HOPE4J_NO_APT=1: no apt-get download")
def test_the_pinned_set_builds(tmp_path) -> None:
    entries = realtext.build(tmp_path / "set", realtext.DEFAULT_CACHE)
    assert [e["format"] for e in entries] == [f.format for f in realtext.FILES]
    for e in entries:
        assert realtext.MIN_BYTES <= e["bytes"] <= realtext.MAX_BYTES
    loaded = realtext.load(tmp_path / "set")
    assert [sha(d) for _, d in loaded] == [f.sha256 for f in realtext.FILES]


@pytest.mark.skipif(os.environ.get("HOPE4J_NO_APT") == "1", reason="HOPE4J_NO_APT=1: no apt-get download")
def test_the_extra_set_builds_from_the_command_line(tmp_path) -> None:
    assert realtext.main(["--set", "extra", "--out", str(tmp_path / "x")]) == 0
    loaded = realtext.load(tmp_path / "x")
    assert [e["format"] for e, _ in loaded] == [f.format for f in realtext.EXTRA_FILES]
    assert [sha(d) for _, d in loaded] == [f.sha256 for f in realtext.EXTRA_FILES]
    for e, d in loaded:
        assert realtext.MIN_BYTES <= len(d) <= realtext.MAX_BYTES


@pytest.mark.skipif(os.environ.get("HOPE4J_NO_APT") == "1", reason="HOPE4J_NO_APT=1: no apt-get download")
def test_the_untuned_set_builds_from_the_command_line(tmp_path) -> None:
    assert realtext.main(["--set", "untuned", "--out", str(tmp_path / "u")]) == 0
    loaded = realtext.load(tmp_path / "u")
    assert [e["format"] for e, _ in loaded] == [f.format for f in realtext.UNTUNED_FILES]
    assert [sha(d) for _, d in loaded] == [f.sha256 for f in realtext.UNTUNED_FILES]
    for e, d in loaded:
        assert realtext.MIN_BYTES <= len(d) <= realtext.MAX_BYTES
