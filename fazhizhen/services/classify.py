"""Guess the category of a resident's question from its text with weighted keyword rules.

How a question is scored:

* The text is normalised: NFKC (full-width digits and letters become ASCII), lower case, no whitespace.
* Terms of three or more characters (``物业费``, ``抚养权``, ``lihun``, misspellings such as ``离昏``)
  match as substrings, scanning left to right and taking the longest term at each position; a matched span
  is consumed so ``拖欠工资`` does not also count as ``欠工资``.
* Terms of one or two characters (``邻居``, ``工资``, ``公司``) match only as whole jieba tokens outside the
  consumed spans, because as substrings they misfire (``公司`` inside ``物业公司``).  Every term and every
  "blocker" (a compound like ``工资流水`` that means nothing for us) is added to the segmenter's dictionary,
  so compounds stay whole and hide their parts.
* Each distinct term adds its weight once to its category.
* Combos add core weight when every one of their groups has a member in the text (plain substrings, single
  characters allowed): a vehicle and a collision verb (车 + 撞/刮/碰), a relative and a death euphemism
  (爸 + 走了/不在了).  They catch the many everyday phrasings no fixed term list anticipates.

Mixed topics and ties, in the order they are applied:

1. Context terms.  Some words set the scene rather than name the dispute: who is involved (``老公``,
   ``婆婆``, ``老板``, ``房子``) or where the resident already complained (``物业`` in "找物业也不管",
   ``报警``/``派出所``).  They count fully only when their category has core evidence of its own or no other
   category has any; otherwise they count a quarter (``CONTEXT_DISCOUNT``).  So "物业不管楼上漏水" is a
   neighbour dispute (the liable party is upstairs; the property company was only asked for help) while
   "物业不管电梯" is a property dispute, and "老公去世了婆婆要分房子" is inheritance, not marriage.
2. Specific outweighs generic by weight: ``租房合同`` is housing, bare ``合同`` is a weak contract hint;
   ``工伤`` outweighs ``被车撞`` (the question is whether it is a work injury); ``遗产``/``去世`` outweigh
   family words; ``离婚`` outweighs the house or debt that is being divided.
3. Highest score wins; equal scores go to the category earlier in ``TIE_ORDER`` (narrow legal areas before
   broad ones, property before neighbour because a company with a service contract is the counterparty a
   lawyer can act against).
4. When the best score is below ``MIN_SCORE`` the question is ``other``.

The statistical half (hybrid scoring):

* A multinomial naive Bayes model, trained once per process from the labelled questions shipped in
  ``fazhizhen/data/classify_train.jsonl``, reads the same text as sets of
  features: every character, every pair of adjacent characters, and every jieba token.  Binary counts,
  add-``_SMOOTHING`` smoothing; features it never saw in training are ignored.
* Its log-probabilities are tempered by the square root of the number of known features (naive Bayes is
  overconfident on long texts; this temperature gave the best cross-validated log-loss) and turned into a
  posterior.  ``MODEL_WEIGHT`` times that posterior is added to every category's keyword score, so a
  confident model is worth about one strong core term: it settles the colloquial, misspelt and unforeseen
  phrasings the rules miss, while a clear keyword verdict still stands.
* The posterior is scaled down for texts with fewer than ``_FULL_EVIDENCE`` known features, and a text with no
  feature the model knows (emoji, punctuation) gets no model evidence: "谢谢" and "在吗" stay ``other``.

Building the tables (jieba's dictionary, our terms added to it, the model trained) takes about 1.3 s of CPU,
several seconds of wall time on a busy machine.  The server starts that build in a background thread at
start-up (``warm_up_in_background``); a question that needs the classifier before it is done waits for
that same build (the lock in ``_get_tables``) instead of starting a second one.

Renting disputes (房东, 押金) are housing, home renovation by a company is contract, wage arrears are labour
even though they are money owed, and licence points, 户口, visas, police and administrative matters are other.
"""

import json
import logging
import math
import re
import threading
import time
import unicodedata
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fazhizhen.log import get_logger
from fazhizhen.services.categories import CATEGORIES

log = get_logger("fazhizhen.classify")

MIN_SCORE = 2.0
CONTEXT_DISCOUNT = 0.25
TIE_ORDER: tuple[str, ...] = (
    "inheritance",
    "traffic",
    "labor",
    "marriage_family",
    "debt",
    "housing",
    "property",
    "neighbor",
    "consumer",
    "contract",
    "other",
)
_SHORT_TERM_MAX = 2
MODEL_WEIGHT = 4.0
_SMOOTHING = 0.3
_FULL_EVIDENCE = 8
# Runs of characters the model reads (CJK, digits, latin letters); punctuation and emoji split them.
_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")

# (category, weight, is_context)
_Hit = tuple[str, float, bool]
# (category, weight, groups): fires when every group has a member in the text
_Combo = tuple[str, float, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True)
class _Model:
    """Naive Bayes parameters, each tuple in ``CATEGORIES`` order."""

    log_prior: tuple[float, ...]
    log_likelihood: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class _Tables:
    hits: dict[str, list[_Hit]]
    short_terms: dict[str, list[_Hit]]
    # first character -> long terms starting with it, longest first
    long_terms: dict[str, tuple[str, ...]]
    known_words: frozenset[str]
    combos: tuple[_Combo, ...]
    tokenizer: Any
    model: _Model


_lock = threading.Lock()
_tables: _Tables | None = None
_warm_up: threading.Thread | None = None


def _normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _load_keywords() -> dict[str, Any]:
    raw = resources.files("fazhizhen").joinpath("data/classify_keywords.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def load_training_rows() -> list[tuple[str, str]]:
    """The labelled questions the model is trained on, as (text, category) pairs."""
    raw = resources.files("fazhizhen").joinpath("data/classify_train.jsonl").read_text(encoding="utf-8")
    rows = []
    for line in raw.splitlines():
        if line.strip():
            item = json.loads(line)
            if item["category"] not in CATEGORIES:
                raise ValueError(f"unknown category {item['category']!r} in classify_train.jsonl")
            rows.append((item["text"], item["category"]))
    return rows


_jieba: Any = None


def _import_jieba() -> Any:
    global _jieba
    if _jieba is None:
        # jieba 0.42 has invalid escape sequences in its regexes and may import pkg_resources: both warn on
        # first import, and the test suite turns warnings into errors. catch_warnings swaps process-wide
        # state, so the warm-up imports jieba here on the event loop's thread before starting its own.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", UserWarning)
            import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return _jieba


def _new_tokenizer() -> Any:
    jieba = _import_jieba()
    # A private tokenizer so our dictionary additions do not change segmentation elsewhere in the process.
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _build() -> _Tables:
    if set(TIE_ORDER) != set(CATEGORIES):
        raise ValueError("TIE_ORDER must list every category exactly once")
    data = _load_keywords()
    hits: dict[str, list[_Hit]] = {}
    for category, tables in data["categories"].items():
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r} in classify_keywords.json")
        for is_context, key in ((False, "core"), (True, "context")):
            for term, weight in tables[key].items():
                hits.setdefault(_normalise(term), []).append((category, float(weight), is_context))
    blockers = {_normalise(word) for word in data["blockers"]}
    combos: list[_Combo] = []
    for combo in data.get("combos", []):
        if combo["category"] not in CATEGORIES:
            raise ValueError(f"unknown category {combo['category']!r} in classify_keywords.json combos")
        groups = tuple(tuple(_normalise(member) for member in group) for group in combo["groups"])
        combos.append((combo["category"], float(combo["weight"]), groups))

    tokenizer = _new_tokenizer()
    for word in sorted(set(hits) | blockers):
        if len(word) >= 2:
            tokenizer.add_word(word)

    short_terms = {term: h for term, h in hits.items() if len(term) <= _SHORT_TERM_MAX}
    long_terms: dict[str, tuple[str, ...]] = {}
    for term in sorted((t for t in hits if len(t) > _SHORT_TERM_MAX), key=lambda t: (-len(t), t)):
        long_terms[term[0]] = (*long_terms.get(term[0], ()), term)
    model = train_model(load_training_rows(), tokenizer)
    return _Tables(hits, short_terms, long_terms, frozenset(hits) | blockers, tuple(combos), tokenizer, model)


def _features(normalised: str, tokens: list[tuple[str, int, int]]) -> set[str]:
    features: set[str] = set()
    for run in _RUN.findall(normalised):
        features.update(run)
        features.update(run[i : i + 2] for i in range(len(run) - 1))
    # The "w:" prefix keeps a two-character token apart from the same character pair.
    features.update("w:" + word for word, _, _ in tokens if _RUN.fullmatch(word))
    return features


def train_model(rows: list[tuple[str, str]], tokenizer: Any) -> _Model:
    """Fit the naive Bayes half on (text, category) pairs."""
    codes = list(CATEGORIES)
    docs = dict.fromkeys(codes, 0)
    counts: dict[str, list[int]] = {}
    for text, category in rows:
        index = codes.index(category)
        docs[category] += 1
        normalised = _normalise(text)
        for feature in _features(normalised, list(tokenizer.tokenize(normalised, HMM=False))):
            counts.setdefault(feature, [0] * len(codes))[index] += 1
    totals = [sum(c[i] for c in counts.values()) + _SMOOTHING * len(counts) for i in range(len(codes))]
    log_prior = tuple(math.log((docs[code] + 1) / (len(rows) + len(codes))) for code in codes)
    log_likelihood = {
        feature: tuple(math.log((n + _SMOOTHING) / total) for n, total in zip(c, totals, strict=True))
        for feature, c in counts.items()
    }
    return _Model(log_prior, log_likelihood)


def _get_tables() -> _Tables:
    global _tables
    if _tables is None:
        with _lock:  # a build under way (the warm-up's) finishes first; then there is nothing left to do
            if _tables is None:
                _tables = _build()
    return _tables


def ready() -> bool:
    """Whether the tables are built (a classification now takes well under a millisecond)."""
    return _tables is not None


def warm_up_in_background() -> None:
    """Build the tables in a daemon thread unless built or under way (a daemon: it never delays exit)."""
    global _warm_up
    with _lock:
        if _tables is not None or (_warm_up is not None and _warm_up.is_alive()):
            return
        _import_jieba()
        _warm_up = threading.Thread(target=_timed_build, name="classifier-warm-up", daemon=True)
    _warm_up.start()


def _timed_build() -> None:
    started = time.perf_counter()
    _get_tables()
    log.info("classifier_ready", seconds=round(time.perf_counter() - started, 3))


def _model_posterior(features: set[str], model: _Model) -> dict[str, float] | None:
    known = [model.log_likelihood[f] for f in features if f in model.log_likelihood]
    if not known:
        return None
    log_scores = [prior + sum(column) for prior, column in zip(model.log_prior, zip(*known, strict=True), strict=True)]
    temperature = max(1.0, math.sqrt(len(known)))
    top = max(log_scores)
    weights = [math.exp((v - top) / temperature) for v in log_scores]
    # A handful of features ("谢谢", "在吗") is too little to go on: the model's say grows with its evidence.
    total = sum(weights) / min(1.0, len(known) / _FULL_EVIDENCE)
    return {code: w / total for code, w in zip(CATEGORIES, weights, strict=True)}


def _matched_terms(text: str, tables: _Tables, tokens: list[tuple[str, int, int]]) -> list[str]:
    consumed = bytearray(len(text))
    found: list[str] = []
    i = 0
    while i < len(text):
        for term in tables.long_terms.get(text[i], ()):
            if text.startswith(term, i):
                consumed[i : i + len(term)] = b"\x01" * len(term)
                if term not in found:
                    found.append(term)
                i += len(term)
                break
        else:
            i += 1

    seen: set[str] = set()
    for word, start, end in tokens:
        if any(consumed[start:end]):
            continue
        if word in tables.short_terms:
            candidates = [word]
        elif len(word) > _SHORT_TERM_MAX and word not in tables.known_words:
            # Dictionary compounds we do not know (邻居家) still carry the meaning of a term inside them.
            pairs = (word[i : i + 2] for i in range(len(word) - 1))
            candidates = [pair for pair in pairs if pair in tables.short_terms]
        else:
            candidates = []
        for term in candidates:
            if term not in seen:
                seen.add(term)
                found.append(term)
    return found


def classify_scores(text: str) -> dict[str, float]:
    """Score of every category for the text (higher is more likely): keyword evidence plus the model's."""
    tables = _get_tables()
    return scores_with_model(text, tables.model)


def scores_with_model(text: str, model: _Model) -> dict[str, float]:
    """``classify_scores`` with a given model (cross-validation trains its own on part of the data)."""
    tables = _get_tables()
    normalised = _normalise(text)
    tokens = list(tables.tokenizer.tokenize(normalised, HMM=False)) if normalised else []
    scores = _keyword_scores(normalised, tables, tokens)
    posterior = _model_posterior(_features(normalised, tokens), model)
    if posterior:
        for category, p in posterior.items():
            scores[category] += MODEL_WEIGHT * p
    return scores


def _keyword_scores(normalised: str, tables: _Tables, tokens: list[tuple[str, int, int]]) -> dict[str, float]:
    core = dict.fromkeys(CATEGORIES, 0.0)
    context = dict.fromkeys(CATEGORIES, 0.0)
    if normalised:
        for term in _matched_terms(normalised, tables, tokens):
            for category, weight, is_context in tables.hits[term]:
                (context if is_context else core)[category] += weight
        for category, weight, groups in tables.combos:
            if all(any(member in normalised for member in group) for group in groups):
                core[category] += weight

    scores: dict[str, float] = {}
    for category in CATEGORIES:
        weight = context[category]
        others_have_core = any(v > 0 for c, v in core.items() if c != category)
        if weight and core[category] == 0 and others_have_core:
            weight *= CONTEXT_DISCOUNT
        scores[category] = core[category] + weight
    return scores


def classify(text: str) -> str:
    """Category code for a question's text; ``other`` when nothing fits."""
    return best_category(classify_scores(text))


def best_category(scores: dict[str, float]) -> str:
    """The winning category of a score table (ties and the ``other`` threshold as documented above)."""
    best = min(TIE_ORDER, key=lambda c: (-scores[c], TIE_ORDER.index(c)))
    return best if scores[best] >= MIN_SCORE else "other"
