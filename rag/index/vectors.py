"""Chroma: the vectors of every embedded chunk, with the metadata filters need.

Embedded ``PersistentClient`` by default; ``HttpClient`` to a ``chroma run`` server when a
host is configured (several processes must share one server: embedded Chroma is not
process-safe).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import StoreError

# Above this many candidate chunks, search through Chroma's HNSW index with a `where`
# filter; below it, score the candidates' stored vectors exactly (cheap, and exact where
# filtered HNSW loses recall).
EXACT_LIMIT = 20_000


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
    def __init__(self, client, collection: str) -> None:
        self._client = client
        self._col = client.get_or_create_collection(
            collection, metadata={"hnsw:space": "cosine"}
        )
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def collection(self):
        return self._col

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        """Vectors and the metadata filters need. No text: the catalog holds it, and a copy
        in Chroma (which indexes it for full-text search) made writes ~3x slower."""
        clean = [{k: v for k, v in m.items() if v is not None} for m in metadatas]
        self._col.upsert(ids=ids, embeddings=vectors.tolist(), metadatas=clean)

    def delete_doc(self, doc_id: str) -> None:
        self._col.delete(where={"doc_id": doc_id})
        with self._lock:
            for key in [k for k in self._cache if k.startswith(doc_id + ":")]:
                del self._cache[key]

    def count(self) -> int:
        return self._col.count()

    def doc_ids(self) -> set[str]:
        got = self._col.get(include=["metadatas"])
        return {m["doc_id"] for m in got["metadatas"] or []}

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (those not in Chroma are absent)."""
        with self._lock:
            missing = [i for i in ids if i not in self._cache]
        for start in range(0, len(missing), 2000):
            part = missing[start : start + 2000]
            got = self._col.get(ids=part, include=["embeddings"])
            with self._lock:
                for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                    self._cache[cid] = np.asarray(vec, dtype=np.float32)
        with self._lock:
            return {i: self._cache[i] for i in ids if i in self._cache}

    def search(
        self, query: np.ndarray, candidates: Sequence[str] | None, where: dict | None, k: int
    ) -> list[tuple[str, float]]:
        """Top-k chunk ids by cosine similarity, restricted to candidates / where."""
        if candidates is not None and len(candidates) <= EXACT_LIMIT:
            vecs = self.vectors(candidates)
            if not vecs:
                return []
            ids = list(vecs)
            mat = np.stack([vecs[i] for i in ids])
            scores = mat @ query.astype(np.float32)
            order = np.argsort(-scores)[:k]
            return [(ids[i], float(scores[i])) for i in order]
        n = self._col.count()
        if n == 0:
            return []
        res = self._col.query(  # ids and distances only: texts and metadata are not needed
            query_embeddings=[query.tolist()], n_results=min(k, n), where=where or None,
            include=["distances"],
        )
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
