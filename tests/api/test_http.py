"""The JSON API through the ASGI app: the contract, limits, and clean 4xx for bad requests."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from api_support import QUESTION
from fastapi.testclient import TestClient

from api.main import create_app
from rag.config import APISettings, Settings
from rag.errors import StoreError
from rag.models import Answer
from rag.retrieve.places import PlaceMatcher


def make_client(assistant, **api) -> TestClient:
    app = create_app(Settings(api=APISettings(**api)), assistant=assistant)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(assistant):
    with make_client(assistant) as c:
        assert c.app.state.runtime.wait_ready(30)
        yield c


def valid_citations(assistant, citations: list[dict]) -> bool:
    for c in citations:
        text = assistant.source_text(c["source"])
        if text is None or text[c["start"]:c["end"]] != c["quote"]:
            return False
    return True


def test_health_ready_docs_page(client):
    assert client.get("/healthz").json()["status"] == "up"
    assert client.get("/readyz").status_code == 200
    assert client.get("/docs").status_code == 200
    assert "/v1/ask" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "/v1/chat/completions" in page.text


def test_ask_returns_the_answer_contract(client, assistant):
    r = client.post("/v1/ask", json={"question": QUESTION})
    assert r.status_code == 200
    body = r.json()
    assert {"question", "answer", "found", "mode", "citations", "items"} <= body.keys()
    assert body["found"] and body["citations"] and "[1]" in body["answer"]
    assert valid_citations(assistant, body["citations"])
    assert "retrieved" not in body
    assert "retrieved" in client.post("/v1/ask", json={"question": QUESTION, "debug": True}).json()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {"json": {"question": 42}},
        {"json": {"question": ["a"]}},
        {"json": {}},
        {"json": {"question": "x", "debug": "maybe"}},
        {"json": {"question": "x", "surprise": 1}},
        {"json": {"question": "   "}},
        {"json": {"question": "长" * 2001}},
        {"json": ["question"]},
        {"content": b"", "headers": {"content-type": "application/json"}},
        {"content": b"question=x", "headers": {"content-type": "text/plain"}},
    ],
)
def test_bad_requests_get_clear_4xx(client, kwargs):
    r = client.post("/v1/ask", **kwargs)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]


def test_long_question_says_why(client):
    r = client.post("/v1/ask", json={"question": "长" * 2001})
    assert r.status_code == 422 and "limit is 2000" in r.json()["detail"]


def test_huge_bodies_are_refused(client):
    big = json.dumps({"question": "x" * (2 << 20)}).encode()
    r = client.post("/v1/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"x" * 65536

    r = client.post("/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_api_keys(assistant):
    with make_client(assistant, api_keys=["k1"]) as c:
        assert c.app.state.runtime.wait_ready(30)
        missing = c.post("/v1/ask", json={"question": QUESTION})
        assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "invalid" in wrong.json()["detail"]
        assert c.get("/v1/models", headers={"Authorization": "Bearer k1"}).status_code == 200
        for open_path in ("/healthz", "/readyz", "/"):
            assert c.get(open_path).status_code == 200


def test_rate_limit_per_client(assistant):
    with make_client(assistant, rate_per_minute=3, api_keys=["a", "b"]) as c:
        assert c.app.state.runtime.wait_ready(30)
        a = {"Authorization": "Bearer a"}
        codes = [c.get("/v1/models", headers=a).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/models", headers=a)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "rate limit" in r.json()["detail"]
        assert c.get("/v1/models", headers={"Authorization": "Bearer b"}).status_code == 200


def test_upload_limits(assistant):
    with make_client(assistant, max_upload_bytes=1000) as c:
        assert c.app.state.runtime.wait_ready(30)
        exe = c.post("/v1/documents", files={"file": ("tool.exe", b"MZ", "application/x-dosexec")})
        assert exe.status_code == 415 and ".txt" in exe.json()["detail"]
        big = c.post("/v1/documents", files={"file": ("big.txt", b"x" * 5000, "text/plain")})
        assert big.status_code == 413
        huge = c.post("/v1/documents", files={"file": ("huge.txt", b"x" * 200_000, "text/plain")})
        assert huge.status_code == 413
        empty = c.post("/v1/documents", files={"file": ("empty.txt", b"", "text/plain")})
        assert empty.status_code == 422
        assert c.post("/v1/documents", data={"x": "1"}).status_code == 422
        assert c.get("/v1/documents/jobs/nope").status_code == 404
        assert c.delete("/v1/documents/nope.txt").status_code == 404


def test_upload_ingests_in_background_then_delete(writable_assistant):
    source = writable_assistant.source_text("002_11fb4cd1e17529ea.txt")
    with make_client(writable_assistant) as c:
        assert c.app.state.runtime.wait_ready(30)
        body = io.BytesIO((source + "\n附：上传测试。\n").encode("utf-8"))
        r = c.post("/v1/documents", files={"file": ("../up_002.txt", body, "text/plain")})
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] in ("queued", "running", "done") and job["source"] == "up_002.txt"
        for _ in range(300):
            job = c.get(f"/v1/documents/jobs/{job['id']}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        assert job["summary"]["added"] == 1
        assert (writable_assistant.store.path / "uploads" / "up_002.txt").is_file()
        docs = {d["source"]: d for d in c.get("/v1/documents").json()}
        assert docs["up_002.txt"]["status"] == "complete" and len(docs) == 6
        r = c.delete(f"/v1/documents/{docs['up_002.txt']['doc_id']}")
        assert r.status_code == 200 and r.json()["deleted"] == "up_002.txt"
        assert c.delete("/v1/documents/up_002.txt").status_code == 404
        assert len(c.get("/v1/documents").json()) == 5


def test_failed_ingest_reports_the_reason(writable_assistant):
    with make_client(writable_assistant) as c:
        assert c.app.state.runtime.wait_ready(30)
        broken = ("broken.pdf", b"%PDF-1.4 garbage", "application/pdf")
        r = c.post("/v1/documents", files={"file": broken})
        job = c.app.state.runtime.jobs.wait(r.json()["id"], 60)
        assert job.status == "failed" and job.error


class FakeStore:
    def __init__(self, path, gate: threading.Event | None = None) -> None:
        self.path, self.gate = path, gate
        self.write_lock = threading.RLock()

    def snapshot(self):
        if self.gate is not None:
            self.gate.wait(10)


class FakeAssistant:
    """Stands in for rag.pipeline.Assistant where a real one cannot misbehave on demand."""

    def __init__(self, tmp_path, behave, gate=None) -> None:
        self.store = FakeStore(tmp_path, gate)
        self.behave = behave

    def ask(self, question: str, debug: bool = False) -> Answer:
        return self.behave(question)

    def places(self) -> PlaceMatcher:
        return PlaceMatcher([])

    def documents(self):
        raise RuntimeError("boom")

    def close(self) -> None:
        pass


def test_readyz_waits_for_the_index(tmp_path):
    gate = threading.Event()
    fake = FakeAssistant(tmp_path, lambda q: Answer(q, "a", False, "extractive"), gate)
    with make_client(fake) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        assert c.get("/healthz").status_code == 200
        assert c.post("/v1/ask", json={"question": "q"}).status_code == 503
        gate.set()
        assert c.app.state.runtime.wait_ready(10)
        assert c.get("/readyz").status_code == 200


def test_errors_map_to_status_codes(tmp_path):
    def slow(q):
        time.sleep(1.0)
        return Answer(q, "late", True, "extractive")

    def broken(q):
        raise StoreError("catalog is gone")

    with make_client(FakeAssistant(tmp_path, slow), answer_timeout=0.2) as c:
        assert c.app.state.runtime.wait_ready(10)
        r = c.post("/v1/ask", json={"question": "q"})
        assert r.status_code == 504 and "0.2" in r.json()["detail"]
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "q"}]})
        assert r.status_code == 504
    with make_client(FakeAssistant(tmp_path, broken)) as c:
        assert c.app.state.runtime.wait_ready(10)
        r = c.post("/v1/ask", json={"question": "q"})
        assert r.status_code == 503 and "reportqa ingest" in r.json()["detail"]
        r = c.get("/v1/documents")  # an unexpected error: JSON with a message, not a stack
        assert r.status_code == 500 and "RuntimeError" in r.json()["detail"]


def test_store_that_cannot_open_is_503(tmp_path):
    (tmp_path / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    app = create_app(Settings(), store_dir=tmp_path)
    with TestClient(app, raise_server_exceptions=False) as c:
        for _ in range(100):
            if app.state.runtime.error:
                break
            time.sleep(0.05)
        r = c.get("/readyz")
        assert r.status_code == 503 and "StoreError" in r.json()["detail"]
        r = c.post("/v1/ask", json={"question": "q"})
        assert r.status_code == 503 and "could not be opened" in r.json()["detail"]
