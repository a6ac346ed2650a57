"""The store facade: catalog, vectors and words kept consistent under one roof."""

from __future__ import annotations

import logging
import os
import pickle
import threading
from pathlib import Path

import numpy as np

from rag.config import StoreSettings
from rag.index.catalog import Catalog, ChunkRow, DocRecord
from rag.index.lexical import BM25Index
from rag.index.vectors import VectorIndex, make_client

log = logging.getLogger(__name__)

LEXICAL_FORMAT = 2  # bump when BM25Index's pickled fields change
LexicalState = tuple[BM25Index, list[ChunkRow], int]  # index, its rows, catalog generation


class Store:
    """Open (or create) a store folder: ``catalog.sqlite``, ``chroma/`` and caches."""

    def __init__(self, settings: StoreSettings, path: Path | None = None) -> None:
        self.path = Path(path or settings.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.path / "catalog.sqlite")
        host, port = settings.chroma_host, settings.chroma_port
        self.vectors = VectorIndex(
            None, settings.collection,
            connect=lambda: make_client(self.path / "chroma", host, port),
            where=f"{host}:{port}" if host else str(self.path / "chroma"),
            embedded=not host,
        )
        self._lex: BM25Index | None = None
        self._lex_gen = -1
        self._status_gen = -1
        self._rows: dict[str, ChunkRow] = {}
        self._row_list: list[ChunkRow] = []
        self._docs: dict[str, DocRecord] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()

    @property
    def write_lock(self) -> threading.RLock:
        """Held by ingestion while it changes the store (answers keep reading)."""
        return self._write_lock

    def _refresh(self) -> None:
        if self.catalog.changed_elsewhere():
            # Another process ingested or deleted: an embedded Chroma client holds a stale
            # copy of what that process wrote (a server is shared, and needs nothing).
            if self.vectors.embedded:
                self.vectors.reopen()
        gen, status = self.catalog.generation(), self.catalog.status_generation()
        if gen != self._lex_gen or self._lex is None:
            base = (self._lex, self._row_list, self._lex_gen) if self._lex is not None else None
            lex, rows = self._load_lexical(gen, base)
            self._row_list = rows
            self._rows = {r.chunk_id: r for r in rows}
            self._lex, self._lex_gen = lex, gen
            self._status_gen = -1
        if status != self._status_gen:
            self._docs = {d.doc_id: d for d in self.catalog.documents()}
            self._status_gen = status

    def _saved_lexical(self, gen: int) -> Path:
        name = f"lexical-v{LEXICAL_FORMAT}-{self.catalog.catalog_id[:12]}-{gen}.pkl"
        return self.path / "cache" / name

    def _read_saved(self, path: Path) -> tuple[BM25Index, list[ChunkRow]] | None:
        try:
            with open(path, "rb") as f:
                lex, rows = pickle.load(f)
            return lex, rows
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                IndexError, TypeError, ValueError) as exc:
            log.warning("ignoring the saved lexical index %s (unreadable: %s)", path, exc)
            return None

    def _newest_saved_before(self, gen: int) -> LexicalState | None:
        """The newest saved lexical index of an earlier generation of this catalog."""
        prefix = self._saved_lexical(0).name.rsplit("-", 1)[0] + "-"
        older = []
        for path in self._saved_lexical(0).parent.glob(prefix + "*.pkl"):
            tail = path.name[len(prefix) : -len(".pkl")]
            if tail.isdigit() and int(tail) < gen:
                older.append((int(tail), path))
        if not older:
            return None
        g0, path = max(older)
        loaded = self._read_saved(path)
        return (*loaded, g0) if loaded else None

    def _updated(self, base: LexicalState) -> tuple[BM25Index, list[ChunkRow]] | None:
        """``base`` with the reports changed since its generation re-read; None if unknown."""
        lex, rows, g0 = base
        changed = self.catalog.changed_since(g0)
        if changed is None:
            return None
        if not changed:
            return lex, rows
        keep = np.fromiter((r.doc_id not in changed for r in rows), dtype=bool, count=len(rows))
        new_rows, tokens = self.catalog.chunk_index(changed)
        lex = lex.replace(keep, [r.chunk_id for r in new_rows], tokens)
        return lex, [r for r, k in zip(rows, keep, strict=True) if k] + new_rows

    def _load_lexical(
        self, gen: int, base: LexicalState | None = None
    ) -> tuple[BM25Index, list[ChunkRow]]:
        """The BM25 index of this catalog generation: saved on disk, updated from ``base``
        (or the newest saved earlier generation) by the reports changed since, or built."""
        saved = self._saved_lexical(gen)
        if saved.exists() and (loaded := self._read_saved(saved)):
            return loaded
        built = None
        if base is None:
            base = self._newest_saved_before(gen)
        if base is not None:
            built = self._updated(base)
        if built is None:
            rows, tokens = self.catalog.chunk_index()
            built = BM25Index([r.chunk_id for r in rows], tokens), rows
        try:
            saved.parent.mkdir(parents=True, exist_ok=True)
            for old in saved.parent.glob("lexical-*.pkl"):
                old.unlink(missing_ok=True)
            # Per process: two processes saving the same generation must not share a file.
            tmp = saved.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(saved)
        except OSError as exc:  # a read-only store still answers
            log.warning("could not save the lexical index: %s", exc)
        return built

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
