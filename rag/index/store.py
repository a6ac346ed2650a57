"""The store facade: catalog, vectors and words kept consistent under one roof."""

from __future__ import annotations

import logging
import os
import pickle
import threading
from pathlib import Path

from rag.config import StoreSettings
from rag.index.catalog import Catalog, ChunkRow, DocRecord
from rag.index.lexical import BM25Index
from rag.index.vectors import VectorIndex, make_client

log = logging.getLogger(__name__)


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
        self._status_gen = -1
        self._rows: dict[str, ChunkRow] = {}
        self._docs: dict[str, DocRecord] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()

    @property
    def write_lock(self) -> threading.RLock:
        """Held by ingestion while it changes the store (answers keep reading)."""
        return self._write_lock

    def _refresh(self) -> None:
        gen, status = self.catalog.generation(), self.catalog.status_generation()
        if gen != self._lex_gen or self._lex is None:
            lex, rows = self._load_lexical(gen)
            self._rows = {r.chunk_id: r for r in rows}
            self._lex, self._lex_gen = lex, gen
            self._status_gen = -1
        if status != self._status_gen:
            self._docs = {d.doc_id: d for d in self.catalog.documents()}
            self._status_gen = status

    def _load_lexical(self, gen: int) -> tuple[BM25Index, list[ChunkRow]]:
        """The BM25 index of this catalog generation: from disk when saved, else built."""
        saved = self.path / "cache" / f"lexical-{self.catalog.catalog_id[:12]}-{gen}.pkl"
        if saved.exists():
            try:
                with open(saved, "rb") as f:
                    lex, rows = pickle.load(f)
                return lex, rows
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                    IndexError, TypeError, ValueError) as exc:
                log.warning("rebuilding the lexical index (%s unreadable: %s)", saved, exc)
        rows, tokens = self.catalog.chunk_index()
        lex = BM25Index([r.chunk_id for r in rows], tokens)
        try:
            saved.parent.mkdir(parents=True, exist_ok=True)
            for old in saved.parent.glob("lexical-*.pkl"):
                old.unlink(missing_ok=True)
            # Per process: two processes saving the same generation must not share a file.
            tmp = saved.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump((lex, rows), f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(saved)
        except OSError as exc:  # a read-only store still answers
            log.warning("could not save the lexical index: %s", exc)
        return lex, rows

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
