"""Reference compression baselines for the held-out split of the Hope4J corpus.

Two numbers a byte-level language model trained on ``train.txt`` should be compared with,
both in bits per byte of ``heldout.txt``:

* a byte-level 5-gram count model trained on ``train.txt``, with interpolated Kneser-Ney
  smoothing (one absolute discount per order, D = n1 / (n1 + 2 n2), continuation counts for the
  lower orders, uniform over the 256 byte values below order 1); the same counts with
  interpolated Witten-Bell smoothing are reported too;
* xz conditioned on the training text: 8 * (|xz(tail + heldout)| - |xz(tail)|) / |heldout|, where
  tail is the last 8 MB of ``train.txt`` (preset 9 | PRESET_EXTREME, whose 64 MiB dictionary
  holds all of it).

and, beside them, the classical online compressors of ``hope_export.peers`` (the peers a byte-level
learner is judged against), each cold (held-out text alone) and primed with the same tail of
``train.txt`` in one stream (``--peers-tail-bytes``, 0: all of it):

* PPMd order 8 through 7-Zip (``7zz a -m0=PPMd:o=8:mem=256m``, Debian ``7zip``);
* zpaq ``-m5`` (Debian ``zpaq``).

    /usr/bin/python3 -m hope_export.baselines --corpus build/corpus [--json build/baselines.json] [--peers ppmd,zpaq|none]

Prints one JSON line on stdout; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import lzma
import math
import sys
import time
from collections import Counter
from pathlib import Path

from hope_export import peers as peer_tools

ORDER = 5
XZ_TAIL_BYTES = 8 * 1024 * 1024
XZ_PRESET = 9 | lzma.PRESET_EXTREME
PEERS = ("ppmd", "zpaq")  # hope_export.peers measured here (xz has its own keys above)
PAD = b"\n" * (ORDER - 1)  # history before the first held-out byte (documents start after blank lines)

Stats = dict[bytes, tuple[int, int]]  # context -> (total count, number of distinct next bytes)


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[baselines] {msg}", file=sys.stderr, flush=True)


def count_ngrams(data: bytes, k: int) -> Counter[bytes]:
    """Counts of every k-byte substring of ``data`` (the loop runs in C through map/slice)."""
    n = len(data) - k + 1
    return Counter(map(data.__getitem__, map(slice, range(n), range(k, n + k))))


def context_stats(counts: Counter[bytes] | dict[bytes, int]) -> Stats:
    """For each context h (a k-gram minus its last byte): (sum of counts of h., distinct next bytes)."""
    total: dict[bytes, int] = {}
    types: dict[bytes, int] = {}
    for g, c in counts.items():
        h = g[:-1]
        total[h] = total.get(h, 0) + c
        types[h] = types.get(h, 0) + 1
    return {h: (t, types[h]) for h, t in total.items()}


def kn_discount(counts: Counter[bytes] | dict[bytes, int]) -> float:
    """Absolute discount D = n1 / (n1 + 2 n2) from the count-of-counts (Ney et al.), 0.5 if undefined."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    return n1 / (n1 + 2 * n2) if n1 + n2 else 0.5


class NgramModel:
    """Byte-level interpolated n-gram model (orders 1..ORDER over a uniform order 0).

    ``raw[k]`` holds the counts of the k-grams of the training text. Kneser-Ney uses them at the
    top order and continuation counts N1+(. g) (the number of distinct bytes preceding g) at the
    lower ones; Witten-Bell uses the raw counts at every order.
    """

    def __init__(self, train: bytes) -> None:
        self.raw: list[Counter[bytes]] = [Counter()]
        for k in range(1, ORDER + 1):
            t0 = time.time()
            self.raw.append(count_ngrams(train, k))
            log(f"{k}-grams: {len(self.raw[k]):,} distinct ({time.time() - t0:.1f} s)")
        self.cont: list[Counter[bytes] | dict[bytes, int]] = [Counter()]
        for k in range(1, ORDER):
            self.cont.append(Counter(g[1:] for g in self.raw[k + 1]))
        self.cont.append(self.raw[ORDER])
        self.kn_stats = [context_stats(c) for c in self.cont]
        self.kn_d = [kn_discount(c) if k else 0.0 for k, c in enumerate(self.cont)]
        self.wb_stats = [context_stats(c) for c in self.raw]
        log("Kneser-Ney discounts: " + ", ".join(f"D{k}={d:.3f}" for k, d in enumerate(self.kn_d) if k))

    def prob_kn(self, history: bytes, b: int) -> float:
        """P(b | last ORDER-1 bytes of history), interpolated Kneser-Ney."""
        p = 1.0 / 256.0
        w = bytes((b,))
        for k in range(1, ORDER + 1):
            h = history[len(history) - (k - 1):] if k > 1 else b""
            st = self.kn_stats[k].get(h)
            if st is None:
                continue  # unseen context: the lower-order estimate stands
            total, types = st
            d = self.kn_d[k]
            p = (max(self.cont[k].get(h + w, 0) - d, 0.0) + d * types * p) / total
        return p

    def prob_wb(self, history: bytes, b: int) -> float:
        """P(b | last ORDER-1 bytes of history), interpolated Witten-Bell."""
        p = 1.0 / 256.0
        w = bytes((b,))
        for k in range(1, ORDER + 1):
            h = history[len(history) - (k - 1):] if k > 1 else b""
            st = self.wb_stats[k].get(h)
            if st is None:
                continue
            total, types = st
            p = (self.raw[k].get(h + w, 0) + types * p) / (total + types)
        return p

    def bits_per_byte(self, text: bytes) -> tuple[float, float]:
        """(Kneser-Ney, Witten-Bell) cross-entropy of ``text`` in bits per byte."""
        data = PAD + text
        m = ORDER - 1
        kn = wb = 0.0
        log2 = math.log2
        for i in range(m, len(data)):
            hist = data[i - m:i]
            b = data[i]
            kn -= log2(self.prob_kn(hist, b))
            wb -= log2(self.prob_wb(hist, b))
        return kn / len(text), wb / len(text)

    def bits_per_byte_windows(self, windows: list[bytes]) -> tuple[float, float]:
        """(Kneser-Ney, Witten-Bell) bits per byte over windows scored the way the model's evaluation
        scores them: each read from scratch, its first byte given, every later byte predicted."""
        m = ORDER - 1
        kn = wb = 0.0
        n = 0
        log2 = math.log2
        for w in windows:
            data = PAD + w
            for i in range(m + 1, len(data)):
                hist = data[i - m:i]
                kn -= log2(self.prob_kn(hist, data[i]))
                wb -= log2(self.prob_wb(hist, data[i]))
                n += 1
        return kn / n, wb / n


def heldout_windows(heldout: bytes, n: int, length: int) -> list[bytes]:
    """The n evenly spaced windows of length+1 bytes that hope_export.train/evaluate read."""
    span = len(heldout) - length - 1
    return [heldout[s: s + length + 1] for s in (int(i * span / max(n - 1, 1)) for i in range(n))]


def xz_bits_per_byte(train: bytes, heldout: bytes) -> tuple[float, float]:
    """(conditioned, unconditioned) xz cost of ``heldout`` in bits per byte; conditioned on the last
    XZ_TAIL_BYTES of ``train``."""
    tail = train[-XZ_TAIL_BYTES:]
    base = len(lzma.compress(tail, preset=XZ_PRESET))
    joint = len(lzma.compress(tail + heldout, preset=XZ_PRESET))
    alone = len(lzma.compress(heldout, preset=XZ_PRESET))
    return 8.0 * (joint - base) / len(heldout), 8.0 * alone / len(heldout)


def peer_bits_per_byte(train: bytes, heldout: bytes, tools: list[str], tail_bytes: int) -> dict:
    """``{tool}_bits_per_byte`` (primed with the last ``tail_bytes`` of train, 0: all) and
    ``{tool}_cold_bits_per_byte`` for each peer of ``PEERS`` (None where not measured), the primer's
    size and the seconds spent."""
    primer = train[-tail_bytes:] if tail_bytes else train
    out: dict = {}
    seconds = {}
    for t in PEERS:
        if t not in tools:
            out[f"{t}_bits_per_byte"] = out[f"{t}_cold_bits_per_byte"] = None
            continue
        t0 = time.time()
        primed = peer_tools.primed_bits_per_byte(t, primer, heldout)
        cold = peer_tools.cold_bits_per_byte(t, heldout)
        seconds[t] = round(time.time() - t0, 1)
        out[f"{t}_bits_per_byte"] = round(primed, 4)
        out[f"{t}_cold_bits_per_byte"] = round(cold, 4)
        log(f"{t}: {primed:.4f} bits/byte primed with {len(primer):,} bytes of train.txt, {cold:.4f} cold ({seconds[t]:.1f} s)")
    out["peers_primer_bytes"] = len(primer) if tools else None
    out["peers_primer"] = ("all of train.txt" if len(primer) == len(train) else "tail of train.txt") if tools else None
    out["peers_methods"] = {t: peer_tools.methods()[t] for t in tools}
    out["seconds"] = seconds
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments; a corpus directory without its files is reported through ``parser.error``."""
    p = argparse.ArgumentParser(prog="hope_export.baselines", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="directory with train.txt and heldout.txt (hope_export.corpus)")
    p.add_argument("--json", type=Path, help="also write the result to this file")
    p.add_argument("--train-bytes", type=int, default=0,
                   help="train the 5-gram model on this many leading bytes of train.txt (default 0: all)")
    p.add_argument("--windows", type=int, default=32,
                   help="also score the 5-gram on the held-out windows hope_export.evaluate reads (default 32; 0: skip)")
    p.add_argument("--length", type=int, default=4096, help="bytes per window (default 4096, as hope_export.evaluate)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help=f"compressor peers to measure cold and primed: {','.join(PEERS)} (default) or none")
    p.add_argument("--peers-tail-bytes", type=int, default=XZ_TAIL_BYTES,
                   help=f"the peers are primed with the last this many bytes of train.txt (default {XZ_TAIL_BYTES}, as xz; 0: all)")
    a = p.parse_args(argv)
    if not a.corpus.is_dir():
        p.error(f"--corpus: {a.corpus} is not a directory")
    for name in ("train.txt", "heldout.txt"):
        if not (a.corpus / name).is_file():
            p.error(f"--corpus: {a.corpus / name} not found (run hope_export.corpus first)")
    if a.json is not None and (a.json.is_dir() or not a.json.absolute().parent.is_dir()):
        p.error(f"--json: cannot write {a.json}")
    if a.train_bytes < 0:
        p.error("--train-bytes: must be >= 0")
    if a.windows < 0 or a.length < 2:
        p.error("--windows must be >= 0 and --length >= 2")
    a.peers = [] if a.peers == "none" else [t for t in a.peers.split(",") if t]
    if any(t not in PEERS for t in a.peers):
        p.error(f"--peers: choose among {', '.join(PEERS)} or none, found {','.join(a.peers)}")
    try:
        peer_tools.check_tools(a.peers)
    except peer_tools.PeerError as exc:
        p.error(f"--peers: {exc} (or --peers none)")
    if a.peers_tail_bytes < 0:
        p.error("--peers-tail-bytes: must be >= 0")
    return a


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    a = parse_args(argv)
    train = (a.corpus / "train.txt").read_bytes()
    heldout = (a.corpus / "heldout.txt").read_bytes()
    ngram_train = train[: a.train_bytes] if a.train_bytes else train
    log(f"train {len(train):,} bytes, held-out {len(heldout):,} bytes; 5-gram model on {len(ngram_train):,} bytes")

    t0 = time.time()
    model = NgramModel(ngram_train)
    t_fit = time.time() - t0
    kn, wb = model.bits_per_byte(heldout)
    t_ngram = time.time() - t0
    log(f"5-gram: Kneser-Ney {kn:.4f}, Witten-Bell {wb:.4f} bits/byte ({t_fit:.1f} s counting, {t_ngram:.1f} s in all)")
    kn_w = wb_w = None
    if a.windows:
        kn_w, wb_w = model.bits_per_byte_windows(heldout_windows(heldout, a.windows, a.length))
        log(f"5-gram on the {a.windows} evaluation windows of {a.length} bytes: Kneser-Ney {kn_w:.4f}, Witten-Bell {wb_w:.4f} bits/byte")
    del model

    t0 = time.time()
    xz, xz_alone = xz_bits_per_byte(train, heldout)
    t_xz = time.time() - t0
    log(f"xz: {xz:.4f} bits/byte conditioned, {xz_alone:.4f} alone ({t_xz:.1f} s)")

    peer_result = peer_bits_per_byte(train, heldout, a.peers, a.peers_tail_bytes)

    result = {
        "fivegram_bits_per_byte": round(kn, 4),
        "xz_bits_per_byte": round(xz, 4),
        "fivegram_smoothing": "interpolated Kneser-Ney",
        "fivegram_witten_bell_bits_per_byte": round(wb, 4),
        "fivegram_windows_bits_per_byte": None if kn_w is None else round(kn_w, 4),
        "fivegram_windows_witten_bell_bits_per_byte": None if wb_w is None else round(wb_w, 4),
        "windows": a.windows,
        "window_bytes": a.length,
        "fivegram_train_bytes": len(ngram_train),
        "fivegram_trained_on": "all of train.txt" if len(ngram_train) == len(train) else "prefix of train.txt",
        "xz_unconditioned_bits_per_byte": round(xz_alone, 4),
        "xz_tail_bytes": min(XZ_TAIL_BYTES, len(train)),
        "train_bytes": len(train),
        "heldout_bytes": len(heldout),
        "seconds": {"fivegram": round(t_ngram, 1), "xz": round(t_xz, 1), **peer_result.pop("seconds")},
    }
    result.update(peer_result)
    line = json.dumps(result)
    print(line)
    if a.json is not None:
        a.json.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
