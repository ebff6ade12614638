"""A pinned evaluation set of real files in eight formats, each from a Debian package.

Text that a user of an on-device learner really has is not the prose of the pre-training corpus:
logs, source code, JSON, markdown, another language, modern prose whose paragraphs are single long
lines, man pages, reStructuredText. Each file below comes from a pinned Debian package (bookworm),
none of which is a pre-training source or a domain of ``hope4j continual`` (``base-files``,
``libpython3.11-*``, ``perl-modules-5.36`` are not used):

=========  ===============================  ===============================================
format     package                          file (in the package)
=========  ===============================  ===============================================
logs       logstalgia 1.1.4-1               usr/share/logstalgia/example.log (Apache access log)
c          linux-libc-dev 6.1.192-3         usr/include/linux/videodev2.h
json       iso-codes 4.15.0-1               usr/share/iso-codes/json/iso_3166-1.json
markdown   node-commander 9.4.1-1           usr/share/doc/node-commander/Readme.md.gz
german     fortunes-de 0.35-1               usr/share/games/fortunes/de/witze
prose      zim 0.75.1-1                     usr/share/zim/manual/**/*.txt (the user manual)
groff      bash 5.2.15-2+b13                usr/share/man/man1/bash.1.gz
rest       developers-reference 12.18       usr/share/developers-reference/_sources/pkgs.rst.txt
=========  ===============================  ===============================================

A second set, ``--set untuned`` (``UNTUNED_FILES``), holds five more formats that no choice of the
model or of the episodic level was ever measured on (the eight above were used to tune E; see
model-export/README.md "The episodic level E"), from packages that are not pre-training sources:

=========  ===============================  ===============================================
format     package                          file (in the package)
=========  ===============================  ===============================================
python     python3-numpy 1:1.24.2-1+deb12u1 usr/lib/python3/dist-packages/numpy/lib/function_base.py
html       bzip2-doc 1.0.8-5                usr/share/doc/bzip2/manual.html
minjs      libjs-jquery 3.6.1+dfsg+~3.5.14-1 usr/share/javascript/jquery/jquery.min.js
xml        gdal-data 3.6.2+dfsg-1           usr/share/gdal/nitf_spec.xml
csv        gdal-data 3.6.2+dfsg-1           usr/share/gdal/s57objectclasses.csv
=========  ===============================  ===============================================

A third set, ``--set extra`` (``EXTRA_FILES``), was chosen after the model and E were fixed, from
packages that are neither pre-training sources nor in the two sets above:

=========  ===============================  ===============================================
format     package                          file (in the package)
=========  ===============================  ===============================================
changelog  binutils 2.40-2                  usr/share/doc/binutils/changelog.Debian.gz
yaml       python3-torch 1.13.1+dfsg-4      usr/lib/python3/dist-packages/torchgen/packaged/ATen/native/native_functions.yaml
sql        postgresql-15 15.18-0+deb12u1    usr/share/postgresql/15/information_schema.sql
=========  ===============================  ===============================================

A ``.gz`` member is decompressed; the zim manual's pages (one paragraph per line) are joined in
the order of their relative paths. A text longer than MAX_BYTES is cut at the last line boundary
at or before MAX_BYTES bytes. Two SHA-256 are pinned per file: of the extracted text before the
cut (``source_sha256``) and of the file written (``sha256``).

Packages are fetched with ``apt-get download NAME=VERSION`` into a cache directory and extracted
with ``dpkg-deb -x`` into a temporary directory that is removed afterwards. Debian drops a
superseded version from its mirrors (security updates of ``linux-libc-dev``, rebuilds of
``bash``); when the pinned version is gone, the current version is downloaded and accepted only
if the extracted text has the pinned SHA-256, and the manifest records the version used.

    /usr/bin/python3 -m hope_export.realtext --out build/realtext [--cache ~/.cache/hope4j/realtext]
    /usr/bin/python3 -m hope_export.realtext --set untuned --out build/realtext-untuned
    /usr/bin/python3 -m hope_export.realtext --set extra --out build/realtext-extra

writes one file per format and ``manifest.json`` (format, package, version, path, sha256, bytes,
...), and prints the manifest's table on stderr.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path.home() / ".cache" / "hope4j" / "realtext"
MAX_BYTES = 100_000
MIN_BYTES = 32_000
MANIFEST = "manifest.json"
# Debian packages that are domains of other benchmarks (hope4j continual) or pre-training sources:
# never an evaluation file.
FORBIDDEN_PACKAGES = ("base-files", "libpython3.11-minimal", "libpython3.11-stdlib", "perl-modules-5.36")


class RealTextError(RuntimeError):
    """A package cannot be fetched or extracted, or a file does not match its pinned SHA-256."""


@dataclass(frozen=True)
class RealFile:
    """One evaluation file: ``members`` are paths inside the package (a trailing ``/**/*.txt``
    means every ``.txt`` below that folder, in path order); ``name`` is the file written."""

    format: str
    package: str
    version: str
    members: tuple[str, ...]
    name: str
    source_sha256: str
    sha256: str
    description: str

    @property
    def path(self) -> str:
        """The member(s) as one string for the manifest."""
        return ", ".join(self.members)


FILES: tuple[RealFile, ...] = (
    RealFile("logs", "logstalgia", "1.1.4-1", ("usr/share/logstalgia/example.log",), "logs.log",
             "453a70f1f82b07b963f2cd8380aa3d61d2e72ec7af1d738f3c9aa642f32b0ea1",
             "38a34233b338e33798161d2295d313fcadffdf382cd8107b1646d2df6e8422e6",
             "Apache combined access log of a web site (April 2009, host names anonymised), first 100 KB"),
    RealFile("c", "linux-libc-dev", "6.1.192-3", ("usr/include/linux/videodev2.h",), "c.h",
             "7025e6bd3bb47b609fbaf41f3aca4a85376063b7dbfe4f91fe32be9e2ae60efb",
             "7025e6bd3bb47b609fbaf41f3aca4a85376063b7dbfe4f91fe32be9e2ae60efb",
             "Linux UAPI C header (Video4Linux2): structs, enums, macros, comments"),
    RealFile("json", "iso-codes", "4.15.0-1", ("usr/share/iso-codes/json/iso_3166-1.json",), "json.json",
             "f01b812b57fba9f31ff621bf33e7c7570a01964dbeb5be2167e94decf538c89f",
             "f01b812b57fba9f31ff621bf33e7c7570a01964dbeb5be2167e94decf538c89f",
             "ISO 3166-1 country codes and names, pretty-printed JSON, UTF-8 names"),
    RealFile("markdown", "node-commander", "9.4.1-1", ("usr/share/doc/node-commander/Readme.md.gz",), "markdown.md",
             "0eb8893feead28cf088f91806359adaad79ad968194bd5ae0a6a8573de075629",
             "0eb8893feead28cf088f91806359adaad79ad968194bd5ae0a6a8573de075629",
             "README of Commander.js: GitHub markdown, unwrapped paragraphs, JavaScript code blocks"),
    RealFile("german", "fortunes-de", "0.35-1", ("usr/share/games/fortunes/de/witze",), "german.txt",
             "5ad7ca3e8bf76b60c9c7583fb5c84a0c526c66fc65028564e41938b07d1fb7aa",
             "15f6af141c9d242d94e217063614e385dc436abbe6e0d57045a18a8ffc5f5499",
             "German jokes (fortune file, UTF-8, %-separated), first 100 KB"),
    RealFile("prose", "zim", "0.75.1-1", ("usr/share/zim/manual/**/*.txt",), "prose.txt",
             "e40e5b44e8aae6aa4aa492fe38856937956cab47f50599f84f8b00f6884c983a",
             "40933fe53953f41c9f41a9a4d6817efdfec4539616a43c545c506298b140580b",
             "Zim's user manual: modern English prose, one paragraph per line (up to ~900 characters), light"
             " wiki markup; pages in path order, first 100 KB"),
    RealFile("groff", "bash", "5.2.15-2+b13", ("usr/share/man/man1/bash.1.gz",), "groff.1",
             "e404d4982aa792eb0c76db078c4a6d41e3a22fcf1d7c25204fec3842a25f1946",
             "c3580843591b6cdd9a9e48f05f4514241ef6b0903fee8131ef125b8bad4323db",
             "bash(1) man page, groff source, first 100 KB"),
    RealFile("rest", "developers-reference", "12.18", ("usr/share/developers-reference/_sources/pkgs.rst.txt",), "rest.rst",
             "737f05dbf47771d6b422b026ebd768f71bed800635efa41c0b492e0ff9138f6b",
             "53e00b4b8075907c9b553c15e5c21f47258de51e2117247bd0e72051ad8fc842",
             "Debian Developer's Reference, chapter 'Managing Packages', reStructuredText source, first 100 KB"),
)

UNTUNED_FILES: tuple[RealFile, ...] = (
    RealFile("python", "python3-numpy", "1:1.24.2-1+deb12u1", ("usr/lib/python3/dist-packages/numpy/lib/function_base.py",),
             "python.py",
             "e2c03da3ca2ee0f918b8759df35a621db422f36dc6c017eef0f769188c8d452e",
             "bf7104da2ae32f7ec6c6b7580b9fd2caccc1961f29e629bb803bc13dad0ef5cf",
             "NumPy's function_base.py: Python source with long numpydoc docstrings and doctests, first 100 KB"),
    RealFile("html", "bzip2-doc", "1.0.8-5", ("usr/share/doc/bzip2/manual.html",), "html.html",
             "34f5eaeb37488b51662316b8d9f54228c96f72b54aec3bfc17cd731e3ce9bbd2",
             "349f6699db009444d6bcd604b69a960dd15dada165ccd268230e3762fa8d19a2",
             "the bzip2 manual as DocBook-generated HTML: markup, tables, prose and C, first 100 KB"),
    RealFile("minjs", "libjs-jquery", "3.6.1+dfsg+~3.5.14-1", ("usr/share/javascript/jquery/jquery.min.js",), "min.js",
             "03378a725b68b791419d83f47f10ff7ca5819c7d9d1dadba9edd26ef2ce588fd",
             "03378a725b68b791419d83f47f10ff7ca5819c7d9d1dadba9edd26ef2ce588fd",
             "jQuery 3.6.1 minified: one-letter identifiers, almost no whitespace, a few very long lines"),
    RealFile("xml", "gdal-data", "3.6.2+dfsg-1", ("usr/share/gdal/nitf_spec.xml",), "xml.xml",
             "e40502c629a1a5bd75ddd341fa6e7fbc50b028fffa4b138fd905fd9f09285483",
             "e50568b91b82c79d38470529fc4f1d78867cf2bea7c4a822a3a1feedc21b9b97",
             "GDAL's NITF specification: nested XML elements with attributes, first 100 KB"),
    RealFile("csv", "gdal-data", "3.6.2+dfsg-1", ("usr/share/gdal/s57objectclasses.csv",), "csv.csv",
             "e9f5ae4e6da0935d28462f37decb26b668ede1c0bf8c0d0f138136d89d1fd63f",
             "e9f5ae4e6da0935d28462f37decb26b668ede1c0bf8c0d0f138136d89d1fd63f",
             "GDAL's S-57 object classes: quoted CSV, numeric codes, names and attribute lists"),
)
# A third set, measured once the model and E were fixed (this session's release): three more formats
EXTRA_FILES: tuple[RealFile, ...] = (
    RealFile("changelog", "binutils", "2.40-2", ("usr/share/doc/binutils/changelog.Debian.gz",), "changelog.txt",
             "88647cf1009875d69513c69edf2aa4f960ccc42fc3a17c1d516db836a9e34b46",
             "899b1c639028aa470267733088ad07b87b556031614115a09fd7526428ab15ad",
             "binutils' Debian changelog: release entries, indented bullet lists, bug numbers, maintainer lines with"
             " dates, first 100 KB"),
    RealFile("yaml", "python3-torch", "1.13.1+dfsg-4",
             ("usr/lib/python3/dist-packages/torchgen/packaged/ATen/native/native_functions.yaml",), "yaml.yaml",
             "0088dfc825d306c3aa1c39f55b9fbe165a3cd195f69c83f664e7e42ebabaf205",
             "c6c990b6471456fc89b928b342863043d732b89a6731b9d6af659d951d4be138",
             "PyTorch's native function declarations: YAML with function signatures, dispatch tables, comments,"
             " first 100 KB"),
    RealFile("sql", "postgresql-15", "15.18-0+deb12u1", ("usr/share/postgresql/15/information_schema.sql",), "sql.sql",
             "c7bec39c63e2877344d23b5807728c8668d4dd61b136c39d51bdd50802548280",
             "c9896246de3407ac32ba7799921af8f55a727f427fbe3238344b82250fe598e3",
             "PostgreSQL's information schema: SQL DDL, views with joins and CASE expressions, GRANTs, comments,"
             " first 100 KB"),
)
SETS = {"eval": FILES, "untuned": UNTUNED_FILES, "extra": EXTRA_FILES}


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[realtext] {msg}", file=sys.stderr, flush=True)


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def cut_at_line(data: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """The longest prefix of ``data`` of at most ``max_bytes`` bytes that ends with a newline
    (``data`` itself when it is short enough; a hard cut when no newline falls in the window)."""
    if len(data) <= max_bytes:
        return data
    nl = data.rfind(b"\n", 0, max_bytes)
    return data[: nl + 1] if nl >= 0 else data[:max_bytes]


def deb_file_name(package: str, version: str) -> str:
    """The cache file name of a package: ``NAME_VERSION.deb`` (an epoch's colon as apt writes it)."""
    return f"{package}_{version.replace(':', '%3a')}.deb"


def _tool(name: str, package: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise RealTextError(f"{name} not found: apt-get install {package}")
    return exe


def apt_download(package: str, version: str | None, dest: Path) -> Path:
    """``apt-get download NAME[=VERSION]`` into an empty temporary folder inside ``dest``; the .deb."""
    apt = _tool("apt-get", "apt")
    spec = package if version is None else f"{package}={version}"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="apt-", dir=dest) as tmp:
        # as root apt cannot drop to _apt in a folder it does not own: say so instead of warning
        r = subprocess.run([apt, "download", "-q", "-o", "APT::Sandbox::User=root", spec], cwd=tmp,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        debs = sorted(Path(tmp).glob("*.deb"))
        if r.returncode != 0 or len(debs) != 1:
            err = (r.stderr or r.stdout).strip().splitlines()
            raise RealTextError(f"apt-get download {spec} failed: {err[-1] if err else r.returncode}"
                                " (is 'apt-get update' done and a Debian bookworm source configured?)")
        out = dest / debs[0].name
        os.replace(debs[0], out)
    return out


def extract_members(deb: Path, members: tuple[str, ...]) -> bytes:
    """The members' text, extracted with ``dpkg-deb -x`` into a temporary folder: ``.gz``
    decompressed, a ``DIR/**/*.txt`` pattern expanded to every .txt below DIR in path order, all
    concatenated."""
    dpkg_deb = _tool("dpkg-deb", "dpkg")
    with tempfile.TemporaryDirectory(prefix="hope4j-realtext-") as tmp:
        r = subprocess.run([dpkg_deb, "-x", str(deb), tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RealTextError(f"dpkg-deb -x {deb} failed: {r.stderr.strip()}")
        root = Path(tmp)
        parts: list[bytes] = []
        for m in members:
            if m.endswith("/**/*.txt"):
                base = root / m[: -len("/**/*.txt")]
                files = sorted((p for p in base.rglob("*.txt") if p.is_file()), key=lambda p: p.relative_to(base).as_posix())
                if not files:
                    raise RealTextError(f"{deb.name}: no .txt below {m}")
            else:
                files = [root / m]
                if not files[0].is_file():
                    raise RealTextError(f"{deb.name}: {m} not in the package")
            for f in files:
                data = f.read_bytes()
                parts.append(gzip.decompress(data) if f.name.endswith(".gz") else data)
        return b"".join(parts)


def fetch(spec: RealFile, cache: Path) -> tuple[bytes, str]:
    """(text before the cut, version used) of one evaluation file: the pinned version from the
    cache or apt; when the mirror no longer has it, the current version if its text has the pinned
    SHA-256."""
    if spec.package in FORBIDDEN_PACKAGES:
        raise RealTextError(f"{spec.package} is a domain of another benchmark and must not be an evaluation file")
    cached = cache / deb_file_name(spec.package, spec.version)
    if cached.is_file():
        return extract_members(cached, spec.members), spec.version
    # another version fetched earlier because the pinned one had left the mirror
    for other in sorted(cache.glob(f"{spec.package}_*.deb")):
        text = extract_members(other, spec.members)
        if sha256(text) == spec.source_sha256:
            return text, other.name[len(spec.package) + 1 : -len(".deb")].replace("%3a", ":")
    log(f"fetching {spec.package}={spec.version}")
    try:
        got = apt_download(spec.package, spec.version, cache)
    except RealTextError as exc:
        log(f"{exc}; trying the current version of {spec.package}")
        got = apt_download(spec.package, None, cache)
        version = got.name.split("_")[1].replace("%3a", ":")
        text = extract_members(got, spec.members)
        if sha256(text) != spec.source_sha256:
            got.unlink()
            raise RealTextError(f"{spec.format}: {spec.package}={spec.version} is no longer on the mirror and "
                                f"{version} has another {spec.path} (SHA-256 {sha256(text)}, pinned {spec.source_sha256})") from exc
        os.replace(got, cache / deb_file_name(spec.package, version))
        return text, version
    os.replace(got, cached)
    return extract_members(cached, spec.members), spec.version


def build(out: Path, cache: Path = DEFAULT_CACHE, files: tuple[RealFile, ...] = FILES) -> list[dict]:
    """Write every evaluation file and ``manifest.json`` into ``out``; the manifest's entries."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in files:
        text, version = fetch(spec, cache)
        if sha256(text) != spec.source_sha256:
            raise RealTextError(f"{spec.format}: {spec.package}={version} {spec.path}: extracted text has SHA-256 "
                                f"{sha256(text)}, pinned {spec.source_sha256}")
        data = cut_at_line(text)
        if sha256(data) != spec.sha256:
            raise RealTextError(f"{spec.format}: cut text has SHA-256 {sha256(data)}, pinned {spec.sha256}")
        if not MIN_BYTES <= len(data) <= MAX_BYTES:
            raise RealTextError(f"{spec.format}: {len(data)} bytes, outside {MIN_BYTES}-{MAX_BYTES}")
        tmp = out / (spec.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, out / spec.name)
        entries.append({"format": spec.format, "package": spec.package, "version": version, "pinned_version": spec.version,
                        "path": spec.path, "file": spec.name, "sha256": spec.sha256, "bytes": len(data),
                        "source_sha256": spec.source_sha256, "source_bytes": len(text), "truncated": len(data) < len(text),
                        "description": spec.description})
        log(f"{spec.format:9s} {spec.package}={version}: {len(data):,} bytes" + (f" (cut from {len(text):,})" if len(data) < len(text) else ""))
    manifest = {"max_bytes": MAX_BYTES, "files": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return entries


def load(directory: Path) -> list[tuple[dict, bytes]]:
    """(manifest entry, bytes) of every file of a set that ``build`` wrote, each checked against its
    SHA-256."""
    manifest = json.loads((directory / MANIFEST).read_text())
    out = []
    for e in manifest["files"]:
        data = (directory / e["file"]).read_bytes()
        if sha256(data) != e["sha256"]:
            raise RealTextError(f"{directory / e['file']}: SHA-256 {sha256(data)}, manifest says {e['sha256']}")
        out.append((e, data))
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(prog="hope_export.realtext", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="output directory for the files and manifest.json")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f".deb cache directory (default {DEFAULT_CACHE})")
    p.add_argument("--set", choices=sorted(SETS), default="eval",
                   help="eval: the eight files E was tuned on (default); untuned: five formats nothing was tuned on;"
                        " extra: three more formats, measured once the model and E were fixed")
    a = p.parse_args(argv)
    if a.out.exists() and not a.out.is_dir():
        p.error(f"--out: {a.out} is not a directory")
    return a


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    a = parse_args(argv)
    try:
        build(a.out, a.cache, SETS[a.set])
    except RealTextError as exc:
        print(f"hope_export.realtext: {exc}", file=sys.stderr)
        return 1
    log(f"wrote {len(SETS[a.set])} files and {MANIFEST} to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
