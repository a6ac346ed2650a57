"""One question's reading of its candidate reports: rankings, meaning, evidence.

Built once per question by the engine and handed to the strategy: the hybrid chunk ranking
(BM25 and dense, filtered first), the semantic scores of every candidate's sentence units,
the topic's terms, and each candidate's scored sentences, computed on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answer.compose import Finding
from rag.answer.evidence import Evidence, Term, score_sentences
from rag.config import AnswerSettings
from rag.index.store import Store
from rag.retrieve.search import Candidate
from rag.retrieve.semantic import SemanticScores
from rag.retrieve.spec import QuestionSpec


@dataclass
class Reading:
    spec: QuestionSpec
    candidates: list[Candidate]
    store: Store
    cfg: AnswerSettings
    terms: list[Term]
    ranking: list[tuple[str, float]]
    dense: dict[str, float]
    semantic: SemanticScores | None
    llm: object | None = None
    # The topic's terms are the reports' own wording: some chunk of the store writes one of
    # them whole. Then a sentence must write some of them; otherwise meaning alone decides.
    grounded: bool = True
    # Some term, own or translated, is in the corpus: figures must then follow a topic word
    # (no figure is taken from the closest unit alone).
    worded: bool = True
    # The question's own topic words no report writes, beside words the reports know: a
    # sentence that writes none of them must be surely meant ("比特币挖矿企业" is not every
    # sentence near 企业).
    unheard: tuple[str, ...] = ()
    _evidence: dict[tuple[str, int | None, int], list[Evidence]] = field(default_factory=dict)
    _together: dict[tuple[str, str], float] = field(default_factory=dict)

    def evidence(self, c: Candidate) -> list[Evidence]:
        """The candidate's sentences, best first (cached: strategies may ask twice)."""
        key = (c.doc.doc_id, c.year, len(c.rows))
        got = self._evidence.get(key)
        if got is None:
            text = self.store.catalog.text(c.doc.doc_id) or ""
            spans = [(r.start, r.end, self.dense.get(r.chunk_id, 0.0), r.kind) for r in c.rows]
            got = score_sentences(text, c.doc.doc_id, spans, self.spec, self.terms, self.cfg,
                                  self.semantic, self.worded or self.semantic is None,
                                  self.unheard, self.together)
            self._evidence[key] = got
        return got

    def together(self, before: str, word: str) -> float:
        """The share of the candidate reports' writings of ``word`` that have ``before``
        just before it (地区 before 生产总值: most; 跨境电商 before 出口: few)."""
        key = (before, word)
        got = self._together.get(key)
        if got is None:
            texts = [self.store.catalog.text(d) or "" for d in
                     dict.fromkeys(c.doc.doc_id for c in self.candidates)]
            n = sum(t.count(word) for t in texts)
            got = sum(t.count(before + word) for t in texts) / n if n else 0.0
            self._together[key] = got
        return got

    def finding(self, c: Candidate, ev: Evidence) -> Finding:
        row = next((r for r in c.rows if r.start <= ev.start < r.end), c.rows[0])
        year = c.year if c.year is not None else row.covered_from
        return Finding(c.doc, year, row.kind, ev.quote, ev.start, ev.end)

    def top_chunks(self, cands: list[Candidate]) -> list[Candidate]:
        """Above ``read_all_limit`` chunks, only the hybrid ranking's best are read."""
        if sum(len(c.rows) for c in cands) <= self.cfg.read_all_limit:
            return cands
        top = {cid for cid, _ in self.ranking[: self.cfg.top_chunks]}
        if self.semantic is not None:
            # and the chunks holding each report's closest sentences
            top |= self._semantic_top(cands)
        kept = [Candidate(c.doc, c.year, [r for r in c.rows if r.chunk_id in top])
                for c in cands]
        return [c for c in kept if c.rows]

    def _semantic_top(self, cands: list[Candidate]) -> set[str]:
        assert self.semantic is not None
        best: list[tuple[float, str]] = []
        for c in cands:
            scores = self.semantic.scores(c.doc.doc_id)
            if scores is None or not len(scores):
                continue
            spans = self.store.units([c.doc.doc_id])[c.doc.doc_id].spans
            for j in scores.argsort()[::-1][:5]:
                s = int(spans[j, 0])
                row = next((r for r in c.rows if r.start <= s < r.end), None)
                if row is not None:
                    best.append((float(scores[j]), row.chunk_id))
        best.sort(reverse=True)
        return {cid for _, cid in best[: self.cfg.top_chunks]}
