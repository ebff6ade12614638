"""The episodic level E's reference (hope_export/episodic.py) and its golden fixture."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import random
import struct
from pathlib import Path

import pytest

from hope_export import episodic as E

FIXTURE = Path(__file__).resolve().parents[2] / "runtime/src/test/resources/org/hope4j/episodic-golden"
SMALL = E.EpisodicConfig(table_bits=10, history_bits=12, match_bits=10, match_min=3, counter_limit=7, mixer_shift=8, apm_rate=3)


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> tuple[Path, dict]:
    """A fresh generation of the fixture (once for the module)."""
    out = tmp_path_factory.mktemp("episodic-golden")
    return out, E.write_golden(out)


def text_bytes(n: int, seed: int = 1) -> bytes:
    words = b"the a memory of level byte stream keeper light sea log ring token".split()
    rnd = random.Random(seed)
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + (b"\n" if rnd.random() < 0.1 else b" ")
    return bytes(out[:n])


# ----------------------------------------------------------------------------------------------
# the logistic domain


def test_squash_is_monotone_and_matches_the_logistic() -> None:
    values = [E.squash(d) for d in range(-2100, 2101)]
    assert all(a <= b for a, b in zip(values, values[1:]))
    assert E.squash(-2048) == 0 and E.squash(-2047) == 1 and E.squash(0) == 2047 and E.squash(2047) == 4094 and E.squash(2048) == 4095
    for d in range(-2047, 2048):
        err = abs(E.squash(d) - 4096 / (1 + math.exp(-d / 256)))
        assert err <= (2 if d % 128 == 0 else 14)  # lpaq1's knots (within 1.7), piecewise linear between them


def test_stretch_is_the_smallest_preimage_of_squash() -> None:
    st = E.STRETCH
    assert len(st) == 4096 and st[0] == -2047 and st[4095] == 2047
    assert all(a <= b for a, b in zip(st, st[1:]))
    for p in range(4096):
        d = st[p]
        if p <= E.squash(2047):
            assert E.squash(d) >= p and (d == -2047 or E.squash(d - 1) < p)
    for d in range(-2047, 2048):
        assert E.stretch(E.squash(d)) <= d  # inverse-monotone
        assert E.squash(E.stretch(E.squash(d))) == E.squash(d)


def test_cost_table() -> None:
    assert E.cost(2048) == 1.0 and E.cost(1024) == 2.0 and E.cost(1) == 12.0
    for k in (1, 7, 100, 3121, 3180, 3731, 4095):
        assert abs(E.cost(k) + math.log2(k / 4096)) < 1e-12


def test_counter_update() -> None:
    init = E.COUNTER_INIT
    assert E.counter(init, 1, 30) == (54612 << 10 | 1)  # 32768 + (32767 * 43690 >> 16) = 32768 + 21844
    assert E.counter(init, 0, 30) == (10923 << 10 | 1)  # 32768 + floor(-32768 * 43690 / 65536)
    e = init
    for i in range(100):
        e = E.counter(e, 1, 5)
        assert e & 1023 == min(i + 1, 5)
    assert 65000 < e >> 10 <= 65535
    e = init
    for _ in range(1000):
        e = E.counter(e, 0, 1023)
    assert e >> 10 == 0 and e & 1023 == 1000
    # the rate is 2 / (2n + 3): after n updates toward 1 from 1/2 the gap is about 1/(2n + 1) of the start
    e = init
    for _ in range(20):
        e = E.counter(e, 1, 1023)
    assert abs((65535 - (e >> 10)) / 32768 - 1 / 41) < 0.01


def test_ctx_counter_keeps_the_last_bits() -> None:
    init = E.COUNTER_INIT
    e = E.ctx_counter(init, 1, 30)
    assert e >> 10 == 54612 and e & 31 == 1 and (e >> 5) & 31 == 0b11  # a leading 1, then the bit
    for y, want in ((0, 0b110), (1, 0b1101), (1, 0b11011), (0, 0b10110), (0, 0b11100)):
        e = E.ctx_counter(e, y, 30)
        assert (e >> 5) & 31 == want  # up to 4 bits after the leading 1
    for _ in range(40):
        e = E.ctx_counter(e, 1, 30)
    assert e & 31 == 30 and (e >> 5) & 31 == 0b11111 and e >> 26 == 0


def test_slot_check_reads_a_foreign_pair_as_unseen_and_keeps_the_often_seen_slot() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(200):
        lvl.code(None, b)
    lvl.predict_bit()
    s, check = lvl._slot[3], lvl._chk[3] >> 26
    value = 60000 << 10 | 0b10101 << 5 | 9
    lvl.big[s] = E.to_int32(check << 26 | value)  # written under this context's check: read as it is
    lvl.predict_bit()
    assert lvl._slot[3] == s and lvl._cur[3] == value
    # the pair's other slot holds this context: read from there
    lvl.big[s] = E.to_int32(((check + 1) & 63) << 26 | value)
    lvl.big[s ^ 1] = E.to_int32(check << 26 | (value ^ 0b1000))
    lvl.predict_bit()
    assert lvl._slot[3] == s ^ 1 and lvl._cur[3] == value ^ 0b1000
    # both slots under other contexts' checks: a fresh counter, written over the one of lower count
    lvl.big[s ^ 1] = E.to_int32(((check + 2) & 63) << 26 | (value & ~31) | 3)
    lvl.predict_bit()
    assert lvl._cur[3] == E.COUNTER_INIT and lvl._slot[3] == s ^ 1
    lvl.update_bit(1)
    assert (lvl.big[s ^ 1] & E.M32) >> 26 == check
    assert lvl.big[s ^ 1] & 0x3FFFFFF == E.ctx_counter(E.COUNTER_INIT, 1, SMALL.counter_limit)
    assert lvl.big[s] & E.M32 == ((check + 1) & 63) << 26 | value  # the often-seen context stays


def test_int_emulation() -> None:
    assert E.to_int32(2**31) == -2**31 and E.to_int32(-2**31 - 1) == 2**31 - 1 and E.to_int32(-5) == -5
    assert E.to_int64(2**64 - 1) == -1
    assert E.d2i(float("nan")) == 0 and E.d2i(1e300) == 2**31 - 1 and E.d2i(-2.7) == -2
    # mixer weights are clamped to +-MAX_WEIGHT (+-128 in the fixed point), never wrap
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    lvl._x[:] = [2047] * E.INPUTS
    w = [E.MAX_WEIGHT - 1] * E.INPUTS
    lvl._train(lvl._x, w, 0, 4096)
    assert w[0] == E.MAX_WEIGHT
    w = [-E.MAX_WEIGHT + 1] * E.INPUTS
    lvl._train(lvl._x, w, 0, -4096)
    assert w[0] == -E.MAX_WEIGHT


def test_mix_matches_java_longs() -> None:
    # h ^= h >>> 29; h *= 0xBF58476D1CE4E5B9L; h ^= h >>> 32 with Java's wrapping and logical shifts
    h = E.to_int64(0xDEADBEEFCAFEBABE)
    u = h & E.M64
    u ^= u >> 29
    u = (u * 0xBF58476D1CE4E5B9) % 2**64
    u ^= u >> 32
    assert E.mix(h & E.M64) == u and E.mix(0) == 0


# ----------------------------------------------------------------------------------------------
# the level


def test_config_validation_and_size() -> None:
    with pytest.raises(ValueError, match="tableBits"):
        E.EpisodicConfig(9, 12, 10, 4, 30, 10, 6)
    with pytest.raises(ValueError, match="apmRate"):
        E.EpisodicConfig(10, 12, 10, 4, 30, 10, 15)
    with pytest.raises(ValueError, match="recentLevels"):
        E.EpisodicConfig(10, 12, 10, 4, 30, 10, 6, 5, 2048)
    with pytest.raises(ValueError, match="multiple of recentLevels"):
        E.EpisodicConfig(10, 12, 10, 4, 30, 10, 6, 3, 2048)
    d = E.EpisodicConfig.defaults()
    recent = 4 * (10 << 14) + (1 << 12) + 4 * (1 << 12)  # each recent copy: small tables, no map on the previous byte
    assert d.bytes() == 4 * (10 << 19) + (1 << 20) + 4 * (1 << 18) + 4 * 65536 * 33 + 2 * recent
    assert d.recent() == E.EpisodicConfig(14, 12, 12, 4, 30, 11, 6, 0, 2048)
    assert E.EpisodicConfig.from_java(E.GOLDEN_CONFIG.to_java()) == E.GOLDEN_CONFIG


def test_write_state_length_and_layout() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(300):
        lvl.code(None, b)
    state = lvl.write_state()
    big = (E.CONTEXTS << SMALL.table_bits) + (1 << SMALL.match_bits) + E.APM2_SLOTS
    ints = E.SETS_A * E.INPUTS + E.SETS_B * E.INPUTS + 256 * E.APM_KNOTS + (E.MATCH_CONTEXTS + 1) * E.APM_KNOTS + E.CONTEXTS * E.CTX_APM_SETS * E.APM_KNOTS + E.MATCH_CONTEXTS + big
    expected = 3 * 4 + 10 * 8 + 4 * ints + (1 << SMALL.history_bits) + 4 * E.FINAL_INPUTS
    assert len(state) == expected == lvl.state_size()
    assert struct.unpack_from(">3i", state, 0) == (SMALL.table_bits, SMALL.history_bits, SMALL.match_bits)
    scalars = struct.unpack_from(">10q", state, 12)
    assert scalars[0] == 300 and scalars[1] == 1 and scalars[2] == 0
    assert struct.unpack_from(">i", state, 92)[0] == lvl.wA[0]
    assert state[-(1 << SMALL.history_bits) - 16:][:300] == text_bytes(300)
    assert list(struct.unpack(">4i", state[-16:])) == lvl.wF != list(E.FINAL_INIT)  # the final mixer learned
    assert lvl.digest() == hashlib.sha256(state).hexdigest()


def test_read_state_round_trip_and_errors() -> None:
    a = E.EpisodicLevel(SMALL, E.Prior.neutral())
    data = text_bytes(500, seed=3)
    for b in data[:250]:
        a.code(None, b)
    b = E.EpisodicLevel(SMALL, E.Prior.neutral())
    b.read_state(a.write_state())
    assert b.digest() == a.digest()
    for x in data[250:]:
        assert a.code(None, x) == b.code(None, x)
    assert a.digest() == b.digest()
    before = b.digest()
    with pytest.raises(ValueError, match="trailing"):
        b.read_state(a.write_state() + b"\0")
    bad = bytearray(a.write_state())
    bad[12 + 8:12 + 16] = struct.pack(">q", 300)  # c0 out of range
    with pytest.raises(ValueError, match="scalars"):
        b.read_state(bytes(bad))
    bad = bytearray(a.write_state())
    bad[12 + 8:12 + 16] = struct.pack(">q", 255)  # c0 of a byte's eighth bit with bitIndex 0
    with pytest.raises(ValueError, match="scalars"):
        b.read_state(bytes(bad))
    other = E.EpisodicLevel(dataclasses.replace(SMALL, history_bits=13), E.Prior.neutral())
    with pytest.raises(ValueError, match="tables"):
        b.read_state(other.write_state())
    with pytest.raises(ValueError, match="short"):
        b.read_state(a.write_state()[:-8])
    bad = bytearray(a.write_state())
    bad[-4:] = struct.pack(">i", E.MAX_WEIGHT + 1)
    with pytest.raises(ValueError, match="final mixer weight 3"):
        b.read_state(bytes(bad))
    assert b.digest() == before


def test_a_state_written_before_the_final_mixer_reads_with_the_mixer_at_its_start() -> None:
    a = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for x in text_bytes(300, seed=4):
        a.code(None, x)
    old = a.write_state()[:-16]
    b = E.EpisodicLevel(SMALL, E.Prior.neutral())
    b.read_state(old)
    assert b.wF == list(E.FINAL_INIT) and b.write_state()[:-16] == old
    a.wF = list(E.FINAL_INIT)
    assert b.digest() == a.digest()


def test_the_final_mixer_starts_as_the_average_of_the_two_mixers() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    lvl.neural(None)
    lvl.predict_bit()
    dA, dB = lvl._xF[0], lvl._xF[1]
    assert lvl._p_mix == E.clamp(E.squash((dA + dB) >> 1), 1, 4095)


def test_a_surprise_cuts_a_context_slots_count_back() -> None:
    e = E.COUNTER_INIT >> 0 & 0x3FFFFFF
    for _ in range(40):
        e = E.ctx_counter(e, 1, 30)
    assert e & 31 == 30 and e >> 10 > 60000
    after = E.ctx_counter(e, 0, 30)
    assert after & 31 == E.SURPRISE_COUNT + 1  # cut to 6, then counted
    mild = E.ctx_counter(E.ctx_counter(e, 0, 30) & ~31 | 30, 1, 30)  # p still high: a 1 is no surprise
    assert mild & 31 == 30


def test_determinism_reset_and_rollback() -> None:
    data = text_bytes(400, seed=5)
    a = E.EpisodicLevel(SMALL, E.Prior.neutral())
    b = E.EpisodicLevel(SMALL, E.Prior.neutral())
    fresh = a.digest()
    bits_a = [a.code(None, x) for x in data]
    bits_b = [b.code(None, x) for x in data]
    assert bits_a == bits_b and a.digest() == b.digest()
    snap = a.digest()
    a.begin()
    for x in data[:50]:
        a.code(None, x)
    assert a.digest() != snap
    a.rollback()
    assert a.digest() == snap
    assert a.code(None, data[0]) == b.code(None, data[0])
    a.reset()
    assert a.digest() == fresh and a.position() == 0


def test_prior_json_and_learned() -> None:
    n = E.Prior.neutral()
    assert n.weights_a[:E.INPUTS] == [39321] + [13107] * E.CONTEXTS + [26214, 0, 0]
    assert n.weights_b[144 * E.INPUTS + E.IN_MATCH_LEN] == 32768 and n.weights_b[48 * E.INPUTS + E.IN_MATCH_LEN] == 0
    assert n.weights_b[48 * E.INPUTS + E.IN_MATCH] == 39321 and n.weights_b[144 * E.INPUTS + E.IN_NEURAL] == 19660
    assert n.match_map[0] == 32768 << 10 and n.match_map[1] == 32767 << 10  # a match of length 0: 1/2
    assert n.match_map[63] == (65535 - 65536 // 138) << 10 and n.match_map[62] == (65536 // 138) << 10  # length 136
    text = n.to_json("fit <a&b>")
    assert text.startswith('{"format":"hope4j-episodic-prior","format_version":1,"inputs":14,"fitted_on":"fit \\u003ca\\u0026b\\u003e",')
    assert E.Prior.from_json(text.encode(), "x") == n
    assert '"fitted_on"' not in n.to_json(None)
    with pytest.raises(ValueError, match="version 1"):
        E.Prior.from_json(text.replace('"format_version":1', '"format_version":2'), "x")
    with pytest.raises(ValueError, match="counters"):
        E.Prior.from_json(json.dumps({**json.loads(text), "match_map": [-1] * 64}), "x")
    lvl = E.EpisodicLevel(SMALL, n)
    for x in text_bytes(200):
        lvl.code(None, x)
    learned = lvl.learned()
    assert learned != n and learned.weights_a == lvl.wA
    assert E.EpisodicLevel(SMALL, learned).wB == lvl.wB


def test_logits_and_sampling() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    logits = [0.0] * 256
    logits[ord("q")] = 20.0
    assert lvl.code(logits, ord("q")) < 0.5  # the neural levels are sure: the mixture follows
    rnd = E.JavaRandom(42)
    assert rnd.next(32) == -1170105035  # new java.util.Random(42).nextInt()
    lvl.begin()
    assert lvl.sample(logits, 0, rnd) == ord("q")
    lvl.rollback()


def test_match_model_follows_a_repeat() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    block = random.Random(9).randbytes(300)
    first = sum(lvl.code(None, x) for x in block)
    lvl.code(None, ord("\n"))
    second = sum(lvl.code(None, x) for x in block)
    assert first / 300 > 7 and second / 300 < 0.5


# ----------------------------------------------------------------------------------------------
# the golden fixture


def test_golden_stream_layout() -> None:
    data, recall = E.golden_stream()
    assert 5500 <= len(data) <= 6500
    s, n, t = recall["paragraph"]
    assert n == 400 and data[s:s + n] == data[t:t + n] and 1000 <= t - s <= 3000
    s, n, t = recall["base64"]
    assert n == 350 and data[s:s + n] == data[t:t + n] and 1700 <= t - s <= 2500
    assert set(data[s:s + n]) <= set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    assert b"#include" in data and b'"ok": true' in data and "café".encode() in data


def test_golden_recall(golden) -> None:
    _, doc = golden
    fig = E.recall_figures(doc["bits"], doc["recall"])
    first, second = fig["paragraph"]
    assert second <= 0.3 and second < first / 5
    first, second = fig["base64"]
    assert second <= 0.5 and second < first / 5


def test_golden_is_deterministic_and_matches_the_repository(golden) -> None:
    out, doc = golden
    assert len(doc["bits"]) == doc["length"] and set(doc["digests"]) == {"0", "1000", "3000", str(doc["length"])}
    assert doc["config"] == E.GOLDEN_CONFIG.to_java()
    assert sum(doc["bits"]) / doc["length"] < 3.5
    assert (out / "stream.bin").read_bytes() == E.golden_stream()[0]
    # a second, independent run of the first bytes reproduces the first checkpoint
    data = E.golden_stream()[0]
    _, digests, _ = E.run_golden(data[:1000], checkpoints=(0, 1000))
    assert digests["1000"] == doc["digests"]["1000"] and digests["0"] == doc["digests"]["0"]
    hint = f"regenerate: /usr/bin/python3 -m hope_export.episodic --golden {FIXTURE}"
    assert (FIXTURE / "stream.bin").read_bytes() == (out / "stream.bin").read_bytes(), hint
    assert (FIXTURE / "golden.json").read_text(encoding="utf-8") == (out / "golden.json").read_text(encoding="utf-8"), hint
    assert sum(f.stat().st_size for f in FIXTURE.iterdir()) < 200_000


def test_cli_help(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        E.main(["--help"])
    assert e.value.code == 0
    assert "--golden DIR" in capsys.readouterr().out


def test_aging_caps_the_counts_and_keeps_the_probabilities() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(2000, seed=6):
        lvl.code(None, b)
    before = list(lvl.big[:lvl.ctx_slots])
    rest = (list(lvl.big[lvl.ctx_slots:]), bytes(lvl.hist), list(lvl.wA), list(lvl.wF), list(lvl.ctx_apm))
    d = lvl.digest()
    lvl.age(31)
    assert lvl.digest() == d
    lvl.age(2)
    after = lvl.big[:lvl.ctx_slots]
    assert all(v & 31 <= 2 for v in after)
    assert all((a & ~31) == (b & ~31) for a, b in zip(before, after))  # check, p and last bits kept
    assert any(b & 31 > 2 for b in before)
    assert (list(lvl.big[lvl.ctx_slots:]), bytes(lvl.hist), list(lvl.wA), list(lvl.wF), list(lvl.ctx_apm)) == rest
    lvl.begin()
    with pytest.raises(RuntimeError, match="transaction"):
        lvl.age(2)
    lvl.rollback()
    with pytest.raises(ValueError, match="0..31"):
        lvl.age(32)


def test_recalibrating_resets_every_map_and_nothing_else() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    fresh = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(3000, seed=7):
        lvl.code(None, b)
    maps = lambda x: (list(x.big[x.apm2_base:]), list(x.apm1), list(x.apm3), list(x.ctx_apm))
    rest = (list(lvl.big[:lvl.apm2_base]), bytes(lvl.hist), list(lvl.wA), list(lvl.wB), list(lvl.wF), list(lvl.match_map))
    assert maps(lvl) != maps(fresh)  # reading moved the maps
    lvl.recalibrate()
    assert maps(lvl) == maps(fresh)
    assert (list(lvl.big[:lvl.apm2_base]), bytes(lvl.hist), list(lvl.wA), list(lvl.wB), list(lvl.wF), list(lvl.match_map)) == rest
    lvl.begin()
    with pytest.raises(RuntimeError, match="transaction"):
        lvl.recalibrate()
    lvl.rollback()


def test_forgetting_matches_empties_the_history_and_the_index_only() -> None:
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(3000, seed=8):
        lvl.code(None, b)
    kept = (list(lvl.big[:lvl.match_base]), list(lvl.big[lvl.apm2_base:]), list(lvl.wA), list(lvl.wB), list(lvl.wF),
            list(lvl.apm1), list(lvl.ctx_apm))
    assert any(lvl.big[lvl.match_base:lvl.apm2_base]) and any(lvl.hist)
    lvl.forget_matches()
    assert not any(lvl.big[lvl.match_base:lvl.apm2_base]) and not any(lvl.hist)
    assert lvl.match_map == list(lvl.prior.match_map) and lvl.match_len == 0 and lvl.expected == -1
    assert (list(lvl.big[:lvl.match_base]), list(lvl.big[lvl.apm2_base:]), list(lvl.wA), list(lvl.wB), list(lvl.wF),
            list(lvl.apm1), list(lvl.ctx_apm)) == kept
    lvl.begin()
    with pytest.raises(RuntimeError, match="transaction"):
        lvl.forget_matches()
    lvl.rollback()


def test_aging_with_a_confidence_moves_every_slot_toward_one_half() -> None:
    slot = (37 << 26) | (60000 << 10) | (0b10110 << 5) | 9
    aged = E.aged_slot(slot, 2, E.confidence_steps(0.5))
    assert aged >> 26 == 37 and aged >> 5 & 31 == 0b10110 and aged & 31 == 2
    assert aged >> 10 & 0xFFFF == 32768 + ((60000 - 32768) >> 1)
    assert E.aged_slot(1000 << 10, 31, 96) >> 10 & 0xFFFF == 32768 + ((1000 - 32768) * 96 >> 8)  # floored below 1/2
    assert E.aged_slot(32768 << 10, 0, 0) == 32768 << 10
    assert E.aged_slot(slot, 31, 256) == slot
    assert E.confidence_steps(0.5) == 128 and E.confidence_steps(1.0) == 256 and E.confidence_steps(0.375) == 96
    lvl = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for b in text_bytes(2000, seed=6):
        lvl.code(None, b)
    before = list(lvl.big[:lvl.ctx_slots])
    d = lvl.digest()
    lvl.age(31, 1.0)
    assert lvl.digest() == d
    lvl.age(2, 0.5)
    assert lvl.big[:lvl.ctx_slots] == [E.aged_slot(v, 2, 128) for v in before]
    with pytest.raises(ValueError, match="confidence"):
        lvl.age(2, 1.5)


# ----------------------------------------------------------------------------------------------
# the recent copies (Java's EpisodicConfig.recentLevels; model-export/README "The sixth round")

RECENT = dataclasses.replace(SMALL, recent_levels=2, recent_bytes=256)


def test_recent_copies_are_emptied_on_schedule_and_the_weights_stay_a_distribution() -> None:
    lvl = E.EpisodicLevel(RECENT, E.Prior.neutral())
    data = text_bytes(700, seed=9)
    for i, x in enumerate(data):
        lvl.code(None, x)
        # copy 0 is emptied at 256, 512, ...; copy 1 at 128, 384, 640 (positions before the byte is coded)
        assert lvl.recent[0].position() == (i + 1) - ((i // 256) * 256 if i >= 256 else 0)
        assert lvl.recent[1].position() == (i + 1) - (((i - 128) // 256) * 256 + 128 if i >= 128 else 0)
        assert abs(sum(lvl.weight) - 1) < 1e-12 and all(w >= E.SHARE / 3 for w in lvl.weight)
        assert lvl.post == lvl.weight
    # every member learns every byte: the level's own state is that of a level without copies
    alone = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for x in data:
        alone.code(None, x)
    assert lvl.write_state()[:alone.state_size()] == alone.write_state()


def test_the_mixture_codes_each_byte_as_the_weighted_sum_of_its_members() -> None:
    lvl = E.EpisodicLevel(RECENT, E.Prior.neutral())
    for x in text_bytes(300, seed=10):
        lvl.code(None, x)
    b = ord("e")
    # each member's probability of the byte, from copies of the members coding it alone
    members = [copy.deepcopy(m) for m in (lvl, *lvl.recent)]
    members[0].recent = []
    probs = [2.0 ** -m.code(None, b) for m in members]
    w = list(lvl.weight)
    bits = lvl.code(None, b)
    assert bits == pytest.approx(-math.log2(sum(wi * pi for wi, pi in zip(w, probs))), abs=1e-9)
    # Bayes then the fixed share
    post = [wi * pi for wi, pi in zip(w, probs)]
    z = sum(post)
    assert lvl.weight == pytest.approx([(1 - E.SHARE) * p / z + E.SHARE / 3 for p in post], abs=1e-12)


def test_recent_copies_round_trip_roll_back_and_old_states_read_with_them_empty() -> None:
    data = text_bytes(900, seed=11)
    a = E.EpisodicLevel(RECENT, E.Prior.neutral())
    for x in data[:500]:
        a.code(None, x)
    state = a.write_state()
    assert len(state) == a.state_size()
    b = E.EpisodicLevel(RECENT, E.Prior.neutral())
    b.read_state(state)
    assert b.digest() == a.digest()
    # a transaction across a copy's emptying (at 512 and 640) rolls back exactly
    a.begin()
    inside = [a.code(None, x) for x in data[500:]]
    a.rollback()
    assert a.digest() == b.digest()
    assert [a.code(None, x) for x in data[500:]] == inside
    # a state written without copies: the level's own part read, the copies empty, the weights uniform
    alone = E.EpisodicLevel(SMALL, E.Prior.neutral())
    for x in data[:300]:
        alone.code(None, x)
    c = E.EpisodicLevel(RECENT, E.Prior.neutral())
    c.read_state(alone.write_state())
    fresh = E.EpisodicLevel(RECENT, E.Prior.neutral()).write_state()
    assert c.write_state() == alone.write_state() + fresh[alone.state_size():]
    bad = bytearray(state)
    struct.pack_into(">d", bad, len(bad) - 8, 0.9)
    before = c.digest()
    with pytest.raises(ValueError, match="recent-copy weights sum"):
        c.read_state(bytes(bad))
    with pytest.raises(ValueError, match="trailing"):
        c.read_state(state + b"\0")
    with pytest.raises(ValueError, match="short"):
        c.read_state(state[:-3])
    assert c.digest() == before
