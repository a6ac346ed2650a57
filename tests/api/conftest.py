"""Fixtures for the HTTP edge: assistants over the session's ``sample_store`` (tests/conftest.py)
and the Slack Web API stand-in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import SlackAPI
from support import BigramEmbeddings

from rag.config import Settings
from rag.pipeline import Assistant, open_assistant


@pytest.fixture(scope="session")
def assistant(sample_store: Path) -> Iterator[Assistant]:
    """Read-only assistant over the sample store (shared by the session)."""
    a = open_assistant(Settings(), sample_store, embeddings=BigramEmbeddings())
    yield a
    a.close()


@pytest.fixture
def writable_assistant(sample_store: Path, tmp_path: Path) -> Iterator[Assistant]:
    """An assistant over a private copy of the sample store."""
    path = tmp_path / "store"
    shutil.copytree(sample_store, path)
    a = open_assistant(Settings(), path, embeddings=BigramEmbeddings())
    yield a
    a.close()


@pytest.fixture
def slack_api() -> Iterator[SlackAPI]:
    api = SlackAPI()
    api.thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()
