"""The tutorial baseline over real Chroma and two sample reports, with a tiny offline embedder."""

from __future__ import annotations

import math
import zlib
from pathlib import Path

from langchain_core.embeddings import Embeddings

from rag.evaluate.baseline import NaiveRAG
from rag.evaluate.scoring import citation_problem

REPORTS = Path(__file__).resolve().parents[2] / "examples" / "reports"
FILES = [REPORTS / "002_11fb4cd1e17529ea.txt", REPORTS / "004_c2261995aa5722eb.txt"]


class BigramEmbeddings(Embeddings):
    """Character bigrams hashed into 64 dimensions: deterministic, instant, good enough to
    find a chunk that shares words with the question."""

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * 64
        for a, b in zip(text, text[1:], strict=False):
            v[zlib.crc32((a + b).encode()) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


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
