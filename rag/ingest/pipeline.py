"""Ingestion: files → parsed reports in the catalog (searchable by words) → vectors in Chroma.

Two phases, so that a large corpus is answerable by lexical search within minutes while
embedding, the dominant cost, catches up:

1. parse every new or changed file and write it, with its chunks and their tokens, to the
   catalog in one transaction per report;
2. embed the chunks not yet embedded (the embedding cache means no text is embedded twice)
   and write them to Chroma, marking each report complete when its last chunk lands.

Keyed by content hash, it is idempotent: an unchanged folder costs a hash per file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.config import ChunkSettings
from rag.errors import LoadError, ReportQAError, StoreError
from rag.index.lexical import tokenize
from rag.index.store import Store
from rag.ingest.chunk import chunk_sections, doc_id_for
from rag.ingest.load import load_document
from rag.ingest.manifest import load_manifest
from rag.ingest.meta import extract_meta
from rag.ingest.progress import Progress, as_progress
from rag.ingest.sections import tag_sections
from rag.ingest.units import units_of
from rag.models import Chunk, LoadedDocument, ReportMeta, Section
from rag.text.lexicon import lexicon

log = logging.getLogger(__name__)

# Bumped when parsing, metadata or chunking changes, so that re-ingesting re-parses.
PARSER_VERSION = "8"
SUPPORTED = {".txt", ".md", ".html", ".htm", ".pdf", ".docx"}
MANIFEST_NAMES = ("manifest.tsv", "manifest.csv", "manifest.json")
# A folder's own documentation is not a report (SOURCE.md beside the cities corpus).
_FOLDER_DOCS = re.compile(r"^(README|SOURCE|LICENSE|LICENCE|CHANGELOG|NOTICE)(\.[a-z]+)?$", re.I)


@dataclass
class ParsedReport:
    doc: LoadedDocument
    doc_id: str
    meta: ReportMeta
    sections: list[Section]
    chunks: list[Chunk]
    tokens: list[str]


def _computed(embeddings) -> int | None:
    """Texts the embedding backend has computed so far (the cache's misses), without
    building a model that was not built yet; None when there is no cache."""
    from rag.embed import CachedEmbeddings, LazyEmbeddings

    e = embeddings
    while e is not None:
        if isinstance(e, CachedEmbeddings):
            return e.stats().misses
        e = e._inner if isinstance(e, LazyEmbeddings) else getattr(e, "inner", None)
    return None


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_embedded: int = 0
    units_embedded: int = 0  # sentence units sent to the embedder (a chunk's vector is theirs)
    # Of those, the texts the embedding backend computed (the rest came from the cache by
    # text hash); None when no cache sits in front of the backend.
    texts_computed: int | None = None
    parse_seconds: float = 0.0
    embed_seconds: float = 0.0
    seconds: float = 0.0
    embedded: bool = True

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "added": len(self.added),
            "replaced": len(self.replaced),
            "unchanged": self.unchanged,
            "skipped": [{"source": s, "reason": r} for s, r in self.skipped],
            "chunks_added": self.chunks_added,
            "chunks_embedded": self.chunks_embedded,
            "units_embedded": self.units_embedded,
            "texts_computed": self.texts_computed,
            "parse_seconds": round(self.parse_seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        lines = [
            f"{self.files} files: {len(self.added)} added, {len(self.replaced)} replaced, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped",
            f"{self.chunks_added} chunks parsed, {self.chunks_embedded} embedded"
            + (f" from {self.units_embedded} sentence units" if self.units_embedded else "")
            + (f" ({self.texts_computed} computed, the rest cached)"
               if self.texts_computed is not None and self.chunks_embedded else ""),
            f"time: {self.seconds:.1f}s (parse {self.parse_seconds:.1f}s, "
            f"embed {self.embed_seconds:.1f}s)",
        ]
        lines += [f"  skipped {s}: {r}" for s, r in self.skipped]
        return "\n".join(lines)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Report files under the given files and folders, sorted, manifests excluded."""
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += [
                f for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED and f.name not in MANIFEST_NAMES
                and not _FOLDER_DOCS.match(f.name)
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
        else:
            found.append(p)
    return found


def find_manifest(paths: Iterable[Path]) -> Path | None:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for name in MANIFEST_NAMES:
                if (p / name).is_file():
                    return p / name
    return None


def embedding_text(chunk: Chunk, meta: ReportMeta) -> str:
    """What the embedder sees: a short header of who and when, then the chunk."""
    when = ""
    if chunk.covered_from is not None:
        when = f"{chunk.covered_from}年"
        if chunk.covered_to and chunk.covered_to != chunk.covered_from:
            when = f"{chunk.covered_from}-{chunk.covered_to}年"
    label = "" if chunk.kind == "other" else lexicon().section_short(chunk.kind)
    header = f"{meta.region} {when}{label}".strip()
    return f"{header}：{chunk.text}"


class Ingestor:
    """Parses, chunks, embeds and stores reports; one instance per store."""

    def __init__(
        self,
        store: Store | None,
        embeddings,
        chunking: ChunkSettings,
        manifest: Path | None = None,
        progress: bool | Progress = False,
        batch_size: int = 64,
        workers: int = 1,
    ) -> None:
        self.workers = workers
        self.store = store
        self.embeddings = embeddings
        self.chunking = chunking
        self.manifest = load_manifest(manifest) if manifest else None
        self.progress = as_progress(progress)
        self.batch_size = batch_size

    def parse(self, path: Path, source: str | None = None) -> ParsedReport:
        doc = load_document(path, source)
        row = None
        if self.manifest is not None:
            row = self.manifest.get(doc.source)
        meta = extract_meta(doc.text, doc.blocks, doc.source, row)
        sections = tag_sections(doc.text, doc.blocks, meta.report_year)
        doc_id = doc_id_for(doc.content_hash)
        chunks = chunk_sections(
            doc.text, doc_id, sections, doc.blocks,
            self.chunking.max_tokens, self.chunking.overlap_tokens,
        )
        tokens = [" ".join(tokenize(c.text)) for c in chunks]
        return ParsedReport(doc, doc_id, meta, sections, chunks, tokens)

    @property
    def _store(self) -> Store:
        if self.store is None:
            raise StoreError("this ingestor only parses (it was given no store)")
        return self.store

    def _parse_all(self, paths: list[Path]):
        """(path, parsed or None, reason) for each path, in order; CPU-bound, so processes."""
        if self.workers <= 1 or len(paths) < 20:
            for path in paths:
                yield (path, *_parse_one(self, path))
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=self.workers, initializer=_init_worker,
            initargs=(self.chunking, self.manifest, os.getpid()),
        ) as pool:
            # Batches of a few files, taken as they finish: each report is written on its
            # own, so none waits behind a slow one.
            batches = [paths[i : i + 8] for i in range(0, len(paths), 8)]
            for future in as_completed(pool.submit(_parse_batch, b) for b in batches):
                yield from future.result()

    def run(
        self,
        paths: Iterable[Path],
        *,
        embed: bool = True,
        dry_run: bool = False,
        on_parsed: Callable[[ParsedReport], None] | None = None,
    ) -> IngestReport:
        try:
            return self._run(paths, embed=embed, dry_run=dry_run, on_parsed=on_parsed)
        finally:
            self.progress.finish()  # also when a phase fails: its lines stop

    def _run(self, paths: Iterable[Path], *, embed: bool, dry_run: bool,
             on_parsed: Callable[[ParsedReport], None] | None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport(embedded=embed and not dry_run)
        files = discover(paths)
        report.files = len(files)
        seen: set[str] = set()
        catalog = self._store.catalog if self.store is not None else None
        todo: list[Path] = []
        known = catalog.content_hashes() if catalog is not None and not dry_run else {}
        for path in files:
            source = path.name
            if source in seen:
                report.skipped.append((str(path), f"duplicate file name {source!r} in this batch"))
                continue
            seen.add(source)
            if source in known:
                try:
                    unchanged = known[source] == _version_hash(_file_hash(path))
                except OSError as exc:
                    report.skipped.append((source, f"cannot read: {exc}"))
                    continue
                if unchanged:
                    report.unchanged += 1
                    continue
            todo.append(path)
        progress = self.progress
        progress.start("parse", len(todo), "reports")
        for path, parsed, error in self._parse_all(todo):
            progress.advance(1, chunks=len(parsed.chunks) if parsed else 0)
            source = path.name
            if parsed is None:
                report.skipped.append((source, error or "unreadable"))
                continue
            if on_parsed:
                on_parsed(parsed)
            report.chunks_added += len(parsed.chunks)
            if dry_run:
                report.added.append(source)
                continue
            assert catalog is not None
            with self._store.write_lock:
                twin = catalog.document(parsed.doc_id)
                if twin is not None and twin.source != source:
                    # doc_id is the content hash: a second copy would collide with the first.
                    report.chunks_added -= len(parsed.chunks)
                    report.skipped.append((source, f"same content as {twin.source}"))
                    continue
                old = catalog.document_by_source(source)
                if old is not None:
                    self._store.delete(old.doc_id)
                    report.replaced.append(source)
                else:
                    report.added.append(source)
                catalog.add_document(
                    doc_id=parsed.doc_id,
                    source=source,
                    path=str(path),
                    content_hash=_version_hash(parsed.doc.content_hash),
                    fmt=parsed.doc.fmt,
                    encoding=parsed.doc.encoding,
                    text=parsed.doc.text,
                    meta=parsed.meta,
                    chunks=parsed.chunks,
                    tokens=parsed.tokens,
                )
        progress.finish()
        report.parse_seconds = time.perf_counter() - t0
        if embed and not dry_run:
            t1 = time.perf_counter()
            before = _computed(self.embeddings)
            report.chunks_embedded, report.units_embedded = self.embed_pending()
            after = _computed(self.embeddings)
            if after is not None:
                report.texts_computed = after - (before or 0)
            report.embed_seconds = time.perf_counter() - t1
        if not dry_run and (report.added or report.replaced):
            # Build (and save) the lexical index now, so the first question is fast.
            progress.start("index", None)
            self._store.snapshot()
            progress.finish()
        report.seconds = time.perf_counter() - t0
        return report

    def embed_pending(self) -> tuple[int, int]:
        """Embed the reports whose chunks are not yet in Chroma; returns the chunks written
        and the sentence units embedded.

        What is embedded is each report's sentence units (:mod:`rag.ingest.units`); they are
        stored with the report, and a chunk's vector is the normalized mean of its units'
        vectors, so a report costs one embedding per unit and nothing more.
        """
        try:
            return self._embed_pending()
        finally:
            self.progress.finish()

    def _embed_pending(self) -> tuple[int, int]:
        catalog = self._store.catalog
        total = catalog.count_pending()
        if total == 0:
            return 0, 0
        docs = {d.doc_id: d for d in catalog.documents()}
        by_doc: dict[str, list] = {}
        for r in catalog.pending_chunks(total):
            if r.doc_id in docs:
                by_doc.setdefault(r.doc_id, []).append(r)
        done = units = 0
        self.progress.start("embed", total, "chunks")
        # Embedding (CPU) overlaps with the previous batch's writes (I/O).
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending_write = None
            for work in self._doc_batches(by_doc):
                texts = [text[s:e] for _, text, spans, _ in work for s, e in spans]
                units += len(texts)
                vectors = _embed_array(self.embeddings, texts) if texts else np.zeros((0, 0))
                if pending_write is not None:
                    pending_write.result()
                pending_write = writer.submit(self._write_docs, work, vectors, docs)
                n = sum(len(rows) for *_, rows in work)
                done += n
                self.progress.advance(n, chunks=n)
            if pending_write is not None:
                pending_write.result()
        self.progress.finish()
        return done, units

    def _doc_batches(self, by_doc: dict[str, list]) -> Iterable[list]:
        """Whole reports with their units, grouped until a call has ``batch_size`` units
        (a report is never split: its units and chunk vectors are written together)."""
        catalog = self._store.catalog
        group: list = []
        size = 0
        for doc_id, pending in by_doc.items():
            text = catalog.text(doc_id) or ""
            rows = catalog.chunks([doc_id])
            spans = units_of(text, [(r.start, r.end) for r in rows])
            group.append((doc_id, text, spans, pending))
            size += len(spans)
            if size >= self.batch_size:
                yield group
                group, size = [], 0
        if group:
            yield group

    def _write_docs(self, work, vectors: np.ndarray, docs) -> None:
        model_id = str(getattr(self.embeddings, "model_id", type(self.embeddings).__name__))
        at = 0
        for doc_id, _text, spans, rows in work:
            vecs = vectors[at : at + len(spans)]
            at += len(spans)
            chunk_vecs = _chunk_vectors(spans, vecs, [(r.start, r.end) for r in rows])
            chunks = [
                Chunk(r.chunk_id, r.doc_id, r.ordinal, r.start, r.end, r.text,
                      r.kind, r.covered_from, r.covered_to)
                for r in rows
            ]
            with self._store.write_lock:
                # A report deleted while it was being embedded must not reach Chroma.
                alive = self._store.catalog.existing_chunk_ids([c.chunk_id for c in chunks])
                keep = [i for i, c in enumerate(chunks) if c.chunk_id in alive]
                if not keep:
                    continue
                self._store.catalog.put_units(doc_id, model_id, np.asarray(spans), vecs)
                self._store.vectors.upsert(
                    [chunks[i].chunk_id for i in keep], chunk_vecs[keep],
                    [_chroma_meta(chunks[i], docs[doc_id]) for i in keep],
                )
                self._store.catalog.mark_embedded([chunks[i].chunk_id for i in keep])


def _chunk_vectors(
    units: list[tuple[int, int]], vectors: np.ndarray, chunks: list[tuple[int, int]]
) -> np.ndarray:
    """Each chunk's vector: the normalized mean of the vectors of the units inside it."""
    starts = np.fromiter((s for s, _ in units), dtype=np.int64, count=len(units))
    vecs = np.asarray(vectors, dtype=np.float32)
    out = np.zeros((len(chunks), vecs.shape[1] if vecs.ndim == 2 else 0), dtype=np.float32)
    for i, (cs, ce) in enumerate(chunks):
        lo, hi = np.searchsorted(starts, cs), np.searchsorted(starts, ce)
        inside = [j for j in range(lo, hi) if units[j][1] <= ce] or list(range(lo, hi))
        if inside:
            mean = vecs[inside].mean(axis=0)
            out[i] = mean / max(float(np.linalg.norm(mean)), 1e-6)
    return out


def _parse_one(ingestor: Ingestor, path: Path) -> tuple[ParsedReport | None, str | None]:
    try:
        return ingestor.parse(path), None
    except LoadError as exc:
        return None, exc.reason
    except (ReportQAError, ValueError, UnicodeError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


_WORKER: Ingestor | None = None


def _init_worker(chunking: ChunkSettings, manifest, parent: int) -> None:
    global _WORKER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _die_with_parent(parent)
    _WORKER = Ingestor(None, None, chunking)
    _WORKER.manifest = manifest


def _die_with_parent(parent: int) -> None:
    """A parse worker ends when the ingest that started it does, even one killed with -9
    (which runs no clean-up): the kernel signals it where it can (Linux), and a watchdog
    thread notices the lost parent everywhere else."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _parse_batch(paths: list[Path]) -> list[tuple[Path, ParsedReport | None, str | None]]:
    assert _WORKER is not None
    return [(path, *_parse_one(_WORKER, path)) for path in paths]


def _chroma_meta(chunk: Chunk, d) -> dict:
    m = d.meta
    return {
        "doc_id": chunk.doc_id,
        "source": d.source,
        "province": m.province,
        "city": m.city,
        "district": m.district,
        "level": m.level,
        "report_year": m.report_year,
        "kind": chunk.kind,
        "covered_from": chunk.covered_from,
        "covered_to": chunk.covered_to,
        "start": chunk.start,
        "end": chunk.end,
    }


def _embed_array(embeddings, texts: list[str]) -> np.ndarray:
    if hasattr(embeddings, "embed_documents_array"):
        return np.asarray(embeddings.embed_documents_array(texts), dtype=np.float32)
    return np.asarray(embeddings.embed_documents(texts), dtype=np.float32)


def _version_hash(file_hash: str) -> str:
    return f"{file_hash}:v{PARSER_VERSION}"


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
