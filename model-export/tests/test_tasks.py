"""Paper tasks: seeded generators, episode structure, chrF, reference points, the evaluation
command (quick mode on a tiny random model), models with fewer CMS levels, and bad arguments."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hope_export import tasks
from hope_export.model import HopeConfig, HopeModel, Learning, count_parameters

ROOT = Path(__file__).resolve().parents[1]
TINY = HopeConfig(d_model=32, n_blocks=2, n_heads=2, slow_hidden=48, mid_hidden=40, fast_hidden=40, c0=4, c1=8, c2=16)


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


# -- generators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("task", tasks.TRAIN_TASKS)
def test_generators_are_deterministic_per_seed_and_differ_across_seeds(task: str) -> None:
    a = tasks.make_episode(task, random.Random(7)).text()
    b = tasks.make_episode(task, random.Random(7)).text()
    c = tasks.make_episode(task, random.Random(8)).text()
    assert a == b
    assert a != c
    assert tasks.make_episode(task, random.Random("s-1")).text() == tasks.make_episode(task, random.Random("s-1")).text()


def test_training_sequence_is_deterministic_and_exactly_sized() -> None:
    s = tasks.training_sequence(random.Random("x"), 1025)
    assert len(s) == 1025 and s == tasks.training_sequence(random.Random("x"), 1025)
    assert s != tasks.training_sequence(random.Random("y"), 1025)


def test_recall_answers_are_in_the_context_and_noise_is_disjoint() -> None:
    for seed in range(20):
        ep = tasks.noisy_recall(random.Random(seed))
        pairs = dict(re.findall(r"([a-z]{3})=([0-9]{3})", ep.context))
        assert pairs == ep.meta["pairs"] and len(pairs) == 8
        noise = [t for t in ep.context.split()[1:] if "=" not in t]
        assert all(t.isupper() for t in noise)
        assert len({q.prompt for q in ep.queries}) == len(ep.queries) == 4
        for q in ep.queries:
            assert pairs[q.prompt[:-1]] == q.answer


def test_copy_answer_is_the_marked_bytes_in_order() -> None:
    for seed in range(20):
        ep = tasks.selective_copy(random.Random(seed))
        for q in ep.queries:
            body = q.prompt[len("copy: ") : -len(" -> ")]
            assert len(body) == 20 and "".join(c for c in body if c not in tasks.COPY_NOISE) == q.answer
            assert len(q.answer) == 6


@pytest.mark.parametrize("n_lang", [1, 2])
def test_translation_answers_are_derivable_from_the_context(n_lang: int) -> None:
    for seed in range(20):
        ep = tasks.translation(random.Random(seed), n_lang)
        langs = ep.meta["languages"]
        assert len(langs) == n_lang
        if n_lang == 2:
            assert (langs[0].order, langs[0].adj_after) != (langs[1].order, langs[1].adj_after)
            assert not set(langs[0].words.values()) & set(langs[1].words.values())
        # the dictionaries of the context give every word of every answer
        dicts = {m[0]: dict(re.findall(r"(\w+)=(\w+)", m[1])) for m in re.findall(r"^dict (\w+): (.*)$", ep.context, re.M)}
        assert set(dicts) == {l.name for l in langs}
        examples = re.findall(r"^en: (.*)\n(\w+): (.*)$", ep.context, re.M)
        assert len(examples) == n_lang * 3
        for q, src, tgt in zip(ep.queries, ep.meta["sources"], ep.meta["target_languages"]):
            assert q.prompt == f"en: {src}\n{tgt}: "
            d = dicts[tgt]
            assert all(w in d for w in src.split())
            assert sorted(q.answer.split()) == sorted(d[w] for w in src.split())
            assert src not in [e[0] for e in examples]  # held out
        # the examples follow the same rules as the answers
        by_name = {l.name: l for l in langs}
        for en, name, tr in examples:
            assert sorted(tr.split()) == sorted(dicts[name][w] for w in en.split())
            assert by_name[name].lookup(en).split() == [dicts[name][w] for w in en.split()]


def test_language_word_order_rules() -> None:
    words = {w: w.upper() for w in tasks.NOUNS + tasks.VERBS + tasks.ADJS}
    s = tasks.Sentence("big", "dog", "see", None, "cat")
    assert tasks.Language("x", "SOV", False, words).translate(s) == "BIG DOG CAT SEE"
    assert tasks.Language("x", "VSO", True, words).translate(s) == "SEE DOG BIG CAT"
    assert tasks.Language("x", "OSV", True, words).translate(s) == "CAT DOG BIG SEE"


@pytest.mark.parametrize("length", [1024, 4096, 65536])
def test_niah_has_exact_length_and_the_needle(length: int) -> None:
    filler = ("Some held-out prose, with words and more words. " * 3000).encode()
    for depth in (0.0, 0.5, 1.0):
        for fill in (None, filler):
            ep = tasks.niah(random.Random(f"{length}-{depth}"), length, depth, fill)
            assert len(ep.context.encode()) == length
            q = ep.queries[0]
            assert re.fullmatch(r"[0-9]{7}", q.answer)
            needle = f"The special magic number for {ep.meta['key']} is: {q.answer}."
            at = ep.context.index(needle)
            assert abs(at - depth * length) <= 80
            assert ep.meta["key"] in q.prompt
    assert tasks.niah(random.Random(1), 2048, 0.5).context != tasks.niah(random.Random(2), 2048, 0.5).context


# -- chrF -----------------------------------------------------------------------------------------


def test_chrf_hand_computed_values() -> None:
    # abc/abd: 1-grams p = r = 2/3, 2-grams 1/2, 3-grams 0, no 4..6-grams -> mean p = r = 7/18 = F
    assert tasks.chrf("abc", "abd") == pytest.approx(100 * 7 / 18)
    # a/ab: only 1-grams exist in both: p = 1, r = 1/2 -> F2 = 5 * 0.5 / (4 + 0.5)
    assert tasks.chrf("a", "ab") == pytest.approx(100 * 2.5 / 4.5)
    assert tasks.chrf("same words", "same words") == pytest.approx(100.0)
    assert tasks.chrf("same words", "samewords") == pytest.approx(100.0)  # whitespace is ignored
    assert tasks.chrf("xyz", "abc") == 0.0
    assert tasks.chrf("", "abc") == 0.0
    # corpus chrF sums the statistics: ab/ab + a/b -> 1-grams 2/3 match, 2-grams 1/1 -> p = r = 5/6
    assert tasks.corpus_chrf(["ab", "a"], ["ab", "b"]) == pytest.approx(100 * 5 / 6)


def test_chrf_matches_sacrebleu() -> None:
    # values printed by sacreBLEU 2.6.0 (CHRF() defaults) for the same strings
    assert tasks.chrf("the cat sat", "the cat sits") == pytest.approx(61.034534424114085)
    assert tasks.chrf("zida muni rebi", "muni zida rebi") == pytest.approx(45.85858585858587)
    assert tasks.corpus_chrf(["abc", "the cat sat", "zida muni"], ["abd", "the cat sits", "muni zida"]) == pytest.approx(54.58587044970747)


@pytest.mark.parametrize("n_lang", [1, 2])
def test_dictionary_lookup_beats_copying_the_source(n_lang: int) -> None:
    eps = [tasks.translation(random.Random(f"ref-{i}"), n_lang) for i in range(40)]
    refs = [q.answer for ep in eps for q in ep.queries]
    copy = tasks.corpus_chrf([h for ep in eps for h in tasks.copy_reference(ep)], refs)
    look = tasks.corpus_chrf([h for ep in eps for h in tasks.lookup_reference(ep)], refs)
    assert look > copy + 20
    assert look < 100  # the word order rules matter


# -- models with fewer CMS levels -------------------------------------------------------------


def test_fewer_cms_levels_same_parameter_count_and_no_updates() -> None:
    common = dict(d_model=32, n_blocks=2, n_heads=2, c0=4, c1=8, c2=16)
    cfgs = {3: HopeConfig(slow_hidden=48, mid_hidden=16, fast_hidden=16, **common), 2: HopeConfig(slow_hidden=64, mid_hidden=0, fast_hidden=16, **common), 1: HopeConfig(slow_hidden=80, mid_hidden=0, fast_hidden=0, **common)}
    x = torch.randint(0, 256, (2, 65))
    sizes = set()
    for k, cfg in cfgs.items():
        assert cfg.cms_levels == k
        torch.manual_seed(0)
        m = HopeModel(cfg).eval()
        sizes.add(count_parameters(m))
        st = m.init_state(2)
        with torch.no_grad():
            y = m(st, x)
        assert torch.isfinite(y).all()
        assert st.counts["l1"] == (8 if k >= 2 else 0) and st.counts["l2"] == (4 if k == 3 else 0)
        if k == 1:  # no plastic CMS level: learning on = L0 only
            with torch.no_grad():
                y0 = m(m.init_state(2), x, Learning(True, False, False))
            assert torch.equal(y, y0)
    assert len(sizes) == 1
    assert HopeConfig().cms_levels == 3
    with pytest.raises(ValueError):
        HopeConfig(mid_hidden=-1)


# -- the evaluation command and the training option -------------------------------------------


def test_paper_tasks_quick_mode_writes_valid_json(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ckpt = tmp_path / "tiny.pt"
    torch.save({"config": TINY.to_dict(), "model": HopeModel(TINY).state_dict()}, ckpt)
    out = tmp_path / "r.json"
    r = run("hope_export.paper_tasks", "--checkpoint", f"tiny={ckpt}", "--quick", "--json", str(out))
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    v = res["variants"]["tiny"]
    assert v["cms_levels"] == 3
    for t in ("recall", "copy"):
        assert 0.0 <= v["tasks"][t]["exact"] <= 1.0
    for t in ("translate1", "translate2"):
        assert 0.0 <= v["tasks"][t]["chrf"] <= 100.0
        ref = res["reference_points"][t]
        assert ref["dictionary_lookup_chrf"] > ref["copy_source_chrf"]
    assert set(v["tasks"]["niah"]["accuracy_by_length"]) == {"1024", "2048"}
    # fixed seeds: a second run writes the same numbers
    out2 = tmp_path / "r2.json"
    assert run("hope_export.paper_tasks", "--checkpoint", f"tiny={ckpt}", "--quick", "--json", str(out2)).returncode == 0
    a, b = json.loads(out2.read_text()), res
    for x in (a, b):
        x["variants"]["tiny"].pop("eval_seconds")
    assert a == b


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --checkpoint"),
        (["--checkpoint", "nopath"], "NAME=PATH"),
        (["--checkpoint", "a=/nonexistent/model.pt"], "not found"),
        (["--variants", "/nonexistent"], "not a directory"),
        (["--checkpoint", "a=tests/conftest.py", "--modes", "sleepy"], "unknown mode"),
        (["--checkpoint", "a=tests/conftest.py", "--corpus", "/nonexistent"], "heldout.txt"),
    ],
)
def test_paper_tasks_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    r = run("hope_export.paper_tasks", *args, "--json", str(tmp_path / "x.json"))
    assert r.returncode != 0
    assert message in r.stderr


def test_train_task_fraction_bad_argument(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("x" * 5000)
    r = run("hope_export.train", "--corpus", str(tmp_path), "--out", str(tmp_path / "o"), "--task-fraction", "1.5")
    assert r.returncode != 0 and "--task-fraction must lie in [0, 1)" in r.stderr


def test_paper_train_script_bad_argument() -> None:
    r = subprocess.run([str(ROOT / "paper-train.sh"), "many"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "steps must be a positive integer" in r.stderr


def test_train_with_task_fraction_runs(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "train.txt").write_text("Some prose for training. " * 400)
    (corpus / "heldout.txt").write_text("Held-out prose for evaluation. " * 100)
    cfg = json.dumps({"d_model": 16, "n_blocks": 1, "n_heads": 1, "slow_hidden": 16, "mid_hidden": 0, "fast_hidden": 8, "c0": 4, "c1": 8, "c2": 16})
    r = run("hope_export.train", "--corpus", str(corpus), "--out", str(tmp_path / "o"), "--steps", "2", "--batch", "2", "--seq", "64", "--task-fraction", "0.5", "--eval-windows", "2", "--config", cfg)
    assert r.returncode == 0, r.stderr
    state = torch.load(tmp_path / "o" / "model.pt")
    assert state["config"]["mid_hidden"] == 0 and len(state["history"]) == 1
