"""Runs over the dev set with an oracle ``ask``; a failing question; the gate; the reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluate.dataset import Question, load_questions
from rag.evaluate.report import render_markdown, write_reports
from rag.evaluate.runner import check_gate, load_thresholds, percentile, run_eval

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "eval" / "dev.jsonl"
THRESHOLDS = ROOT / "eval" / "thresholds.toml"
REPORTS = ROOT / "examples" / "reports"


def texts(source: str) -> str | None:
    path = REPORTS / source
    return path.read_bytes().decode("utf-8") if path.is_file() else None


def oracle_answer(q: Question) -> dict:
    """The answer a perfect system gives: the gold quotes, cited at their offsets."""
    if q.kind == "none":
        return {"question": q.question, "answer": "未找到。", "found": False, "citations": []}
    citations, retrieved = [], []
    for n, ev in enumerate(q.evidence, start=1):
        start = texts(ev.doc).index(ev.quote)  # type: ignore[union-attr]
        end = start + len(ev.quote)
        citations.append({"id": n, "source": ev.doc, "quote": ev.quote, "start": start, "end": end})
        retrieved.append({"source": ev.doc, "start": start - 20, "end": end + 20, "rank": n})
    items = [{"entity": c["source"], "citations": [c["id"]]} for c in citations]
    text = "；".join(f"{c['quote']}[{c['id']}]" for c in citations)
    return {
        "question": q.question,
        "answer": text,
        "found": True,
        "mode": "extractive",
        "citations": citations,
        "items": items if q.kind == "list" else [],
        "retrieved": retrieved,
    }


@pytest.fixture
def oracle():
    by_text = {q.question: q for q in load_questions(DEV)}
    return lambda question: oracle_answer(by_text[question])


def test_oracle_scores_one_and_passes_the_dev_gate(oracle):
    result = run_eval(DEV, oracle, texts, "dev")
    s = result.summary
    for key in ("list_f1", "compare_f1", "fact_score", "fact_cited_rate", "none_accuracy"):
        assert s[key] == 1.0, key
    assert s["citation_validity"] == s["number_grounding"] == s["mrr"] == 1.0
    assert s["questions"] == 12 and s["failed"] == 0
    assert result.by_kind["list"]["questions"] == 3
    assert check_gate(result, load_thresholds(THRESHOLDS), "dev") == []


def test_a_raising_question_is_a_failed_row_and_fails_the_gate(oracle):
    def ask(question: str) -> dict:
        if "新增就业" in question:
            raise RuntimeError("model timed out")
        return oracle(question)

    result = run_eval(DEV, ask, texts, "dev")
    assert len(result.rows) == 12
    failed = [r for r in result.rows if r.error]
    assert [r.id for r in failed] == ["d02"]
    row = failed[0]
    assert "model timed out" in row.error and row.score == 0.0 and row.answer is None
    assert row.scores["fact_score"] == 0.0 and row.scores["citation_validity"] == 0.0
    assert result.summary["fact_score"] == pytest.approx(6 / 7)

    failures = check_gate(result, THRESHOLDS, "dev")
    assert any(f.startswith("citation_validity") for f in failures)
    assert any(f.startswith("failed = 1") for f in failures)


def test_gate_bounds_missing_metrics_and_unknown_names(oracle):
    qs = [q for q in load_questions(DEV) if q.kind == "fact"]
    result = run_eval(DEV, oracle, texts, "facts", questions=qs)
    assert result.summary["list_recall"] is None
    # no list questions: the list floor is skipped, not failed
    assert check_gate(result, {"facts": {"list_recall": 0.9, "fact_score": 1.0}}, "facts") == []
    assert check_gate(result, {"facts": {"latency_p95": 0.0}}, "facts")[0].startswith("latency_p95")
    assert "unknown metric" in check_gate(result, {"facts": {"fact_scor": 1}}, "facts")[0]
    assert check_gate(result, {"default": {"fact_score": 1.0}}, "facts") == []
    assert check_gate(result, {"dev": {}}, "facts") == [
        "no [facts] or [default] table in the thresholds"
    ]


def test_reports_side_by_side(oracle, tmp_path):
    result = run_eval(DEV, oracle, texts, "dev")

    def weak(question: str) -> dict:
        return {"question": question, "answer": "", "found": False, "citations": []}

    base = run_eval(DEV, weak, texts, "dev (baseline)")
    md = render_markdown(result, base)
    assert "| metric | reportqa | baseline |" in md
    assert "| none accuracy | 1.000 | 1.000 |" in md and "| list F1 | 1.000 | 0.000 |" in md
    assert "| d01 | list | 1.00 | 0.00 |  |" in md
    assert "| d01 | list | 0.00 | found is false for an answerable question; missing reports:" in (
        render_markdown(base)
    )
    md_path, json_path = write_reports(tmp_path / "out", result, base)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["project"]["rows"][0]["answer"]["citations"][0]["quote"] == "新增学位6300个"
    assert doc["baseline"]["summary"]["list_f1"] == 0.0
    assert md_path.read_text(encoding="utf-8") == md


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)
