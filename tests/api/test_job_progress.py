"""An upload's job status carries the ingestion's progress while it runs, and when done."""

from __future__ import annotations

import io
import threading
import time

from fastapi.testclient import TestClient
from support import BigramEmbeddings

from api.main import create_app
from rag.config import Settings


class GatedEmbeddings(BigramEmbeddings):
    """Waits for ``gate`` before embedding, so a test can look at a job mid-way."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def embed_documents(self, texts):
        assert self.gate.wait(60)
        return super().embed_documents(texts)


def test_job_status_shows_progress(writable_assistant):
    embeddings = GatedEmbeddings()
    writable_assistant.embeddings = embeddings
    source = writable_assistant.source_text("002_11fb4cd1e17529ea.txt")
    app = create_app(Settings(), assistant=writable_assistant)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.app.state.runtime.wait_ready(30)
        body = io.BytesIO((source + "\n附：进度测试。\n").encode("utf-8"))
        job = c.post("/v1/documents", files={"file": ("p_002.txt", body, "text/plain")}).json()
        url = f"/v1/documents/jobs/{job['id']}"
        for _ in range(300):
            job = c.get(url).json()
            if "embed" in (job["progress"] or {}):
                break
            time.sleep(0.05)
        parse, embed = job["progress"]["parse"], job["progress"]["embed"]
        assert job["status"] == "running"
        assert parse["finished"] and (parse["done"], parse["total"]) == (1, 1)
        assert parse["chunks"] == embed["total"] > 0
        assert embed["done"] == 0 and not embed["finished"]
        assert embed["line"].startswith("embed: 0/")
        embeddings.gate.set()
        for _ in range(300):
            job = c.get(url).json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
        assert job["status"] == "done", job
        embed = job["progress"]["embed"]
        assert embed["finished"] and embed["done"] == embed["total"] == parse["chunks"]
        assert embed["rate"] > 0 and "index" in job["progress"]
