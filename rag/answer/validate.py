"""Checking a written answer against its citations: pure code, no model.

An answer written by a model is kept only where it can be checked:

- a marker (``[1]``, ``[1][2]``, ``[1,2]``, ``【1】``) that points to no passage is removed;
- a sentence whose markers all pointed nowhere loses its claim to a source: it is then checked
  like an unmarked sentence;
- every number of a sentence must occur in a quote that the sentence cites, or, for a sentence
  without markers, in a quote cited somewhere in the kept answer; otherwise the sentence is
  dropped and a note says so.

Numbers are compared by value, so ``2万`` matches ``20000``, ``3,566`` matches ``3566`` and
``13.76 billion`` matches ``137.6亿``; a percentage in the answer must be a percentage in the
quote. Four-digit years count as
numbers, except a year equal to a report year or covered year of a cited passage: those are
the passage metadata shown to the model ("天津市和平区｜2023年报告｜2022年"), so an answer
may say "2022年" without a quote holding it. Numbers written in Chinese numerals ("五所") are
not checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Protocol

from rag.text.quantities import tables

_SEP = r"\s*[,，、;；]\s*"
_ID = r"\d{1,3}(?:\s*[-–~]\s*\d{1,3})?"
MARKER = re.compile(r"[\[【［]\s*" + _ID + "(?:" + _SEP + _ID + r")*\s*[\]】］]")
_FULLWIDTH = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
_PERCENT = r"(\s*[%‰]|\s*per\s?cent\b)?"


@lru_cache(maxsize=1)
def _numbers() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, int]]:
    """Number patterns (grouped, plain) and magnitudes as powers of ten, from the quantities
    module's tables (万, 亿, thousand, million …)."""
    scale = {k: round(math.log10(v)) for k, v in tables().magnitudes.items()}
    words = "(" + "|".join(
        re.escape(k) if not k.isascii() else r"\s*" + re.escape(k) + r"\b"
        for k in sorted(scale, key=len, reverse=True)) + ")?"
    grouped = re.compile(
        r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*" + words + _PERCENT, re.I)
    plain = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*" + words + _PERCENT, re.I)
    return grouped, plain, scale


# List enumerators ("1. ", "2、", "(3)") number the answer's own lines, not facts.
_ENUMERATOR = re.compile(r"^(\s*(?:[-*]\s*)?)(?:\d{1,2}[.、)）](?!\d)|[(（]\d{1,2}[)）])", re.M)
_SENTENCE = re.compile(
    r"[^。！？!?\n]*?(?:[。！？!?]+[”’\"」』)）]*|(?<!\d)\.(?=\s|$)|\n|$)"
    r"(?:[ \t]*" + MARKER.pattern + ")*"
)
MAX_ID_RANGE = 20


class Quoted(Protocol):
    """What validation reads of a citation (:class:`rag.models.Citation` has it)."""

    id: int
    quote: str
    region: str
    source: str
    report_year: int | None
    covered_year: int | None


def _ids_of(marker: str) -> list[int]:
    out: list[int] = []
    for part in re.split(_SEP, marker.strip("[]【】［］ \t")):
        m = re.fullmatch(r"(\d+)(?:\s*[-–~]\s*(\d+))?", part.strip())
        if m is None:
            continue
        a = int(m.group(1))
        b = int(m.group(2) or a)
        if b < a or b - a > MAX_ID_RANGE:
            b = a
        out.extend(range(a, b + 1))
    return out


def citation_ids(text: str) -> list[int]:
    """The ids cited in ``text``, in order of first appearance, each once."""
    seen: dict[int, None] = {}
    for m in MARKER.finditer(text):
        for i in _ids_of(m.group()):
            seen.setdefault(i, None)
    return list(seen)


def strip_citations(text: str) -> str:
    """``text`` without its citation markers."""
    return MARKER.sub("", text)


def _normalize(value: str, scale: str | None, percent: str | None) -> str | None:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        return None
    if scale:
        number = number.scaleb(_numbers()[2][scale.strip().lower()])
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    percent = (percent or "").strip().lower()
    return text + ("‰" if percent == "‰" else "%" if percent else "")


def numbers_in(text: str, *, grouped: bool = True) -> list[str]:
    """The numbers written in ``text`` in digits, normalized to their value.

    ``6300`` → ``6300``, ``3,566`` → ``3566``, ``2万`` → ``20000``, ``137.6亿`` →
    ``13760000000``, ``98.16%`` → ``98.16%``, ``1.50`` → ``1.5``. Citation markers are not
    numbers; years are (see the module docstring for how validation treats them).

    Args:
        text: any text; full-width digits are read as digits.
        grouped: read ``3,566`` as one number (the default); with False as ``3`` and ``566``
            (report text uses ASCII commas between clauses, so quotes are read both ways).
    """
    text = strip_citations(text).translate(_FULLWIDTH)
    pattern = _numbers()[0] if grouped else _numbers()[1]
    out = []
    for m in pattern.finditer(text):
        norm = _normalize(m.group(1), m.group(2), m.group(3))
        if norm is not None:
            out.append(norm)
    return out


def _quote_numbers(quote: str) -> set[str]:
    nums = set(numbers_in(quote)) | set(numbers_in(quote, grouped=False))
    # A bare number in the answer may restate a percentage of the quote ("巩固率98.8").
    return nums | {n.rstrip("%‰") for n in nums}


def _years(citations: Iterable[Quoted]) -> set[str]:
    years = set()
    for c in citations:
        for y in (c.report_year, c.covered_year):
            if y is not None:
                years.add(str(y))
    return years


def _names(citations: Iterable[Quoted]) -> list[str]:
    """Region and file names shown to the model: digits in them are not figures."""
    names = {n for c in citations for n in (c.region, c.source) if n}
    return sorted(names, key=len, reverse=True)


def sentences(text: str) -> list[str]:
    """Split an answer into sentences; markers after a full stop stay with its sentence.

    Joining the pieces gives ``text`` back.
    """
    out = []
    pos = 0
    while pos < len(text):
        m = _SENTENCE.match(text, pos)
        if m is None or m.end() == pos:  # pragma: no cover - the pattern always advances
            out.append(text[pos:])
            break
        out.append(m.group())
        pos = m.end()
    return out


def _unchecked_numbers(sentence: str, allowed: set[str], names: Sequence[str] = ()) -> list[str]:
    body = _ENUMERATOR.sub(r"\1", strip_citations(sentence))
    for name in names:
        body = body.replace(name, " ")
    return [n for n in numbers_in(body) if n not in allowed]


def validate_answer(
    text: str, citations: Sequence[Quoted]
) -> tuple[str, list[int], list[str]]:
    """Keep what can be checked of a written answer.

    Args:
        text: the model's answer with ``[n]`` markers.
        citations: the passages shown to the model, by id.

    Returns:
        ``(clean_text, kept_ids, notes)``: the text with markers pointing nowhere removed,
        unsupported sentences dropped and markers written ``[n]`` (original ids); the ids
        still cited, in order of first appearance; what was removed and why.
    """
    by_id = {c.id: c for c in citations}
    numbers = {c.id: _quote_numbers(c.quote) for c in citations}
    years = _years(citations)
    names = _names(citations)
    notes: list[str] = []
    dangling: dict[int, None] = {}

    def rewrite(m: re.Match[str]) -> str:
        ids = list(dict.fromkeys(_ids_of(m.group())))
        for i in ids:
            if i not in by_id:
                dangling.setdefault(i, None)
        return "".join(f"[{i}]" for i in ids if i in by_id)

    pieces = [MARKER.sub(rewrite, s) for s in sentences(text)]
    if dangling:
        listed = ", ".join(f"[{i}]" for i in dangling)
        notes.append(f"removed citation markers that point to no passage: {listed}")

    def allowed(ids: Iterable[int]) -> set[str]:
        out = set(years)
        for i in ids:
            out |= numbers[i]
        return out

    kept: list[str | None] = list(pieces)
    unsupported: list[tuple[str, list[str]]] = []
    # Marked sentences answer for their own quotes first ...
    for k, piece in enumerate(pieces):
        ids = citation_ids(piece)
        bad = _unchecked_numbers(piece, allowed(ids), names) if ids else []
        if bad:
            kept[k] = None
            unsupported.append((piece, bad))
    # ... then unmarked ones may use any quote that the kept answer still cites.
    cited = allowed(citation_ids("".join(p for p in kept if p)))
    for k, piece in enumerate(pieces):
        bad = [] if citation_ids(piece) else _unchecked_numbers(piece, cited, names)
        if kept[k] is not None and bad:
            kept[k] = None
            unsupported.append((piece, bad))
    for piece, bad in unsupported:
        notes.append(
            f"dropped a sentence whose numbers ({', '.join(bad)}) are in none of its cited "
            f"quotes: {piece.strip()[:80]}"
        )
    clean, repeated = _tidy("".join(p for p in kept if p is not None))
    if repeated:
        notes.append(f"removed {repeated} repeated lines")
    return clean, citation_ids(clean), notes


def _tidy(text: str) -> tuple[str, int]:
    """Trim blank runs, and lines that repeat an earlier line (small models loop)."""
    out: list[str] = []
    seen: set[str] = set()
    repeated = 0
    for line in (ln.rstrip() for ln in text.strip().splitlines()):
        if line and line.strip() in seen:
            repeated += 1
            continue
        if not line and out and not out[-1]:
            continue
        seen.add(line.strip())
        out.append(line)
    return "\n".join(out).strip(), repeated


def renumber(text: str, mapping: dict[int, int]) -> str:
    """Rewrite the markers of ``text`` with ``mapping`` (old id → new id); others vanish."""

    def sub(m: re.Match[str]) -> str:
        ids = dict.fromkeys(mapping[i] for i in _ids_of(m.group()) if i in mapping)
        return "".join(f"[{i}]" for i in ids)

    return MARKER.sub(sub, text)
