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

Renting disputes (房东, 押金) are housing, home renovation by a company is contract, wage arrears are labour
even though they are money owed, and licence points, 户口, visas, police and administrative matters are other.
"""

import json
import logging
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fazhizhen.services.categories import CATEGORIES

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

# (category, weight, is_context)
_Hit = tuple[str, float, bool]
# (category, weight, groups): fires when every group has a member in the text
_Combo = tuple[str, float, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True)
class _Tables:
    hits: dict[str, list[_Hit]]
    short_terms: dict[str, list[_Hit]]
    # first character -> long terms starting with it, longest first
    long_terms: dict[str, tuple[str, ...]]
    known_words: frozenset[str]
    combos: tuple[_Combo, ...]
    tokenizer: Any


_lock = threading.Lock()
_tables: _Tables | None = None


def _normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _load_keywords() -> dict[str, Any]:
    raw = resources.files("fazhizhen").joinpath("data/classify_keywords.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def _new_tokenizer() -> Any:
    # jieba 0.42 has invalid escape sequences in its regexes and may import pkg_resources: both warn on
    # first import, and the test suite turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", UserWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
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
    return _Tables(hits, short_terms, long_terms, frozenset(hits) | blockers, tuple(combos), tokenizer)


def _get_tables() -> _Tables:
    global _tables
    if _tables is None:
        with _lock:
            if _tables is None:
                _tables = _build()
    return _tables


def _matched_terms(text: str, tables: _Tables) -> list[str]:
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
    for word, start, end in tables.tokenizer.tokenize(text, HMM=False):
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
    """Score of every category for the text (higher is more likely), after the context-term rule."""
    tables = _get_tables()
    normalised = _normalise(text)
    core = dict.fromkeys(CATEGORIES, 0.0)
    context = dict.fromkeys(CATEGORIES, 0.0)
    if normalised:
        for term in _matched_terms(normalised, tables):
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
    scores = classify_scores(text)
    best = min(TIE_ORDER, key=lambda c: (-scores[c], TIE_ORDER.index(c)))
    return best if scores[best] >= MIN_SCORE else "other"
