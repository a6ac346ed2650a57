"""Helpers shared by the test tree: the sample corpus, a cheap embedder, citation checks, a free
loopback port and a subprocess server that is stopped however the test ends.

Importable as ``support`` from every test folder: pytest's default (prepend) import mode puts
the folder of ``tests/conftest.py`` on ``sys.path``.
"""

from __future__ import annotations

import math
import socket
import subprocess
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "examples" / "reports"
CITIES = Path("/work/shared/corpus/cities")  # the large corpus; tests using it skip without it


class BigramEmbeddings(Embeddings):
    """Character bigrams hashed into ``dim`` dimensions (64 unless told): deterministic and
    instant, good enough to find a chunk that shares words with the question.

    Stands in for the real embedder where a test is about something else; the real
    backends have tests of their own.
    """

    model_id = "test-bigram-64"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * self.dim
        for a, b in zip(text, text[1:], strict=False):
            v[zlib.crc32((a + b).encode()) % self.dim] += 1.0
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


def line_blocks(text: str) -> list[tuple[int, int]]:
    """Body blocks as the spans of non-empty lines (what the loader would keep)."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(log_path: Path, chars: int = 2000) -> str:
    try:
        return log_path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


@contextmanager
def subprocess_server(
    cmd: Sequence[str],
    ready_url: str,
    log_path: Path,
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    poll: float = 0.2,
    stop_timeout: float = 20.0,
) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` with its output in ``log_path``; yield once ``ready_url`` answers 2xx.

    Fails the test, showing the log's tail, when the process exits first or ``timeout``
    seconds pass. Afterwards the process is terminated, then killed if it does not stop.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT,
                                env=None if env is None else dict(env))
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd[0]} exited ({proc.returncode}) before {ready_url} answered:\n"
                            f"{_log_tail(log_path)}")
            try:
                if httpx.get(ready_url, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{cmd[0]} did not answer {ready_url} in {timeout:g} s:\n"
                            f"{_log_tail(log_path)}")
            time.sleep(poll)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class EmbeddingServer:
    """An OpenAI-compatible ``/v1/embeddings`` endpoint on loopback that answers with
    :class:`BigramEmbeddings` vectors: lets a ``reportqa`` subprocess (serve, ingest) embed
    at once, and agree with an in-process store built with ``BigramEmbeddings()``."""

    def __init__(self, dim: int = 64) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        model = BigramEmbeddings(dim)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: object) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self._send({"object": "list", "data": [{"id": "bigram", "owned_by": "tests"}]})

            def do_POST(self) -> None:  # noqa: N802
                texts = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["input"]
                vectors = model.embed_documents(list(texts))
                self._send({"object": "list", "model": "bigram", "data": [
                    {"object": "embedding", "index": i, "embedding": v}
                    for i, v in enumerate(vectors)]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def env(self) -> dict[str, str]:
        """``REPORTQA_EMBED__*`` settings that point a process at this endpoint."""
        return {"REPORTQA_EMBED__BACKEND": "openai", "REPORTQA_EMBED__BASE_URL": self.url,
                "REPORTQA_EMBED__MODEL": "bigram"}

    def __enter__(self) -> EmbeddingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def chroma_cli() -> str | None:
    """The ``chroma`` command installed beside this interpreter (the venv's bin/ need not be
    on PATH), or on PATH."""
    import shutil
    import sys

    return shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


class ChromaServer:
    """A real ``chroma run`` server on loopback that a test can kill and start again on the
    same port and data folder."""

    def __init__(self, path: Path, log_path: Path, port: int | None = None) -> None:
        cli = chroma_cli()
        if cli is None:
            pytest.skip("the chroma CLI is not installed")
        self.port = port or free_port()
        self.cmd = [cli, "run", "--path", str(path), "--host", "127.0.0.1",
                    "--port", str(self.port)]
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def heartbeat(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2/heartbeat"

    def start(self, timeout: float = 60) -> ChromaServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"chroma exited ({self.proc.returncode}):\n{_log_tail(self.log_path)}")
            try:
                if httpx.get(self.heartbeat, timeout=2).is_success:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma did not start in {timeout:g} s:\n{_log_tail(self.log_path)}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to say goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def env(self) -> dict[str, str]:
        return {"REPORTQA_STORE__CHROMA_HOST": "127.0.0.1",
                "REPORTQA_STORE__CHROMA_PORT": str(self.port)}
