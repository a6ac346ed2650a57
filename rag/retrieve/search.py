"""Filter first, then search: candidate reports and chunks for a question, hybrid-ranked.

Filters (region, covered year, review or plan) are applied before ranking in both the
lexical and the dense search, never after a top-k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rag.index.catalog import ChunkRow, DocRecord
from rag.index.lexical import BM25Index, tokenize
from rag.index.vectors import VectorIndex
from rag.retrieve.places import Place
from rag.retrieve.spec import Form, Mode, QuestionSpec
from rag.text.lexicon import lexicon

REVIEW_KINDS = ("review",)
PLAN_KINDS = ("plan", "targets")
_GENERALITY = ["national", "province", "city", "district", "county"]


@dataclass
class Candidate:
    """A report to read, the year it must speak of, and the chunks that qualify."""

    doc: DocRecord
    year: int | None
    rows: list[ChunkRow]


@dataclass
class Selection:
    """The candidates of a question, and what the filter found on the way."""

    candidates: list[Candidate] = field(default_factory=list)
    groups: int = 0  # distinct places asked about that the store holds (nested ones merged)
    notes: list[str] = field(default_factory=list)  # e.g. how a relative year was taken
    years: dict[str, int] = field(default_factory=dict)  # place name → year taken for it


def docs_for(place: Place, docs: list[DocRecord]) -> list[DocRecord]:
    return [d for d in docs if getattr(d.meta, place.level, None) == place.name]


def _most_general(levels: set[str | None]) -> str | None:
    for lv in _GENERALITY:
        if lv in levels:
            return lv
    return None


def _relative_year(spec: QuestionSpec, docs: list[DocRecord]) -> int | None:
    """"去年" of these reports: the year their latest report reviews (or plans, this year)."""
    years = [d.meta.report_year for d in docs if d.meta.report_year is not None]
    if spec.relative is None or not years:
        return None
    return max(years) + spec.relative.offset


def candidate_docs(spec: QuestionSpec, docs: list[DocRecord]
                   ) -> tuple[list[tuple[DocRecord, int | None]], Selection]:
    """Reports of the asked regions (and levels), each paired with the year asked of it."""
    sel = Selection()
    default_years: list[int | None] = list(spec.years) or [None]
    groups: list[tuple[set[str], list[DocRecord], int | None, str]] = []
    for m in spec.mentions:
        found = docs_for(m.place, docs)
        if found:
            groups.append(({d.doc_id for d in found}, found, m.year, m.place.name))
    # A region that only narrows another ("天津市" then "和平区") is not a second region.
    kept = [g for g in groups if not any(o is not g and o[0] < g[0] for o in groups)]
    merged: dict[tuple[str, int | None], DocRecord] = {}
    if kept:
        sel.groups = len({frozenset(g[0]) for g in kept})
        for _ids, found, year, name in kept:
            levels = {d.meta.level for d in found}
            if spec.form is not Form.LIST and len(levels) > 1:
                # "南京市" asks about the city's own report, not its districts'.
                top = _most_general(levels)
                found = [d for d in found if d.meta.level == top]
            years = [year] if year is not None else default_years
            rel = _relative_year(spec, found)
            if rel is not None and year is None and not spec.years:
                years = [rel]
                sel.years[name] = rel
            for d in found:
                for y in years:
                    merged[(d.doc_id, y)] = d
    elif not spec.mentions:
        pool = [d for d in docs if not spec.target_levels or d.meta.level in spec.target_levels]
        rel = _relative_year(spec, pool) if not spec.years else None
        years = [rel] if rel is not None else default_years
        if rel is not None:
            sel.years[""] = rel
        merged = {(d.doc_id, y): d for d in pool for y in years}
    pairs = [(d, y) for (_, y), d in merged.items()]
    if spec.target_levels:
        pairs = [(d, y) for d, y in pairs if d.meta.level in spec.target_levels]
    if spec.relative is not None:
        for name, y in sel.years.items():
            what = "plans" if spec.mode is Mode.PLANNED else "reviews"
            whose = f"of {name} " if name else ""
            sel.notes.append(f"“{spec.relative.word}” taken as {y}: the year the latest report "
                             f"{whose}{what}")
    if spec.mode is Mode.MENTIONED:
        # What a report of the year asked says, in any section: its review and its plans.
        of_year = {d.doc_id: d for d, y in pairs if y is not None and d.meta.report_year == y}
        pairs = [(d, None) for d in of_year.values()]
    return pairs, sel


def qualifies(row: ChunkRow, year: int | None, spec: QuestionSpec) -> bool:
    """Does this chunk speak of the year asked, in the mode asked (achieved or planned)?"""
    kinds = PLAN_KINDS if spec.wants_plan else REVIEW_KINDS
    if year is None:
        if spec.relative is None:
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


def select(spec: QuestionSpec, docs: list[DocRecord],
           rows_by_doc: dict[str, list[ChunkRow]]) -> Selection:
    """Every candidate report of a question with its qualifying chunks."""
    pairs, sel = candidate_docs(spec, docs)
    out = []
    for doc, year in pairs:
        rows = [r for r in rows_by_doc.get(doc.doc_id, ()) if qualifies(r, year, spec)]
        if rows:
            out.append(Candidate(doc, year, rows))
    if spec.wants_plan and any(c.year is not None for c in out):
        # A plan for the very year asked beats a five-year plan that includes it.
        exact = [c for c in out if any(r.covered_from == r.covered_to == c.year for r in c.rows)]
        if exact:
            out = [
                Candidate(c.doc, c.year, [r for r in c.rows if r.covered_from == r.covered_to])
                for c in exact
            ]
    sel.candidates = out
    return sel


def query_tokens(spec: QuestionSpec) -> list[str]:
    lex = lexicon()
    toks: list[str] = []
    for t in spec.terms:
        for form in (t, *lex.other_forms(t), *spec.term_forms.get(t, ())):
            toks += tokenize(form) or [form]
    return list(dict.fromkeys(toks))


def hybrid_rank(
    spec: QuestionSpec,
    cands: list[Candidate],
    lexical: BM25Index,
    vectors: VectorIndex | None,
    query_vec: np.ndarray | None,
    k: int = 50,
    rrf_k: int = 60,
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
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (rrf_k + rank + 1)
    order = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    return order, dict(dense)
