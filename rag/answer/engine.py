"""Answering a question over the store: understand, filter, read, decide, compose.

The engine only orchestrates: the reading of the question is :mod:`rag.retrieve.understand`,
the filter :mod:`rag.retrieve.search`, the decision per report a strategy's
(:mod:`rag.answer.strategies`), the text :mod:`rag.answer.compose`. List questions are
exhaustive: every candidate report is decided on its own sentences — no top-k.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from rag.answer.compose import no_report, not_found, with_assumptions
from rag.answer.evidence import Term, build_terms
from rag.answer.reading import Reading
from rag.answer.strategies import strategy_for
from rag.config import AnswerSettings
from rag.errors import QuestionError
from rag.index.catalog import ChunkRow, DocRecord
from rag.index.lexical import BM25Index, tokenize
from rag.index.store import Store
from rag.ingest.regions import get_gazetteer
from rag.models import Answer
from rag.retrieve.feedback import feedback_terms
from rag.retrieve.places import Place, PlaceMatcher
from rag.retrieve.search import Candidate, hybrid_rank
from rag.retrieve.semantic import SemanticScores
from rag.retrieve.spec import Form, QuestionSpec
from rag.retrieve.understand import dictionary_terms, glossed_share, understand

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """The store as one question sees it: consistent for the whole answer."""

    lexical: BM25Index
    docs: dict[str, DocRecord]
    rows_by_doc: dict[str, list[ChunkRow]]
    places: PlaceMatcher


class Answerer:
    """Answers questions extractively; an LLM, when given, writes the final text."""

    def __init__(self, store: Store, embeddings=None, llm=None,
                 settings: AnswerSettings | None = None) -> None:
        self.store = store
        self.embeddings = embeddings
        self.llm = llm
        self.cfg = settings or AnswerSettings()
        self._view: View | None = None
        self._lock = threading.Lock()

    def view(self) -> View:
        lex, rows, docs = self.store.snapshot()
        with self._lock:
            # The store builds a new lexical index object for every catalog generation.
            if self._view is None or self._view.lexical is not lex:
                by_doc: dict[str, list[ChunkRow]] = defaultdict(list)
                for r in rows.values():
                    by_doc[r.doc_id].append(r)
                places, homes = _places(docs.values())
                self._view = View(lex, docs, dict(by_doc),
                                  PlaceMatcher(places, get_gazetteer(), homes))
            elif self._view.docs is not docs:  # status changed only (embedding progress)
                self._view = replace(self._view, docs=docs)
            return self._view

    def parse(self, question: str) -> QuestionSpec:
        return understand(question, self.view().places)

    def ask(self, question: str, debug: bool = False) -> Answer:
        question = (question or "").strip()
        if not question:
            raise QuestionError("the question is empty")
        t0 = time.perf_counter()
        view = self.view()
        spec = understand(question, view.places)
        if self.llm is not None:
            self._llm_reading(spec, view)
        lang = spec.lang
        if spec.missing_places and not spec.mentions:
            return no_report(question, spec.form.value, lang, spec.missing_places)
        self._dictionary(spec, view)  # after the model's reading, which knows it best
        strategy = strategy_for(spec)
        sel = strategy.candidates(spec, list(view.docs.values()), view.rows_by_doc)
        if spec.form is Form.FACT and sel.groups + len(spec.missing_places) >= 2:
            spec.form = Form.COMPARE  # two places side by side, without the word "compare"
            strategy = strategy_for(spec)
        cands = sel.candidates
        if not cands:
            return not_found(question, spec.form.value, lang, self._why_none(spec))
        reading = self._read(spec, cands, view)
        if not reading.terms and reading.semantic is None:
            return not_found(question, spec.form.value, lang,
                             "no topic words were recognised and the candidate reports have "
                             "no sentence vectors")
        ans = strategy.compose(reading, strategy.decide_all(reading, cands))
        ans.notes = (spec.notes + sel.notes + self._coverage_notes(cands, reading)
                     + ans.notes + strategy.notes)
        if spec.missing_places and spec.form is not Form.COMPARE:
            ans.notes.append("the store has no report of " + "、".join(spec.missing_places))
        assumed = spec.notes + sel.notes
        if self.llm is not None and ans.found:
            from rag.answer.llm import rewrite_with_llm

            ans = rewrite_with_llm(self.llm, spec, ans)
        with_assumptions(ans, assumed)
        rows = {r.chunk_id: r for c in cands for r in c.rows}
        ans.retrieved = [
            {"source": view.docs[rows[cid].doc_id].source, "start": rows[cid].start,
             "end": rows[cid].end, "rank": i + 1, "chunk_id": cid}
            for i, (cid, _) in enumerate(reading.ranking)
        ]
        log.debug("answered in %.3fs by %s", time.perf_counter() - t0, strategy.name)
        return ans

    def _llm_reading(self, spec: QuestionSpec, view: View) -> None:
        """What the chat model reads in the question, where the rules read nothing."""
        from rag.answer.llm_reading import merge_reading, read_question

        reading = read_question(self.llm, spec.normalized)
        if reading is None:
            spec.notes.append("the chat model's reading of the question was unusable")
            return
        taken = merge_reading(spec, reading, view.places,
                              lambda t: view.lexical.has_all(tokenize(t) or [t]))
        if taken:
            spec.notes.append("the chat model read " + "; ".join(taken))

    def _dictionary(self, spec: QuestionSpec, view: View) -> None:
        lex = view.lexical

        def corpus_idf(word: str) -> float | None:
            toks = tokenize(word) or [word]
            if not lex.has_all(toks):
                return None
            return max(float(lex.idf[lex.vocab[t]]) for t in toks)

        dictionary_terms(spec, corpus_idf, self.cfg.telling_idf)

    # -- reading the candidates
    def _read(self, spec: QuestionSpec, cands: list[Candidate], view: View) -> Reading:
        qvec = self._query_vector(spec.normalized)
        ranking, dense = hybrid_rank(spec, cands, view.lexical, self.store.vectors, qvec,
                                     k=self.cfg.search_k, rrf_k=self.cfg.rrf_k)
        semantic = None
        if qvec is not None:
            model = getattr(self.embeddings, "model_id", None)
            units = {d: u for d, u in self.store.units({c.doc.doc_id for c in cands}).items()
                     if model is None or u.model_id == model}
            topic = spec.topic
            tvec = self._query_vector(topic) if topic.strip() else None
            # An English question's topic in the reports' language as well: the embedder
            # matches Chinese to Chinese far more surely than across languages.
            # (the glossary's and the question's own Chinese, not the dictionary's guesses),
            # where it renders most of the topic: "services" → 服务业 is not "meal services
            # for older residents".
            gloss = "".join(t for t in spec.terms if t not in spec.term_forms) \
                if spec.lang == "en" and glossed_share(spec.topic) >= 0.3 else ""
            gvec = self._query_vector(gloss) if gloss else None
            if units:
                queries = [v for v in (qvec, tvec, gvec) if v is not None]
                semantic = SemanticScores(units, queries, self.cfg)
                ranking = _fuse_semantic(ranking, cands, semantic, self.store, self.cfg)
        terms = build_terms(spec, _idf_lookup(view.lexical))
        unheard: tuple[str, ...] = ()
        # The corpus's own vocabulary: a term of the question's own that some report writes
        # is how reports say it (a glossary translation may not be: "services" → 服务业).
        in_corpus = [t for t in terms if len(t.text) >= 2 and self._in_corpus(t, view)]
        # A word most chunks hold ("经济", "建设") says nothing of how reports word a topic:
        # "经济增长" is written "地区生产总值增长". Only telling words make words required.
        grounded = any(t.own and len(t.text) >= 2 and t.weight >= self.cfg.telling_idf
                       for t in in_corpus)
        if semantic is not None and not any(t.weight >= self.cfg.telling_idf
                                            for t in in_corpus):
            # Where the question writes none of the corpus's telling words, words read off
            # the closest sentences anchor figures where they stand ("经济增速" is written
            # 地区生产总值); where they do not, the closest unit's figure still may.
            read_off = self._feedback(spec, cands, semantic, view, terms)
            terms += read_off
            unknown, every = self._unknown(spec, terms, view)
            if not read_off and unknown:
                # A Chinese question's own topic the corpus never writes ("离婚率", "比特币挖矿
                # 企业"), and no word the closest sentences share: what is merely near in
                # meaning is not it. A sentence must write the topic's words — or, where the
                # question writes some words the reports know, be surely meant.
                spec.notes.append("no report writes " + "、".join(unknown))
                if every:
                    grounded = True
                else:
                    unheard = tuple(unknown)
        return Reading(spec, cands, self.store, self.cfg, terms, ranking, dense, semantic,
                       self.llm, grounded=grounded, worded=bool(in_corpus), unheard=unheard)

    @staticmethod
    def _unknown(spec: QuestionSpec, terms: list[Term], view: View) -> tuple[list[str], bool]:
        """The Chinese question's own topic terms of which the corpus writes no word of two
        characters or more, and whether every such term is so."""
        if spec.lang != "zh":
            return [], False
        vocab = view.lexical.vocab
        own = [t for t in terms if t.own and len(t.text) >= 2]
        unknown = [t.text for t in own
                   if not any(len(w) >= 2 and w in vocab for w in tokenize(t.text) or [t.text])]
        return unknown, bool(own) and len(unknown) == len(own)

    @staticmethod
    def _in_corpus(t: Term, view: View) -> bool:
        return any(view.lexical.has_all(tokenize(f) or [f]) for f in (t.text, *t.short))

    def _feedback(self, spec: QuestionSpec, cands: list[Candidate], semantic: SemanticScores,
                  view: View, terms: list[Term]) -> list[Term]:
        """Where the question writes none of the corpus's words: the words the closest
        units of the candidate reports share (:mod:`rag.retrieve.feedback`)."""
        closest: list[tuple[float, str]] = []
        for c in cands:
            scores = semantic.scores(c.doc.doc_id)
            if scores is None:
                continue
            spans = self.store.units([c.doc.doc_id])[c.doc.doc_id].spans
            text = self.store.catalog.text(c.doc.doc_id) or ""
            inside = [j for j in np.argsort(-scores)[:20]
                      if any(r.start <= spans[j, 0] < r.end for r in c.rows)][:2]
            closest += [(float(scores[j]), text[spans[j, 0] : spans[j, 1]]) for j in inside]
        closest.sort(key=lambda x: -x[0])
        vocab, idf = view.lexical.vocab, view.lexical.idf
        words = feedback_terms([t for _, t in closest],
                               lambda w: float(idf[vocab[w]]) if w in vocab else None,
                               self.cfg.telling_idf, view.places.names_place)
        known = {t.text for t in terms}
        new = [Term(w, (w,), float(idf[vocab[w]]), (), own=False, read_off=True) for w in words
               if w not in known]
        if new:
            spec.notes.append("the reports' words for it, from the sentences closest in "
                              "meaning: " + "、".join(t.text for t in new))
        return new

    def _query_vector(self, text: str) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        try:
            return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)
        except Exception as exc:  # a failing embedder degrades to lexical search
            log.warning("query embedding failed, lexical search only: %s", exc)
            return None

    def _coverage_notes(self, cands: list[Candidate], reading: Reading) -> list[str]:
        pending = [c.doc.source for c in cands if c.doc.status != "complete"
                   or (reading.semantic is not None and not reading.semantic.covers(c.doc.doc_id))]
        if not pending or reading.semantic is None and self.embeddings is None:
            return []
        return [f"dense search did not yet cover {len(set(pending))} of {len(cands)} candidate "
                f"reports (lexical search covered them)"]

    def _why_none(self, spec: QuestionSpec) -> str:
        if spec.mentions:
            names = "、".join(dict.fromkeys(m.place.name for m in spec.mentions))
            years = "、".join(str(y) for y in spec.years) or "any year"
            mode = "plans" if spec.wants_plan else "reviews"
            return f"no report of {names} {mode} {years}"
        return "no report covers the years asked"


def _places(docs) -> tuple[list[Place], dict[Place, set[tuple[str | None, str | None]]]]:
    """The store's places, and the (province, city) of the reports that name each."""
    homes: dict[Place, set[tuple[str | None, str | None]]] = defaultdict(set)
    for d in docs:
        m = d.meta
        for name, level in ((m.province, "province"), (m.city, "city"),
                            (m.district, "district")):
            if name:
                homes[Place(name, level)].add((m.province, m.city))
    return list(homes), dict(homes)


def _fuse_semantic(ranking, cands: list[Candidate], semantic: SemanticScores, store: Store,
                   cfg: AnswerSettings) -> list[tuple[str, float]]:
    """The chunk ranking with a third voice: each chunk's closest sentence unit."""
    best: list[tuple[float, str]] = []
    for c in cands:
        scores = semantic.scores(c.doc.doc_id)
        if scores is None:
            continue
        starts = store.units([c.doc.doc_id])[c.doc.doc_id].spans[:, 0]
        for r in c.rows:
            lo, hi = np.searchsorted(starts, r.start), np.searchsorted(starts, r.end)
            if hi > lo:
                best.append((float(scores[lo:hi].max()), r.chunk_id))
    best.sort(reverse=True)
    fused: dict[str, float] = {cid: s for cid, s in ranking}
    for rank, (_, cid) in enumerate(best[: max(cfg.search_k, 200)]):
        fused[cid] = fused.get(cid, 0.0) + 2.0 / (cfg.rrf_k + rank + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])[: cfg.search_k]


def _idf_lookup(lex: BM25Index):
    vocab, idf = lex.vocab, lex.idf
    top = float(idf.max()) if len(idf) else math.log(2.0)

    def lookup(tok: str) -> float:
        j = vocab.get(tok)
        return float(idf[j]) if j is not None else top

    return lookup
