"""``reportqa eval`` end to end, with a stand-in for ``rag.pipeline`` that answers from the gold
evidence through the real ``rag.models.Answer``, and a real HTTP server on loopback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import REPORTS, ROOT, BigramEmbeddings

from rag.config import get_settings
from rag.evaluate.command import register
from rag.evaluate.dataset import Question, load_questions
from rag.models import Answer, Citation, Item

DEV = ROOT / "eval" / "dev.jsonl"
CORPUS = REPORTS
GATE = ROOT / "eval" / "thresholds.toml"
QUESTIONS = {q.question: q for q in load_questions(DEV)}


def gold_answer(q: Question, text_of, wrong: bool = False) -> Answer:
    if q.kind == "none":
        return Answer(q.question, "未找到。", False, "extractive", kind="none")
    cits = []
    for n, ev in enumerate(q.evidence[:1] if wrong else q.evidence, start=1):
        start = text_of(ev.doc).index(ev.quote)
        cits.append(
            Citation(
                n, ev.doc, ev.doc, "r", None, None, "review", ev.quote, start, start + len(ev.quote)
            )
        )
    items = [Item(c.source, [c.id]) for c in cits] if q.kind == "list" else []
    text = "；".join(f"{c.quote}[{c.id}]" for c in cits)
    return Answer(q.question, text, True, "extractive", cits, items, kind=q.kind)


class FakeAssistant:
    """What ``rag.pipeline.open_assistant`` returns, answering from the gold evidence."""

    def __init__(self, store_dir: Path | None, wrong: bool) -> None:
        self.store_dir, self.wrong = store_dir, wrong
        self.ingested: list[Path] = []
        self.embeddings = BigramEmbeddings()

    def ingest(self, paths, manifest=None):
        self.ingested.extend(paths)
        return {"files": len(paths)}

    def source_text(self, source: str) -> str | None:
        path = next((p for p in self.ingested if p.name == source), None)
        return path.read_bytes().decode("utf-8") if path else None

    def ask(self, question: str, debug: bool = True) -> Answer:
        return gold_answer(QUESTIONS[question], self.source_text, self.wrong and "学位" in question)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("REPORTQA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def pipeline(monkeypatch):
    """Install a stand-in ``rag.pipeline``; returns the list of assistants it opened."""
    opened: list[FakeAssistant] = []
    state = {"wrong": False}

    def open_assistant(settings, store_dir=None):
        opened.append(FakeAssistant(store_dir, state["wrong"]))
        return opened[-1]

    module = types.ModuleType("rag.pipeline")
    module.open_assistant = open_assistant  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rag.pipeline", module)
    return types.SimpleNamespace(opened=opened, state=state)


def main(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="reportqa")
    register(parser.add_subparsers())
    args = parser.parse_args(["eval", *map(str, argv)])
    return args.func(args)


def test_in_process_run_ingests_reports_and_passes_the_gate(pipeline, tmp_path, capsys):
    code = main("--dataset", DEV, "--corpus", CORPUS, "--store", tmp_path / "s", "--gate", GATE)
    out, err = capsys.readouterr()
    assert code == 0, err
    (assistant,) = pipeline.opened
    assert assistant.store_dir == tmp_path / "s"
    assert sorted(p.name for p in assistant.ingested) == sorted(p.name for p in CORPUS.iterdir())
    assert "| list F1 | 1.000 |" in out and "gate passed for dev" in err
    report = tmp_path / ".reportqa" / "eval" / "dev"
    assert (report / "report.md").is_file()
    rows = json.loads((report / "results.json").read_text(encoding="utf-8"))["project"]["rows"]
    assert rows[0]["answer"]["retrieved"] == [] and rows[0]["latency"] >= 0


def test_gate_failure_exits_1_and_names_the_metric(pipeline, capsys):
    pipeline.state["wrong"] = True  # the list question about 学位 loses a report
    code = main("--dataset", DEV, "--corpus", CORPUS, "--gate", GATE, "--name", "dev")
    assert code == 1
    err = capsys.readouterr().err
    assert "gate failed for dev" in err and "list_recall = 0.833, below the threshold 0.9" in err


def test_slice_limits_the_corpus(pipeline, tmp_path, capsys):
    sl = tmp_path / "slice.txt"
    sl.write_text("# two reports\n002_11fb4cd1e17529ea.txt\n\n004_c2261995aa5722eb.txt\n")
    assert main("--dataset", DEV, "--corpus", CORPUS, "--slice", sl, "--out", tmp_path / "o") == 0
    assert [p.name for p in pipeline.opened[0].ingested] == [
        "002_11fb4cd1e17529ea.txt",
        "004_c2261995aa5722eb.txt",
    ]
    sl.write_text("nope.txt\n")
    assert main("--dataset", DEV, "--corpus", CORPUS, "--slice", sl) == 2
    assert "nope.txt" in capsys.readouterr().err


def test_bad_dataset_and_if_present(pipeline, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main("--dataset", bad) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert main("--dataset", tmp_path / "absent.jsonl", "--if-present") == 0
    assert pipeline.opened == []


def test_against_a_server_over_loopback(pipeline, tmp_path, capsys):
    seen: list[dict] = []

    def text_of(source: str) -> str:
        return (CORPUS / source).read_bytes().decode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, **body})
            if "新增就业" in body["question"]:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"boom")
                return
            data = gold_answer(QUESTIONS[body["question"]], text_of).to_dict(debug=True)
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code = main("--dataset", DEV, "--corpus", CORPUS, "--url", url, "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 0
    assert pipeline.opened == []  # nothing opened in process
    assert len(seen) == 12
    assert seen[0] == {"path": "/v1/ask", "question": "2022年哪些区新增了学位？", "debug": True}
    doc = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in doc["project"]["rows"]}
    assert "HTTP 500" in rows["d02"]["error"]
    assert doc["project"]["summary"]["failed"] == 1
    assert doc["project"]["summary"]["citation_validity"] < 1.0  # the failed row counts as 0
    assert rows["d01"]["scores"]["citation_validity"] == 1.0  # texts read from --corpus


def test_baseline_side_by_side(pipeline, tmp_path, capsys):
    sl = tmp_path / "slice.txt"
    sl.write_text("002_11fb4cd1e17529ea.txt\n004_c2261995aa5722eb.txt\n")
    out_dir = tmp_path / "o"
    args = ("--dataset", DEV, "--corpus", CORPUS, "--slice", sl, "--baseline", "--out", out_dir)
    assert main(*args) == 0
    out = capsys.readouterr().out
    assert "| metric | reportqa | baseline |" in out
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    base_rows = doc["baseline"]["rows"]
    assert len(base_rows) == 12 and all(r["answer"]["mode"] == "baseline" for r in base_rows)
    # the baseline quotes raw chunks: always verbatim where its reports are ingested
    assert doc["baseline"]["summary"]["citation_validity"] == 1.0
    assert doc["baseline"]["summary"]["none_accuracy"] == 0.0  # it never says "not found"
    assert (out_dir / "baseline-store").is_dir()
