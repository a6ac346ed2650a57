"""The API over loopback HTTP while a part of the store is away or changed behind its back:
a Chroma server killed and started again, an API started before its Chroma server, and a
second process ingesting into the embedded store the API serves."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_support import serve
from support import REPORTS, ROOT, BigramEmbeddings, ChromaServer, EmbeddingServer

from api.main import create_app
from rag.config import EmbedSettings, Settings, StoreSettings
from rag.pipeline import open_assistant

FIRST = ("000_a8555e4fddf26ffc.txt", "001_0308ac578581e688.txt", "002_11fb4cd1e17529ea.txt")
# Questions about the other two reports, with the report that answers each.
LATER = {
    "迎泽区2017年旅游总收入是多少？": "003_6c455b50551dc8b5.txt",
    "2022年举办“2+N”线上线下招聘活动215场的是哪个区？": "004_c2261995aa5722eb.txt",
    "2022年哪些区新增了学位？": "004_c2261995aa5722eb.txt",
}
DEGRADED_NOTE = "dense search unavailable"


def split_corpus(tmp_path: Path) -> tuple[Path, Path]:
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    for p in REPORTS.glob("*.txt"):
        shutil.copy(p, (first if p.name in FIRST else later) / p.name)
    return first, later


def ask(base: str, question: str) -> dict:
    r = httpx.post(base + "/v1/ask", json={"question": question}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(check, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_reports_ingested_by_another_process_are_answered(tmp_path):
    """Embedded Chroma: `reportqa ingest` in a second process writes to the folder the API
    reads; the API picks the new reports and their vectors up without a restart."""
    first, later = split_corpus(tmp_path)
    store = tmp_path / "store"
    assistant = open_assistant(Settings(), store, embeddings=BigramEmbeddings())
    assistant.ingest([first])
    with serve(create_app(Settings(), assistant=assistant)) as base, EmbeddingServer() as emb:
        assert not ask(base, "和平区2022年新增就业多少人？")["notes"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
        env.update(emb.env())
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(later), "--store",
                        str(store)], env=env, cwd=ROOT, check=True, capture_output=True)
        for question, source in LATER.items():
            answer = ask(base, question)
            assert answer["found"], answer
            assert source in {c["source"] for c in answer["citations"]}, answer
            assert not any(DEGRADED_NOTE in n for n in answer["notes"]), answer["notes"]
        assert httpx.get(base + "/readyz").json()["status"] == "ready"
    assistant.close()


def chroma_settings(server: ChromaServer, **embed) -> Settings:
    return Settings(store=StoreSettings(chroma_host="127.0.0.1", chroma_port=server.port),
                    embed=EmbedSettings(**embed))


@pytest.mark.slow
def test_a_chroma_server_killed_and_restarted(tmp_path):
    server = ChromaServer(tmp_path / "chroma", tmp_path / "chroma.log").start()
    try:
        settings = chroma_settings(server)
        assistant = open_assistant(settings, tmp_path / "store", embeddings=BigramEmbeddings())
        assistant.ingest([REPORTS])
        with serve(create_app(settings, assistant=assistant)) as base:
            healthy = ask(base, "和平区2022年新增就业多少人？")
            assert healthy["found"] and not healthy["notes"]

            server.kill()
            # A report whose vectors this process never read: words alone find it, and say so.
            question = "迎泽区2017年旅游总收入是多少？"
            down = ask(base, question)
            assert down["found"] and down["citations"][0]["source"] == LATER[question]
            assert any(DEGRADED_NOTE in n for n in down["notes"]), down["notes"]
            ready = httpx.get(base + "/readyz")
            assert ready.status_code == 200 and "vectors" in ready.json()["degraded"]
            r = httpx.delete(base + "/v1/documents/002_11fb4cd1e17529ea.txt")
            assert r.status_code == 503 and "Chroma" in r.json()["detail"]

            server.start()
            wait_for(lambda: not ask(base, question)["notes"], what="Chroma to be used again")
            assert httpx.get(base + "/readyz").json()["status"] == "ready"
        assistant.close()
    finally:
        server.kill()


@pytest.mark.slow
def test_an_api_started_before_its_chroma_server_recovers(tmp_path):
    server = ChromaServer(tmp_path / "chroma", tmp_path / "chroma.log").start()
    with EmbeddingServer() as emb:
        settings = chroma_settings(server, backend="openai", base_url=emb.url, model="bigram")
        try:
            assistant = open_assistant(settings, tmp_path / "store")
            assistant.ingest([REPORTS])
            assistant.close()
            server.kill()

            with serve(create_app(settings, store_dir=tmp_path / "store")) as base:
                ready = httpx.get(base + "/readyz").json()
                assert ready["status"] == "degraded" and "vectors" in ready["degraded"], ready
                answer = ask(base, "迎泽区2017年旅游总收入是多少？")
                assert answer["found"] and any(DEGRADED_NOTE in n for n in answer["notes"])

                server.start()
                wait_for(lambda: httpx.get(base + "/readyz").json()["status"] == "ready",
                         what="/readyz to see Chroma back")
                answer = ask(base, "迎泽区2017年旅游总收入是多少？")
                assert answer["found"] and not answer["notes"], answer
        finally:
            server.kill()


@pytest.mark.parametrize("content", [b"\x80\x05garbage" * 100,
                                     pickle.dumps(("not an index", "nor its rows"))],
                         ids=["garbage", "wrong object"])
def test_a_corrupted_saved_lexical_index_is_rebuilt_not_503(sample_store, tmp_path, content):
    """Garbage, or a pickled object of the wrong kind, under the index's name."""
    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    (saved,) = (store / "cache").glob("lexical-*.pkl")
    saved.write_bytes(content)
    with EmbeddingServer() as emb:
        settings = Settings(embed=EmbedSettings(backend="openai", base_url=emb.url,
                                                model="bigram"))
        with serve(create_app(settings, store_dir=store)) as base:
            assert httpx.get(base + "/readyz").json()["status"] == "ready"
            answer = ask(base, "和平区2022年新增就业多少人？")
            assert answer["found"] and answer["citations"][0]["source"] == FIRST[2]


def test_an_llm_endpoint_that_does_not_answer_is_named_and_picked_up_again(assistant):
    """No route to the LLM endpoint: /readyz names it while the API answers (the extractive
    fallback itself: tests/answer/test_llm_server.py); then the endpoint appears."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from support import free_port

    from rag.config import LLMSettings

    port = free_port()
    settings = Settings(llm=LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", timeout=5))
    with serve(create_app(settings, assistant=assistant)) as base:
        ready = httpx.get(base + "/readyz").json()
        assert ready["status"] == "degraded" and "llm" in ready["degraded"], ready
        assert ask(base, "和平区2022年新增就业多少人？")["found"]

        class Models(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = json.dumps({"object": "list", "data": [{"id": "m"}]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        llm = ThreadingHTTPServer(("127.0.0.1", port), Models)
        threading.Thread(target=llm.serve_forever, daemon=True).start()
        try:
            wait_for(lambda: httpx.get(base + "/readyz").json()["status"] == "ready",
                     what="/readyz to see the LLM endpoint")
        finally:
            llm.shutdown()
            llm.server_close()
