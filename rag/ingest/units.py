"""Sentence units: the pieces of a report the embedder reads, one vector each.

A unit is a sentence of a chunk or, when the sentence is long, a run of its clauses of at most
``UNIT_CHARS`` characters: a sentence that lists ten results gets a vector per few results,
so a question about one of them finds it. Units are derived from the report's text and its
chunk spans alone, so the answering side recomputes nothing: a sentence it reads is the
sentence the units were cut from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rag.ingest.clean import iter_sentences, split_clauses
from rag.ingest.sections import is_section_heading
from rag.text.years import DATE, YEAR

# Measured on the sample reports and a 43-report city slice: the median sentence is 37
# characters, the 90th percentile 83; units of at most 60 split most sentences that list
# several indicators and leave ordinary ones whole.
UNIT_CHARS = 60

Span = tuple[int, int]

_WORD = re.compile(r"[\w\u4e00-\u9fff]")
_PUNCT = re.compile(r"[。；;，,！!？?：:]")


def states_something(text: str, start: int, end: int) -> bool:
    """Whether a unit can state a result: not a table rule ("|"), a stray mark, a section
    heading ("过去五年及2021年工作回顾", "一、过去五年发展成就及2021年主要工作") or the title's
    date line. Such lines are close in meaning to many questions ("…2021年主要工作" to any
    question of 2021) and say nothing; the meaning of a report is read from the rest.
    """
    unit = text[start:end].strip()
    if len(_WORD.findall(unit)) < 4:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end].strip()
    if line != unit or len(line) > 40 or _PUNCT.search(line):
        return True
    if line.startswith("——") and not re.search(r"\d", YEAR.sub("", DATE.sub("", line))):
        return False  # "——2022年1月11日在东莞市第十七届人民代表大会第一次会议上"
    return not is_section_heading(line)


def chunk_sentences(text: str, spans: Iterable[Span]) -> Iterator[Span]:
    """Distinct sentences of the given chunk spans, in text order (chunks overlap)."""
    seen: set[Span] = set()
    for start, end in sorted(spans):
        for span in iter_sentences(text, start, end):
            if span not in seen:
                seen.add(span)
                yield span


def sentence_units(text: str, start: int, end: int, limit: int = UNIT_CHARS) -> list[Span]:
    """The units of one sentence: itself, or runs of its clauses of at most ``limit``."""
    if end - start <= limit:
        return [(start, end)]
    out: list[Span] = []
    run: list[int] | None = None
    for cs, ce in split_clauses(text, start, end):
        if run is None:
            run = [cs, ce]
        elif ce - run[0] <= limit:
            run[1] = ce
        else:
            out.append((run[0], run[1]))
            run = [cs, ce]
    if run is not None:
        out.append((run[0], run[1]))
    return out or [(start, end)]


def units_of(text: str, chunk_spans: Iterable[Span]) -> list[Span]:
    """Every unit of a report, sorted by start: what :func:`embed_units` embeds."""
    units: set[Span] = set()
    for s, e in chunk_sentences(text, chunk_spans):
        units.update(sentence_units(text, s, e))
    return sorted(units)
