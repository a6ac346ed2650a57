"""Shared fixtures: every test runs offline, on one thread, with no REPORTQA_* leaking in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read by torch, OpenMP and huggingface_hub when first imported, which can be at collection.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"


@pytest.fixture(scope="session")
def tiktoken_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiktoken")


@pytest.fixture(autouse=True)
def env_setup(monkeypatch: pytest.MonkeyPatch, tiktoken_cache_dir: Path) -> Iterator[None]:
    from rag.config import get_settings

    for name in list(os.environ):
        if name.startswith("REPORTQA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory, tiktoken_cache_dir: Path) -> Path:
    """A store of the five sample reports (examples/reports) with the bigram embedder, built
    once per session and shared: open it read-only, or copy it first to write."""
    from support import REPORTS, BigramEmbeddings

    from rag.config import Settings
    from rag.pipeline import open_assistant

    path = tmp_path_factory.mktemp("sample-store") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir))
        assistant = open_assistant(Settings(), path, embeddings=BigramEmbeddings())
        try:
            report = assistant.ingest([REPORTS])
        finally:
            assistant.close()
    assert not report.skipped, report.skipped
    return path


@pytest.fixture(scope="session")
def e5_embeddings(tmp_path_factory: pytest.TempPathFactory):
    """The default embedder (the bundled multilingual-e5-small), one per session, behind an
    embedding cache: the semantic layer is tested with the model it is built for."""
    from rag.config import EmbedSettings
    from rag.embed import make_embeddings

    return make_embeddings(EmbedSettings(), tmp_path_factory.mktemp("e5-cache"))


@pytest.fixture(scope="session")
def e5_sample_store(tmp_path_factory: pytest.TempPathFactory, tiktoken_cache_dir: Path,
                    e5_embeddings) -> Path:
    """A store of the five sample reports embedded with the default embedder (about 650
    sentence units: under a minute on one core). Open it read-only, with ``e5_embeddings``."""
    from support import REPORTS

    from rag.config import Settings
    from rag.pipeline import open_assistant

    path = tmp_path_factory.mktemp("e5-sample-store") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache_dir))
        assistant = open_assistant(Settings(), path, embeddings=e5_embeddings)
        try:
            report = assistant.ingest([REPORTS])
        finally:
            assistant.close()
    assert not report.skipped and report.units_embedded > report.chunks_embedded
    return path
