"""Sentence-level evidence: which sentence of a report answers the question, and how well.

Pure code over texts and question specs; no model. A sentence is scored by the share of the
question's topic (weighted by how rare each term is) that it states, whether it moves in the
direction asked ("下降", "新增", "未发生"), and whether it holds a number when one is asked.
The quote is then narrowed to the clauses that carry the match, always a verbatim span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rag.index.lexical import tokenize
from rag.ingest.clean import iter_sentences, split_clauses
from rag.retrieve.glossary import DIRECTIONS
from rag.retrieve.question import QuestionSpec

_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(?:个|项|家|所|次|天|场|件|人|万|亿)")
MAX_QUOTE = 90


@dataclass
class Term:
    text: str
    parts: tuple[str, ...]
    weight: float

    def found_in(self, s: str) -> bool:
        return self.text in s or (len(self.parts) > 1 and all(p in s for p in self.parts))


@dataclass
class Evidence:
    doc_id: str
    start: int
    end: int
    quote: str
    coverage: float
    direction_ok: bool
    has_number: bool
    dense: float
    score: float


def build_terms(spec: QuestionSpec, idf: Callable[[str], float]) -> list[Term]:
    terms = []
    for t in spec.terms:
        low = t.lower()
        parts = tuple(tokenize(low)) or (low,)
        weight = max(idf(p) for p in parts)
        terms.append(Term(low, parts, weight))
    return terms


def _coverage(s: str, terms: list[Term]) -> float:
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    return sum(t.weight for t in terms if t.found_in(s)) / total


def _direction_ok(s: str, direction: str | None) -> bool:
    if direction is None:
        return True
    return any(w in s for w in DIRECTIONS[direction])


def _score(cov: float, dir_ok: bool, num: bool, dense: float, spec: QuestionSpec) -> float:
    score = cov
    if spec.direction is not None:
        score += 0.25 if dir_ok else -0.25
    if spec.numeric:
        score += 0.15 if num else -0.3
    return score + 0.2 * dense


def _narrow(text: str, start: int, end: int, terms: list[Term], spec: QuestionSpec) -> tuple[int, int]:
    """The shortest run of clauses of a sentence that keeps its match."""
    if end - start <= MAX_QUOTE:
        return start, end
    clauses = list(split_clauses(text, start, end)) or [(start, end)]
    best, best_key = (start, end), None
    for i in range(len(clauses)):
        for j in range(i, min(i + 4, len(clauses))):
            s, e = clauses[i][0], clauses[j][1]
            if e - s > MAX_QUOTE and j > i:
                break
            piece = text[s:e].lower()
            cov = _coverage(piece, terms)
            key = (
                round(cov, 3),
                _direction_ok(piece, spec.direction),
                bool(_NUMBER.search(piece)) or not spec.numeric,
                -(e - s),
            )
            if best_key is None or key > best_key:
                best, best_key = (s, e), key
    return best


def sentences_of(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Distinct sentences of the given spans (overlapping chunks share sentences)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for s, e in spans:
        for span in iter_sentences(text, s, e):
            if span not in seen:
                seen.add(span)
                out.append(span)
    return out


def score_sentences(
    text: str,
    doc_id: str,
    spans: Iterable[tuple[int, int, float]],
    spec: QuestionSpec,
    terms: list[Term],
) -> list[Evidence]:
    """Every sentence of the spans (start, end, dense score of its chunk), best first."""
    out: list[Evidence] = []
    seen: set[tuple[int, int]] = set()
    for cs, ce, dense in spans:
        for s, e in iter_sentences(text, cs, ce):
            if (s, e) in seen:
                continue
            seen.add((s, e))
            sent = text[s:e].lower()
            cov = _coverage(sent, terms)
            if cov == 0 and spec.lang == "zh":
                continue
            dir_ok = _direction_ok(sent, spec.direction)
            num = bool(_NUMBER.search(sent))
            qs, qe = _narrow(text, s, e, terms, spec)
            out.append(
                Evidence(doc_id, qs, qe, text[qs:qe], cov, dir_ok, num, dense,
                         _score(cov, dir_ok, num, dense, spec))
            )
    out.sort(key=lambda ev: (-ev.score, ev.start))
    return out
