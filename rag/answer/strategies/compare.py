"""Compare questions ("比较A区和B区2022年的空气质量"): one row per compared report with its
best sentence, and a row saying so for each compared place whose report does not state it
or that the store has no report of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.answer.compose import compare_answer, entity_name, not_found
from rag.answer.reading import Reading
from rag.answer.strategies.base import Decided, Strategy
from rag.answer.strategies.facts import best
from rag.models import Answer
from rag.retrieve.search import Candidate
from rag.retrieve.spec import Form, QuestionSpec


class Compare(Strategy):
    name = "compare"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.form is Form.COMPARE

    def decide_all(self, reading: Reading, cands: Sequence[Candidate]) -> list[Decided]:
        by_target: dict[tuple[str, int | None], list[Candidate]] = {}
        for c in cands:
            by_target.setdefault((c.doc.doc_id, c.year), []).append(c)
        # Places compared on a change ("GDP growth of A and B") are compared on its figures:
        # each place's own figure bound to the indicator where its report gives one, else
        # its best sentence.
        spec = reading.spec
        figures = replace(reading, spec=replace(spec, numeric=True), _evidence={}) \
            if spec.direction in ("up", "down") and not spec.numeric and spec.terms else None
        out = []
        for group in by_target.values():
            scored = (best(figures, group) if figures else []) or best(reading, group)
            found = [reading.finding(*scored[0])] if scored else []
            out.append(Decided(group[0], found))
        return out

    def compose(self, reading: Reading, decided: list[Decided]) -> Answer:
        spec = reading.spec
        rows = [d.findings for d in decided if d.findings]
        unstated = [d.candidate for d in decided if not d.findings]
        if not rows:
            return not_found(spec.text, "compare", spec.lang, "no compared report states it")
        ans = compare_answer(spec.text, spec.lang, rows, [c.doc for c in unstated],
                             missing=spec.missing_places)
        ans.notes += [f"{entity_name(c.doc)} ({c.year}): its report does not state it"
                      for c in unstated]
        return ans
