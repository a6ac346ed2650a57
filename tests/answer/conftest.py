"""A store of the sample reports, built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import REPORTS, BigramEmbeddings


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
