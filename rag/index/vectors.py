"""Chroma: the vectors of every embedded chunk, with the metadata filters need.

Embedded ``PersistentClient`` by default; ``HttpClient`` to a ``chroma run`` server when a
host is configured (several processes must share one server: embedded Chroma is not
process-safe).

Chroma is the one part of the store that can be away: a server stopped, or an embedded
copy made stale by another process writing to the same folder. Reads that answering needs
then degrade — :meth:`VectorIndex.search` and :meth:`VectorIndex.vectors` return nothing
and count a fallback, so the answer comes from lexical search and says so — while writes
raise :class:`rag.errors.VectorsUnavailable`. The index reconnects by itself, at most every
``retry_seconds``, and reopens an embedded client that another process has written behind
its back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from rag.errors import StoreError, VectorsUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# Above this many candidate chunks, search through Chroma's HNSW index with a `where`
# filter; below it, score the candidates' stored vectors exactly (cheap, and exact where
# filtered HNSW loses recall).
EXACT_LIMIT = 20_000
RETRY_SECONDS = 2.0  # while Chroma is away, how often a call tries it again


def make_client(path: Path, host: str | None = None, port: int = 8000):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # chromadb raises many types for an unreachable server
        where = f"{host}:{port}" if host else str(path)
        raise StoreError(f"cannot open Chroma at {where}: {exc}") from exc


class VectorIndex:
    """Chunk vectors in one Chroma collection.

    Args:
        client: an open Chroma client, or None to connect through ``connect`` on first use.
        collection: the collection's name.
        connect: makes a client; with it the index reconnects after Chroma was away.
        where: how Chroma is reached, for messages (``host:port`` or a folder).
        embedded: the client is a ``PersistentClient``, reopened when another process
            wrote to its folder.
        retry_seconds: while Chroma is away, calls fail at once for this long before one
            tries again.
    """

    def __init__(
        self,
        client: Any = None,
        collection: str = "reportqa",
        *,
        connect: Callable[[], Any] | None = None,
        where: str = "Chroma",
        embedded: bool = False,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        if client is None and connect is None:
            raise ValueError("VectorIndex needs a client or a way to connect")
        self.name = collection
        self.where = where
        self.embedded = embedded
        self.retry_seconds = retry_seconds
        self._connect = connect
        self._client = client
        self._col = None
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()  # the vector cache
        self._gate = threading.Condition()  # the client: calls in flight, reopening
        self._active = 0
        self._reopening = False
        self._down: str | None = None
        self._retry_at = 0.0
        self._fallbacks = 0
        if client is not None:
            self._col = self._open_collection(client)

    # -- connection ------------------------------------------------------------------
    def _open_collection(self, client):
        return client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"})

    @property
    def collection(self):
        with self._use() as col:
            return col

    @contextmanager
    def _use(self) -> Iterator[Any]:
        """The collection for one call: connects if needed, fails fast while Chroma is away."""
        with self._gate:
            while self._reopening:
                self._gate.wait()
            if self._col is None or self._down is not None:
                if self._down is not None and time.monotonic() < self._retry_at:
                    raise VectorsUnavailable(f"Chroma at {self.where} is unavailable: "
                                             f"{self._down}")
                try:
                    if self._client is None:
                        assert self._connect is not None
                        self._client = self._connect()
                    if self._col is None:
                        self._col = self._open_collection(self._client)
                except Exception as exc:  # noqa: BLE001 — any failure to connect is "away"
                    raise self._went_down(exc) from exc
            self._active += 1
            col = self._col
        try:
            yield col
        finally:
            with self._gate:
                self._active -= 1
                self._gate.notify_all()

    def _went_down(self, exc: BaseException) -> VectorsUnavailable:
        reason = f"{type(exc).__name__}: {exc}".strip()
        if self._down is None:
            log.warning("Chroma at %s is unavailable, answering by words only: %s",
                        self.where, reason)
        self._down = reason[:300]
        self._retry_at = time.monotonic() + self.retry_seconds
        return VectorsUnavailable(f"Chroma at {self.where} is unavailable: {self._down}")

    def _call(self, op: Callable[[Any], T]) -> T:
        """Run ``op(collection)``; a stale embedded client is reopened and tried once more."""
        for attempt in (1, 2):
            with self._use() as col:
                try:
                    result = op(col)
                except Exception as exc:  # noqa: BLE001 — classified below
                    failure = exc
                else:
                    if self._down is not None:
                        with self._gate:
                            log.info("Chroma at %s is back", self.where)
                            self._down = None
                    return result
            if attempt == 1 and self.embedded and self._connect is not None:
                log.info("reopening embedded Chroma after %s: %s",
                         type(failure).__name__, failure)
                self.reopen()
                continue
            break
        with self._gate:
            raise self._went_down(failure) from failure

    def reopen(self) -> None:
        """Drop the client (after the calls in flight) so the next call opens a fresh one.

        An embedded client keeps its index in memory; another process that writes to the
        same folder leaves it answering from a stale copy.
        """
        if self._connect is None:
            return
        with self._gate:
            while self._reopening:
                self._gate.wait()
            self._reopening = True
            while self._active:
                self._gate.wait()
            client, self._client, self._col = self._client, None, None
        try:
            if client is not None and hasattr(client, "close"):
                client.close()
        except Exception:  # noqa: BLE001 — a client that fails to close is dropped anyway
            log.debug("closing the Chroma client failed", exc_info=True)
        finally:
            with self._gate:
                self._reopening = False
                self._gate.notify_all()

    def unavailable(self) -> str | None:
        """Why Chroma cannot be used now, or None; connects, or tries again when a retry is
        due."""
        if self._col is None or (self._down is not None and time.monotonic() >= self._retry_at):
            try:
                self.count()
            except StoreError:
                pass
        return self._down

    @property
    def fallbacks(self) -> int:
        """Reads answered without Chroma since the index was made."""
        return self._fallbacks

    def _fell_back(self, exc: VectorsUnavailable) -> None:
        with self._lock:
            self._fallbacks += 1
        log.debug("dense search skipped: %s", exc)

    # -- writes ----------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        """Vectors and the metadata filters need. No text: the catalog holds it, and a copy
        in Chroma (which indexes it for full-text search) made writes ~3x slower."""
        clean = [{k: v for k, v in m.items() if v is not None} for m in metadatas]
        embeddings = vectors.tolist()
        self._call(lambda col: col.upsert(ids=ids, embeddings=embeddings, metadatas=clean))

    def delete_doc(self, doc_id: str) -> None:
        self._call(lambda col: col.delete(where={"doc_id": doc_id}))
        with self._lock:
            for key in [k for k in self._cache if k.startswith(doc_id + ":")]:
                del self._cache[key]

    # -- reads -----------------------------------------------------------------------
    def count(self) -> int:
        return self._call(lambda col: col.count())

    def doc_ids(self) -> set[str]:
        got = self._call(lambda col: col.get(include=["metadatas"]))
        return {m["doc_id"] for m in got["metadatas"] or []}

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (those not in Chroma, or all while it is away, are
        absent)."""
        with self._lock:
            missing = [i for i in ids if i not in self._cache]
        try:
            for start in range(0, len(missing), 2000):
                part = missing[start : start + 2000]
                got = self._call(partial(_get_embeddings, ids=part))
                with self._lock:
                    for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                        self._cache[cid] = np.asarray(vec, dtype=np.float32)
        except VectorsUnavailable as exc:
            self._fell_back(exc)
            return {}
        with self._lock:
            return {i: self._cache[i] for i in ids if i in self._cache}

    def search(
        self, query: np.ndarray, candidates: Sequence[str] | None, where: dict | None, k: int
    ) -> list[tuple[str, float]]:
        """Top-k chunk ids by cosine similarity, restricted to candidates / where; empty
        while Chroma is away."""
        if candidates is not None and len(candidates) <= EXACT_LIMIT:
            vecs = self.vectors(candidates)
            if not vecs:
                return []
            ids = list(vecs)
            mat = np.stack([vecs[i] for i in ids])
            scores = mat @ query.astype(np.float32)
            order = np.argsort(-scores)[:k]
            return [(ids[i], float(scores[i])) for i in order]

        def query_top(col):
            n = col.count()
            if n == 0:
                return None
            return col.query(  # ids and distances only: texts and metadata are not needed
                query_embeddings=[query.tolist()], n_results=min(k, n), where=where or None,
                include=["distances"],
            )

        try:
            res = self._call(query_top)
        except VectorsUnavailable as exc:
            self._fell_back(exc)
            return []
        if res is None:
            return []
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]


def _get_embeddings(col, ids: list[str]):
    return col.get(ids=ids, include=["embeddings"])
