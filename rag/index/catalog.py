"""SQLite catalog: every report, its text, metadata and chunks, and how far each got.

A report is ``parsed`` once its chunks are here (searchable by words at once) and
``complete`` once every chunk's vector is in Chroma. The catalog is written before Chroma
and cleaned after it, so a run killed at any point leaves a state the next run completes.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.errors import DiskFull, StoreError, is_disk_full
from rag.models import Chunk, PlaceEvidence, ReportMeta

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    path TEXT,
    content_hash TEXT NOT NULL,
    fmt TEXT,
    encoding TEXT,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    status TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    covered TEXT NOT NULL,
    ingested_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES docs(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    kind TEXT NOT NULL,
    covered_from INTEGER,
    covered_to INTEGER,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS changes (generation INTEGER NOT NULL, doc_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_generation ON changes(generation);
CREATE TABLE IF NOT EXISTS units (
    doc_id TEXT PRIMARY KEY REFERENCES docs(doc_id) ON DELETE CASCADE,
    model_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    spans BLOB NOT NULL,
    vectors BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class DocRecord:
    doc_id: str
    source: str
    path: str | None
    content_hash: str
    fmt: str
    encoding: str
    meta: ReportMeta
    status: str
    n_chunks: int
    covered: tuple[int, ...]

    def to_dict(self) -> dict:
        m = self.meta
        return {
            "source": self.source,
            "doc_id": self.doc_id,
            "title": m.title,
            "province": m.province,
            "city": m.city,
            "district": m.district,
            "level": m.level,
            "region": m.region,
            "report_date": m.report_date,
            "report_year": m.report_year,
            "chunks": self.n_chunks,
            "covered_years": list(self.covered),
            "status": self.status,
            "notes": list(m.notes),
            "inferred": list(m.inferred),
            "evidence": [asdict(e) for e in m.evidence],
        }


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    kind: str
    covered_from: int | None
    covered_to: int | None
    text: str
    tokens: str


def _meta_from_json(raw: str) -> ReportMeta:
    d = json.loads(raw)
    d["notes"] = tuple(d.get("notes") or ())
    d["inferred"] = tuple(d.get("inferred") or ())
    d["evidence"] = tuple(PlaceEvidence(**e) for e in d.get("evidence") or ())
    return ReportMeta(**d)


class Catalog:
    """Thread-safe access to the catalog database (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            with self._db:
                # Names this catalog: files derived from it (a saved lexical index) are
                # keyed by it, so a catalog rebuilt in the same folder never reads them.
                self._db.execute(
                    "INSERT OR IGNORE INTO state(key, value) VALUES('catalog_id', ?)",
                    (uuid.uuid4().hex,),
                )
                # Signs derived files: one written for another catalog, or altered, is not
                # trusted (the name and the generation alone can be copied).
                self._db.execute(
                    "INSERT OR IGNORE INTO state(key, value) VALUES('derived_key', ?)",
                    (secrets.token_hex(32),),
                )
                # The change journal covers generations after this one (older catalogs
                # had none): a derived index older than it is rebuilt, not updated.
                self._db.execute(
                    "INSERT OR IGNORE INTO state(key, value) VALUES('journal_from', "
                    "COALESCE((SELECT value FROM state WHERE key='generation'), '0'))"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"catalog {path} is not a usable database: {exc}") from exc
        self._lock = threading.RLock()
        self.catalog_id: str = self._query("SELECT value FROM state WHERE key='catalog_id'")[0][0]
        self.derived_key: bytes = bytes.fromhex(
            self._query("SELECT value FROM state WHERE key='derived_key'")[0][0])
        self._seen = self._generations()
        self._elsewhere = False

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._db:
                    yield self._db
            except sqlite3.DatabaseError as exc:
                if is_disk_full(exc):
                    raise DiskFull(f"catalog write failed: the disk is full ({exc})") from exc
                raise StoreError(f"catalog write failed: {exc}") from exc

    def _query(self, sql: str, args: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- generation: bumped on every change, so derived indexes know when to rebuild
    def generation(self) -> int:
        rows = self._query("SELECT value FROM state WHERE key='generation'")
        return int(rows[0][0]) if rows else 0

    def status_generation(self) -> int:
        """Bumped when reports change status (embedding progress), not their content."""
        rows = self._query("SELECT value FROM state WHERE key='status_generation'")
        return int(rows[0][0]) if rows else 0

    def _generations(self) -> tuple[int, int]:
        return self.generation(), self.status_generation()

    def _bump(self, db: sqlite3.Connection, key: str = "generation") -> None:
        (value,) = db.execute(
            "INSERT INTO state(key, value) VALUES(?, '1') ON CONFLICT(key) "
            "DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)",
            (key,),
        ).fetchone()
        # Writes are serialized across processes: a counter that moved by more than our own
        # bump was moved by another process too.
        gen, status = self._seen
        if key == "generation":
            self._elsewhere |= value != gen + 1
            self._seen = (value, status)
        else:
            self._elsewhere |= value != status + 1
            self._seen = (gen, value)

    def changed_elsewhere(self) -> bool:
        """Whether another process changed the catalog since the last call (or opening)."""
        with self._lock:
            now = self._generations()
            changed = self._elsewhere or now != self._seen
            self._seen, self._elsewhere = now, False
            return changed

    def _changed(self, db: sqlite3.Connection, doc_id: str) -> None:
        """Bump the generation and journal the report it changed."""
        self._bump(db)
        db.execute(
            "INSERT INTO changes(generation, doc_id) SELECT CAST(value AS INTEGER), ? "
            "FROM state WHERE key='generation'",
            (doc_id,),
        )

    def changed_since(self, generation: int) -> set[str] | None:
        """Reports added, replaced or deleted after ``generation``; None if not journaled."""
        rows = self._query("SELECT value FROM state WHERE key='journal_from'")
        if not rows or generation < int(rows[0][0]) or generation > self.generation():
            return None
        return {d for (d,) in self._query(
            "SELECT DISTINCT doc_id FROM changes WHERE generation > ?", (generation,))}

    # -- documents
    def add_document(
        self,
        *,
        doc_id: str,
        source: str,
        path: str | None,
        content_hash: str,
        fmt: str,
        encoding: str,
        text: str,
        meta: ReportMeta,
        chunks: list[Chunk],
        tokens: list[str],
    ) -> None:
        covered = sorted(
            {
                y
                for c in chunks
                if c.covered_from is not None
                for y in range(c.covered_from, (c.covered_to or c.covered_from) + 1)
            }
        )
        with self._tx() as db:
            db.execute(
                "INSERT INTO docs(doc_id, source, path, content_hash, fmt, encoding, text, meta,"
                " status, n_chunks, covered) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc_id, source, path, content_hash, fmt, encoding, text,
                    json.dumps(asdict(meta), ensure_ascii=False),
                    "complete" if not chunks else "parsed", len(chunks), json.dumps(covered),
                ),
            )
            db.executemany(
                "INSERT INTO chunks(chunk_id, doc_id, ordinal, start, end, kind, covered_from,"
                " covered_to, text, tokens) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (c.chunk_id, c.doc_id, c.ordinal, c.start, c.end, c.kind,
                     c.covered_from, c.covered_to, c.text, t)
                    for c, t in zip(chunks, tokens, strict=True)
                ],
            )
            self._changed(db, doc_id)

    def delete_document(self, doc_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM units WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            db.execute("DELETE FROM docs WHERE doc_id=?", (doc_id,))
            self._changed(db, doc_id)

    def _record(self, row: tuple) -> DocRecord:
        doc_id, source, path, h, fmt, enc, meta, status, n, covered = row
        return DocRecord(
            doc_id, source, path, h, fmt, enc, _meta_from_json(meta), status, n,
            tuple(json.loads(covered)),
        )

    _DOC_COLS = "doc_id, source, path, content_hash, fmt, encoding, meta, status, n_chunks, covered"

    def documents(self) -> list[DocRecord]:
        rows = self._query(f"SELECT {self._DOC_COLS} FROM docs ORDER BY source")
        return [self._record(r) for r in rows]

    def document_by_source(self, source: str) -> DocRecord | None:
        rows = self._query(f"SELECT {self._DOC_COLS} FROM docs WHERE source=?", (source,))
        return self._record(rows[0]) if rows else None

    def document(self, doc_id: str) -> DocRecord | None:
        rows = self._query(f"SELECT {self._DOC_COLS} FROM docs WHERE doc_id=?", (doc_id,))
        return self._record(rows[0]) if rows else None

    def content_hashes(self) -> dict[str, str]:
        """Source name → stored content hash, for every report (one query)."""
        return dict(self._query("SELECT source, content_hash FROM docs"))

    def text(self, doc_id: str) -> str | None:
        rows = self._query("SELECT text FROM docs WHERE doc_id=?", (doc_id,))
        return rows[0][0] if rows else None

    # -- chunks
    def chunks(self, doc_ids: Iterable[str] | None = None) -> list[ChunkRow]:
        cols = "chunk_id, doc_id, ordinal, start, end, kind, covered_from, covered_to, text, tokens"
        if doc_ids is None:
            rows = self._query(f"SELECT {cols} FROM chunks ORDER BY doc_id, ordinal")
        else:
            ids = list(doc_ids)
            rows = []
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                rows += self._query(
                    f"SELECT {cols} FROM chunks WHERE doc_id IN ({marks}) ORDER BY doc_id, ordinal",
                    part,
                )
        return [ChunkRow(*r) for r in rows]

    def chunk_index(
        self, doc_ids: Iterable[str] | None = None
    ) -> tuple[list[ChunkRow], list[list[str]]]:
        """Chunks' positions and tags (text left out: it stays on disk) and their tokens:
        every chunk, or those of ``doc_ids``."""
        cols = "chunk_id, doc_id, ordinal, start, end, kind, covered_from, covered_to, tokens"
        queries: list[tuple[str, list[str]]]
        if doc_ids is None:
            queries = [(f"SELECT {cols} FROM chunks ORDER BY doc_id, ordinal", [])]
        else:
            ids = sorted(doc_ids)
            queries = [
                (f"SELECT {cols} FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})"
                 " ORDER BY doc_id, ordinal", part)
                for part in (ids[i : i + 500] for i in range(0, len(ids), 500))
            ]
        rows, tokens = [], []
        with self._lock:
            for sql, args in queries:
                for r in self._db.execute(sql, args):
                    cid, doc, ordinal, start, end, kind, lo, hi, toks = r
                    rows.append(ChunkRow(cid, doc, ordinal, start, end, kind, lo, hi, "", ""))
                    tokens.append(toks.split())
        return rows, tokens

    def pending_chunks(self, limit: int) -> list[ChunkRow]:
        cols = "chunk_id, doc_id, ordinal, start, end, kind, covered_from, covered_to, text, tokens"
        rows = self._query(
            f"SELECT {cols} FROM chunks WHERE embedded=0 ORDER BY doc_id, ordinal LIMIT ?", (limit,)
        )
        return [ChunkRow(*r) for r in rows]

    def existing_chunk_ids(self, chunk_ids: Iterable[str]) -> set[str]:
        """Those of ``chunk_ids`` the catalog still holds."""
        ids = list(chunk_ids)
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})"
            found.update(r[0] for r in self._query(sql, part))
        return found

    def count_pending(self) -> int:
        return self._query("SELECT COUNT(*) FROM chunks WHERE embedded=0")[0][0]

    def mark_embedded(self, chunk_ids: list[str]) -> list[str]:
        """Mark chunks embedded; return the doc ids that became complete."""
        with self._tx() as db:
            db.executemany(
                "UPDATE chunks SET embedded=1 WHERE chunk_id=?", [(c,) for c in chunk_ids]
            )
            docs = {c.split(":")[0] for c in chunk_ids}
            done = []
            for d in docs:
                left = db.execute(
                    "SELECT COUNT(*) FROM chunks WHERE doc_id=? AND embedded=0", (d,)
                ).fetchone()[0]
                if left == 0:
                    db.execute("UPDATE docs SET status='complete' WHERE doc_id=?", (d,))
                    done.append(d)
            if done:
                self._bump(db, "status_generation")
        return done

    # -- sentence units and their vectors
    def put_units(
        self, doc_id: str, model_id: str, spans: np.ndarray, vectors: np.ndarray
    ) -> None:
        """Store a report's units: ``spans`` (n, 2) offsets, ``vectors`` (n, dim), kept as
        float16 (ranking needs no more; a 3,004-report store keeps ~0.9 GB instead of 1.8)."""
        spans = np.ascontiguousarray(spans, dtype=np.int32).reshape(-1, 2)
        vecs = np.ascontiguousarray(vectors, dtype=np.float16)
        if vecs.ndim != 2 or vecs.shape[0] != spans.shape[0]:
            raise StoreError(f"units of {doc_id}: {spans.shape[0]} spans, {vecs.shape} vectors")
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO units(doc_id, model_id, n, dim, spans, vectors)"
                " VALUES (?,?,?,?,?,?)",
                (doc_id, model_id, vecs.shape[0], vecs.shape[1], spans.tobytes(), vecs.tobytes()),
            )

    def units(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
        """doc_id → (model_id, spans (n, 2) int32, vectors (n, dim) float16) of the reports
        whose units are stored."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            sql = ("SELECT doc_id, model_id, n, dim, spans, vectors FROM units"
                   f" WHERE doc_id IN ({marks})")
            for doc_id, model_id, n, dim, spans, vecs in self._query(sql, part):
                if len(spans) != n * 8 or len(vecs) != n * dim * 2:
                    raise StoreError(f"the stored units of {doc_id} are damaged")
                out[doc_id] = (
                    model_id,
                    np.frombuffer(spans, dtype=np.int32).reshape(n, 2),
                    np.frombuffer(vecs, dtype=np.float16).reshape(n, dim),
                )
        return out

    def embedded_doc_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT doc_id FROM docs WHERE status='complete'")}

    def stats(self) -> dict:
        docs = self._query("SELECT COUNT(*), SUM(status='complete') FROM docs")[0]
        chunks = self._query("SELECT COUNT(*), SUM(embedded) FROM chunks")[0]
        return {
            "reports": docs[0],
            "reports_complete": docs[1] or 0,
            "chunks": chunks[0],
            "chunks_embedded": chunks[1] or 0,
        }
