"""A store of the sample reports, built once, and a cheap deterministic embedder."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
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


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, tiktoken_cache_dir: Path) -> Path:
    """A store folder holding the five sample reports (ingested once per session)."""
    from rag.config import Settings
    from rag.pipeline import open_assistant

    store_dir = tmp_path_factory.mktemp("answer-store") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir))
        assistant = open_assistant(Settings(), store_dir, embeddings=BigramEmbeddings())
        try:
            report = assistant.ingest([REPORTS])
        finally:
            assistant.close()
    assert report is not None
    return store_dir


@pytest.fixture
def open_store(sample_store: Path) -> Iterator:
    """``open_store(llm)`` opens an Assistant on the sample store with that chat model."""
    from rag.config import Settings
    from rag.pipeline import open_assistant

    opened = []

    def _open(llm):
        assistant = open_assistant(Settings(), sample_store, embeddings=BigramEmbeddings(), llm=llm)
        opened.append(assistant)
        return assistant

    yield _open
    for assistant in opened:
        assistant.close()


def assert_verbatim(answer: dict) -> None:
    """Every citation is its file's text at its offsets."""
    for c in answer["citations"]:
        text = (REPORTS / c["source"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"], c
