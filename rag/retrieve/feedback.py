"""The reports' own words for a topic the question words differently, read off the reports.

When none of a question's words is the corpus's ("Which cities built more than 2,000 new 5G
base stations?"), its meaning still finds the sentences: the closest unit of each candidate
report. The words those units share across reports are how the reports write the topic
(基站 in eight of the ten closest): pseudo-relevance feedback, with the embedder choosing the
sentences. They serve to bind figures and narrow quotes; they count as translations, so a
sentence is as sure of them as its meaning agrees.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence

from rag.index.lexical import tokenize
from rag.text.lexicon import lexicon
from rag.text.quantities import quantities_in

TOP_UNITS = 10  # the closest units read, at most two a report
MIN_SHARE = 0.3  # of them a word must stand in (and in two at least)
MAX_TERMS = 1  # the strongest shared word: more dilute the figure's clause


def feedback_terms(units: Sequence[str], idf: Callable[[str], float | None],
                   min_idf: float, is_place: Callable[[str], bool] | None = None) -> list[str]:
    """Words that the closest ``units`` share and the corpus finds telling, best first.

    Args:
        units: the texts of the closest units, closest first.
        idf: a word's inverse document frequency in the corpus, None if it never occurs.
        min_idf: how rare a word must be to say something (``AnswerSettings.telling_idf``).
        is_place: whether a word names a place: the closest units of one place's report
            share its name ("南京"), which says where, not what.
    """
    lex = lexicon()
    stop = set(lex.scaffold_zh) | {w for d in lex.directions_zh.values() for w in d}
    top = list(units)[:TOP_UNITS]
    count: collections.Counter[str] = collections.Counter()
    for text in top:
        count.update({t for t in tokenize(_without_figures(text)) if len(t) >= 2 and t not in stop
                      and not any(ch.isdigit() or ch.isascii() for ch in t)})
    need = max(2, MIN_SHARE * len(top))
    scored = []
    for word, n in count.items():
        rarity = idf(word)
        if n >= need and rarity is not None and rarity >= min_idf \
                and not (is_place and is_place(word)):
            scored.append((n * rarity, word))
    scored.sort(reverse=True)
    # A word inside a longer chosen one adds nothing (婴幼 inside 婴幼儿).
    out: list[str] = []
    for _, word in scored:
        if not any(word in o or o in word for o in out):
            out.append(word)
        if len(out) == MAX_TERMS:
            break
    return out



def _without_figures(text: str) -> str:
    """The text with its figures blanked, units included ("1.17个百分点", "200万吨"): how
    figures are counted is not what they count."""
    out = list(text)
    for start, end, _ in quantities_in(text):
        out[start:end] = " " * (end - start)
    return "".join(out)
