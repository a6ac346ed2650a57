"""Filter first, then search: candidate reports and chunks for a question, hybrid-ranked.

Filters (region, covered year, review or plan) are applied before ranking in both the
lexical and the dense search, never after a top-k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.index.catalog import ChunkRow, DocRecord
from rag.index.lexical import BM25Index, tokenize
from rag.index.vectors import VectorIndex
from rag.retrieve.glossary import other_forms
from rag.retrieve.question import Place, QuestionSpec

REVIEW_KINDS = ("review",)
PLAN_KINDS = ("plan", "targets")
RRF_K = 60


@dataclass
class Candidate:
    """A report to read, the year it must speak of, and the chunks that qualify."""

    doc: DocRecord
    year: int | None
    rows: list[ChunkRow]


def _docs_for(place: Place, docs: list[DocRecord]) -> list[DocRecord]:
    return [d for d in docs if getattr(d.meta, place.level, None) == place.name]


def candidate_docs(spec: QuestionSpec, docs: list[DocRecord]) -> list[tuple[DocRecord, int | None]]:
    """Reports of the asked regions (and levels), each paired with the year asked of it."""
    default_years: list[int | None] = list(spec.years) or [None]
    groups: list[tuple[set[str], list[DocRecord], int | None]] = []
    for m in spec.mentions:
        found = _docs_for(m.place, docs)
        if found:
            groups.append(({d.doc_id for d in found}, found, m.year))
    # A region that only narrows another ("天津市" then "和平区") is not a second region.
    kept = [
        g for g in groups
        if not any(o is not g and o[0] < g[0] for o in groups)
    ]
    pairs: list[tuple[DocRecord, int | None]] = []
    if kept:
        merged: dict[tuple[str, int | None], DocRecord] = {}
        for _ids, found, year in kept:
            levels = {d.meta.level for d in found}
            if spec.kind != "list" and len(levels) > 1:
                # "南京市" asks about the city's own report, not its districts'.
                top = _most_general(levels)
                found = [d for d in found if d.meta.level == top]
            for d in found:
                for y in ([year] if year is not None else default_years):
                    merged[(d.doc_id, y)] = d
        pairs = [(d, y) for (_, y), d in merged.items()]
    else:
        pairs = [(d, y) for d in docs for y in default_years]
    if spec.target_levels:
        pairs = [(d, y) for d, y in pairs if d.meta.level in spec.target_levels]
    if spec.mention:
        # What a report of the year asked says, in any section: its review and its plans.
        of_year = {d.doc_id: d for d, y in pairs if y is not None and d.meta.report_year == y}
        pairs = [(d, None) for d in of_year.values()]
    return pairs


_GENERALITY = ["national", "province", "city", "district", "county"]


def _most_general(levels: set[str | None]) -> str | None:
    for lv in _GENERALITY:
        if lv in levels:
            return lv
    return None


def qualifies(row: ChunkRow, year: int | None, spec: QuestionSpec, report_year: int | None) -> bool:
    """Does this chunk speak of the year asked, in the mode asked (achieved or planned)?"""
    kinds = PLAN_KINDS if spec.wants_plan else REVIEW_KINDS
    if year is None:
        if spec.relative_year is None:
            return row.kind != "annex"
        return row.kind in kinds
    lo, hi = row.covered_from, row.covered_to if row.covered_to is not None else row.covered_from
    if lo is None or hi is None:
        return False
    if row.kind == "review_multi" and not spec.wants_plan:
        # A five-year review ending in the year asked also reports that year's results.
        return hi == year
    if row.kind not in kinds:
        return False
    return lo <= year <= hi


def candidates(
    spec: QuestionSpec, docs: list[DocRecord], rows_by_doc: dict[str, list[ChunkRow]]
) -> list[Candidate]:
    out = []
    for doc, year in candidate_docs(spec, docs):
        rows = [
            r for r in rows_by_doc.get(doc.doc_id, ())
            if qualifies(r, year, spec, doc.meta.report_year)
        ]
        if rows:
            out.append(Candidate(doc, year, rows))
    if spec.wants_plan and any(year is not None for _, year in [(c.doc, c.year) for c in out]):
        # A plan for the very year asked beats a five-year plan that includes it.
        exact = [c for c in out if any(r.covered_from == r.covered_to == c.year for r in c.rows)]
        if exact:
            out = [
                Candidate(c.doc, c.year, [r for r in c.rows if r.covered_from == r.covered_to])
                for c in exact
            ]
    return out


def query_tokens(spec: QuestionSpec) -> list[str]:
    toks: list[str] = []
    for t in spec.terms:
        for form in (t, *other_forms(t)):
            toks += tokenize(form) or [form]
    return list(dict.fromkeys(toks))


def hybrid_rank(
    spec: QuestionSpec,
    cands: list[Candidate],
    lexical: BM25Index,
    vectors: VectorIndex | None,
    query_vec: np.ndarray | None,
    k: int = 50,
) -> tuple[list[tuple[str, float]], dict[str, float]]:
    """Reciprocal-rank fusion of BM25 and dense search over the candidates' chunks.

    Returns the fused ranking and the dense cosine score of each chunk that has a vector.
    """
    ids = [r.chunk_id for c in cands for r in c.rows]
    if not ids:
        return [], {}
    lex = lexical.search(query_tokens(spec), ids, k=max(k, 200))
    dense: list[tuple[str, float]] = []
    if vectors is not None and query_vec is not None:
        allowed = set(ids)
        where = {"doc_id": {"$in": sorted({c.doc.doc_id for c in cands})}}
        dense = [
            (cid, score)
            for cid, score in vectors.search(query_vec, ids, where, k=max(k, 200))
            if cid in allowed
        ]
    fused: dict[str, float] = {}
    for ranking in (lex, dense):
        for rank, (cid, _) in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    order = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    return order, dict(dense)
