"""Answers and an upload at the same time, over real HTTP: no error, no corrupted store."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from api_support import serve
from support import REPORTS, ROOT

from api.main import create_app
from rag.config import APISettings, Settings

DEV = ROOT / "eval" / "dev.jsonl"
QUESTIONS = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines()
             if line.strip()]


def test_questions_while_ingesting(writable_assistant):
    before = {d.source: d.doc_id for d in writable_assistant.documents()}
    big = (REPORTS / "003_6c455b50551dc8b5.txt").read_text(encoding="utf-8")
    upload = big + "\n（上传副本）\n"
    settings = Settings(api=APISettings(rate_per_minute=10_000))
    app = create_app(settings, assistant=writable_assistant)
    with serve(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        r = http.post("/v1/documents",
                      files={"file": ("upload_003.txt", upload.encode(), "text/plain")})
        assert r.status_code == 202
        job_id = r.json()["id"]

        def ask(q: str) -> tuple[int, dict]:
            with httpx.Client(base_url=base, timeout=60) as c:
                resp = c.post("/v1/ask", json={"question": q})
                return resp.status_code, resp.json()

        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(16)]
        asked = time.time()
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(ask, questions))
        answered = time.time()
        statuses = []
        for _ in range(600):
            job = http.get(f"/v1/documents/jobs/{job_id}").json()
            statuses.append(job["status"])
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        # The ingestion really ran while the questions were being answered.
        assert job["started"] < answered and job["finished"] > asked, (job, asked, answered)
        docs = {d["source"]: d for d in http.get("/v1/documents").json()}

    for code, body in results:
        assert code == 200, body
        for c in body["citations"]:
            text = writable_assistant.source_text(c["source"])
            assert text is not None and text[c["start"]:c["end"]] == c["quote"], c
    assert sum(1 for _, b in results if b["found"]) >= 8
    assert docs["upload_003.txt"]["status"] == "complete"
    for source, doc_id in before.items():
        assert docs[source]["doc_id"] == doc_id and docs[source]["status"] == "complete"
    assert writable_assistant.source_text("upload_003.txt") == upload
