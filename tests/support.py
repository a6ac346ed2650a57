"""Helpers shared by the test tree: the sample corpus, a cheap embedder, citation checks."""

from __future__ import annotations

import math
import zlib
from pathlib import Path

from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "examples" / "reports"


class BigramEmbeddings(Embeddings):
    """Character bigrams hashed into 64 dimensions: deterministic and instant.

    Stands in for the real embedder where a test is about something else; the real
    backends have tests of their own.
    """

    model_id = "test-bigram-64"

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


def assert_citations_verbatim(answer: dict, corpus: Path = REPORTS) -> None:
    """Every citation is its source file's text at its offsets."""
    for c in answer["citations"]:
        text = (corpus / c["source"]).read_bytes().decode("utf-8")
        assert text[c["start"] : c["end"]] == c["quote"], c
