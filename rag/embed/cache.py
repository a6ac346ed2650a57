"""A persistent embedding cache in one SQLite file, in front of any backend.

Entries are keyed by ``sha256(model_id + "\\0" + text)`` for documents and
``sha256("query\\0" + model_id + "\\0" + text)`` for queries, so changing the model or the
prefixes never serves stale vectors, and a query never reads a passage's vector.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import EmbeddingError

_FORMAT = "reportqa-embeddings/1"
_BUSY_MS = 30_000
_LOOKUP_CHUNK = 500  # stay well under SQLite's bound-parameter limit


class CacheStats(NamedTuple):
    hits: int  # texts answered without the backend (a repeat within one call counts here)
    misses: int  # texts the backend embedded


class CachedEmbeddings(Embeddings):
    """Embeds through ``inner`` only what ``cache_path`` does not hold yet.

    Safe to share between threads and between processes (WAL journal, busy timeout).

    Args:
        inner: Backend with a ``model_id`` attribute naming its vectors.
        cache_path: The SQLite file; created with its folder when missing.

    Raises:
        EmbeddingError: The file is not an embedding cache or is damaged.
    """

    def __init__(self, inner: Embeddings, cache_path: Path) -> None:
        model_id = getattr(inner, "model_id", None)
        if not isinstance(model_id, str) or not model_id or "\0" in model_id:
            raise EmbeddingError(f"{type(inner).__name__} has no usable model_id to key a cache")
        self.inner = inner
        self.model_id = model_id
        self.path = Path(cache_path)
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._db = self._open()

    # -- file ------------------------------------------------------------------
    def _fail(self, what: str, exc: BaseException) -> EmbeddingError:
        return EmbeddingError(
            f"embedding cache {self.path}: {what} ({exc}); delete the file to rebuild it"
        )

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=_BUSY_MS / 1000, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise self._fail("cannot open", exc) from exc
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            if not tables:
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)"
                    " WITHOUT ROWID"
                )
                db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (_FORMAT,))
                db.execute("COMMIT")
                tables = {"meta"}
            row = None
            if "meta" in tables:
                row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.Error as exc:
            db.close()
            raise self._fail("not a readable embedding cache", exc) from exc
        if row is None or row[0] != _FORMAT:
            db.close()
            found = row[0] if row else f"tables: {', '.join(sorted(tables))}"
            raise EmbeddingError(
                f"{self.path} is not a reportqa embedding cache ({found}); "
                "point the cache elsewhere or delete the file"
            )
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- keys and storage -----------------------------------------------------------
    def _key(self, text: str, query: bool) -> bytes:
        raw = ("query\0" if query else "") + self.model_id + "\0" + text
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).digest()

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        try:
            with self._lock:
                for i in range(0, len(unique), _LOOKUP_CHUNK):
                    chunk = unique[i : i + _LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    sql = f"SELECT key, vec FROM vectors WHERE key IN ({marks})"
                    for key, blob in self._db.execute(sql, chunk):
                        found[key] = self._decode(blob)
        except sqlite3.Error as exc:
            raise self._fail("read failed", exc) from exc
        return found

    def _decode(self, blob: object) -> np.ndarray:
        if not isinstance(blob, bytes) or not blob or len(blob) % 4:
            raise EmbeddingError(
                f"embedding cache {self.path} holds a damaged vector; delete the file to rebuild it"
            )
        return np.frombuffer(blob, dtype=np.float32)

    def _store(self, rows: list[tuple[bytes, np.ndarray]]) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                        [(key, vec.tobytes()) for key, vec in rows],
                    )
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fail("write failed", exc) from exc

    # -- embedding --------------------------------------------------------------------
    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        keys = [self._key(t, query) for t in texts]
        found = self._lookup(keys)
        todo: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                todo.setdefault(key, text)
        if todo:
            missing = list(todo.values())
            if query:
                fresh = [self.inner.embed_query(t) for t in missing]
            else:
                fresh = self.inner.embed_documents(missing)
            if len(fresh) != len(missing):
                raise EmbeddingError(
                    f"{type(self.inner).__name__} returned {len(fresh)} vectors "
                    f"for {len(missing)} texts"
                )
            rows = [(k, np.asarray(v, dtype=np.float32)) for k, v in zip(todo, fresh, strict=True)]
            self._store(rows)
            found.update(rows)
        dims = {found[k].shape[0] for k in keys}
        if len(dims) != 1:
            raise EmbeddingError(
                f"embedding cache {self.path} mixes vector sizes {sorted(dims)} for "
                f"{self.model_id}; delete the file to rebuild it"
            )
        with self._lock:
            self._misses += len(todo)
            self._hits += len(texts) - len(todo)
        return np.stack([found[k] for k in keys])

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        """Embed documents into a float32 array of shape (len(texts), dim)."""
        return self._embed(list(texts), query=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts), query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], query=True)[0].tolist()

    def stats(self) -> CacheStats:
        """Texts served from the cache and texts embedded by the backend since creation."""
        with self._lock:
            return CacheStats(self._hits, self._misses)
