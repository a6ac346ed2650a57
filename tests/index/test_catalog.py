"""The SQLite catalog: documents, chunks, embedding progress and the generation counter."""

from __future__ import annotations

import sqlite3

import pytest

from rag.errors import StoreError
from rag.index.catalog import Catalog
from rag.models import Chunk, ReportMeta

META = ReportMeta(
    title="2023年政府工作报告", province="山东省", city="济南市", district="历城区",
    level="district", report_date="2023-01-10", report_year=2023,
)


def chunks_of(doc_id: str, n: int, years=(2022, 2022)) -> list[Chunk]:
    return [
        Chunk(f"{doc_id}:{i:05d}", doc_id, i, i * 10, i * 10 + 9, f"第{i}句。", "review", *years)
        for i in range(n)
    ]


def add(cat: Catalog, doc_id: str, source: str, n: int = 3, **kw) -> None:
    cs = kw.pop("chunks") if "chunks" in kw else chunks_of(doc_id, n)
    cat.add_document(
        doc_id=doc_id, source=source, path=f"/x/{source}", content_hash=f"h{doc_id}", fmt="txt",
        encoding="utf-8", text="全文", meta=kw.pop("meta", META), chunks=cs,
        tokens=[f"第{i} 句" for i in range(len(cs))],
    )


@pytest.fixture
def cat(tmp_path):
    c = Catalog(tmp_path / "store" / "catalog.sqlite")
    yield c
    c.close()


def test_add_and_read_back(cat):
    add(cat, "d1", "a.txt", 3)
    doc = cat.document("d1")
    assert doc is not None and cat.document_by_source("a.txt") == doc
    assert doc.meta == META and doc.status == "parsed" and doc.n_chunks == 3
    assert doc.covered == (2022,)
    assert cat.text("d1") == "全文"
    d = doc.to_dict()
    assert d["region"] == "山东省济南市历城区" and d["covered_years"] == [2022]
    assert [r.chunk_id for r in cat.chunks()] == ["d1:00000", "d1:00001", "d1:00002"]
    assert cat.stats() == {"reports": 1, "reports_complete": 0, "chunks": 3, "chunks_embedded": 0}


def test_covered_years_span_multi_year_sections(cat):
    cs = chunks_of("d1", 2, (2018, 2022)) + [
        Chunk("d1:00002", "d1", 2, 50, 60, "今年。", "plan", 2023, 2023),
        Chunk("d1:00003", "d1", 3, 60, 70, "附注。", "annex", None, None),
    ]
    add(cat, "d1", "a.txt", chunks=cs)
    assert cat.document("d1").covered == (2018, 2019, 2020, 2021, 2022, 2023)


def test_a_report_without_chunks_is_complete(cat):
    add(cat, "d0", "empty.txt", chunks=[])
    assert cat.document("d0").status == "complete"


def test_embedding_progress_completes_a_report(cat):
    add(cat, "d1", "a.txt", 3)
    add(cat, "d2", "b.txt", 2)
    assert cat.count_pending() == 5
    assert [r.chunk_id for r in cat.pending_chunks(2)] == ["d1:00000", "d1:00001"]
    assert cat.mark_embedded(["d1:00000", "d1:00001"]) == []
    assert cat.document("d1").status == "parsed"
    assert sorted(cat.mark_embedded(["d1:00002", "d2:00000"])) == ["d1"]
    assert cat.embedded_doc_ids() == {"d1"}
    assert cat.count_pending() == 1
    assert cat.stats()["chunks_embedded"] == 4


def test_delete_removes_the_report_and_its_chunks(cat):
    add(cat, "d1", "a.txt", 3)
    add(cat, "d2", "b.txt", 2)
    cat.delete_document("d1")
    assert cat.document("d1") is None and cat.document_by_source("a.txt") is None
    assert {r.doc_id for r in cat.chunks()} == {"d2"}
    assert cat.existing_chunk_ids(["d1:00000", "d2:00001", "zz"]) == {"d2:00001"}


def test_chunks_by_doc_ids_in_many_batches(cat):
    for i in range(3):
        add(cat, f"d{i}", f"{i}.txt", 2)
    ids = ["d0", "d2"] + [f"missing{i}" for i in range(1200)]
    assert [r.chunk_id for r in cat.chunks(ids)] == ["d0:00000", "d0:00001", "d2:00000", "d2:00001"]


def test_generation_bumps_on_every_content_change(cat):
    seen = [cat.generation()]
    add(cat, "d1", "a.txt", 2)
    seen.append(cat.generation())
    add(cat, "d2", "b.txt", 1)
    seen.append(cat.generation())
    cat.delete_document("d2")
    seen.append(cat.generation())
    assert seen == sorted(set(seen)) and len(seen) == 4
    cat.documents(), cat.chunks(), cat.stats()  # reads do not bump
    assert cat.generation() == seen[-1]


def test_embedding_progress_bumps_status_not_content(cat):
    add(cat, "d1", "a.txt", 2)
    gen, status = cat.generation(), cat.status_generation()
    cat.mark_embedded(["d1:00000"])  # the report is not complete yet
    assert (cat.generation(), cat.status_generation()) == (gen, status)
    assert cat.mark_embedded(["d1:00001"]) == ["d1"]
    assert cat.generation() == gen  # the words did not change: no lexical rebuild
    assert cat.status_generation() == status + 1
    assert cat.document("d1").status == "complete"


def test_a_failed_write_changes_nothing(cat):
    add(cat, "d1", "a.txt", 2)
    gen = cat.generation()
    with pytest.raises(StoreError):
        add(cat, "d9", "a.txt", 2)  # source is unique
    assert cat.document("d9") is None and len(cat.chunks()) == 2 and cat.generation() == gen


def test_the_catalog_survives_reopening(tmp_path):
    path = tmp_path / "catalog.sqlite"
    c = Catalog(path)
    add(c, "d1", "a.txt", 2)
    c.mark_embedded(["d1:00000", "d1:00001"])
    c.close()
    c = Catalog(path)
    assert c.document("d1").status == "complete" and c.generation() == 1
    assert c.status_generation() == 1
    c.close()


def test_a_catalog_keeps_its_id_and_a_new_one_gets_another(tmp_path):
    path = tmp_path / "catalog.sqlite"
    c = Catalog(path)
    first = c.catalog_id
    c.close()
    c = Catalog(path)
    assert c.catalog_id == first
    c.close()
    path.unlink()
    c = Catalog(path)
    assert c.catalog_id != first
    c.close()


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "catalog.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable database"):
        Catalog(path)


def test_foreign_keys_are_on(cat):
    with pytest.raises(sqlite3.IntegrityError):
        cat._db.execute(
            "INSERT INTO chunks(chunk_id, doc_id, ordinal, start, end, kind, text, tokens)"
            " VALUES ('x:1', 'nodoc', 0, 0, 1, 'other', 't', 't')"
        )


def test_changed_since_names_every_report_changed_after_a_generation(cat):
    add(cat, "d1", "a.txt")
    g = cat.generation()
    assert cat.changed_since(g) == set()
    add(cat, "d2", "b.txt")
    cat.delete_document("d1")
    add(cat, "d3", "c.txt")
    assert cat.changed_since(g) == {"d1", "d2", "d3"}
    assert cat.changed_since(cat.generation() - 1) == {"d3"}
    assert cat.changed_since(cat.generation() + 1) is None  # a generation it never had


def test_a_catalog_from_before_the_journal_updates_nothing_older(tmp_path):
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO state VALUES ('catalog_id', 'old'), ('generation', '7');"
    )
    db.commit()
    db.close()
    cat = Catalog(path)
    try:
        assert cat.generation() == 7
        assert cat.changed_since(6) is None  # changes before the journal are unknown
        assert cat.changed_since(7) == set()
        add(cat, "d1", "a.txt")
        assert cat.changed_since(7) == {"d1"}
    finally:
        cat.close()


def test_chunk_index_of_some_reports(cat):
    add(cat, "d1", "a.txt", 2)
    add(cat, "d2", "b.txt", 3)
    rows, tokens = cat.chunk_index({"d2", "missing"})
    assert [r.chunk_id for r in rows] == ["d2:00000", "d2:00001", "d2:00002"]
    assert tokens[1] == ["第1", "句"] and rows[0].text == ""
    assert len(cat.chunk_index()[0]) == 5
