"""List questions ("哪些区2023年减少了安全生产事故？"): every candidate report is read and
decided on its own sentences; the answer names every report that matches — no top-k."""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.compose import Finding, list_answer, not_found
from rag.answer.decide import accepts
from rag.answer.reading import Reading
from rag.answer.strategies.base import Decided, Strategy
from rag.models import Answer
from rag.retrieve.search import Candidate
from rag.retrieve.spec import Form, QuestionSpec


class Lists(Strategy):
    name = "list"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.form is Form.LIST

    def decide(self, reading: Reading, cand: Candidate) -> list[Finding]:
        need = reading.cfg.list_min_support
        ev = next((ev for ev in reading.evidence(cand)
                   if accepts(ev, reading.spec, need, reading.grounded)), None)
        return [reading.finding(cand, ev)] if ev is not None else []

    def decide_all(self, reading: Reading, cands: Sequence[Candidate]) -> list[Decided]:
        if reading.llm is None:
            return super().decide_all(reading, cands)
        # One cheap call per candidate report, over its best few sentences.
        from rag.answer.llm import judge_reports

        shortlist = [(c, reading.evidence(c)[:5]) for c in cands]
        decisions = judge_reports(reading.llm, reading.spec, shortlist, reading.cfg,
                                  reading.grounded)
        self.notes += decisions.notes
        out = []
        for c, _ in shortlist:
            ev = decisions.get((c.doc.doc_id, c.year))
            out.append(Decided(c, [reading.finding(c, ev)] if ev is not None else []))
        return out

    def compose(self, reading: Reading, decided: list[Decided]) -> Answer:
        spec = reading.spec
        groups = [d.findings for d in decided if d.findings]
        if not groups:
            ans = not_found(spec.text, "list", spec.lang,
                            f"none of {len(decided)} candidate reports states it")
        else:
            groups.sort(key=lambda g: g[0].doc.source)
            ans = list_answer(spec.text, spec.lang, groups)
        return ans
