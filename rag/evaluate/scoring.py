"""Evaluators: pure functions of a question, an answer dict (the answer contract) and the texts.

Each evaluator is a small dataclass with ``evaluate(case) -> Outcome``; an outcome holds named
scores (``None`` when the metric does not apply to the question) and readable issues.
:func:`score_answer` runs them all. Nothing here calls a model or touches the store: source
texts come in through ``texts(source) -> str | None`` (the file's text as read from disk).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rag.evaluate.dataset import Question

Texts = Callable[[str], str | None]
Answer = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    """What an evaluator sees: the question, the system's answer dict, and the source texts."""

    question: Question
    answer: Answer
    texts: Texts


@dataclass
class Outcome:
    scores: dict[str, float | None] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)


class Evaluator(Protocol):
    def evaluate(self, case: Case) -> Outcome: ...


# --- text normalisation ---------------------------------------------------------------------

# Full-width ASCII forms (！..～) fold to ASCII; curly quotes fold to straight ones. Nothing else
# changes: a fact has to be written as the report writes it.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0x201C: 0x22, 0x201D: 0x22, 0x2018: 0x27, 0x2019: 0x27})
_MARKER = re.compile(r"\[\d+(?:\s*[,\-–]\s*\d+)*\]")
_LIST_MARK = re.compile(r"(?m)^[ \t]*(?:[-*+][ \t]+)?\d{1,2}[.)、](?!\d)")
_NUMBER = re.compile(r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?")


def fold(text: str) -> str:
    """Fold full-width digits/letters/punctuation to ASCII and curly quotes to straight."""
    return text.translate(_FOLD)


def normalize(text: str) -> str:
    """:func:`fold`, then drop whitespace (a space between two digits stays one space)."""
    text = re.sub(r"(?<=\d)\s+(?=\d)", " ", fold(text))
    return re.sub(r"(?!(?<=\d) (?=\d))\s", "", text)


def strip_markers(text: str) -> str:
    """Remove ``[1]``/``[1, 2]`` citation markers and ordered-list numbers."""
    return _LIST_MARK.sub("", _MARKER.sub("", fold(text)))


def _canonical(number: str) -> str:
    number = number.replace(",", "")
    whole, _, frac = number.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def numbers(text: str) -> list[str]:
    """The numbers written in ``text``, as digits: "6,300"→"6300", "98.16%"→"98.16", "2万"→"2"."""
    return [_canonical(m.group()) for m in _NUMBER.finditer(fold(text))]


def states(text: str, fact: str) -> bool:
    """Whether ``text`` states ``fact``: a normalised match whose numbers are not part of
    longer numbers ("215" is not stated by "2150" or "1215", "2万" not by "12万")."""
    hay, needle = normalize(text), normalize(fact)
    if not needle:
        return False
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = hay[start - 1] if start else ""
        after = hay[end : end + 2]
        ok_before = not (needle[0].isdigit() and (before.isdigit() or before == "."))
        ok_after = not (
            needle[-1].isdigit()
            and after
            and (after[0].isdigit() or (after[0] in ".," and after[1:2].isdigit()))
        )
        if ok_before and ok_after:
            return True
        start = hay.find(needle, start + 1)
    return False


# --- reading an answer dict -------------------------------------------------------------------


def citations_of(answer: Answer) -> list[Any]:
    raw = answer.get("citations") or []
    return list(raw) if isinstance(raw, list) else []


def _by_id(answer: Answer) -> dict[Any, Mapping[str, Any]]:
    return {c.get("id"): c for c in citations_of(answer) if isinstance(c, Mapping)}


def cited_sources(answer: Answer) -> set[str]:
    """Reports cited by the items, or by all citations when the answer has no items."""
    items = answer.get("items") or []
    by_id = _by_id(answer)
    if items:
        ids = [
            i for item in items if isinstance(item, Mapping) for i in item.get("citations") or []
        ]
        cits = [by_id[i] for i in ids if isinstance(i, int | str) and i in by_id]
    else:
        cits = list(by_id.values())
    return {c["source"] for c in cits if isinstance(c.get("source"), str)}


def citation_problem(citation: Any, texts: Texts) -> str | None:
    """Why a citation is not verbatim at its offsets, or ``None`` when it is."""
    if not isinstance(citation, Mapping):
        return "not an object"
    cid, source, quote = citation.get("id"), citation.get("source"), citation.get("quote")
    start, end = citation.get("start"), citation.get("end")
    label = f"[{cid}]"
    if not isinstance(source, str) or not isinstance(quote, str):
        return f"{label} has no source or quote"
    if type(start) is not int or type(end) is not int:  # bool is an int, but not an offset
        return f"{label} has no integer offsets"
    text = texts(source)
    if text is None:
        return f"{label} cites unknown source {source}"
    if not (0 <= start <= end <= len(text)):
        return f"{label} offsets {start}:{end} outside {source} ({len(text)} chars)"
    if text[start:end] != quote:
        return f"{label} quote is not {source}[{start}:{end}]"
    return None


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Every ``(start, end)`` where ``quote`` occurs verbatim in ``text``."""
    spans, i = [], text.find(quote)
    while quote and i >= 0:
        spans.append((i, i + len(quote)))
        i = text.find(quote, i + 1)
    return spans


def _found(answer: Answer) -> bool:
    return answer.get("found") is True


# --- evaluators -------------------------------------------------------------------------------


@dataclass
class FoundCheck:
    """``found`` must be true for answerable kinds; for ``none`` false, with no citations."""

    def evaluate(self, case: Case) -> Outcome:
        found = _found(case.answer)
        if case.question.kind != "none":
            ok = found
            issues = [] if ok else ["found is false for an answerable question"]
            return Outcome({"found_correct": float(ok)}, issues)
        issues = []
        if found:
            issues.append("found is true for a question the corpus does not answer")
        if citations_of(case.answer) or case.answer.get("items"):
            issues.append("citations or items given for a question the corpus does not answer")
        ok = not issues
        return Outcome({"found_correct": float(not found), "none_correct": float(ok)}, issues)


@dataclass
class DocSetScore:
    """``list``/``compare``: precision, recall and F1 of the cited reports vs ``expect.docs``."""

    kinds: tuple[str, ...] = ("list", "compare")

    def evaluate(self, case: Case) -> Outcome:
        q = case.question
        if q.kind not in self.kinds:
            return Outcome()
        gold = set(q.expect.docs)
        predicted = cited_sources(case.answer) - (set(q.expect.optional_docs) - gold)
        if not _found(case.answer):
            predicted = set()
        hit = predicted & gold
        precision = len(hit) / len(predicted) if predicted else float(not gold)
        recall = len(hit) / len(gold) if gold else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        issues = []
        if gold - predicted:
            issues.append("missing reports: " + ", ".join(sorted(gold - predicted)))
        if predicted - gold:
            issues.append("unexpected reports: " + ", ".join(sorted(predicted - gold)))
        return Outcome({"precision": precision, "recall": recall, "f1": f1}, issues)


@dataclass
class FactScore:
    """Share of ``expect.facts`` stated in the answer text *and* held by the quote of a citation
    from an expected report; for ``fact`` questions also whether an expected report is cited."""

    def evaluate(self, case: Case) -> Outcome:
        q = case.question
        if q.kind == "none":
            return Outcome()
        answer = case.answer
        found = _found(answer)
        text = strip_markers(str(answer.get("answer") or "")) if found else ""
        gold = set(q.expect.docs)
        quotes = [
            str(c.get("quote") or "") for c in _by_id(answer).values() if c.get("source") in gold
        ]
        out = Outcome()
        if q.expect.facts:
            held = 0
            for fact in q.expect.facts:
                in_text = states(text, fact)
                in_quote = any(states(quote, fact) for quote in quotes)
                held += in_text and in_quote
                if not in_text:
                    out.issues.append(f"fact {fact!r} not stated in the answer")
                elif not in_quote:
                    out.issues.append(f"fact {fact!r} not in a quote from an expected report")
            out.scores["fact_score"] = held / len(q.expect.facts)
        if q.kind == "fact":
            cited = found and bool(cited_sources_all(answer) & set(q.expect.docs))
            out.scores["fact_cited"] = float(cited)
            if not cited:
                out.issues.append("no expected report cited")
        return out


def cited_sources_all(answer: Answer) -> set[str]:
    """Every report cited anywhere in the answer."""
    return {c["source"] for c in _by_id(answer).values() if isinstance(c.get("source"), str)}


@dataclass
class CitationValidity:
    """Share of citations whose quote is ``text[start:end]`` of their source."""

    def evaluate(self, case: Case) -> Outcome:
        cits = citations_of(case.answer)
        if not cits:
            return Outcome({"citation_validity": None})
        problems = [p for c in cits if (p := citation_problem(c, case.texts))]
        valid = (len(cits) - len(problems)) / len(cits)
        return Outcome({"citation_validity": valid}, [f"invalid citation {p}" for p in problems])


@dataclass
class NumberGrounding:
    """Share of numbers in the answer text that occur in a cited quote.

    Numbers the question itself contains, and the years of the cited reports, also count as
    grounded: echoing "2022年" from the question invents nothing. The names of cited reports
    ("004_c2261995aa5722eb.txt") are labels, not claims, and are left out.
    """

    def evaluate(self, case: Case) -> Outcome:
        cits = list(_by_id(case.answer).values())
        text = str(case.answer.get("answer") or "")
        names = {str(c.get(k)) for c in cits for k in ("source", "doc_id") if c.get(k)}
        for name in sorted(names | {n.rsplit(".", 1)[0] for n in names}, key=len, reverse=True):
            text = text.replace(name, " ")
        said = numbers(strip_markers(text))
        if not said:
            return Outcome({"number_grounding": None})
        known = set(numbers(case.question.question))
        for c in cits:
            known.update(numbers(str(c.get("quote") or "")))
            for key in ("report_year", "covered_year"):
                if isinstance(c.get(key), int):
                    known.add(str(c[key]))
        loose = [n for n in said if n not in known]
        issues = [f"numbers in no cited quote: {', '.join(dict.fromkeys(loose))}"] if loose else []
        return Outcome({"number_grounding": 1 - len(loose) / len(said)}, issues)


@dataclass
class RetrievalScore:
    """Recall@k and MRR of the gold evidence quotes among the ranked ``retrieved`` chunks.

    A quote is retrieved at rank r when the r-th chunk (1-based, ordered by its ``rank``) is
    from the quote's report and covers an occurrence of the quote. Recall@k is the share of
    the question's quotes retrieved within rank k; MRR is 1/r of the first retrieved quote
    (0 when none is).
    """

    ks: Sequence[int] = (5, 10, 20)

    def evaluate(self, case: Case) -> Outcome:
        retrieved = case.answer.get("retrieved")
        if not isinstance(retrieved, list) or not case.question.evidence:
            return Outcome()
        chunks = [r for r in retrieved if isinstance(r, Mapping)]
        chunks = sorted(
            chunks, key=lambda r: r["rank"] if isinstance(r.get("rank"), int | float) else 1e9
        )
        ranks: list[int | None] = []
        issues = []
        for ev in case.question.evidence:
            text = case.texts(ev.doc)
            spans = quote_spans(text, ev.quote) if text is not None else []
            if not spans:
                issues.append(f"gold quote not found in {ev.doc}; left out of retrieval scores")
                continue
            ranks.append(_first_cover(chunks, ev.doc, spans))
        if not ranks:
            return Outcome({}, issues)
        scores: dict[str, float | None] = {
            f"recall@{k}": sum(r is not None and r <= k for r in ranks) / len(ranks)
            for k in self.ks
        }
        found = [r for r in ranks if r is not None]
        scores["mrr"] = 1 / min(found) if found else 0.0
        if all(r is None for r in ranks):
            issues.append("no gold evidence among the retrieved chunks")
        return Outcome(scores, issues)


def _first_cover(
    chunks: list[Mapping[str, Any]], doc: str, spans: list[tuple[int, int]]
) -> int | None:
    for position, chunk in enumerate(chunks, start=1):
        if chunk.get("source") != doc:
            continue
        start, end = chunk.get("start"), chunk.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if any(start <= s and e <= end for s, e in spans):
            return position
    return None


DEFAULT_EVALUATORS: tuple[Evaluator, ...] = (
    FoundCheck(),
    DocSetScore(),
    FactScore(),
    CitationValidity(),
    NumberGrounding(),
    RetrievalScore(),
)


@dataclass
class QuestionScore:
    """All scores of one answer, its headline ``score`` and what went wrong."""

    score: float
    scores: dict[str, float | None]
    issues: list[str]


def headline(kind: str, scores: Mapping[str, float | None]) -> float:
    """The one number per question: F1 (list/compare), fact score (fact), correctness (none)."""
    if kind in ("list", "compare"):
        key = "f1"
    elif kind == "none":
        key = "none_correct"
    else:
        key = "fact_score" if scores.get("fact_score") is not None else "fact_cited"
    value = scores.get(key)
    return float(value) if value is not None else 0.0


def score_answer(
    question: Question,
    answer: Answer,
    texts: Texts,
    evaluators: Sequence[Evaluator] = DEFAULT_EVALUATORS,
) -> QuestionScore:
    """Run every evaluator on one answer.

    Args:
        question: the question with its expectations.
        answer: the answer dict of the contract (``retrieved`` optional).
        texts: source name → the file's text as read from disk, or ``None`` if unknown.
        evaluators: defaults to all of this module's evaluators.

    Returns:
        The merged scores (metrics that do not apply are absent or ``None``) and issues.
    """
    case = Case(question, answer, texts)
    scores: dict[str, float | None] = {}
    issues: list[str] = []
    for ev in evaluators:
        out = ev.evaluate(case)
        scores.update(out.scores)
        issues.extend(out.issues)
    return QuestionScore(headline(question.kind, scores), scores, issues)
