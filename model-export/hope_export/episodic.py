"""The episodic level E: the reference that DEFINES its semantics; the runtime's
`org.hope4j.level.EpisodicLevel` (with `Logistic` and `EpisodicConfig`) mirrors it function by
function, and the runtime's parity test checks the two agree bit for bit on the golden fixture
(runtime/src/test/resources/org/hope4j/episodic-golden: stream.bin, golden.json).

    /usr/bin/python3 -m hope_export.episodic --golden DIR     (writes stream.bin and golden.json)

Pure Python, standard library only, integers everywhere except the neural distribution's bit
probability and the cost of a bit. Java's types are emulated exactly: longs are kept as unsigned
64-bit values (`& M64` after every `+`/`*` that can wrap, so `>>>` is `>>`), Java ints that can
wrap go through `to_int32`, and `>>` of a negative int floors in both languages.

The model
---------
A byte b is coded as 8 binary decisions y_k = (b >> (7-k)) & 1, k = 0..7; the partial byte is
c0 = 1, then c0 = 2 c0 + y (so 1 <= c0 <= 255 before each decision). Probabilities are 12-bit
integers p in 0..4095 (p / 4096), logits ("stretch") 8-fractional-bit integers in -2047..2047.

    squash(d) = 4096 / (1 + e^(-d/256)), piecewise linear between KNOTS[(d >> 7) + 16] and the next,
                rounded: (K[i] (128 - (d & 127)) + K[i+1] (d & 127) + 64) >> 7; 0 below -2047,
                4095 above 2047
    stretch(p) = min { d in -2047..2047 : squash(d) >= p }   (2047 when none)
    cost(k)    = -log2(k / 4096)                            (bits of an event of probability k/4096)

Inputs of decision k (x_0..x_13):

    x_0 = stretch(pn),  pn = clamp(floor(4096 P(y = 1 | c0) + 0.5), 1, 4095), P from the neural byte
          distribution summed in double precision (cum[j] = sum_{i<j} probs[i];
          P = (cum[hi] - cum[mid]) / (cum[hi] - cum[lo]) over the 2^(8-k) bytes that extend c0;
          pn = 2048 when that mass is not > 0)
    x_{1+i} = stretch(clamp(C_i(e_i), 1, 4095)), i = 0..9: the slot e_i of context i, calibrated by
          the adaptive map C_i of its count bucket and last bits. slot_i = (i << tableBits)
          + (h >>> (64 - tableBits)), h = mix(H_i + c0 * GOLDEN); H_i hashes the contexts: the last
          1, 2, 3, 4 and 6 bytes, the current and previous word (letters a-z, A-Z case-folded, and
          bytes >= 128), (the byte above in the previous line, the byte to the left), the last 5
          bytes with every digit read as '0', the current word alone, and the current token (up to 32 bytes
          since the last space or newline) with its field number (spaces since the line start, at
          most 256 bytes back, capped at 31). The slot's top 6 bits are a check (h & 63). A
          context has two slots, s = (i << tableBits) + (h >>> (64 - tableBits)) and s ^ 1: it
          reads the first whose check matches (s first); when neither does it reads as unseen,
          e_i = p 32768, no bits, n 0, and writes the one of lower count n (s on a tie).
    x_11 = stretch(M[2 bucket(len) + e] >> 14) while a match is alive (e: the bit the match
          predicts), else 0;  x_13 = +-(min(len, 32) * 64 - 1) (the sign of e), else 0
    x_12 = 256 (bias)

A slot T[s] = check << 26 | p << 10 | hh << 5 | n holds a 16-bit probability p of a 1, the last
bits seen in it hh (up to 4, after a leading 1; 0 = none, read as 1) and a count n:

    p += ((65535 y - p) * RATE[n]) >> 16,  RATE[n] = floor(131072 / (2 n + 3)),  n += (n < limit),
    hh = 2 hh + y, and when hh >= 32: hh = (hh & 15) | 16

Its map C_i has 128 sets: 32 (bucket(n): n < 4, < 8, < 16, else) + hh, each 33 knots over
stretch(p >> 4) like the maps below.

Two gated mixers, weights wA[c0 | CLASS8[prev] << 8 | CLASS4[prev2] << 11] and wB[set],
set = ((bucket * 6 + depth) * 4 + conf) * 2 + [k = 0], bucket = 0
(no match), 1 (len < 16), 2 (len < 32), 3; depth = the number of leading order-1..6 slots with
n > 0 (0..5); conf = [|x_0| >= 256] + [|x_0| >= 512] + [|x_0| >= 1024]:

    dA = clamp((sum_i x_i wA_i) >> 16, -2047, 2047),  pA = squash(dA)   (same for B)

and a final mixer, one weight set wF over f = (dA, dB, x_0, 256), starting at (32768, 32768, 0, 0),
i.e. at the plain average (dA + dB) >> 1 of the two: it learns at every bit, so when the tables'
statistics stop fitting the text (a new domain after a long one) it moves weight to the neural input
within a few hundred bytes, where the 8,192 + 192 gated sets would each need their own lesson:

    dF = clamp((sum_i f_i wF_i) >> 16, -2047, 2047),  pF = squash(dF),  pMix = clamp(pF, 1, 4095)

Three adaptive probability maps (33 knots of 16-bit probabilities, over stretch(pMix)), on c0, on
(c0, previous byte) and on the match state (2 bucket(len) + e, 64 without a match), interpolated
at s = stretch(pMix) + 2048 (lo = s >> 7, w = s & 127):

    p1 = (A1[c0][lo] (128 - w) + A1[c0][lo+1] w) >> 11   (p2 from A2[c0 | prev << 8], p3 from A3)
    p  = clamp((pMix + p1 + p2 + p3 + 2) >> 2, 1, 4095)   (the probability that y = 1)

The cost of the decision is cost(p) if y = 1 else cost(4096 - p). Then every part learns:

    wA_i += (x_i ((y << 12) - pA)) >> mixerShift          (int, wraps like Java's)
    wB_i += (x_i ((y << 12) - pB)) >> mixerShift
    wF_i += (f_i ((y << 12) - pF)) >> mixerShift          (then clamped to +-2^23, as wA and wB)
    A1[c0][nearer knot] += ((y << 16) - A1) >> apmRate    (A2, A3 likewise)
    T[slot_i] = check_i << 26 | ctx_counter(e_i, y, counterLimit);  C_i[nearer knot] likewise
        (ctx_counter: a bit the slot gave less than 1/4, p < 16384 for y = 1 or p > 49151 for y = 0,
        first sets n = min(n, 6), so a slot whose statistics went stale adapts fast again);
    M[ctx] = counter(M[ctx], y, 1023)

After the 8th decision the byte enters the history (a ring of 2^historyBits bytes); the match
model extends a live match (len + 1, up to 65535; pointer + 1), else looks up the position cand
stored under the hash of the last matchMin bytes (a slot of the match index: mix(h) >>> (64 -
matchBits)) and, if 0 < cand < pos and pos - cand < 2^historyBits, counts the bytes before cand
and before pos that agree, backwards, at most min(65535, cand, 2^historyBits - (pos - cand)); it
follows cand when at least matchMin agree. The position is stored under that hash in any case.
Before each decision a match whose predicted byte disagrees with the bits seen so far is dropped
(so a disagreement in the last bit of a byte is noticed only if the next byte disagrees too).
The reset state: context slots p = 32768, no bits, n = 0, check 0; match index 0; maps at squash(128 (j - 16)) * 16
for knot j; mixers A, B and M from the prior (neutral: neural 0.6, contexts 0.2, match 0.4, bias 0 in
16-bit fixed point; M at P(predicted bit) = 1 - 1/(L + 2) for the bucket's length L); the final
mixer at its start. The state ends with wF, so a state written before the final mixer existed (16
bytes shorter) reads with wF at its start.

`write_state()` returns exactly the bytes of Java's `EpisodicLevel.writeTo`, `digest()` their
SHA-256.
"""
from __future__ import annotations

import argparse
import base64
import copy
import dataclasses
import hashlib
import json
import math
import random
import struct
import sys
from array import array
from decimal import Context, Decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

CONTEXTS = 10
INPUTS = CONTEXTS + 4
IN_NEURAL = 0
IN_MATCH = CONTEXTS + 1
IN_BIAS = CONTEXTS + 2
IN_MATCH_LEN = CONTEXTS + 3  # the expected bit with a strength growing with the match length
SETS_A = 8192  # c0 x the class of the previous byte (8) x the class of the byte before (4)
SETS_B = 192  # match bucket x depth x neural confidence x first bit of the byte
APM_KNOTS = 33
APM2_SLOTS = 65536 * APM_KNOTS
MATCH_CONTEXTS = 64
CTX_APM_SETS = 128  # per context: 4 count buckets x the slot's last bits (up to 4, after a leading 1)
PRIOR_FORMAT = "hope4j-episodic-prior"
MAX_MATCH = 65535
MAX_WEIGHT = 1 << 23  # mixer weights stay within +-128 (fixed point 2^16 = 1)
FINAL_INPUTS = 4  # the final mixer's inputs: dA, dB, the neural input, the bias
FINAL_INIT = (32768, 32768, 0, 0)  # dF = (dA + dB) >> 1 exactly
SURPRISE_COUNT = 6  # a context slot's count after a surprise
GOLDEN = 0x9E3779B97F4A7C15
MUL = 0x2127599BF4325C37
MIX_MUL = 0xBF58476D1CE4E5B9
COUNTER_INIT = 32768 << 10
SHARE = 1.0 / 2048  # the fixed share of the mixture with the recent copies (Java's EpisodicLevel.SHARE)
RECENT_TABLE_BITS = 14  # a recent copy's tables (EpisodicConfig.RECENT_TABLE_BITS)
RECENT_MATCH_BITS = 12
LN2 = math.log(2)


def to_int32(v: int) -> int:
    """Java's `(int)` of an integer: the low 32 bits, signed."""
    v &= M32
    return v - (1 << 32) if v >= 1 << 31 else v


def to_int64(v: int) -> int:
    """Java's `(long)`: the low 64 bits, signed."""
    v &= M64
    return v - (1 << 64) if v >= 1 << 63 else v


def d2i(v: float) -> int:
    """Java's `(int)` of a double: NaN -> 0, saturating, toward zero."""
    if v != v:
        return 0
    if v >= 2147483647.0:
        return 2147483647
    if v <= -2147483648.0:
        return -2147483648
    return int(v)


# ----------------------------------------------------------------------------------------------
# the logistic domain (Logistic.java)

KNOTS = (1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047,
         2549, 2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094)


def squash(d: int) -> int:
    """4096 / (1 + e^(-d/256)), piecewise linear between 33 knots; 0 below -2047, 4095 above 2047."""
    if d > 2047:
        return 4095
    if d < -2047:
        return 0
    w = d & 127
    i = (d >> 7) + 16
    return (KNOTS[i] * (128 - w) + KNOTS[i + 1] * w + 64) >> 7


def _stretch_table() -> tuple[int, ...]:
    t = [0] * 4096
    pi = 0
    for x in range(-2047, 2048):
        v = squash(x)
        for i in range(pi, v + 1):
            t[i] = x
        pi = v + 1
    for i in range(pi, 4096):
        t[i] = 2047
    return tuple(t)


STRETCH = _stretch_table()


def _cost_table() -> tuple[float, ...]:
    """-log2(k / 4096) as Java computes it, -Math.log(k / 4096.0) / Math.log(2), with the natural
    logarithm correctly rounded (Decimal at 40 digits, then to double): HotSpot's Math.log gives
    exactly these doubles for all 4096 arguments, while the C library's log (math.log) is off by
    one ulp for k = 3121, 3180 and 3731. COST[0] is unused."""
    ctx = Context(prec=40)
    ln2 = float(ctx.ln(Decimal(2)))
    return (0.0,) + tuple(-float(ctx.ln(Decimal(k) / 4096)) / ln2 for k in range(1, 4097))


COST = _cost_table()
# the counter's rate 2 / (2n + 3) in 16 bits
RATE = tuple(131072 // (2 * n + 3) for n in range(1024))


def stretch(p: int) -> int:
    """The inverse of squash: the smallest d with squash(d) >= p (p in 0..4095)."""
    return STRETCH[p]


def cost(k: int) -> float:
    """Bits of an event of probability k / 4096."""
    return COST[k]


def clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else min(v, hi)


def counter(e: int, y: int, limit: int) -> int:
    """An adaptive probability slot: 16-bit p in bits 10..25, count n in bits 0..9;
    p += (y - p) 2 / (2n + 3), n capped at limit."""
    p = (e & M32) >> 10  # e >>> 10
    n = e & 1023
    target = 65535 if y == 1 else 0
    p += ((target - p) * RATE[n]) >> 16  # |product| < 2^39: the (int) of Java never wraps here
    if n < limit:
        n += 1
    return to_int32((p << 10) | n)


def _class8(c: int) -> int:
    if 97 <= c <= 122:
        return 0
    if 65 <= c <= 90:
        return 1
    if 48 <= c <= 57:
        return 2
    if c == 32:
        return 3
    if c == 10:
        return 4
    if c >= 128:
        return 5
    return 6 if c in b".,;:!?" else 7


def _class4(c: int) -> int:
    if 97 <= c <= 122 or 65 <= c <= 90 or c >= 128:
        return 0
    return 1 if 48 <= c <= 57 else 2 if c == 32 else 3


CLASS8 = tuple(_class8(c) for c in range(256))  # mixer A: a-z, A-Z, digit, space, newline, >= 128, . , ; : ! ?, other
CLASS4 = tuple(_class4(c) for c in range(256))  # and the byte before: letter (or >= 128), digit, space, other


def ctx_counter(e: int, y: int, limit: int) -> int:
    """A context slot (without its check): 16-bit p in bits 10..25, the last bits seen (up to 4,
    after a leading 1; 0 = none) in bits 5..9, the count n in bits 0..4. A surprise (the slot gave
    the bit less than 1/4) first brings n down to at most SURPRISE_COUNT."""
    p = e >> 10
    n = e & 31
    hh = max((e >> 5) & 31, 1)
    if (p < 16384) if y == 1 else (p > 49151):  # a surprise: the slot gave this bit less than 1/4
        n = min(n, SURPRISE_COUNT)
    p += (((65535 if y == 1 else 0) - p) * RATE[n]) >> 16
    if n < limit:
        n += 1
    hh = (hh << 1) | y
    if hh >= 32:
        hh = (hh & 15) | 16
    return (p << 10) | (hh << 5) | n


def mix(h: int) -> int:
    """The 64-bit finaliser of the hashes (h unsigned, as Java's long bits)."""
    h ^= h >> 29
    h = (h * MIX_MUL) & M64
    h ^= h >> 32
    return h


def length_bucket(n: int) -> int:
    return n if n < 16 else min(16 + ((n - 16) >> 3), 31)


# ----------------------------------------------------------------------------------------------
# configuration and prior (EpisodicConfig.java, EpisodicLevel.Prior)

JAVA_NAMES = ("tableBits", "historyBits", "matchBits", "matchMin", "counterLimit", "mixerShift", "apmRate", "recentLevels",
              "recentBytes")


@dataclass(frozen=True)
class EpisodicConfig:
    """Sizes and rates of level E (Java's record EpisodicConfig; `to_java()` gives its field names)."""
    table_bits: int
    history_bits: int
    match_bits: int
    match_min: int
    counter_limit: int
    mixer_shift: int
    apm_rate: int
    recent_levels: int = 0  # short-lived copies mixed in byte by byte (Java's recentLevels)
    recent_bytes: int = 2048  # the life of each, in bytes

    def __post_init__(self) -> None:
        for name, jname, lo, hi in (("table_bits", "tableBits", 10, 26), ("history_bits", "historyBits", 12, 30),
                                    ("match_bits", "matchBits", 10, 26), ("match_min", "matchMin", 2, 32),
                                    ("counter_limit", "counterLimit", 1, 31), ("mixer_shift", "mixerShift", 8, 24),
                                    ("apm_rate", "apmRate", 1, 14), ("recent_levels", "recentLevels", 0, 4),
                                    ("recent_bytes", "recentBytes", 256, 65536)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or v > hi:
                raise ValueError(f"episodic {jname} must be in {lo}..{hi}, found {v}")
        if self.recent_levels > 0 and self.recent_bytes % self.recent_levels != 0:
            raise ValueError(f"episodic recentBytes must be a multiple of recentLevels ({self.recent_levels}), "
                             f"found {self.recent_bytes}")

    @staticmethod
    def defaults() -> EpisodicConfig:
        return EpisodicConfig(19, 20, 18, 4, 30, 11, 6, 2, 2048)

    def recent(self) -> EpisodicConfig:
        """A recent copy's configuration (Java's recent())."""
        hb = max(12, (self.recent_bytes - 1).bit_length())
        return EpisodicConfig(RECENT_TABLE_BITS, hb, RECENT_MATCH_BITS, self.match_min, self.counter_limit, self.mixer_shift,
                              self.apm_rate, 0, self.recent_bytes)

    def _tables(self) -> int:
        return 4 * (CONTEXTS << self.table_bits) + (1 << self.history_bits) + 4 * (1 << self.match_bits)

    def bytes(self) -> int:
        """Bytes the level's tables take (Java's bytes())."""
        return self._tables() + 4 * APM2_SLOTS + self.recent_levels * self.recent()._tables()

    def to_java(self) -> dict[str, int]:
        return dict(zip(JAVA_NAMES, dataclasses.astuple(self)))

    @staticmethod
    def from_java(d: dict[str, int]) -> EpisodicConfig:
        return EpisodicConfig(*(d[k] for k in JAVA_NAMES))


def _gson_string(s: str) -> str:
    """A JSON string as Gson's default (HTML-safe) writer writes it."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\f":
            out.append("\\f")
        elif o < 0x20 or ch in "<>&='" or o in (0x2028, 0x2029):
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass
class Prior:
    """The initial mixer weights (16-bit fixed point) and match confidences (counters) of level E."""
    weights_a: list[int]
    weights_b: list[int]
    match_map: list[int]

    def __post_init__(self) -> None:
        if len(self.weights_a) != SETS_A * INPUTS or len(self.weights_b) != SETS_B * INPUTS or len(self.match_map) != MATCH_CONTEXTS:
            raise ValueError(f"episodic prior: weights must be {SETS_A * INPUTS} + {SETS_B * INPUTS} and the match map "
                             f"{MATCH_CONTEXTS} values, found {len(self.weights_a)} + {len(self.weights_b)} and {len(self.match_map)}")
        self.weights_a = [to_int32(v) for v in self.weights_a]
        self.weights_b = [to_int32(v) for v in self.weights_b]
        self.match_map = [to_int32(v) for v in self.match_map]

    @staticmethod
    def neutral() -> Prior:
        """The neural input at weight 0.6, each context 0.2, the match model 0.4, the bias 0 (in
        the mixer B sets of a live match: match 0.6 and neural 0.5 when shorter than 16 bytes, match
        1.0 and neural 0.3 when longer); the match model's confidence starts at 1 - 1/(L + 2) for
        a match of (representative) length L of its length bucket (L = bucket below 16, else
        16 + 8 (bucket - 16)), count 0."""
        w = [0] * INPUTS
        w[IN_NEURAL] = int(0.6 * 65536)
        for i in range(1, CONTEXTS + 1):
            w[i] = int(0.2 * 65536)
        w[IN_MATCH] = int(0.4 * 65536)
        b = []
        for s in range(SETS_B):
            ws = list(w)
            bucket = s // 48  # 0: no match, 1: shorter than 16, 2: shorter than 32, 3: longer
            if bucket >= 1:
                ws[IN_MATCH] = int(0.6 * 65536) if bucket == 1 else 65536
                ws[IN_NEURAL] = int(0.5 * 65536) if bucket == 1 else int(0.3 * 65536)
                ws[IN_MATCH_LEN] = 0 if bucket == 1 else int(0.5 * 65536)
            b += ws
        m = [0] * MATCH_CONTEXTS
        for bucket in range(MATCH_CONTEXTS // 2):
            n = bucket if bucket < 16 else 16 + 8 * (bucket - 16)
            right = 65535 - 65536 // (n + 2)
            m[2 * bucket] = (65535 - right) << 10  # the match predicts a 0: P(1) is low
            m[2 * bucket + 1] = right << 10
        return Prior(w * SETS_A, b, m)

    def to_json(self, fitted_on: str | None) -> str:
        """Exactly the text of Java's Prior.toJson (Gson, compact; a null fitted_on is left out)."""
        parts = [f'"format":{_gson_string(PRIOR_FORMAT)}', '"format_version":1', f'"inputs":{INPUTS}']
        if fitted_on is not None:
            parts.append(f'"fitted_on":{_gson_string(fitted_on)}')
        for key, a in (("weights_a", self.weights_a), ("weights_b", self.weights_b), ("match_map", self.match_map)):
            parts.append(f'"{key}":[' + ",".join(str(v) for v in a) + "]")
        return "{" + ",".join(parts) + "}"

    @staticmethod
    def from_json(data: bytes | str, origin: str) -> Prior:
        """Parses to_json's text; errors (ValueError) name origin and the field."""
        try:
            r = json.loads(data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data)
        except ValueError as e:
            raise ValueError(f"{origin}: not a valid episodic prior: {e}") from e
        if not isinstance(r, dict) or r.get("format") != PRIOR_FORMAT or r.get("format_version") != 1:
            raise ValueError(f"{origin}: format must be {PRIOR_FORMAT} version 1")
        if r.get("inputs") != INPUTS or any(not isinstance(r.get(k), list) for k in ("weights_a", "weights_b", "match_map")):
            raise ValueError(f"{origin}: inputs must be {INPUTS} with weights_a, weights_b and match_map present, found inputs {r.get('inputs')}")
        for k in ("weights_a", "weights_b", "match_map"):
            if any(isinstance(v, bool) or not isinstance(v, int) or not -2**31 <= v < 2**31 for v in r[k]):
                raise ValueError(f"{origin}: {k} must hold 32-bit integers")
        for v in r["match_map"]:
            if v < 0 or (v >> 10) > 65535:
                raise ValueError(f"{origin}: match_map values must be counters (p << 10 | n), found {v}")
        try:
            return Prior(r["weights_a"], r["weights_b"], r["match_map"])
        except ValueError as e:
            raise ValueError(f"{origin}: {e}") from e


# ----------------------------------------------------------------------------------------------
# the level (EpisodicLevel.java)

_SCALARS = ("pos", "c0", "bit_index", "word_hash", "prev_word_hash", "line_start", "prev_line_start",
            "match_ptr", "match_len", "expected")


def confidence_steps(confidence: float) -> int:
    """The confidence of EpisodicLevel.age in steps of 1/256 (Java's Math.round)."""
    return int(math.floor(confidence * 256 + 0.5))


def aged_slot(v: int, max_count: int, keep: int) -> int:
    """One context slot aged: count capped at max_count, p - 1/2 scaled by keep/256 (floored)."""
    if v & 31 > max_count:
        v = (v & ~31) | max_count
    if keep < 256:
        p = (v >> 10) & 0xFFFF
        p = 32768 + (((p - 32768) * keep) >> 8)
        v = (v & ~(0xFFFF << 10)) | (p << 10)
    return v


class EpisodicLevel:
    """Level E: context tables, match model, two mixers and two maps, learning at every bit."""

    def __init__(self, cfg: EpisodicConfig, prior: Prior, is_recent: bool = False) -> None:
        self.cfg = cfg
        self.prior = prior
        self.is_recent = is_recent  # a recent copy: no map on c0 and the previous byte
        self.recent = [EpisodicLevel(cfg.recent(), prior, True) for _ in range(cfg.recent_levels)]
        self._cum = [0.0] * 257  # the neural distribution's cumulative sums, shared with the recent copies
        for r in self.recent:
            r._cum = self._cum
        n = cfg.recent_levels + 1
        self.weight = [1.0 / n] * n  # the mixture's weights over this level and its copies, at the byte's start
        self.post = [1.0 / n] * n  # the same given the bits of this byte so far
        self._member_p = [0] * n
        self.table_bits = cfg.table_bits
        self.ctx_slots = CONTEXTS << cfg.table_bits
        self.match_base = self.ctx_slots
        self.apm2_base = self.match_base + (1 << cfg.match_bits)
        self.hist_size = 1 << cfg.history_bits
        self.hist_mask = self.hist_size - 1
        self.match_shift = 64 - cfg.match_bits
        self._x = [0] * INPUTS
        self._slot = [0] * CONTEXTS
        self._cur = [0] * CONTEXTS
        self._chk = [0] * CONTEXTS
        self._ctx_apm_idx = [0] * CONTEXTS
        self._ctx_hash = [0] * CONTEXTS
        self._set_a = self._set_b = self._match_ctx = self._pA = self._pB = self._pF = self._p_mix = 0
        self._xF = [0] * FINAL_INPUTS
        self._apm1_idx = self._apm2_idx = self._apm3_idx = 0
        self._txn: dict | None = None
        self.reset()

    # state -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forgets everything read: empty tables and history, mixer and maps back to the prior (the recent copies too)."""
        if self._txn is not None:
            raise RuntimeError("episodic level: reset inside a transaction")
        self._clear()
        for r in self.recent:
            r._clear()
        n = len(self.weight)
        self.weight = [1.0 / n] * n
        self.post = [1.0 / n] * n

    def _clear(self) -> None:
        """This level's own state emptied (Java's clear(); inside a transaction the saved copies stay intact)."""
        apm = [squash((j - 16) * 128) * 16 for j in range(APM_KNOTS)]
        # big = [context tables (10 << tableBits) | match index (1 << matchBits) | map A2 (65536 x 33; not in a recent copy)]
        self.big = [COUNTER_INIT] * self.ctx_slots + [0] * (1 << self.cfg.match_bits) + ([] if self.is_recent else apm * 65536)
        self.hist = bytearray(self.hist_size)
        self.apm1 = apm * 256
        self.apm3 = apm * (MATCH_CONTEXTS + 1)
        self.ctx_apm = apm * (CONTEXTS * CTX_APM_SETS)
        self.wA = list(self.prior.weights_a)
        self.wB = list(self.prior.weights_b)
        self.match_map = list(self.prior.match_map)
        self.wF = list(FINAL_INIT)
        self.pos = 0
        self.c0 = 1
        self.bit_index = 0
        self.word_hash = self.prev_word_hash = 0  # longs, kept unsigned
        self.line_start = self.prev_line_start = 0
        self.match_ptr = 0
        self.match_len = 0
        self.expected = -1
        self.context_hashes()

    def forget_matches(self) -> None:
        """History and match index emptied, the match model's counters back to the prior (Java's forgetMatches); the
        context tables, the mixers and the maps stay."""
        if self._txn is not None:
            raise RuntimeError("episodic level: forgetMatches inside a transaction")
        self.big[self.match_base:self.apm2_base] = [0] * (self.apm2_base - self.match_base)
        self.hist = bytearray(self.hist_size)
        self.match_map = list(self.prior.match_map)
        self.match_ptr = 0
        self.match_len = 0
        self.expected = -1
        for r in self.recent:
            r.forget_matches()

    def recalibrate(self) -> None:
        """Every adaptive probability map back to identity (Java's recalibrate); the tables, the history, the match
        model and the mixers stay. A sleep's commit does this when aging the tables leaves general text above its bound."""
        if self._txn is not None:
            raise RuntimeError("episodic level: recalibrate inside a transaction")
        apm = [squash((j - 16) * 128) * 16 for j in range(APM_KNOTS)]
        if not self.is_recent:
            self.big[self.apm2_base:] = apm * 65536
        self.apm1 = apm * 256
        self.apm3 = apm * (MATCH_CONTEXTS + 1)
        self.ctx_apm = apm * (CONTEXTS * CTX_APM_SETS)
        for r in self.recent:
            r.recalibrate()

    def age(self, max_count: int, confidence: float = 1.0) -> None:
        """Softens the context tables (Java's age): every slot's count n becomes min(n, max_count) and
        its probability p moves toward 1/2, keeping the share confidence of p - 1/2 (in steps of
        1/256, floored); its last bits, the history, the match model, the mixers and the maps stay."""
        if self._txn is not None:
            raise RuntimeError("episodic level: age inside a transaction")
        if not 0 <= max_count <= 31:
            raise ValueError(f"episodic age: maxCount must be in 0..31, found {max_count}")
        if not 0 <= confidence <= 1:
            raise ValueError(f"episodic age: confidence must be in [0, 1], found {confidence}")
        keep = confidence_steps(confidence)
        big = self.big
        for i in range(self.ctx_slots):
            big[i] = aged_slot(big[i], max_count, keep)
        for r in self.recent:
            r.age(max_count, confidence)

    def learned(self) -> Prior:
        """What the mixer and the match model have learned so far, as a prior."""
        return Prior(list(self.wA), list(self.wB), list(self.match_map))

    def position(self) -> int:
        return self.pos

    # one byte ----------------------------------------------------------------------------------

    def code(self, logits: Sequence[float] | None, b: int) -> float:
        """Codes byte b under the mixture of softmax(logits) (256 float32 values; None: uniform)
        and this level, then learns from it; returns the bits of b."""
        self.neural(logits)
        return self.code_bits(b)

    def code_probabilities(self, probs: Sequence[float], b: int) -> float:
        """As code, from probabilities (doubles, any positive scale) instead of logits."""
        cum = self._cum
        cum[0] = 0.0
        acc = 0.0
        for j in range(256):
            acc = acc + float(probs[j])
            cum[j + 1] = acc
        return self.code_bits(b)

    def code_bits(self, b: int) -> float:
        if self.recent:
            return self._code_mixed(b)
        bits = 0.0
        for k in range(8):
            y = (b >> (7 - k)) & 1
            p = self.predict_bit()
            bits += COST[p if y == 1 else 4096 - p]
            self.update_bit(y)
        self.end_byte(b & 0xFF)
        return bits

    def sample(self, logits: Sequence[float] | None, temperature: float, rnd: JavaRandom) -> int:
        """Chooses the next byte bit by bit from the mixture, learning each bit as it is chosen.
        Exact for temperature 0; otherwise it relies on math.exp agreeing with Java's Math.exp."""
        self.neural(logits)
        if self.recent:
            return self._sample_mixed(temperature, rnd)
        b = 0
        for _ in range(8):
            p = self.predict_bit()
            if temperature == 0:
                y = 1 if p >= 2048 else 0
            else:
                s = STRETCH[p] / 256.0 / temperature
                y = 1 if rnd.next_double() < 1 / (1 + math.exp(-s)) else 0
            self.update_bit(y)
            b = (b << 1) | y
        self.end_byte(b)
        return b

    # the mixture with the recent copies (Java's codeMixed, sampleMixed) ------------------------

    def _code_mixed(self, b: int) -> float:
        self._start_mixed_byte()
        bits = 0.0
        for k in range(8):
            y = (b >> (7 - k)) & 1
            p1 = self._mixed_bit()
            bits -= math.log(p1 if y == 1 else 1 - p1) / LN2
            self._learn_mixed_bit(y)
        self._end_mixed_byte(b & 0xFF)
        return bits

    def _sample_mixed(self, temperature: float, rnd: JavaRandom) -> int:
        self._start_mixed_byte()
        b = 0
        for _ in range(8):
            p1 = self._mixed_bit()
            if temperature == 0:
                y = 1 if p1 >= 0.5 else 0
            else:
                s = math.log(p1 / (1 - p1)) / temperature
                y = 1 if rnd.next_double() < 1 / (1 + math.exp(-s)) else 0
            self._learn_mixed_bit(y)
            b = (b << 1) | y
        self._end_mixed_byte(b)
        return b

    def _start_mixed_byte(self) -> None:
        """Empties the recent copies whose life ends at this byte (they share this level's _cum)."""
        span = self.cfg.recent_bytes
        step = span // len(self.recent)
        for j, r in enumerate(self.recent):
            if self.pos > 0 and (self.pos + j * step) % span == 0:
                r._clear()

    def _mixed_bit(self) -> float:
        mp = self._member_p
        mp[0] = self.predict_bit()
        for j, r in enumerate(self.recent):
            mp[j + 1] = r.predict_bit()
        s = 0.0
        for i in range(len(mp)):
            s += self.post[i] * mp[i]
        return s / 4096

    def _learn_mixed_bit(self, y: int) -> None:
        post = self.post
        mp = self._member_p
        z = 0.0
        for i in range(len(post)):
            post[i] *= mp[i] if y == 1 else 4096 - mp[i]
            z += post[i]
        for i in range(len(post)):
            post[i] /= z
        self.update_bit(y)
        for r in self.recent:
            r.update_bit(y)

    def _end_mixed_byte(self, b: int) -> None:
        self.end_byte(b)
        for r in self.recent:
            r.end_byte(b)
        uniform = SHARE / len(self.weight)
        for i in range(len(self.weight)):
            self.weight[i] = (1 - SHARE) * self.post[i] + uniform
            self.post[i] = self.weight[i]

    def neural(self, logits: Sequence[float] | None) -> None:
        """cum[j] = sum_{i<j} exp(logit_i - max) in double (logits rounded to float32 first)."""
        cum = self._cum
        cum[0] = 0.0
        if logits is None:
            for j in range(256):
                cum[j + 1] = float(j + 1)
            return
        lf = array("f", [float(v) for v in logits[:256]]).tolist()
        mx = -math.inf
        for v in lf:  # Java's Math.max(float, float): NaN wins
            if v != v or mx != mx:
                mx = math.nan
            elif v > mx:
                mx = v
        acc = 0.0
        for j in range(256):
            acc = acc + math.exp(lf[j] - mx)
            cum[j + 1] = acc

    def neural_bit(self) -> int:
        """P(bit = 1 | c0) of the neural distribution, in 12 bits (1..4095)."""
        cum = self._cum
        k = self.bit_index
        lo = (self.c0 - (1 << k)) << (8 - k)
        width = 1 << (8 - k)
        hi = cum[lo + width]
        total = hi - cum[lo]
        if not total > 0:
            return 2048
        p1 = (hi - cum[lo + width // 2]) / total
        return clamp(d2i(math.floor(p1 * 4096 + 0.5)) if p1 == p1 else 0, 1, 4095)

    def predict_bit(self) -> int:
        """P(y = 1) of the next decision in 12 bits (1..4095); fills the scratch update_bit uses."""
        x = self._x
        xn = STRETCH[self.neural_bit()]
        x[0] = xn
        c0 = self.c0
        c0h = (c0 * GOLDEN) & M64
        big = self.big
        tb = self.table_bits
        sh = 64 - tb
        slot = self._slot
        ctx = self._ctx_hash
        ctx_apm = self.ctx_apm
        ctx_apm_idx = self._ctx_apm_idx
        cur = self._cur
        chk = self._chk
        for i in range(CONTEXTS):
            h = (ctx[i] + c0h) & M64
            h ^= h >> 29
            h = (h * MIX_MUL) & M64
            h ^= h >> 32
            s = (i << tb) + (h >> sh)
            # two slots per context (s and s ^ 1): the one whose check bits match, else the context is
            # unseen and takes the one of lower count (an unwritten slot has count 0)
            check = h & 63
            raw = big[s] & M32
            other = big[s ^ 1] & M32
            if (raw >> 26) == check:
                e = raw & 0x3FFFFFF
            elif (other >> 26) == check:
                e = other & 0x3FFFFFF
                s ^= 1
            else:
                e = COUNTER_INIT
                if (other & 31) < (raw & 31):
                    s ^= 1
            slot[i] = s
            cur[i] = e
            chk[i] = check << 26
            # the slot's probability, calibrated by an adaptive map per context, count bucket and last bits
            st = STRETCH[e >> 14] + 2048
            lo = st >> 7
            w = st & 127
            n = e & 31
            hh = max((e >> 5) & 31, 1)
            a = ((((i << 2) + (0 if n < 4 else 1 if n < 8 else 2 if n < 16 else 3)) * 32) + hh) * APM_KNOTS + lo
            pc = (ctx_apm[a] * (128 - w) + ctx_apm[a + 1] * w) >> 11
            ctx_apm_idx[i] = a if w < 64 else a + 1
            x[1 + i] = STRETCH[clamp(pc, 1, 4095)]
        depth = 0
        while depth < 5 and (cur[depth] & 31) != 0:
            depth += 1
        # match model: follows the earlier occurrence while its bits agree with this byte so far
        bi = self.bit_index
        expected = self.expected
        if expected >= 0 and ((expected + 256) >> (8 - bi)) != c0:
            self.match_len = 0
            self.expected = expected = -1
        bucket = 0
        if expected >= 0:
            eb = (expected >> (7 - bi)) & 1
            ml = self.match_len
            mc = length_bucket(ml) * 2 + eb
            x[IN_MATCH] = STRETCH[(self.match_map[mc] & M32) >> 14]
            strength = min(ml, 32) * 64 - 1
            x[IN_MATCH_LEN] = strength if eb == 1 else -strength
            bucket = 1 if ml < 16 else 2 if ml < 32 else 3
        else:
            mc = -1
            x[IN_MATCH] = 0
            x[IN_MATCH_LEN] = 0
        self._match_ctx = mc
        x[IN_BIAS] = 256
        conf = abs(xn)
        pos = self.pos
        prev1 = self.hist[(pos - 1) & self.hist_mask] if pos > 0 else 0
        prev2 = self.hist[(pos - 2) & self.hist_mask] if pos > 1 else 0
        set_a = (c0 | CLASS8[prev1] << 8 | CLASS4[prev2] << 11) * INPUTS
        set_b = (((bucket * 6 + depth) * 4 + (0 if conf < 256 else 1 if conf < 512 else 2 if conf < 1024 else 3)) * 2
                 + (1 if bi == 0 else 0)) * INPUTS
        self._set_a = set_a
        self._set_b = set_b
        # dot: |x_i| <= 2047 and |w| <= 2^31, so |sum| < 2^46 and Java's (int)(sum >> 16) never wraps
        wA = self.wA
        wB = self.wB
        sa = 0
        sb = 0
        for i in range(INPUTS):
            xi = x[i]
            sa += xi * wA[set_a + i]
            sb += xi * wB[set_b + i]
        dA = clamp(sa >> 16, -2047, 2047)
        dB = clamp(sb >> 16, -2047, 2047)
        self._pA = squash(dA)
        self._pB = squash(dB)
        xF = self._xF
        xF[0] = dA
        xF[1] = dB
        xF[2] = x[IN_NEURAL]
        xF[3] = 256
        wF = self.wF
        dF = clamp(sum(xF[i] * wF[i] for i in range(FINAL_INPUTS)) >> 16, -2047, 2047)
        self._pF = squash(dF)
        p_mix = clamp(self._pF, 1, 4095)
        self._p_mix = p_mix
        s = STRETCH[p_mix] + 2048
        lo = s >> 7
        w = s & 127
        pos = self.pos
        prev = self.hist[(pos - 1) & self.hist_mask] if pos > 0 else 0
        a1 = c0 * APM_KNOTS + lo
        apm1 = self.apm1
        # map entries stay in 0..65536 (moves toward 0 or 65536 by at most half): no int overflow
        p1 = (apm1[a1] * (128 - w) + apm1[a1 + 1] * w) >> 11
        a3 = (mc if mc >= 0 else MATCH_CONTEXTS) * APM_KNOTS + lo
        apm3 = self.apm3
        p3 = (apm3[a3] * (128 - w) + apm3[a3 + 1] * w) >> 11
        self._apm1_idx = a1 if w < 64 else a1 + 1
        self._apm3_idx = a3 if w < 64 else a3 + 1
        if self.is_recent:
            return clamp((p_mix + p1 + p3 + 1) // 3, 1, 4095)
        a2 = self.apm2_base + (c0 | prev << 8) * APM_KNOTS + lo
        p2 = (big[a2] * (128 - w) + big[a2 + 1] * w) >> 11
        self._apm2_idx = a2 if w < 64 else a2 + 1
        return clamp((p_mix + p1 + p2 + p3 + 2) >> 2, 1, 4095)

    def _train(self, x: list[int], w: list[int], base: int, err: int) -> None:
        shift = self.cfg.mixer_shift
        for i in range(len(x)):
            # (long) x * err >> shift fits an int; the int += may wrap in Java
            v = w[base + i] + ((x[i] * err) >> shift)
            w[base + i] = -MAX_WEIGHT if v < -MAX_WEIGHT else (MAX_WEIGHT if v > MAX_WEIGHT else v)

    def update_bit(self, y: int) -> None:
        """Learns decision y (after predict_bit)."""
        self._train(self._x, self.wA, self._set_a, (y << 12) - self._pA)
        self._train(self._x, self.wB, self._set_b, (y << 12) - self._pB)
        self._train(self._xF, self.wF, 0, (y << 12) - self._pF)
        target = y << 16
        rate = self.cfg.apm_rate
        apm1 = self.apm1
        i = self._apm1_idx
        apm1[i] += (target - apm1[i]) >> rate
        apm3 = self.apm3
        i = self._apm3_idx
        apm3[i] += (target - apm3[i]) >> rate
        big = self.big
        if not self.is_recent:
            i = self._apm2_idx
            big[i] = big[i] + ((target - big[i]) >> rate)
        limit = self.cfg.counter_limit
        for s, e, c in zip(self._slot, self._cur, self._chk):
            big[s] = to_int32(c | ctx_counter(e, y, limit))
        ctx_apm = self.ctx_apm
        for i in self._ctx_apm_idx:
            ctx_apm[i] += (target - ctx_apm[i]) >> rate
        mc = self._match_ctx
        if mc >= 0:
            self.match_map[mc] = counter(self.match_map[mc], y, 1023)
        self.c0 = (self.c0 << 1) | y
        self.bit_index += 1

    def end_byte(self, b: int) -> None:
        """The byte enters the history, the word, line and match state, and the context hashes."""
        hist = self.hist
        mask = self.hist_mask
        hist[self.pos & mask] = b
        self.pos += 1
        pos = self.pos
        self.c0 = 1
        self.bit_index = 0
        letter = (97 <= b <= 122) or (65 <= b <= 90) or b >= 128
        if letter:
            self.word_hash = ((self.word_hash + (b + 32 if 65 <= b <= 90 else b) + 1) * MUL) & M64
        elif self.word_hash != 0:
            self.prev_word_hash = self.word_hash
            self.word_hash = 0
        if b == 10:
            self.prev_line_start = self.line_start
            self.line_start = pos
        # match model
        if self.match_len > 0 and self.expected == b:
            self.match_len = min(self.match_len + 1, MAX_MATCH)
            self.match_ptr += 1
        else:
            self.match_len = 0
        mm = self.cfg.match_min
        if pos >= mm:
            h = 0
            for j in range(1, mm + 1):
                h = ((h + hist[(pos - j) & mask] + 1) * MUL) & M64
            idx = self.match_base + (mix(h) >> self.match_shift)
            if self.match_len == 0:
                # the index keeps positions modulo 2^32 (0: empty); the distance back recovers the position
                stored = self.big[idx]
                cand = pos - ((pos - stored) & M32)
                if stored != 0 and 0 < cand < pos and pos - cand < self.hist_size:
                    # verify backwards, only over bytes still in the history ring
                    max_len = min(MAX_MATCH, cand, self.hist_size - (pos - cand))
                    n = 0
                    while n < max_len and hist[(cand - 1 - n) & mask] == hist[(pos - 1 - n) & mask]:
                        n += 1
                    if n >= mm:
                        self.match_len = n
                        self.match_ptr = cand
            self.big[idx] = to_int32(pos)
        self.expected = hist[self.match_ptr & mask] if self.match_len > 0 else -1
        self.context_hashes()

    def context_hashes(self) -> None:
        """The hashes of the ten contexts of the next byte (derived state, not saved)."""
        hist = self.hist
        mask = self.hist_mask
        pos = self.pos
        ctx = self._ctx_hash
        for i, order in enumerate((1, 2, 3, 4, 6)):
            h = ((i + 1) * GOLDEN) & M64
            for j in range(1, order + 1):
                h = ((h + (hist[(pos - j) & mask] if pos - j >= 0 else 256) + 1) * MUL) & M64
            ctx[i] = h
        ctx[5] = ((self.word_hash * 31 + self.prev_word_hash + 6) * MUL) & M64
        col = pos - self.line_start
        above = hist[(self.prev_line_start + col) & mask] if self.prev_line_start + col < self.line_start else 256
        left = hist[(pos - 1) & mask] if pos > 0 else 256
        ctx[6] = (((above + 1) * 1024 + left + 7) * MUL) & M64
        # the last 5 bytes with every digit read as '0'
        h = (8 * GOLDEN) & M64
        for j in range(1, 6):
            c = hist[(pos - j) & mask] if pos - j >= 0 else 256
            h = ((h + (48 if 48 <= c <= 57 else c) + 1) * MUL) & M64
        ctx[7] = h
        # the current word alone (its letters so far; 0 between words)
        ctx[8] = (((self.word_hash + 9) * MUL & M64) * MUL) & M64
        # the current token (up to 32 bytes since the last space or newline) with its field number in the
        # line (spaces since the line start, looked for at most 256 bytes back, capped at 31)
        th = 0
        j = pos - 1
        n = 0
        while j >= 0 and n < 32:
            c = hist[j & mask]
            if c == 32 or c == 10:
                break
            th = ((th + c + 1) * MUL) & M64
            j -= 1
            n += 1
        fields = 0
        q = j
        while q >= 0 and q >= pos - 256:
            c = hist[q & mask]
            if c == 10:
                break
            if c == 32:
                fields += 1
            q -= 1
        ctx[9] = ((((th * 31 + min(fields, 31) + 10) & M64) * MUL & M64) * MUL) & M64

    # persistence -------------------------------------------------------------------------------

    def _int_arrays(self) -> tuple[list[int], ...]:
        return self.wA, self.wB, self.apm1, self.apm3, self.ctx_apm, self.match_map, self.big

    def _own_size(self) -> int:
        return 12 + 8 * len(_SCALARS) + 4 * sum(len(a) for a in self._int_arrays()) + self.hist_size + 4 * FINAL_INPUTS

    def state_size(self) -> int:
        """The length of write_state()."""
        n = self._own_size() + sum(r.state_size() for r in self.recent)
        return n + 8 * len(self.weight) if self.recent else n

    def write_state(self) -> bytes:
        """The whole state, exactly as Java's writeTo(DataOutputStream) writes it (big-endian)."""
        cfg = self.cfg
        parts = [struct.pack(">3i", cfg.table_bits, cfg.history_bits, cfg.match_bits),
                 struct.pack(">10q", *(to_int64(getattr(self, k)) for k in _SCALARS))]
        for a in self._int_arrays():
            arr = array("i", a)
            if sys.byteorder == "little":
                arr.byteswap()
            parts.append(arr.tobytes())
        parts.append(bytes(self.hist))
        parts.append(struct.pack(">4i", *self.wF))  # after the tables: a state written before the final mixer still reads
        # then the recent copies and the mixture's weights: a state written before them still reads
        for r in self.recent:
            parts.append(r.write_state())
        if self.recent:
            parts.append(struct.pack(f">{len(self.weight)}d", *self.weight))
        return b"".join(parts)

    def digest(self) -> str:
        """SHA-256 (hex) of write_state(): equal digests, equal levels."""
        return hashlib.sha256(self.write_state()).hexdigest()

    def read_state(self, data: bytes) -> None:
        """Replaces the whole state with one written by write_state for the same table sizes
        (Java's readFrom); on any error (ValueError) this level is unchanged."""
        own = self._own_size()
        old = own - 4 * FINAL_INPUTS  # written before the final mixer existed
        copies, w = None, None
        if len(data) == old:
            parsed = self._parse(data, True)
        else:
            parsed = self._parse(data[:own], False)
            rest = data[own:]
            if rest and self.recent:
                copies = []
                off = 0
                for r in self.recent:
                    size = r._own_size()
                    if len(rest) < off + size:
                        raise ValueError("episodic state is short")
                    copies.append(r._parse(rest[off:off + size], False))
                    off += size
                n = len(self.weight)
                if len(rest) < off + 8 * n:
                    raise ValueError("episodic state is short")
                w = list(struct.unpack_from(f">{n}d", rest, off))
                for i, v in enumerate(w):
                    if not 0 < v <= 1:
                        raise ValueError(f"episodic recent-copy weight {i} is not in (0, 1]: {v}")
                if abs(sum(w) - 1) > 1e-9:
                    raise ValueError(f"episodic recent-copy weights sum to {sum(w)}, not 1")
                rest = rest[off + 8 * n:]
            if rest:
                raise ValueError("episodic state has trailing data")
        if self._txn is not None:
            raise RuntimeError("episodic level: restore inside a transaction")
        self._apply(parsed)
        for j, r in enumerate(self.recent):
            if copies is None:
                r._clear()  # written before the recent copies: they start empty
            else:
                r._apply(copies[j])
        n = len(self.weight)
        self.weight = list(w) if w is not None else [1.0 / n] * n
        self.post = list(self.weight)

    def _parse(self, data: bytes, without_final: bool) -> tuple:
        """One level's own state (without its recent copies), checked, not applied."""
        cfg = self.cfg
        if len(data) < 12:
            raise ValueError("episodic state is short")
        tb, hb, mb = struct.unpack_from(">3i", data, 0)
        if (tb, hb, mb) != (cfg.table_bits, cfg.history_bits, cfg.match_bits):
            raise ValueError(f"episodic tables are 2^{tb}/2^{hb}/2^{mb} (table/history/match), this learner's are "
                             f"2^{cfg.table_bits}/2^{cfg.history_bits}/2^{cfg.match_bits}")
        own = self._own_size()
        if len(data) < (own - 4 * FINAL_INPUTS if without_final else own):
            raise ValueError("episodic state is short")
        wF = list(FINAL_INIT)
        if not without_final:
            wF = list(struct.unpack_from(">4i", data, own - 4 * FINAL_INPUTS))
            for i, w in enumerate(wF):
                if not -MAX_WEIGHT <= w <= MAX_WEIGHT:
                    raise ValueError(f"episodic final mixer weight {i} is out of -2^23..2^23: {w}")
        v = list(struct.unpack_from(">10q", data, 12))
        # c0 is the partial byte with a leading 1: it has exactly bit_index bits after it
        if (v[0] < 0 or v[1] < 1 or v[1] > 255 or v[2] < 0 or v[2] > 7 or v[1] >> v[2] != 1 or v[8] < 0 or v[8] > MAX_MATCH
                or v[9] < -1 or v[9] > 255 or v[5] > v[0] or v[6] > v[5] or v[7] < 0 or v[7] > v[0]):
            raise ValueError(f"episodic scalars out of range: {v}")
        off = 92
        arrays = []
        for a in self._int_arrays():
            arr = array("i")
            arr.frombytes(data[off:off + 4 * len(a)])
            if sys.byteorder == "little":
                arr.byteswap()
            arrays.append(arr.tolist())
            off += 4 * len(a)
        return v, arrays, bytearray(data[off:off + self.hist_size]), wF

    def _apply(self, parsed: tuple) -> None:
        v, arrays, hist, wF = parsed
        self.wA, self.wB, self.apm1, self.apm3, self.ctx_apm, self.match_map, self.big = arrays
        self.hist = hist
        self.wF = wF
        for k, val in zip(_SCALARS, v):
            setattr(self, k, val & M64 if k in ("word_hash", "prev_word_hash") else val)
        self.context_hashes()

    # transactions: score and generate leave the level as it was --------------------------------

    def begin(self) -> None:
        if self._txn is not None:
            raise RuntimeError("episodic level: a transaction is already open")
        self._txn = {k: copy.copy(getattr(self, k)) for k in ("wA", "wB", "wF", "apm1", "apm3", "ctx_apm", "match_map", "big", "hist",
                                                              "weight", "post", *_SCALARS)}
        self._txn["_ctx_hash"] = list(self._ctx_hash)
        for r in self.recent:
            r.begin()

    def rollback(self) -> None:
        if self._txn is None:
            raise RuntimeError("episodic level: no transaction to roll back")
        for k, v in self._txn.items():
            setattr(self, k, v)
        self._txn = None
        for r in self.recent:
            r.rollback()

    def commit(self) -> None:
        if self._txn is None:
            raise RuntimeError("episodic level: no transaction to commit")
        self._txn = None
        for r in self.recent:
            r.commit()


class JavaRandom:
    """java.util.Random (the 48-bit LCG), for sample()."""

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ 0x5DEECE66D) & ((1 << 48) - 1)

    def next(self, bits: int) -> int:
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & ((1 << 48) - 1)
        return to_int32(self.seed >> (48 - bits))

    def next_double(self) -> float:
        return ((self.next(26) << 27) + self.next(27)) * 2.0 ** -53


# ----------------------------------------------------------------------------------------------
# the golden fixture of the Java parity test

GOLDEN_CONFIG = EpisodicConfig(table_bits=12, history_bits=13, match_bits=12, match_min=4, counter_limit=30,
                               mixer_shift=10, apm_rate=6, recent_levels=2, recent_bytes=1024)
GOLDEN_SEED = 20240611
GOLDEN_CHECKPOINTS = (0, 1000, 3000)
NEURAL_FORMULA = ("byte 0: code(null, 0, b) (uniform); byte i >= 1: codeProbabilities(P, b) with, for j = 0..255, "
                  "P[j] = (double) (1 + ((j * 2654435761L + i * 40503L) % 97) + (j == data[i] ? 50 * (i % 7) : 0) "
                  "+ (j == data[i - 1] ? 30 : 0)), exact integer arithmetic in long")

_PROSE_1 = (
    "The keeper of the north light wrote in her log every evening, a habit she had kept for thirty-one "
    "years. Most entries were short: the wind, the state of the sea, the ships that passed and the ones "
    "that did not. On the fourth of March she noted that the lamp had been cleaned, the clockwork wound, "
    "and that a small grey bird had sheltered on the gallery rail until the rain stopped. She did not "
    "know its name and did not try to guess it.\n"
    "Her successor, a younger man from the café by the harbour, found the logs in a crate under the "
    "stairs. He read them in order, slowly, the way one reads a long letter from a stranger who turns "
    "out to be a friend. What struck him was not the weather but the repetition: the same phrases came "
    "back season after season, as if the sea itself had taught her a small and patient vocabulary.\n\n"
)
_C_CODE_1 = (
    "/* ring buffer of bytes, power-of-two capacity */\n"
    "#include <stddef.h>\n"
    "#include <stdint.h>\n\n"
    "typedef struct {\n"
    "    uint8_t *data;\n"
    "    size_t mask;\n"
    "    size_t head, tail;\n"
    "} ring_t;\n\n"
    "static int ring_put(ring_t *r, uint8_t b) {\n"
    "    if (r->head - r->tail > r->mask) {\n"
    "        return -1; /* full */\n"
    "    }\n"
    "    r->data[r->head++ & r->mask] = b;\n"
    "    return 0;\n"
    "}\n\n"
    "static int ring_get(ring_t *r) {\n"
    "    if (r->head == r->tail) {\n"
    "        return -1; /* empty */\n"
    "    }\n"
    "    return r->data[r->tail++ & r->mask];\n"
    "}\n\n"
)
_PARAGRAPH = (
    "A memory that keeps every word it has read is not yet a memory that understands. It can say "
    "with confidence what followed the phrase the last time it appeared; it cannot say "
    "whether that was a good thing to have said. Yet for a reader who meets the same document twice, "
    "such a memory is worth more than all general knowledge: the second reading costs "
    "almost nothing, and each surprise in it is news.\n"
)
_PROSE_2 = (
    "\nThe orchard behind the school had nine apple trees and one pear tree that nobody could explain. "
    "Each autumn the children counted the fruit and wrote the numbers on the blackboard, and each "
    "autumn the pear tree produced exactly as much as it pleased. The teacher, a naïve optimist by her "
    "own account, kept a chart of the totals for twelve years and never once found a pattern in it.\n"
    "Token: "
)
_JSON = (
    "\n{\n"
    "  \"id\": \"run-0042\",\n"
    "  \"started\": \"2024-06-11T08:15:00Z\",\n"
    "  \"config\": {\"tableBits\": 12, \"historyBits\": 17, \"matchMin\": 4, \"rates\": [0.5, 0.25, 0.125]},\n"
    "  \"inputs\": [\n"
    "    {\"name\": \"prose.txt\", \"bytes\": 1893, \"sha256\": \"3f9a0c51d2e4\"},\n"
    "    {\"name\": \"ring.c\", \"bytes\": 512, \"sha256\": \"b7e1d02a99f0\"}\n"
    "  ],\n"
    "  \"ok\": true,\n"
    "  \"notes\": null\n"
    "}\n\n"
)
_PROSE_2B = (
    "The reader closed the file and looked out of the window for a while. Outside, the harbour was "
    "busy with small boats going out for the evening catch, their engines coughing in the cold air. "
    "He thought about the keeper's vocabulary, and about how little of it he would have guessed from "
    "the weather reports alone, which said the same things in a flatter voice.\n\n"
)
_PROSE_3 = (
    "On the second evening the reader came back to the passage he had marked, and read it aloud to "
    "the empty room:\n\n"
)
_C_CODE_2 = (
    "\n/* FNV-1a over a byte string */\n"
    "static uint64_t fnv1a(const uint8_t *p, size_t n) {\n"
    "    uint64_t h = 0xcbf29ce484222325ULL;\n"
    "    for (size_t i = 0; i < n; i++) {\n"
    "        h ^= p[i];\n"
    "        h *= 0x100000001b3ULL;\n"
    "    }\n"
    "    return h;\n"
    "}\n\n"
    "int main(void) {\n"
    "    static const uint8_t msg[] = \"hello, ring\";\n"
    "    return (int) (fnv1a(msg, sizeof msg - 1) & 0x7f);\n"
    "}\n\n"
)
_PROSE_4 = (
    "The storm of that winter took the roof off the boathouse and left the lighthouse untouched. In "
    "the log for the night the keeper wrote only four words, and the next morning she copied out the "
    "token from the old ledger once more, character by character:\n"
)
_PROSE_5 = (
    "\nShe checked it twice against the original, found no error, and put the ledger back in its crate.\n\n"
    "Years later the logs were transcribed by a volunteer who had never seen the sea. She kept the "
    "spelling, the crossings-out and the small drawings in the margins, and she added a note at the "
    "end of each volume with the number of pages and the dates it covered. The transcription took "
    "two winters. When it was finished she printed one copy, bound it in grey cloth, and sent it to "
    "the keeper's niece, who wrote back a short letter of thanks and a longer one, a month later, "
    "about her aunt: how she hated waste, loved arithmetic, and kept a jar of buttons on the kitchen "
    "shelf that she sorted by colour whenever she could not sleep. The volunteer kept both letters. "
    "She said afterwards that the work had taught her one thing above all: that a record is only as "
    "good as the patience of the person who keeps it, and that patience, unlike the weather, can be "
    "learned.\n\n"
    "Appendix. The ledger itself is a plain book of ruled pages, 212 of them, with a red spine. The "
    "first entry is dated 1 May and the last 30 September; between them are 153 entries in the same "
    "hand, each a single line: a date, a time, a ship's name or the word NONE, and a tick. The token "
    "on the inside cover has never been explained. Some pages carry a second, fainter line in pencil, "
    "which seems to record the state of the tide.\n"
    "THE END\n"
)


def golden_base64(seed: int = GOLDEN_SEED, length: int = 350) -> bytes:
    """A random base64 string (seeded)."""
    raw = random.Random(seed).randbytes((length * 3 + 3) // 4)
    return base64.b64encode(raw)[:length]


def golden_stream() -> tuple[bytes, dict[str, list[int]]]:
    """The golden stream (~6 KB: prose, C, JSON, a 400-byte paragraph and a 350-byte base64 string
    each repeated verbatim later) and where the repeats are: name -> [start, length, second start]."""
    token = golden_base64()
    para = _PARAGRAPH.encode("utf-8")
    pieces = [_PROSE_1, _C_CODE_1, ("para", para), _PROSE_2, ("token", token), _JSON, _PROSE_2B, _PROSE_3, ("para", para),
              _C_CODE_2, _PROSE_4, ("token", token), _PROSE_5]
    out = bytearray()
    where: dict[str, list[int]] = {}
    for piece in pieces:
        if isinstance(piece, tuple):
            name, data = piece
            if name in where:
                where[name].append(len(out))
            else:
                where[name] = [len(out), len(data)]
            out += data
        else:
            out += piece.encode("utf-8")
    return bytes(out), {"paragraph": where["para"], "base64": where["token"]}


def golden_probabilities(data: bytes, i: int) -> list[float]:
    """The synthetic neural distribution of byte i >= 1 (NEURAL_FORMULA)."""
    d = data[i]
    prev = data[i - 1]
    hit = 50 * (i % 7)
    base = i * 40503
    return [float(1 + ((j * 2654435761 + base) % 97) + (hit if j == d else 0) + (30 if j == prev else 0)) for j in range(256)]


def run_golden(data: bytes, cfg: EpisodicConfig = GOLDEN_CONFIG, checkpoints: Sequence[int] = GOLDEN_CHECKPOINTS,
               age_at: int | None = None, age_max: int = 31,
               age_confidence: float = 1.0, forget_matches: bool = False) -> tuple[list[float], dict[str, str], EpisodicLevel]:
    """Codes data from a neutral prior: the bits of every byte and the digests at the checkpoints
    (and at the end); with age_at, the level is aged to (age_max, age_confidence) and recalibrated after that many
    bytes (steps a sleep's commit may take), and with forget_matches its matches are forgotten too (the digest at that
    checkpoint is taken after all of them)."""
    lvl = EpisodicLevel(cfg, Prior.neutral())
    marks = set(checkpoints) | {len(data)}
    digests: dict[str, str] = {}
    bits: list[float] = []
    if 0 in marks:
        digests["0"] = lvl.digest()
    for i, b in enumerate(data):
        bits.append(lvl.code(None, b) if i == 0 else lvl.code_probabilities(golden_probabilities(data, i), b))
        if i + 1 == age_at:
            lvl.age(age_max, age_confidence)
            lvl.recalibrate()
            if forget_matches:
                lvl.forget_matches()
        if i + 1 in marks:
            digests[str(i + 1)] = lvl.digest()
    return bits, digests, lvl


def recall_figures(bits: Sequence[float], recall: dict[str, list[int]]) -> dict[str, list[float]]:
    """Bits/byte of the first and the second copy of each repeated piece."""
    out = {}
    for name, (start, length, second) in recall.items():
        out[name] = [sum(bits[start:start + length]) / length, sum(bits[second:second + length]) / length]
    return out


# a run aged and recalibrated after 3,000 bytes (steps of a sleep's commit with SleepConfig.episodicAge and episodicConfidence)
GOLDEN_AGE_AT = 3000
GOLDEN_AGE_MAX = 2
GOLDEN_AGE_CONFIDENCE = 0.5

# a second run of the same stream with a history ring smaller than the stream (wrap-around paths)
GOLDEN_RING_CONFIG = dataclasses.replace(GOLDEN_CONFIG, history_bits=12)


def _in_order_sum(bits: Sequence[float]) -> float:
    """The bits added one after the other, as the Java test adds them."""
    total = 0.0
    for b in bits:
        total += b
    return total


def golden_json(cfg: EpisodicConfig = GOLDEN_CONFIG, ring_cfg: EpisodicConfig = GOLDEN_RING_CONFIG) -> tuple[bytes, str]:
    """The stream and the text of golden.json."""
    data, recall = golden_stream()
    bits, digests, _ = run_golden(data, cfg)
    ring_bits, ring_digests, _ = run_golden(data, ring_cfg)
    aged_bits, aged_digests, _ = run_golden(data, cfg, (GOLDEN_AGE_AT,), GOLDEN_AGE_AT, GOLDEN_AGE_MAX,
                                              GOLDEN_AGE_CONFIDENCE)
    forgot_bits, forgot_digests, _ = run_golden(data, cfg, (GOLDEN_AGE_AT,), GOLDEN_AGE_AT, GOLDEN_AGE_MAX,
                                                GOLDEN_AGE_CONFIDENCE, forget_matches=True)
    total, aged_total = _in_order_sum(ring_bits), _in_order_sum(aged_bits)
    head = {
        "format": "hope4j-episodic-golden",
        "config": cfg.to_java(),
        "prior": "neutral",
        "neural": NEURAL_FORMULA,
        "length": len(data),
        "digests": digests,
        "recall": recall,
        "recall_bits_per_byte": {k: [round(a, 4), round(b, 4)] for k, (a, b) in recall_figures(bits, recall).items()},
        "ring": {"config": ring_cfg.to_java(), "digests": ring_digests, "bits_sum": total},
        "aged": {"at": GOLDEN_AGE_AT, "max_count": GOLDEN_AGE_MAX, "confidence": GOLDEN_AGE_CONFIDENCE,
                 "recalibrated": True, "digests": aged_digests, "bits_sum": aged_total},
        "forgot_matches": {"at": GOLDEN_AGE_AT, "max_count": GOLDEN_AGE_MAX, "confidence": GOLDEN_AGE_CONFIDENCE,
                           "digests": forgot_digests, "bits_sum": _in_order_sum(forgot_bits)},
    }
    # one key a line; the bits (shortest round-trip decimal of each double) last, 16 a line
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    rows = [",".join(repr(b) for b in bits[i:i + 16]) for i in range(0, len(bits), 16)]
    text = "{\n" + "\n".join(lines) + '\n "bits": [\n  ' + ",\n  ".join(rows) + "\n ]\n}\n"
    assert json.loads(text)["bits"] == bits
    return data, text


def write_golden(out: Path, cfg: EpisodicConfig = GOLDEN_CONFIG) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    data, text = golden_json(cfg)
    (out / "stream.bin").write_bytes(data)
    (out / "golden.json").write_text(text, encoding="utf-8")
    return json.loads(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hope_export.episodic", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--golden", type=Path, metavar="DIR", required=True,
                   help="write the Java parity fixture: DIR/stream.bin and DIR/golden.json")
    a = p.parse_args(argv)
    doc = write_golden(a.golden)
    print(f"episodic golden: {doc['length']} bytes, {sum(doc['bits']) / doc['length']:.4f} bits/byte, "
          f"recall {doc['recall_bits_per_byte']}; digests {doc['digests']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
