"""Questions about a plan's targets as a whole ("迎泽区2018年的主要预期目标是什么？"): each
candidate report's own statement of its main targets, quoted whole."""

from __future__ import annotations

from rag.answer.compose import Finding, fact_answer, not_found
from rag.answer.reading import Reading
from rag.answer.strategies.base import Decided, Strategy
from rag.ingest.clean import iter_sentences
from rag.models import Answer
from rag.retrieve.search import Candidate
from rag.retrieve.spec import QuestionSpec
from rag.text.lexicon import lexicon


class Targets(Strategy):
    name = "targets"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.overview

    def decide(self, reading: Reading, cand: Candidate) -> list[Finding]:
        """The sentence of its targets section that names them, else a plan sentence that
        says 预期目标."""
        text = reading.store.catalog.text(cand.doc.doc_id) or ""
        rows = [r for r in cand.rows if r.kind == "targets"]
        spans = [sp for r in rows for sp in iter_sentences(text, r.start, r.end)]
        found = next((sp for sp in spans if "目标" in text[sp[0] : sp[1]]), None)
        if found is None:
            rows = [r for r in cand.rows if r.kind == "plan"]
            pattern = lexicon().cues["targets_overview"]
            found = next((sp for r in rows for sp in iter_sentences(text, r.start, r.end)
                          if pattern.search(text[sp[0] : sp[1]])), None)
        if found is None:
            return []
        s, e = found
        row = next(r for r in rows if r.start <= s < r.end)
        year = cand.year if cand.year is not None else row.covered_from
        return [Finding(cand.doc, year, "targets", text[s:e], s, e)]

    def compose(self, reading: Reading, decided: list[Decided]) -> Answer:
        spec = reading.spec
        findings = [f for d in decided for f in d.findings]
        if not findings:
            return not_found(spec.text, "fact", spec.lang,
                             "no candidate report has a targets section")
        return fact_answer(spec.text, spec.lang, findings[: reading.cfg.max_targets])
