"""Fact questions ("和平区2022年新增就业多少人？"): the best sentences of the candidate
reports, by words and by meaning, that state what is asked."""

from __future__ import annotations

from rag.answer.compose import Finding, fact_answer, not_found
from rag.answer.decide import accepts
from rag.answer.evidence import Evidence
from rag.answer.reading import Reading
from rag.answer.strategies.base import Decided, Strategy
from rag.models import Answer
from rag.retrieve.search import Candidate
from rag.retrieve.spec import QuestionSpec

PER_REPORT = 3  # sentences a report may offer to the answer


def best(reading: Reading, cands: list[Candidate]) -> list[tuple[Candidate, Evidence]]:
    """Accepted sentences of the candidates (the top-ranked chunks past the read-all
    limit), best first."""
    need = reading.cfg.fact_min_support
    scored = []
    for c in reading.top_chunks(cands):
        ok = [ev for ev in reading.evidence(c) if accepts(ev, reading.spec, need, reading.grounded)]
        scored += [(c, ev) for ev in ok[:PER_REPORT]]
    scored.sort(key=lambda ce: -ce[1].score)
    return scored


class Facts(Strategy):
    name = "fact"

    def applies(self, spec: QuestionSpec) -> bool:
        return True

    def decide(self, reading: Reading, cand: Candidate) -> list[Finding]:  # pragma: no cover
        return [reading.finding(c, ev) for c, ev in best(reading, [cand])]

    def decide_all(self, reading: Reading, cands) -> list[Decided]:
        scored = best(reading, list(cands))
        if not scored and reading.llm is not None:
            return self._ask_model(reading, list(cands))
        if not scored:
            return []
        top, cfg = scored[0][1], reading.cfg
        picked = [scored[0]]
        for c, ev in scored[1 : cfg.fact_quotes]:
            if ev.score >= top.score - cfg.fact_margin and \
                    ev.support >= top.support - cfg.fact_margin:
                picked.append((c, ev))
        return [Decided(c, [reading.finding(c, ev)]) for c, ev in picked]

    def _ask_model(self, reading: Reading, cands: list[Candidate]) -> list[Decided]:
        """Where no sentence passes the rule, the chat model reads the closest few of the
        best reports (its pick must still hold the figure and condition asked)."""
        from rag.answer.llm import judge_reports

        ranked = sorted(cands, key=lambda c: -max((ev.score for ev in reading.evidence(c)),
                                                  default=-1e9))
        shortlist = [(c, reading.evidence(c)[:5]) for c in ranked[:3] if reading.evidence(c)]
        decisions = judge_reports(reading.llm, reading.spec, shortlist, reading.cfg,
                                  judge_all=True)
        self.notes += decisions.notes
        picked = [(c, decisions[(c.doc.doc_id, c.year)]) for c, _ in shortlist
                  if decisions.get((c.doc.doc_id, c.year)) is not None]
        if picked:
            self.notes.append("no sentence passed the extractive rule; the chat model chose")
        return [Decided(c, [reading.finding(c, ev)]) for c, ev in picked[:1]]

    def compose(self, reading: Reading, decided: list[Decided]) -> Answer:
        spec = reading.spec
        findings = [f for d in decided for f in d.findings]
        if not findings:
            return not_found(spec.text, "fact", spec.lang, "no sentence states it")
        return fact_answer(spec.text, spec.lang, findings)
