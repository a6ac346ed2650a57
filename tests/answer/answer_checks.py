"""Checks and a cheap embedder shared by the answer tests."""

from __future__ import annotations

import math
import re
import zlib
from pathlib import Path

from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "examples" / "reports"


class BigramEmbeddings(Embeddings):
    """Character bigrams hashed into 64 dimensions: fast, deterministic, good enough."""

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


def assert_verbatim(answer: dict) -> None:
    """Every citation is its file's text at its offsets."""
    for c in answer["citations"]:
        text = (REPORTS / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"], c


def assert_honest(answer: dict) -> None:
    """Every figure of the answer text is in a quote it cites (or is a shown year or name)."""
    from rag.answer.validate import numbers_in

    text = answer["answer"]
    allowed: set[str] = set()
    for c in answer["citations"]:
        text = text.replace(c["region"], " ").replace(c["source"], " ")
        allowed |= set(numbers_in(c["quote"])) | set(numbers_in(c["quote"], grouped=False))
        allowed |= {str(y) for y in (c["report_year"], c["covered_year"]) if y is not None}
    allowed |= {n.rstrip("%") for n in allowed}
    body = "\n".join(
        re.sub(r"^\s*(?:[-*]\s*)?\d{1,2}[.、)）](?!\d)", "", line) for line in text.splitlines()
    )
    unsupported = [n for n in numbers_in(body) if n not in allowed]
    assert not unsupported, f"numbers not in any cited quote: {unsupported}\n{answer['answer']}"
