"""The store against a real `chroma run` server on loopback instead of embedded Chroma."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.config import get_settings
from rag.pipeline import open_assistant

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "reports"
CHROMA = shutil.which("chroma")


class BigramEmbeddings(Embeddings):
    """Character bigrams hashed into 64 dimensions: fast, deterministic."""

    model_id = "bigram-test"

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(64, dtype=np.float32)
        for a, b in zip(text, text[1:], strict=False):
            v[zlib.crc32((a + b).encode()) % 64] += 1.0
        return (v / max(float(np.linalg.norm(v)), 1e-9)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    if CHROMA is None:
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    log = open(tmp_path / "chroma.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "chroma.log").read_text(errors="replace")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chroma run did not answer its heartbeat"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_ingest_and_ask_through_a_chroma_server(tmp_path, chroma_server, monkeypatch):
    import chromadb

    monkeypatch.setenv("REPORTQA_STORE__CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTQA_STORE__CHROMA_PORT", str(chroma_server))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("001_0308ac578581e688.txt", "004_c2261995aa5722eb.txt"):
        shutil.copy(EXAMPLES / name, corpus / name)

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
