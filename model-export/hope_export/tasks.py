"""Synthetic "paper tasks" for the Hope reference model: seeded, byte-level, no downloads.

Every generator takes a ``random.Random`` (seed it with an int or a string: both are
deterministic across runs) and returns an :class:`Episode`: a context followed by queries. An
episode is read as the bytes ``context + prompt_1 + answer_1 + "\\n" + prompt_2 + ...``; a model is
scored on each answer (greedy decoding after the prompt), with the true answer fed afterwards
(teacher forcing) so later queries see the same text whatever the model wrote.

Tasks
-----
* ``recall``: MAD-style noisy in-context recall. Key-value pairs ``key=value`` with noise groups
  (upper-case letters, a vocabulary disjoint from keys and values) between them; the queries give a
  key and expect its value. Scored by exact match of the answer bytes.
* ``copy``: MAD-style selective copying. A string of lower-case letters (the marked bytes) mixed
  with noise bytes ``.,-``; the answer is the letters in order. Exact match.
* ``translate1`` / ``translate2``: in-context translation of invented languages. A seeded
  :class:`Language` has pronounceable random words for a small English lexicon, a clause order
  (one of SVO, SOV, VSO, VOS, OVS, OSV) and an adjective placement (before / after the noun). The
  context holds a dictionary and example pairs; the queries are held-out English sentences to
  translate. ``translate2`` puts two languages (different rules) in one context and each query
  names its target language. Scored by chrF (:func:`corpus_chrf`). Reference points:
  copying the source (:func:`copy_reference`) and word-by-word dictionary lookup in English
  order (:func:`lookup_reference`).
* ``niah``: RULER S-NIAH style needle in a haystack: ``The special magic number for KEY is:
  NNNNNNN.`` hidden at a depth of filler text of an exact byte length; the query asks for it.
  The filler is held-out corpus prose when given (``filler=`` bytes, e.g. corpus.py's
  ``heldout.txt``) or else generated sentences from a seeded grammar.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

# ----------------------------------------------------------------------------------------------
# episodes


@dataclass(frozen=True)
class Query:
    prompt: str
    answer: str


@dataclass(frozen=True)
class Episode:
    task: str
    context: str
    queries: tuple[Query, ...]
    meta: dict = field(default_factory=dict, compare=False)

    def text(self) -> str:
        """The whole episode as the model reads it in training."""
        return self.context + "".join(q.prompt + q.answer + "\n" for q in self.queries)


LOWER = "abcdefghijklmnopqrstuvwxyz"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


def _distinct(rng: random.Random, n: int, make) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        w = make()
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


# ----------------------------------------------------------------------------------------------
# MAD-style noisy in-context recall and selective copying


def noisy_recall(rng: random.Random, n_pairs: int = 8, n_queries: int = 4, noise: float = 0.5) -> Episode:
    """Pairs ``abc=417`` separated by spaces, a noise group (2-3 upper-case letters) after each pair
    with probability ``noise``; queries ``abc=`` -> ``417`` for distinct keys of the context."""
    if not 1 <= n_queries <= n_pairs:
        raise ValueError(f"need 1 <= n_queries ({n_queries}) <= n_pairs ({n_pairs})")
    keys = _distinct(rng, n_pairs, lambda: "".join(rng.choice(LOWER) for _ in range(3)))
    values = [ "".join(rng.choice(DIGITS) for _ in range(3)) for _ in keys]
    parts = []
    for k, v in zip(keys, values):
        parts.append(f"{k}={v}")
        if rng.random() < noise:
            parts.append("".join(rng.choice(UPPER) for _ in range(rng.randint(2, 3))))
    context = "recall: " + " ".join(parts) + "\n"
    idx = rng.sample(range(n_pairs), n_queries)
    queries = tuple(Query(f"{keys[i]}=", values[i]) for i in idx)
    return Episode("recall", context, queries, {"pairs": dict(zip(keys, values))})


COPY_NOISE = ".,-"


def selective_copy(rng: random.Random, n_marked: int = 6, length: int = 20, n_queries: int = 2) -> Episode:
    """Each query is ``copy: q..x-m.,a.. -> `` and its answer the marked letters in order (``qxma``)."""
    if not 1 <= n_marked <= length:
        raise ValueError(f"need 1 <= n_marked ({n_marked}) <= length ({length})")
    queries = []
    for _ in range(n_queries):
        pos = sorted(rng.sample(range(length), n_marked))
        letters = [rng.choice(LOWER) for _ in pos]
        s = [rng.choice(COPY_NOISE) for _ in range(length)]
        for p, c in zip(pos, letters):
            s[p] = c
        queries.append(Query(f"copy: {''.join(s)} -> ", "".join(letters)))
    return Episode("copy", "", tuple(queries))


# ----------------------------------------------------------------------------------------------
# invented languages

NOUNS = ["dog", "cat", "bird", "fish", "man", "woman", "child", "horse", "tree", "river", "king", "ship", "wolf", "girl", "boy", "bear"]
VERBS = ["see", "like", "eat", "find", "help", "take", "hold", "want", "call", "meet"]
ADJS = ["big", "small", "red", "old", "new", "good", "dark", "fast", "cold", "tall"]
ORDERS = ("SVO", "SOV", "VSO", "VOS", "OVS", "OSV")
CONSONANTS = "ptkbdgmnslrvfz"
VOWELS = "aeiou"


def pronounceable(rng: random.Random, syllables: int) -> str:
    w = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables))
    if rng.random() < 0.3:
        w += rng.choice("nlsr")
    return w


@dataclass(frozen=True)
class Language:
    name: str
    order: str  # clause order, e.g. "SOV"
    adj_after: bool  # adjective after its noun
    words: dict  # English lemma -> invented word

    def translate(self, sent: "Sentence") -> str:
        def np(adj: str | None, noun: str) -> list[str]:
            n = [self.words[noun]]
            if adj is None:
                return n
            return n + [self.words[adj]] if self.adj_after else [self.words[adj]] + n

        parts = {"S": np(sent.s_adj, sent.subj), "V": [self.words[sent.verb]], "O": np(sent.o_adj, sent.obj)}
        return " ".join(w for c in self.order for w in parts[c])

    def lookup(self, english: str) -> str:
        """Word-by-word dictionary lookup in English order (the reference point)."""
        return " ".join(self.words.get(w, w) for w in english.split())

    def dictionary(self, lemmas: list[str]) -> str:
        return f"dict {self.name}: " + " ".join(f"{w}={self.words[w]}" for w in lemmas) + "\n"


def make_language(rng: random.Random, avoid: Language | None = None) -> Language:
    """A seeded invented language: a name, a clause order, an adjective rule and a word for every
    English lemma (distinct pronounceable words, none shared with ``avoid``). With ``avoid`` the
    (order, adjective rule) pair differs from its, so two languages in one context disagree."""
    taken = set(avoid.words.values()) | {avoid.name} if avoid else set()
    while True:
        order, adj_after = rng.choice(ORDERS), rng.random() < 0.5
        if avoid is None or (order, adj_after) != (avoid.order, avoid.adj_after):
            break
    lemmas = NOUNS + VERBS + ADJS
    made = _distinct(rng, len(lemmas) + 1, lambda: pronounceable(rng, rng.choice((1, 2, 2))))
    while any(w in taken for w in made) or len(set(made)) < len(made):
        made = _distinct(rng, len(lemmas) + 1, lambda: pronounceable(rng, rng.choice((1, 2, 2))))
    return Language(made[0], order, adj_after, dict(zip(lemmas, made[1:])))


@dataclass(frozen=True)
class Sentence:
    s_adj: str | None
    subj: str
    verb: str
    o_adj: str | None
    obj: str

    def english(self) -> str:
        w = ([self.s_adj] if self.s_adj else []) + [self.subj, self.verb] + ([self.o_adj] if self.o_adj else []) + [self.obj]
        return " ".join(w)


def random_sentence(rng: random.Random, nouns: list[str], verbs: list[str], adjs: list[str]) -> Sentence:
    s, o = rng.sample(nouns, 2)
    return Sentence(rng.choice(adjs) if rng.random() < 0.5 else None, s, rng.choice(verbs), rng.choice(adjs) if rng.random() < 0.5 else None, o)


def translation(rng: random.Random, n_languages: int = 1, n_examples: int = 3, n_queries: int = 2, n_nouns: int = 5, n_verbs: int = 2, n_adjs: int = 2) -> Episode:
    """In-context translation: per language a dictionary of the episode's lemmas and ``n_examples``
    example pairs, then ``n_queries`` held-out sentences per language (each query names its target
    language: ``en: big dog see cat\\n<name>: `` -> translation). With two languages the examples
    and queries alternate between them."""
    if n_languages not in (1, 2):
        raise ValueError(f"n_languages must be 1 or 2, found {n_languages}")
    langs = [make_language(rng)]
    if n_languages == 2:
        langs.append(make_language(rng, avoid=langs[0]))
    nouns, verbs, adjs = rng.sample(NOUNS, n_nouns), rng.sample(VERBS, n_verbs), rng.sample(ADJS, n_adjs)
    lemmas = nouns + verbs + adjs
    sents: list[Sentence] = []
    seen: set[str] = set()
    need = n_languages * (n_examples + n_queries)
    while len(sents) < need:
        s = random_sentence(rng, nouns, verbs, adjs)
        if s.english() not in seen:
            seen.add(s.english())
            sents.append(s)
    ex, qs = sents[: n_languages * n_examples], sents[n_languages * n_examples :]
    context = "".join(l.dictionary(lemmas) for l in langs)
    for i, s in enumerate(ex):
        l = langs[i % n_languages]
        context += f"en: {s.english()}\n{l.name}: {l.translate(s)}\n"
    queries = []
    sources, targets = [], []
    for i, s in enumerate(qs):
        l = langs[i % n_languages]
        queries.append(Query(f"en: {s.english()}\n{l.name}: ", l.translate(s)))
        sources.append(s.english())
        targets.append(l.name)
    meta = {"languages": langs, "sources": sources, "target_languages": targets}
    return Episode(f"translate{n_languages}", context, tuple(queries), meta)


def copy_reference(ep: Episode) -> list[str]:
    """Reference point: the hypothesis is the English source itself."""
    return list(ep.meta["sources"])


def lookup_reference(ep: Episode) -> list[str]:
    """Reference point: word-by-word dictionary lookup into the named language, English order."""
    by_name = {l.name: l for l in ep.meta["languages"]}
    return [by_name[t].lookup(s) for s, t in zip(ep.meta["sources"], ep.meta["target_languages"])]


# ----------------------------------------------------------------------------------------------
# needle in a haystack (RULER S-NIAH style)

NIAH_LENGTHS = (1024, 2048, 4096, 8192, 16384, 32768, 65536)


def generated_filler(rng: random.Random, n_bytes: int) -> bytes:
    """Seeded filler prose from a tiny grammar (used when no held-out corpus is given)."""
    out: list[str] = []
    size = 0
    while size < n_bytes:
        s = random_sentence(rng, NOUNS, VERBS, ADJS)
        words = s.english().split()
        text = "The " + " ".join(words) + ". " if rng.random() < 0.8 else "A " + " ".join(words) + "; "
        out.append(text)
        size += len(text)
    return "".join(out).encode()[:n_bytes]


def niah(rng: random.Random, length: int, depth: float, filler: bytes | None = None) -> Episode:
    """A context of exactly ``length`` bytes: filler with the needle ``The special magic number for
    KEY is: NNNNNNN.`` inserted at fraction ``depth`` (moved to the next space so no word is cut);
    the query ``What is the special magic number for KEY? The special magic number for KEY is: ``
    expects the 7 digits. Filler: a window of ``filler`` (e.g. held-out prose) at a seeded offset, or
    :func:`generated_filler`. Non-ASCII filler bytes are replaced by spaces so every byte of the
    context is one character."""
    if not 0.0 <= depth <= 1.0:
        raise ValueError(f"depth must lie in [0, 1], found {depth}")
    key = f"{rng.choice(ADJS)}-{rng.choice(NOUNS)}-{rng.randint(10, 99)}"
    value = "".join(rng.choice(DIGITS) for _ in range(7))
    needle = f" The special magic number for {key} is: {value}. ".encode()
    n_fill = length - len(needle)
    if n_fill < 0:
        raise ValueError(f"length {length} is shorter than the needle ({len(needle)} bytes)")
    if filler is None or len(filler) < n_fill + 1:
        hay = generated_filler(rng, n_fill)
    else:
        off = rng.randrange(0, len(filler) - n_fill)
        hay = bytes(b if 32 <= b < 127 or b == 10 else 32 for b in filler[off : off + n_fill])
    at = int(depth * n_fill)
    sp = hay.find(b" ", at)
    at = sp if sp >= 0 else at
    ctx = (hay[:at] + needle + hay[at:]).decode("ascii")
    assert len(ctx) == length
    prompt = f"\nWhat is the special magic number for {key}? The special magic number for {key} is: "
    return Episode("niah", ctx, (Query(prompt, value),), {"length": length, "depth": depth, "key": key, "needle_at": at})


# ----------------------------------------------------------------------------------------------
# chrF (sacreBLEU's default chrF: character n-grams 1..6, beta 2, whitespace removed,
# precision and recall averaged over the orders that exist in both strings)


def _char_ngrams(s: str, n: int) -> Counter:
    return Counter(s[i : i + n] for i in range(len(s) - n + 1))


def chrf_statistics(hyp: str, ref: str, order: int = 6) -> list[int]:
    """Per order n = 1..order: [hyp n-grams, ref n-grams, matched n-grams] (flattened)."""
    h, r = re.sub(r"\s+", "", hyp), re.sub(r"\s+", "", ref)
    stats: list[int] = []
    for n in range(1, order + 1):
        hc, rc = _char_ngrams(h, n), _char_ngrams(r, n)
        stats += [sum(hc.values()), sum(rc.values()), sum((hc & rc).values())]
    return stats


def chrf_from_statistics(stats: list[int], order: int = 6, beta: float = 2.0) -> float:
    """sacreBLEU 2.x ``CHRF._compute_f_score`` with ``eps_smoothing=False`` (its default)."""
    prec_sum = rec_sum = 0.0
    eff = 0
    for i in range(order):
        n_hyp, n_ref, n_match = stats[3 * i : 3 * i + 3]
        if n_hyp > 0 and n_ref > 0:
            prec_sum += n_match / n_hyp
            rec_sum += n_match / n_ref
            eff += 1
    if eff == 0:
        return 0.0
    p, r = prec_sum / eff, rec_sum / eff
    if p + r == 0:
        return 0.0
    f = beta * beta
    return 100.0 * (1 + f) * p * r / (f * p + r)


def chrf(hyp: str, ref: str) -> float:
    """Sentence chrF (0..100)."""
    return chrf_from_statistics(chrf_statistics(hyp, ref))


def corpus_chrf(hyps: list[str], refs: list[str]) -> float:
    """Corpus chrF as sacreBLEU computes it: n-gram statistics summed over sentences, one F-score."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses for {len(refs)} references")
    total = [0] * 18
    for h, r in zip(hyps, refs):
        total = [a + b for a, b in zip(total, chrf_statistics(h, r))]
    return chrf_from_statistics(total)


# ----------------------------------------------------------------------------------------------
# the pre-training mix

TRAIN_TASKS = ("recall", "copy", "translate1", "translate2", "niah")


def make_episode(task: str, rng: random.Random, filler: bytes | None = None) -> Episode:
    """One episode of ``task`` at the sizes used in pre-training and evaluation (NIAH: 512-byte
    haystacks here; evaluation calls :func:`niah` with its own lengths)."""
    if task == "recall":
        return noisy_recall(rng)
    if task == "copy":
        return selective_copy(rng)
    if task == "translate1":
        return translation(rng, 1)
    if task == "translate2":
        return translation(rng, 2, n_examples=2)
    if task == "niah":
        return niah(rng, rng.choice((256, 384, 512)), rng.random(), filler)
    raise ValueError(f"unknown task {task!r}; known: {', '.join(TRAIN_TASKS)}")


def training_sequence(rng: random.Random, n_bytes: int, filler: bytes | None = None) -> bytes:
    """``n_bytes`` of task episodes (tasks drawn uniformly, each episode followed by a blank line),
    cut at ``n_bytes``; used to mix task bytes into pre-training (train.py --task-fraction)."""
    out = b""
    while len(out) < n_bytes:
        out += make_episode(rng.choice(TRAIN_TASKS), rng, filler).text().encode() + b"\n"
    return out[:n_bytes]
