"""The tutorial baseline over real Chroma and two sample reports, with a tiny offline embedder."""

from __future__ import annotations

from support import REPORTS, BigramEmbeddings

from rag.evaluate.baseline import NaiveRAG
from rag.evaluate.scoring import citation_problem

FILES = [REPORTS / "002_11fb4cd1e17529ea.txt", REPORTS / "004_c2261995aa5722eb.txt"]


def texts(source: str) -> str | None:
    path = REPORTS / source
    return path.read_bytes().decode("utf-8") if path.is_file() else None


def test_baseline_answers_in_the_contract_with_verbatim_chunks(tmp_path):
    rag = NaiveRAG(BigramEmbeddings(), tmp_path / "store")
    added = rag.ingest(FILES)
    assert added > 10
    assert rag.ingest(FILES) == 0  # already indexed: nothing embedded again

    out = rag.ask("和平区新增学位多少个？")
    assert out["found"] is True and out["mode"] == "baseline" and out["items"] == []
    assert out["question"] == "和平区新增学位多少个？"
    assert len(out["citations"]) == 4
    assert [r["rank"] for r in out["retrieved"]] == [1, 2, 3, 4]
    for n, c in enumerate(out["citations"], start=1):
        assert c["id"] == n and f"[{n}]" in out["answer"]
        assert c["source"] in {f.name for f in FILES}
        assert c["region"] is None and c["report_year"] is None
        assert citation_problem(c, texts) is None, c
        assert c["end"] - c["start"] <= 500

    # a fresh instance over the same folder finds the persisted chunks
    again = NaiveRAG(BigramEmbeddings(), tmp_path / "store").ask("和平区新增学位多少个？")
    assert again["citations"] == out["citations"]
