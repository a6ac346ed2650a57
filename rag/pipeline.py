"""Wires the parts: a store, an embedder, an ingestor and an answerer behind one object.

Only wiring lives here; each part is its own module and takes its services as arguments.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rag.answer.engine import Answerer
from rag.config import Settings
from rag.index.store import Store
from rag.ingest.pipeline import Ingestor, IngestReport, find_manifest
from rag.ingest.progress import Progress
from rag.models import Answer

log = logging.getLogger(__name__)


class Assistant:
    """A store opened for ingesting and answering."""

    def __init__(self, settings: Settings, store: Store, embeddings, llm=None) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        self.answerer = Answerer(store, embeddings, llm, settings.answer)

    def ingest(
        self,
        paths: list[Path],
        manifest: Path | None = None,
        *,
        embed: bool = True,
        dry_run: bool = False,
        progress: bool | Progress = False,
    ) -> IngestReport:
        manifest = manifest or self.settings.manifest or find_manifest(paths)
        ingestor = Ingestor(
            self.store, self.embeddings, self.settings.chunk, manifest=manifest,
            progress=progress, batch_size=self._embed_batch(),
            workers=self.settings.chunk.workers,
        )
        return ingestor.run(paths, embed=embed, dry_run=dry_run)

    def _embed_batch(self) -> int:
        """Texts per embedding call: an endpoint gets enough for all its concurrent requests."""
        e = self.settings.embed
        if e.backend == "openai":
            return e.batch_size * e.concurrency
        return max(8, e.batch_size)

    def embed_pending(self, progress: bool | Progress = False) -> tuple[int, int]:
        ingestor = Ingestor(self.store, self.embeddings, self.settings.chunk, progress=progress,
                            batch_size=self._embed_batch())
        return ingestor.embed_pending()

    def ask(self, question: str, debug: bool = False) -> Answer:
        vectors = self.store.vectors
        before = vectors.fallbacks
        answer = self.answerer.ask(question, debug=debug)
        if vectors.fallbacks != before:
            why = vectors.unavailable() or "it failed during this answer"
            answer.notes.append(f"dense search unavailable (Chroma at {vectors.where}: {why}); "
                                "answered from lexical search only")
        return answer

    def places(self):
        """The place matcher of this store's reports (for follow-up questions)."""
        return self.answerer.view().places

    def documents(self):
        return self.store.catalog.documents()

    def delete(self, key: str) -> bool:
        """Delete a report by doc_id or source name; False when there is none."""
        doc = self.store.catalog.document(key) or self.store.catalog.document_by_source(key)
        if doc is None:
            return False
        self.store.delete(doc.doc_id)
        return True

    def source_text(self, source: str) -> str | None:
        doc = self.store.catalog.document_by_source(source)
        return self.store.catalog.text(doc.doc_id) if doc else None

    def close(self) -> None:
        self.store.close()


def open_assistant(
    settings: Settings, store_dir: Path | None = None, *, embeddings=None, llm=None
) -> Assistant:
    """Open the store at ``store_dir`` (default from settings) with the configured services."""
    store = Store(settings.store, store_dir)
    if embeddings is None:
        from rag.embed import LazyEmbeddings

        embeddings = LazyEmbeddings(settings.embed, cache_dir=store.path / "cache")
    if llm is None and settings.llm.base_url:
        from rag.answer.llm import make_chat_model

        llm = make_chat_model(settings.llm)
    return Assistant(settings, store, embeddings, llm)
