"""The interface every question type implements, and what they share.

A strategy says whether it applies to a question, which reports are its candidates, what a
candidate report states (its findings, or none), and how the findings become an answer. The
engine only calls them in turn (:data:`rag.answer.strategies.STRATEGIES`, first match wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.compose import Finding
from rag.answer.reading import Reading
from rag.index.catalog import ChunkRow, DocRecord
from rag.models import Answer
from rag.retrieve.search import Candidate, Selection, select
from rag.retrieve.spec import QuestionSpec


@dataclass
class Decided:
    """A candidate and what it was found to state (empty: it does not state it)."""

    candidate: Candidate
    findings: list[Finding]


class Strategy:
    """Base of the question types; subclasses override what differs."""

    name = "base"

    def __init__(self) -> None:
        self.notes: list[str] = []  # what the strategy met on the way (LLM fallbacks …)

    def applies(self, spec: QuestionSpec) -> bool:
        raise NotImplementedError

    def candidates(self, spec: QuestionSpec, docs: list[DocRecord],
                   rows_by_doc: dict[str, list[ChunkRow]]) -> Selection:
        return select(spec, docs, rows_by_doc)

    def decide(self, reading: Reading, cand: Candidate) -> list[Finding]:
        raise NotImplementedError

    def decide_all(self, reading: Reading, cands: Sequence[Candidate]) -> list[Decided]:
        return [Decided(c, self.decide(reading, c)) for c in cands]

    def compose(self, reading: Reading, decided: list[Decided]) -> Answer:
        raise NotImplementedError
