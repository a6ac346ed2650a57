"""Statement questions ("历城区2023年数字政府建设做得怎么样？", "What did X do about Y?"):
no figure is asked, so the answer quotes the sentences closest to the topic."""

from __future__ import annotations

from rag.answer.decide import accepts
from rag.answer.reading import Reading
from rag.answer.strategies.base import Decided
from rag.answer.strategies.facts import Facts
from rag.retrieve.spec import Form, QuestionSpec


class Statements(Facts):
    name = "statement"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.form is Form.FACT and spec.statement

    def decide_all(self, reading: Reading, cands) -> list[Decided]:
        need = reading.cfg.fact_min_support
        scored = []
        for c in reading.top_chunks(list(cands)):
            ok = [ev for ev in reading.evidence(c)
                  if accepts(ev, reading.spec, need, reading.grounded)]
            scored += [(c, ev) for ev in ok[:3]]
        scored.sort(key=lambda ce: -ce[1].score)
        if not scored:
            return []
        # A statement is told by its best few sentences, not the single closest one.
        top = scored[0][1].score
        picked = [ce for ce in scored[: reading.cfg.fact_quotes]
                  if ce[1].score >= top - reading.cfg.statement_margin]
        picked.sort(key=lambda ce: (ce[0].doc.source, ce[1].start))
        return [Decided(c, [reading.finding(c, ev)]) for c, ev in picked]
