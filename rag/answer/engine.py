"""Answering a question over the store: understand, filter, read, decide, compose.

List questions are exhaustive: every candidate report (region and covered year) is read and
decided on its own sentences, and the answer names every report that matches — no top-k.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import defaultdict

import numpy as np

from rag.answer.compose import (
    Finding,
    compare_answer,
    entity_name,
    fact_answer,
    list_answer,
    not_found,
)
from rag.answer.evidence import Evidence, build_terms, meets, score_sentences
from rag.errors import QuestionError
from rag.index.catalog import ChunkRow, DocRecord
from rag.index.store import Store
from rag.ingest.clean import iter_sentences
from rag.models import Answer
from rag.retrieve.question import Place, QuestionSpec, RegionMatcher, parse_question
from rag.retrieve.search import Candidate, candidates, hybrid_rank

log = logging.getLogger(__name__)

LIST_MIN_COVERAGE = 0.75
# Topic words of a question about a plan's targets as a whole ("主要预期目标是什么").
_OVERVIEW = {"主要", "发展", "经济", "社会", "经济社会", "主要指标", "指标", "任务", "主要任务"}
MAX_TARGETS = 10
_TARGETS = re.compile(r"(?:主要|发展)?预期目标(?:是|为|建议为)?[:：]|主要目标(?:是|为)?[:：]")
FACT_MIN_COVERAGE = 0.5
READ_ALL_LIMIT = 600  # candidate chunks read in full for a fact; above, the top-ranked
TOP_CHUNKS = 40


class Answerer:
    """Answers questions extractively; an LLM, when given, writes the final text."""

    def __init__(self, store: Store, embeddings=None, llm=None) -> None:
        self.store = store
        self.embeddings = embeddings
        self.llm = llm
        self._cache_gen = -1
        self._matcher: RegionMatcher | None = None
        self._rows_by_doc: dict[str, list[ChunkRow]] = {}
        self._lock = threading.Lock()

    def _views(self):
        lex, rows, docs = self.store.snapshot()
        with self._lock:
            if self._cache_gen != id(lex):
                places = []
                for d in docs.values():
                    m = d.meta
                    places += [Place(m.province, "province")] if m.province else []
                    places += [Place(m.city, "city")] if m.city else []
                    places += [Place(m.district, "district")] if m.district else []
                by_doc: dict[str, list[ChunkRow]] = defaultdict(list)
                for r in rows.values():
                    by_doc[r.doc_id].append(r)
                self._matcher = RegionMatcher(places)
                self._rows_by_doc = dict(by_doc)
                self._cache_gen = id(lex)
            return lex, docs, self._matcher, self._rows_by_doc

    def parse(self, question: str) -> QuestionSpec:
        _, _, matcher, _ = self._views()
        assert matcher is not None
        return parse_question(question, matcher)

    def ask(self, question: str, debug: bool = False) -> Answer:
        question = (question or "").strip()
        if not question:
            raise QuestionError("the question is empty")
        t0 = time.perf_counter()
        lex, docs, matcher, rows_by_doc = self._views()
        assert matcher is not None
        spec = parse_question(question, matcher)
        kind = spec.kind
        cands = candidates(spec, list(docs.values()), rows_by_doc)
        if not cands:
            return not_found(question, kind, spec.lang, self._why_none(spec, docs))
        qvec = self._query_vector(question, cands)
        ranking, dense = hybrid_rank(spec, cands, lex, self.store.vectors, qvec)
        idf = _idf_lookup(lex)
        terms = build_terms(spec, idf)
        notes = self._coverage_notes(cands)
        if spec.wants_plan and all(t in _OVERVIEW for t in spec.terms):
            # "迎泽区2018年的主要预期目标是什么？": the targets as the report states them.
            ans = self._targets(spec, cands) or not_found(
                question, kind, spec.lang, "no candidate report has a targets section")
        elif not terms:
            ans = not_found(question, kind, spec.lang, "no topic words were recognised")
        elif kind == "list":
            ans = self._list(spec, cands, dense, terms)
        elif kind == "compare":
            ans = self._compare(spec, cands, dense, terms)
        else:
            ans = self._fact(spec, cands, ranking, dense, terms)
        if self.llm is not None and ans.found:
            from rag.answer.llm import rewrite_with_llm

            ans = rewrite_with_llm(self.llm, spec, ans)
        ans.notes = notes + ans.notes
        rows = {r.chunk_id: r for c in cands for r in c.rows}
        ans.retrieved = [
            {"source": docs[rows[cid].doc_id].source, "start": rows[cid].start,
             "end": rows[cid].end, "rank": i + 1, "chunk_id": cid}
            for i, (cid, _) in enumerate(ranking)
        ]
        log.debug("answered in %.3fs", time.perf_counter() - t0)
        return ans

    # -- the three kinds
    def _evidence(self, c: Candidate, dense: dict[str, float], spec, terms) -> list[Evidence]:
        text = self.store.catalog.text(c.doc.doc_id) or ""
        spans = [(r.start, r.end, dense.get(r.chunk_id, 0.0), r.kind) for r in c.rows]
        return score_sentences(text, c.doc.doc_id, spans, spec, terms)

    def _finding(self, c: Candidate, ev: Evidence) -> Finding:
        row = next((r for r in c.rows if r.start <= ev.start < r.end), c.rows[0])
        year = c.year if c.year is not None else row.covered_from
        return Finding(c.doc, year, row.kind, ev.quote, ev.start, ev.end)

    def _list(self, spec: QuestionSpec, cands, dense, terms) -> Answer:
        groups = []
        judge_notes: list[str] = []
        if self.llm is not None:
            # One cheap call per candidate report, over its best few sentences.
            from rag.answer.llm import judge_reports

            shortlist = [(c, self._evidence(c, dense, spec, terms)[:5]) for c in cands]
            decided = judge_reports(self.llm, spec, shortlist)
            judge_notes = list(getattr(decided, "notes", []))
            for c, _ in shortlist:
                ev = decided.get((c.doc.doc_id, c.year))
                if ev is not None:
                    groups.append([self._finding(c, ev)])
        else:
            for c in cands:
                evs = [ev for ev in self._evidence(c, dense, spec, terms) if accepts(ev, spec)]
                if evs:
                    groups.append([self._finding(c, evs[0])])
        if not groups:
            ans = not_found(spec.text, "list", spec.lang,
                            f"none of {len(cands)} candidate reports states it")
        else:
            groups.sort(key=lambda g: g[0].doc.source)
            ans = list_answer(spec.text, spec.lang, groups)
        if self.llm is not None:
            ans.notes += judge_notes
        return ans

    def _best(self, spec, cands, dense, terms, ranking=None) -> list[tuple[Candidate, Evidence]]:
        n_chunks = sum(len(c.rows) for c in cands)
        if ranking is not None and n_chunks > READ_ALL_LIMIT:
            top = {cid for cid, _ in ranking[:TOP_CHUNKS]}
            cands = [
                Candidate(c.doc, c.year, [r for r in c.rows if r.chunk_id in top]) for c in cands
            ]
            cands = [c for c in cands if c.rows]
        scored = []
        for c in cands:
            for ev in self._evidence(c, dense, spec, terms)[:3]:
                if accepts(ev, spec, FACT_MIN_COVERAGE):
                    scored.append((c, ev))
        scored.sort(key=lambda ce: -ce[1].score)
        return scored

    def _fact(self, spec, cands, ranking, dense, terms) -> Answer:
        scored = self._best(spec, cands, dense, terms, ranking)
        if not scored:
            return not_found(spec.text, "fact", spec.lang, "no sentence states it")
        top = scored[0][1].score
        picked = [scored[0]]
        for c, ev in scored[1:3]:
            if ev.score >= top - 0.05 and ev.coverage >= scored[0][1].coverage:
                picked.append((c, ev))
        return fact_answer(spec.text, spec.lang, [self._finding(c, ev) for c, ev in picked])

    def _compare(self, spec, cands, dense, terms) -> Answer:
        by_target: dict[tuple[str, int | None], list[Candidate]] = defaultdict(list)
        for c in cands:
            by_target[(c.doc.doc_id, c.year)].append(c)
        rows, unstated = [], []
        for group in by_target.values():
            scored = self._best(spec, group, dense, terms)
            if scored:
                c, ev = scored[0]
                rows.append([self._finding(c, ev)])
            else:
                unstated.append(group[0])
        if not rows:
            return not_found(spec.text, "compare", spec.lang, "no compared report states it")
        ans = compare_answer(spec.text, spec.lang, rows, [c.doc for c in unstated])
        ans.notes += [f"{entity_name(c.doc)} ({c.year}): its report does not state it"
                      for c in unstated]
        return ans

    def _targets(self, spec: QuestionSpec, cands) -> Answer | None:
        """Each candidate report's statement of its main targets, quoted whole: the sentence
        of its targets section that names them, else a plan sentence that says 预期目标."""
        findings = []
        for c in cands:
            text = self.store.catalog.text(c.doc.doc_id) or ""
            rows = [r for r in c.rows if r.kind == "targets"]
            spans = [sp for r in rows for sp in iter_sentences(text, r.start, r.end)]
            found = next((sp for sp in spans if "目标" in text[sp[0] : sp[1]]), None)
            if found is None:
                rows = [r for r in c.rows if r.kind == "plan"]
                found = next((sp for r in rows for sp in iter_sentences(text, r.start, r.end)
                              if _TARGETS.search(text[sp[0] : sp[1]])), None)
            if found is None:
                continue
            s, e = found
            row = next(r for r in rows if r.start <= s < r.end)
            year = c.year if c.year is not None else row.covered_from
            findings.append(Finding(c.doc, year, "targets", text[s:e], s, e))
        if not findings:
            return None
        return fact_answer(spec.text, spec.lang, findings[:MAX_TARGETS])

    # -- helpers
    def _query_vector(self, question: str, cands: list[Candidate]) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        try:
            return np.asarray(self.embeddings.embed_query(question), dtype=np.float32)
        except Exception as exc:  # a failing embedder degrades to lexical search
            log.warning("query embedding failed, lexical search only: %s", exc)
            return None

    def _coverage_notes(self, cands: list[Candidate]) -> list[str]:
        pending = [c.doc.source for c in cands if c.doc.status != "complete"]
        if not pending:
            return []
        return [f"dense search did not yet cover {len(pending)} of {len(cands)} candidate "
                f"reports (lexical search covered them)"]

    def _why_none(self, spec: QuestionSpec, docs: dict[str, DocRecord]) -> str:
        if spec.mentions:
            names = "、".join(dict.fromkeys(m.place.name for m in spec.mentions))
            years = "、".join(str(y) for y in spec.years) or "any year"
            mode = "plans" if spec.wants_plan else "reviews"
            return f"no report of {names} {mode} {years}"
        return "no report covers the years asked"


def accepts(ev: Evidence, spec: QuestionSpec, min_coverage: float = LIST_MIN_COVERAGE) -> bool:
    """The extractive decision: does this sentence state what the question asks?"""
    if spec.mention:
        # "提到了新能源汽车": the quote names the topic as asked, not 新能源 alone.
        phrase = "".join(spec.terms).lower()
        need = [phrase] if phrase and phrase in spec.text.lower() else spec.terms
        quote = ev.quote.lower()
        if not all(t.lower() in quote for t in need):
            return False
    if (spec.condition is not None and ev.bound and meets(ev.value, spec.condition)
            and ev.local_coverage >= 0.5):
        # The figure is bound to the topic's rarest word: the rest of the wording may vary
        # ("优良天数比例达92.6%" without "空气").
        min_coverage = min(min_coverage, 0.5)
    if ev.coverage < min_coverage or not ev.direction_ok:
        return False
    if spec.numeric and not ev.has_number:
        return False
    if spec.condition is not None:
        # The clause holding the figure must itself be about the topic.
        return meets(ev.value, spec.condition) and ev.local_coverage >= 0.5
    if spec.numeric:
        # "增长了多少", "是多少": the figure must be the topic's own, not any number nearby.
        return ev.bound
    return True


def _idf_lookup(lex):
    vocab, idf = lex.vocab, lex.idf
    top = float(idf.max()) if len(idf) else math.log(2.0)

    def lookup(tok: str) -> float:
        j = vocab.get(tok)
        return float(idf[j]) if j is not None else top

    return lookup
