"""A persistent embedding cache in one SQLite file, in front of any backend.

Entries are keyed by ``sha256(model_id + "\\0" + text)`` for documents and
``sha256("query\\0" + model_id + "\\0" + text)`` for queries, so changing the model or the
prefixes never serves stale vectors, and a query never reads a passage's vector. Each vector
carries a checksum of its key and bytes: one that does not match (a damaged page, a row
copied under another key) is embedded again, never served. Caches made before checksums
(format 1) are read as they are.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import DiskFull, EmbeddingError, ReportQAError, is_disk_full

_FORMAT = "reportqa-embeddings/2"  # vectors end with an 8-byte checksum
_FORMATS = ("reportqa-embeddings/1", _FORMAT)
_SUM = 8
log = logging.getLogger(__name__)

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
        DiskFull: A write found the disk full (the file is fine).
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
    def _fail(self, what: str, exc: BaseException) -> ReportQAError:
        if is_disk_full(exc):  # nothing is damaged: deleting the file would lose work
            return DiskFull(f"embedding cache {self.path}: {what}: the disk is full ({exc})")
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
        if row is None or row[0] not in _FORMATS:
            db.close()
            found = row[0] if row else f"tables: {', '.join(sorted(tables))}"
            raise EmbeddingError(
                f"{self.path} is not a reportqa embedding cache ({found}); "
                "point the cache elsewhere or delete the file"
            )
        self._checked = row[0] == _FORMAT
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
                        vec = self._decode(key, blob)
                        if vec is not None:
                            found[key] = vec
        except sqlite3.Error as exc:
            raise self._fail("read failed", exc) from exc
        return found

    @staticmethod
    def _checksum(key: bytes, data: bytes) -> bytes:
        return hashlib.blake2b(key + data, digest_size=_SUM).digest()

    def _encode(self, key: bytes, vec: np.ndarray) -> bytes:
        data = np.ascontiguousarray(vec, dtype=np.float32).tobytes()
        return data + self._checksum(key, data) if self._checked else data

    def _decode(self, key: bytes, blob: object) -> np.ndarray | None:
        """The vector, or None when its checksum fails (it is then embedded again)."""
        if self._checked:
            ok = isinstance(blob, bytes) and len(blob) > _SUM and (len(blob) - _SUM) % 4 == 0
            if not ok or blob[-_SUM:] != self._checksum(key, blob[:-_SUM]):  # type: ignore[index]
                log.warning("embedding cache %s: a vector fails its checksum; embedding it "
                            "again", self.path)
                return None
            return np.frombuffer(blob[:-_SUM], dtype=np.float32)  # type: ignore[index]
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
                        [(key, self._encode(key, vec)) for key, vec in rows],
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
