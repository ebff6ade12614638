"""The compressor peers: what is counted as the code, priming in one stream, clear errors."""
from __future__ import annotations

import json
import random

import pytest

from hope_export import peers

TEXT = (b"Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing\n"
        b"to do: once or twice she had peeped into the book her sister was reading, but it had no pictures\n"
        b"or conversations in it, 'and what is the use of a book,' thought Alice 'without pictures or\n"
        b"conversations?'\n")
NOISE = random.Random(7).randbytes(20_000)  # incompressible: a code near its length shows nothing else is counted


def test_missing_tool_says_which_package(tmp_path) -> None:
    with pytest.raises(peers.PeerError, match=r"^7zz not found: apt-get install 7zip$"):
        peers.find_tool("ppmd", path=str(tmp_path))
    with pytest.raises(peers.PeerError, match=r"^zpaq not found: apt-get install zpaq$"):
        peers.find_tool("zpaq", path=str(tmp_path))


@pytest.mark.parametrize("tool", peers.TOOLS)
def test_code_of_noise_is_its_length_without_container(tool: str) -> None:
    n = peers.SIZERS[tool](NOISE)
    # every peer codes incompressible bytes at a small expansion (PPMd, which cannot fall back to
    # storing, about 2 %); a container (7z headers of ~100 bytes, zpaq's -m5 model description of ~300
    # and its journaling blocks of ~700, the .xz framing of ~60) would show above that
    slack = 0.03 if tool == "ppmd" else 0.005
    assert len(NOISE) <= n <= len(NOISE) * (1 + slack) + 16, (tool, n)


@pytest.mark.parametrize("tool", peers.TOOLS)
def test_tiny_input_costs_almost_nothing(tool: str) -> None:
    assert peers.SIZERS[tool](b"a") <= 12


@pytest.mark.parametrize("tool", peers.TOOLS)
def test_priming_with_the_same_text_makes_it_cheap(tool: str) -> None:
    target = TEXT * 3
    cold = peers.cold_bits_per_byte(tool, target)
    primed = peers.primed_bits_per_byte(tool, TEXT * 3, target)
    assert 0 < cold < 8
    assert primed < 0.5 * cold, (tool, cold, primed)
    # deterministic, and a known primer size gives the same figure
    base = peers.SIZERS[tool](TEXT * 3)
    assert peers.primed_bits_per_byte(tool, TEXT * 3, target, base) == primed


@pytest.mark.parametrize("tool", peers.TOOLS)
def test_unrelated_primer_does_not_help_noise(tool: str) -> None:
    primed = peers.primed_bits_per_byte(tool, TEXT * 20, NOISE[:4000])
    assert primed > 7.5


def test_empty_target_is_refused() -> None:
    with pytest.raises(peers.PeerError, match="empty target"):
        peers.cold_bits_per_byte("xz", b"")
    with pytest.raises(peers.PeerError, match="empty target"):
        peers.primed_bits_per_byte("xz", TEXT, b"")


def test_zpaq_payload_is_the_data_block_only() -> None:
    size, blocks = peers.zpaq_bytes_blocks(TEXT * 10)
    assert blocks == 1
    assert 0 < size < len(TEXT)  # ten copies of the text cost less than one
    with pytest.raises(peers.PeerError, match="not a zpaq"):
        peers.zpaq_payload(b"PK\x03\x04 not zpaq")


def test_zpaq_refuses_a_primer_that_splits_blocks(monkeypatch) -> None:
    monkeypatch.setattr(peers, "zpaq_run", lambda data, method="5", exe=None: (len(data), 2, [(len(data), "56,0,1")] * 2))
    with pytest.raises(peers.PeerError, match="2 blocks"):
        peers.primed_bits_per_byte("zpaq", TEXT, TEXT)


RECORDS = b"".join(b"%05d|%-12s|%8.2f|OK\n" % (i, b"user%d" % (i * 7 % 13), i * 1.25) for i in range(3000))


@pytest.mark.parametrize("data", [TEXT * 40, RECORDS, NOISE, TEXT * 30 + RECORDS[:20_000], bytes(range(256)) * 300],
                         ids=["text", "records", "noise", "text+records", "ramp"])
def test_rebuilt_level5_model_is_that_of_m5(data: bytes) -> None:
    size, blocks, printed = peers.zpaq_run(data)
    assert blocks == 1 and len(printed) == 1
    n, method = printed[0]
    assert method.startswith("5")
    rebuilt = peers.zpaq_level5_method(data, n, int(method.split(",")[-1]))
    assert peers.zpaq_run(data, rebuilt)[0] == size, rebuilt


def test_records_get_a_periodic_model() -> None:
    # fixed-width records: -m5 adds a column model of their period (31 bytes a record)
    assert len(RECORDS) == 31 * 3000
    assert "c0,0,1030,255i1c0,31i1" in peers.zpaq_level5_method(RECORDS, len(RECORDS) + 20, 1)
    assert "c0,0,1" not in peers.zpaq_level5_method(NOISE, len(NOISE) + 12, 0)


def test_repetition_gaps_as_libzpaq_counts_them(monkeypatch) -> None:
    data = TEXT * 3 + NOISE[:3000]
    r = [0] * 4096
    pt = [0] * 256
    for i, b in enumerate(data):  # libzpaq compressBlock's loop
        k = i - pt[b]
        if 0 < k < 4096:
            r[k] += 1
        pt[b] = i
    assert peers._repetition_gaps(data, 4096) == r
    import builtins
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError) if name == "numpy" else real_import(name, *a, **k))
    assert peers._repetition_gaps(data, 4096) == r  # the pure-Python path agrees


def test_zpaq_primer_is_coded_with_the_joint_model() -> None:
    cache: dict = {}
    size, base, method = peers.zpaq_primed_bytes(TEXT * 20, RECORDS[:8000], check=True, cache=cache)
    assert method.startswith("x") and list(cache.values()) == [base]
    assert peers.zpaq_run(TEXT * 20, method)[0] == base
    assert peers.zpaq_primed_bytes(TEXT * 20, RECORDS[:8000], cache=cache) == (size, base, method)


def test_xz_refuses_a_primer_beyond_its_dictionary(monkeypatch) -> None:
    monkeypatch.setattr(peers, "XZ_DICT_BYTES", 100)
    with pytest.raises(peers.PeerError, match="dictionary"):
        peers.primed_bits_per_byte("xz", TEXT, TEXT)


def test_7z_listing_parser() -> None:
    listing = ("Listing archive: a.7z\n\n--\nPath = a.7z\nType = 7z\nPhysical Size = 200\nHeaders Size = 100\n"
               "Method = PPMD\nSolid = -\nBlocks = 1\n\n----------\nPath = data\nSize = 1000\nPacked Size = 95\n"
               "Modified = \nAttributes = \nCRC = 12345678\nEncrypted = -\nMethod = PPMD:o8:mem28\nBlock = 0\n\n")
    assert peers.parse_7z_packed_size(listing) == 95
    with pytest.raises(peers.PeerError):
        peers.parse_7z_packed_size(listing.replace("PPMD", "LZMA2"))


def test_measure_and_cli(tmp_path, capsys) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    primer = tmp_path / "primer.txt"
    a.write_bytes(TEXT * 2)
    b.write_bytes(TEXT.upper() * 2)
    primer.write_bytes(TEXT * 4 + b"filler " * 100)
    out = tmp_path / "peers.json"
    assert peers.main(["--target", str(a), "--target", str(b), "--primer", str(primer), "--primer-bytes", "200,0",
                       "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert [p["label"] for p in r["primers"]] == ["first 200 bytes", "all"]
    assert [f["format"] for f in r["files"]] == ["a.txt", "b.txt"]
    for f in r["files"]:
        assert set(f["cold"]) == set(peers.TOOLS)
        assert set(f["primed"]) == {"first 200 bytes", "all"}
    fa = r["files"][0]
    for t in peers.TOOLS:
        assert fa["primed"]["all"][t] < fa["cold"][t]  # the whole primer holds the target
    assert json.loads(capsys.readouterr().out) == r


def test_cli_errors(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        peers.main(["--primer", str(tmp_path / "x")])
    assert "--realtext" in capsys.readouterr().err
    t = tmp_path / "t"
    t.write_bytes(TEXT)
    with pytest.raises(SystemExit):
        peers.main(["--target", str(t), "--tools", "ppmd,bzip9"])
    assert "unknown peer 'bzip9'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        peers.main(["--target", str(t), "--primer-bytes", "1MB"])
    assert "--primer-bytes" in capsys.readouterr().err


def test_primer_slices_cover_the_whole_split_at_line_boundaries() -> None:
    data = b"".join(f"line {i:04d} of the source {i // 250}\n".encode() for i in range(1000))
    s = peers.slices(data, 4, 100)
    assert s.endswith(b"\n") and s.startswith(b"line 0001")  # the first line is skipped: slices start after a line end
    for src in range(4):
        assert f"of the source {src}\n".encode() in s  # every quarter of the data is represented
    assert 4 * 100 <= len(s) <= 4 * (100 + 40)  # each slice ends at the line end that reaches 100 bytes
    assert peers.slices(data[:300], 4, 100) == data[:300]  # not longer than n * k: all of it
