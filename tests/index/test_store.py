"""The store's lexical index follows the catalog: updated by the reports that changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import StoreSettings
from rag.index.catalog import Catalog
from rag.index.lexical import BM25Index, tokenize
from rag.index.store import Store
from rag.models import Chunk, ReportMeta

META = ReportMeta(title="政府工作报告", province="山东省", city="济南市", report_year=2023)
TEXTS = {
    "d1": ["空气优良天数303天。", "新建城市公园12个。"],
    "d2": ["粮食总产量3,566万吨。", "空气质量持续改善。"],
    "d3": ["旅游总收入137.6亿元。"],
    "d4": ["海洋经济增加值增长9%，空气优良天数320天。"],
}
QUERIES = ("空气优良天数", "粮食", "旅游", "海洋经济", "公园")


def add(cat: Catalog, doc_id: str) -> None:
    texts = TEXTS[doc_id]
    chunks = [Chunk(f"{doc_id}:{i:05d}", doc_id, i, i * 20, i * 20 + len(t), t, "review",
                    2022, 2022) for i, t in enumerate(texts)]
    cat.add_document(
        doc_id=doc_id, source=f"{doc_id}.txt", path=None, content_hash=doc_id, fmt="txt",
        encoding="utf-8", text="".join(texts), meta=META, chunks=chunks,
        tokens=[" ".join(tokenize(t)) for t in texts],
    )


def same_as_fresh_build(store: Store) -> None:
    lex, rows, _ = store.snapshot()
    expected = {f"{d}:{i:05d}": t for d in store.catalog.content_hashes().values()
                for i, t in enumerate(TEXTS[d])}
    assert sorted(lex.ids) == sorted(expected) == sorted(rows)
    fresh = BM25Index(lex.ids, [tokenize(expected[c]) for c in lex.ids])
    for q in QUERIES:
        np.testing.assert_allclose(lex.scores(tokenize(q)), fresh.scores(tokenize(q)), rtol=1e-6)


@pytest.fixture
def store(tmp_path):
    s = Store(StoreSettings(path=tmp_path / "store"))
    yield s
    s.close()


def reads(monkeypatch) -> list:
    """Record which reports each ``chunk_index`` call reads (None: all of them)."""
    calls: list = []
    original = Catalog.chunk_index

    def spy(self, doc_ids=None):
        calls.append(None if doc_ids is None else set(doc_ids))
        return original(self, doc_ids)

    monkeypatch.setattr(Catalog, "chunk_index", spy)
    return calls


def test_a_running_store_reads_only_the_changed_reports(store, monkeypatch):
    add(store.catalog, "d1")
    add(store.catalog, "d2")
    same_as_fresh_build(store)
    calls = reads(monkeypatch)
    store.catalog.delete_document("d1")
    add(store.catalog, "d3")
    same_as_fresh_build(store)
    assert calls == [{"d1", "d3"}]
    assert store.snapshot()[0].search(tokenize("公园"), None, 5) == []


def test_a_reopened_store_updates_the_saved_index(tmp_path, monkeypatch):
    settings = StoreSettings(path=tmp_path / "store")
    first = Store(settings)
    for d in ("d1", "d2", "d3"):
        add(first.catalog, d)
    first.snapshot()  # saved at this generation
    first.catalog.delete_document("d2")
    add(first.catalog, "d4")
    first.close()

    calls = reads(monkeypatch)
    second = Store(settings)
    try:
        same_as_fresh_build(second)
        assert calls == [{"d2", "d4"}]
        saved = list((settings.path / "cache").glob("lexical-*.pkl"))
        assert len(saved) == 1 and saved[0].name.endswith(f"-{second.catalog.generation()}.pkl")
    finally:
        second.close()


def test_an_unreadable_saved_index_is_rebuilt(tmp_path, monkeypatch):
    settings = StoreSettings(path=tmp_path / "store")
    first = Store(settings)
    add(first.catalog, "d1")
    first.snapshot()
    add(first.catalog, "d2")
    first.close()
    for saved in (settings.path / "cache").glob("lexical-*.pkl"):
        saved.write_bytes(b"not a pickle")

    calls = reads(monkeypatch)
    second = Store(settings)
    try:
        same_as_fresh_build(second)
        assert calls == [None]
    finally:
        second.close()


def saved_files(settings: StoreSettings) -> list:
    return sorted((settings.path / "cache").glob("lexical-*"))


def test_an_older_index_under_the_current_name_is_brought_up_to_date(tmp_path, monkeypatch):
    """Copying an old saved index over the current one does not make answers old."""
    settings = StoreSettings(path=tmp_path / "store")
    first = Store(settings)
    add(first.catalog, "d1")
    add(first.catalog, "d2")
    first.snapshot()
    (old,) = saved_files(settings)
    stale = old.read_bytes()
    add(first.catalog, "d4")
    first.snapshot()
    (current,) = saved_files(settings)
    first.close()
    current.write_bytes(stale)

    calls = reads(monkeypatch)
    second = Store(settings)
    try:
        same_as_fresh_build(second)  # d4 is there: "海洋经济" is found
        assert second.snapshot()[0].search(tokenize("海洋经济"), None, 5)
        assert calls == [{"d4"}]  # the old index was a base, updated by what changed since
    finally:
        second.close()


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "wrong object",
                                    "other catalog"])
def test_a_damaged_or_foreign_saved_index_is_rebuilt(tmp_path, monkeypatch, damage):
    import pickle

    settings = StoreSettings(path=tmp_path / "store")
    first = Store(settings)
    for d in ("d1", "d2", "d3"):
        add(first.catalog, d)
    first.snapshot()
    first.close()
    (saved,) = saved_files(settings)
    data = bytearray(saved.read_bytes())
    if damage == "flip":
        data[len(data) * 2 // 3] ^= 0x01
    elif damage == "truncate":
        del data[-100:]
    elif damage == "garbage":
        data = bytearray(b"\x80\x05garbage" * 100)
    elif damage == "wrong object":
        data = bytearray(pickle.dumps({"lex": 1, "rows": 2}))
    else:  # a valid index of another store, copied in under this store's name
        other = Store(StoreSettings(path=tmp_path / "other"))
        add(other.catalog, "d1")
        other.snapshot()
        (foreign,) = saved_files(StoreSettings(path=tmp_path / "other"))
        data = bytearray(foreign.read_bytes())
        other.close()
    saved.write_bytes(bytes(data))

    calls = reads(monkeypatch)
    second = Store(settings)
    try:
        same_as_fresh_build(second)
        assert calls == [None]  # built from the catalog, not from the file
    finally:
        second.close()
    third = Store(settings)  # and saved again, signed: the next start trusts it
    try:
        calls.clear()
        same_as_fresh_build(third)
        assert calls == []
    finally:
        third.close()


def test_a_failed_save_leaves_no_temporary_file(tmp_path, caplog):
    """A save that fails midway (here the kernel's own "no space left": the temporary file
    is /dev/full) removes its temporary file, and the store answers from memory."""
    import os

    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    settings = StoreSettings(path=tmp_path / "store")
    store = Store(settings)
    add(store.catalog, "d1")
    cache = settings.path / "cache"
    cache.mkdir(parents=True)
    tmp = store._saved_lexical(store.catalog.generation()).with_suffix(f".{os.getpid()}.tmp")
    tmp.symlink_to("/dev/full")
    try:
        lex, _, _ = store.snapshot()
        assert lex.search(tokenize("公园"), None, 5)
    finally:
        store.close()
    assert list(cache.iterdir()) == []
    assert "disk is full" in caplog.text and "damaged" not in caplog.text


def test_temporary_files_of_killed_saves_are_removed(tmp_path):
    import subprocess
    import sys

    settings = StoreSettings(path=tmp_path / "store")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    cache = settings.path / "cache"
    cache.mkdir(parents=True)
    orphan = cache / f"lexical-v3-0123456789ab-1.{dead}.tmp"
    orphan.write_bytes(b"half a pickle")
    store = Store(settings)
    try:
        add(store.catalog, "d1")
        store.snapshot()
    finally:
        store.close()
    assert not orphan.exists() and len(saved_files(settings)) == 1
