"""The store facade: catalog, vectors and words kept consistent under one roof."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.config import StoreSettings
from rag.index.catalog import Catalog, ChunkRow, DocRecord
from rag.index.lexical import BM25Index
from rag.index.vectors import VectorIndex, make_client


class Store:
    """Open (or create) a store folder: ``catalog.sqlite``, ``chroma/`` and caches."""

    def __init__(self, settings: StoreSettings, path: Path | None = None) -> None:
        self.path = Path(path or settings.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.path / "catalog.sqlite")
        client = make_client(self.path / "chroma", settings.chroma_host, settings.chroma_port)
        self.vectors = VectorIndex(client, settings.collection)
        self._lex: BM25Index | None = None
        self._lex_gen = -1
        self._rows: dict[str, ChunkRow] = {}
        self._docs: dict[str, DocRecord] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()

    @property
    def write_lock(self) -> threading.RLock:
        """Held by ingestion while it changes the store (answers keep reading)."""
        return self._write_lock

    def _refresh(self) -> None:
        gen = self.catalog.generation()
        if gen == self._lex_gen and self._lex is not None:
            return
        rows = self.catalog.chunks()
        docs = {d.doc_id: d for d in self.catalog.documents()}
        lex = BM25Index([r.chunk_id for r in rows], [r.tokens.split() for r in rows])
        self._rows = {r.chunk_id: r for r in rows}
        self._docs = docs
        self._lex, self._lex_gen = lex, gen

    def snapshot(self) -> tuple[BM25Index, dict[str, ChunkRow], dict[str, DocRecord]]:
        """A consistent view for one question: lexical index, chunk rows, documents."""
        with self._lock:
            self._refresh()
            assert self._lex is not None
            return self._lex, self._rows, self._docs

    def delete(self, doc_id: str) -> None:
        """Remove a report from both indexes: Chroma first, then the catalog."""
        with self._write_lock:
            self.vectors.delete_doc(doc_id)
            self.catalog.delete_document(doc_id)

    def close(self) -> None:
        self.catalog.close()
