"""The store against a real `chroma run` server on loopback instead of embedded Chroma."""

from __future__ import annotations

import shutil

import pytest
from support import REPORTS, BigramEmbeddings, ChromaServer

from rag.config import get_settings
from rag.pipeline import open_assistant


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "server", tmp_path / "chroma.log").start()
    yield server.port
    server.kill()


def test_ingest_and_ask_through_a_chroma_server(tmp_path, chroma_server, monkeypatch):
    import chromadb

    monkeypatch.setenv("REPORTQA_STORE__CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTQA_STORE__CHROMA_PORT", str(chroma_server))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("001_0308ac578581e688.txt", "004_c2261995aa5722eb.txt"):
        shutil.copy(REPORTS / name, corpus / name)

    a = open_assistant(get_settings(), tmp_path / "store", embeddings=BigramEmbeddings())
    report = a.ingest([corpus])
    assert len(report.added) == 2 and report.chunks_embedded == report.chunks_added > 0
    assert not (tmp_path / "store" / "chroma").exists()  # nothing embedded on disk

    answer = a.ask("德州市陵城区2022年事故起数和死亡人数有什么变化？")
    assert answer.found and answer.citations[0].source == "001_0308ac578581e688.txt"

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    collection = client.get_collection(get_settings().store.collection)
    assert collection.count() == report.chunks_added == a.store.catalog.stats()["chunks"]

    a.delete("004_c2261995aa5722eb.txt")
    assert collection.count() == a.store.catalog.stats()["chunks"] < report.chunks_added
    a.close()
