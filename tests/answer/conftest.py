"""``open_store``: assistants with a given chat model over the session's ``sample_store``
(tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import BigramEmbeddings


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


@pytest.fixture
def open_e5_store(e5_sample_store: Path, e5_embeddings) -> Iterator:
    """``open_e5_store(llm=None)``: an Assistant on the sample store embedded with e5."""
    from rag.config import Settings
    from rag.pipeline import open_assistant

    opened = []

    def _open(llm=None):
        assistant = open_assistant(Settings(), e5_sample_store, embeddings=e5_embeddings,
                                   llm=llm)
        opened.append(assistant)
        return assistant

    yield _open
    for assistant in opened:
        assistant.close()
