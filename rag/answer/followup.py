"""Follow-up questions in a conversation: "那2022年呢？" after "和平区2021年新增就业多少人？".

A follow-up that names only a year and/or a place (no topic of its own) takes the previous
question and swaps that year or place in; anything else is a new question and is returned
as it is. Places are recognised by the one place matcher (:mod:`rag.retrieve.places`), years
by :mod:`rag.text.years`.
"""

from __future__ import annotations

import re

from rag.retrieve.places import PlaceMatcher
from rag.text.lexicon import lexicon
from rag.text.normalize import fold_width, to_simplified
from rag.text.years import without_years, year_matches

# Words around a bare year or place that carry no topic: "那……呢？", "What about ...?".
_LEAD = re.compile(
    r"^\s*(?:那么|那|还有|再看看?|换成|如果是|改成|那如果是|and\s+|what\s+about\s+|how\s+about\s+"
    r"|and\s+in\s+|what\s+about\s+in\s+|how\s+about\s+in\s+)",
    re.IGNORECASE,
)
_TRAIL = re.compile(
    r"(?:的情况|情况|又如何|如何|怎么样|怎样|呢|吗|then|instead)?\s*[？?。.!！\s]*$", re.IGNORECASE
)
_FILLER = re.compile(r"^(?:的|在|in|for)\s*|\s*(?:的|in|for)$", re.IGNORECASE)


def _core(question: str) -> str:
    core = _LEAD.sub("", question.strip())
    return _TRAIL.sub("", core).strip()


def _years(text: str) -> list[str]:
    return [m.group(1) for m in year_matches(text)]


def _place_spans(text: str, places: PlaceMatcher) -> list[tuple[int, int]]:
    # Folding and t2s keep every character's position: spans index ``text`` itself.
    return places.read(to_simplified(fold_width(text))).spans


def _bare(question: str, places: PlaceMatcher) -> tuple[list[str], str | None] | None:
    """Years and place of a question that names nothing else; None when it has a topic."""
    core = _core(question)
    if not core:
        return None
    years = _years(core)
    rest = re.sub(r"[,，、\s]+", " ", without_years(core)).strip()
    rest = _FILLER.sub("", rest).strip()
    place: str | None = None
    if rest:
        spans = _place_spans(rest, places)
        if len(spans) != 1 or spans[0] != (0, len(rest)):
            return None
        place = rest
    if not years and place is None:
        return None
    return years, place


def _swap_years(previous: str, years: list[str]) -> str:
    found = year_matches(previous)
    if not found:
        if re.search(r"[\u4e00-\u9fff]", previous):
            return f"{years[0]}年" + previous
        return previous.rstrip("?？ ") + f" in {years[0]}?"
    out, last = [], 0
    # One new year replaces every year of the previous question; several replace in order.
    for i, m in enumerate(found):
        new = years[i] if i < len(years) else years[-1] if len(years) == 1 else m.group(1)
        out.append(previous[last:m.start(1)] + new)
        last = m.end(1)
    return "".join(out) + previous[last:]


def _swap_place(previous: str, place: str, places: PlaceMatcher) -> str:
    spans = _place_spans(previous, places)
    if spans:
        # A chain ("天津市和平区", "Heping District in Tianjin") is replaced from its first
        # name to its last adjacent one.
        start, end = spans[0]
        for s, e in spans[1:]:
            if s - end <= 1 and re.fullmatch(r"\s*", previous[end:s]):
                end = e
        return previous[:start] + place + previous[end:]
    for pattern, _ in lexicon().levels:  # "2022年哪些区新增了学位？" → "2022年和平区新增…"
        which = pattern.search(previous)
        if which and which.group().startswith("哪"):
            return previous[: which.start()] + place + previous[which.end():]
    if re.search(r"[\u4e00-\u9fff]", place):
        return place + previous
    return previous.rstrip("?？ ") + f" in {place}?"


def _resolve_one(previous: str, question: str, places: PlaceMatcher) -> str:
    bare = _bare(question, places)
    if bare is None or not previous.strip():
        return question
    years, place = bare
    out = previous
    if place:
        out = _swap_place(out, place, places)
    if years:
        out = _swap_years(out, years)
    return out


def resolve_followup(history: list[str], question: str, places: PlaceMatcher) -> str:
    """The question to answer, given the earlier questions of the conversation.

    Args:
        history: earlier user questions, oldest first (raw or already resolved).
        question: the new question.
        places: the place matcher of the store being asked (:meth:`Assistant.places`).

    Returns:
        ``question`` itself when it has a topic of its own; otherwise the previous question
        with the year and/or place of ``question`` put in.
    """
    previous = ""
    for q in history:
        if q and q.strip():
            previous = _resolve_one(previous, q, places) if previous else q.strip()
    return _resolve_one(previous, question.strip(), places) if previous else question.strip()
