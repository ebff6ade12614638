"""The corpus builder: text kept as written, re-flow, HTML to text, .deb reading, per-format held-out splits."""
from __future__ import annotations

import io
import json
import lzma
import tarfile
from pathlib import Path

import pytest

from hope_export import corpus
from hope_export.corpus import Archive, Document, Source


def test_normalise_keeps_typography_tabs_and_letters() -> None:
    text = "\ufeff“Grüße” — it’s naïve…\r\n\tfunc main() {}\x07  \r\n\n\n\nend"
    assert corpus.normalise(text) == "“Grüße” — it’s naïve…\n\tfunc main() {}\n\nend"


def test_reflow_joins_wrapped_prose_and_keeps_short_lines() -> None:
    prose = "It was a truth universally acknowledged, that a single man in\npossession of a good fortune, must be in want of a wife."
    verse = "Tyger Tyger, burning bright,\nIn the forests of the night;"
    heading = "CHAPTER I"
    out = corpus.reflow("\n\n".join([heading, prose, verse]))
    assert out.split("\n\n") == [heading, prose.replace("\n", " "), verse]


def test_html_text_drops_furniture_and_keeps_pre() -> None:
    page = ("<html><head><title>T</title><style>p {}</style></head><body><div id='banner'><a>Download the ebook</a></div>"
            "<div class='toc'><dl><dt>1.1 Intro</dt></dl></div><h1>Chapter&nbsp;1</h1><p>One\nparagraph, <em>long</em>\n line.</p>"
            "<pre>$ apt install x\n  indented</pre><ul class='docnav'><li>Prev</li></ul><p>Zweiter Absatz: Grüße.</p><br/></body></html>")
    assert corpus.html_text(page) == "Chapter 1\n\nOne paragraph, long line.\n\n$ apt install x\n  indented\n\nZweiter Absatz: Grüße."


def test_split_source_holds_out_tails_or_whole_documents() -> None:
    few = [Document(f"d{i}", "\n".join(f"line {j}" for j in range(100)), "x") for i in range(3)]
    for d, tr, ho in corpus.split_source(few):
        assert tr and ho and (tr + b"\n" + ho).decode() == d.text
    many = [Document(f"d{i}", f"doc {i}", "y") for i in range(100)]
    parts = corpus.split_source(many)
    held = [d.name for d, tr, ho in parts if ho]
    assert held == [f"d{i}" for i in range(10, 100, 20)]
    assert all((tr == b"") != (ho == b"") for _, tr, ho in parts)


def make_deb(files: dict[str, bytes]) -> bytes:
    """A minimal .deb: ar archive with debian-binary, control.tar.xz, data.tar.xz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", lzma.compress(b"")), ("data.tar.xz", lzma.compress(buf.getvalue()))]
    out = b"!<arch>\n"
    for name, data in members:
        out += f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode() + data + (b"\n" if len(data) % 2 else b"")
    return out


def test_deb_data_tar_reads_the_data_member() -> None:
    deb = make_deb({"usr/share/go-1.19/src/fmt/print.go": b"package fmt\n\tfunc x() {}\n", "usr/share/go-1.19/src/fmt/print_test.go": b"package fmt\n"})
    with tarfile.open(fileobj=io.BytesIO(corpus.deb_data_tar(deb)), mode="r:") as tar:
        docs = corpus.extract_go(Archive(tar, "t.deb"))
    assert [(d.name, d.text, d.fmt) for d in docs] == [("fmt/print.go", "package fmt\n\tfunc x() {}", "go")]


def test_forbidden_packages_are_refused(tmp_path: Path) -> None:
    src = Source("x", "fortunes-de", "1", corpus.extract_go, "deb")
    with pytest.raises(corpus.CorpusError, match="evaluation domain"):
        corpus._download_deb(src, tmp_path / "x.deb", tmp_path)
    src = Source("x", "bash-doc", "1", corpus.extract_go, "deb")
    with pytest.raises(corpus.CorpusError, match="evaluation domain"):
        corpus._download_deb(src, tmp_path / "x.deb", tmp_path)
    assert all(s.package not in corpus.FORBIDDEN_DEBIAN and not s.package.startswith("fortunes") for s in corpus.SOURCES)


def test_build_writes_per_format_heldout_and_checks_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    deb = make_deb({f"usr/share/go-1.19/src/p/f{i}.go": f"package p\n\n// file {i}\nvar X{i} = {i}\n".encode() for i in range(50)})
    src = Source("fake-go", "golang-fake", "1.0", corpus.extract_go, "deb")
    (cache / src.tarball_name).write_bytes(deb)
    monkeypatch.setattr(corpus, "SOURCES", [src])
    monkeypatch.setitem(corpus.TARBALL_SHA256, "fake-go", corpus.sha256(deb))
    monkeypatch.setitem(corpus.EXPECTED_SHA256, "fake-go", "0" * 64)
    with pytest.raises(corpus.CorpusError, match="SHA-256 mismatch"):
        corpus.build_corpus(tmp_path / "out", cache)
    m = corpus.build_corpus(tmp_path / "out", cache, pin_check=False)
    monkeypatch.setitem(corpus.EXPECTED_SHA256, "fake-go", m["sources"]["fake-go"]["text_sha256"])
    m = corpus.build_corpus(tmp_path / "out", cache)
    held = (tmp_path / "out" / "heldout-go.txt").read_bytes()
    assert held == (tmp_path / "out" / "heldout.txt").read_bytes()
    assert held.count(b"package p") == 2 and m["formats"]["go"]["documents"] == 50
    assert (tmp_path / "out" / "train.txt").read_bytes().count(b"package p") == 48
    assert json.loads((tmp_path / "out" / "corpus.json").read_text())["formats"]["go"]["heldout_file"] == "heldout-go.txt"
    assert corpus.heldout_formats(tmp_path / "out") == {"go": held}
