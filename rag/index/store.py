"""The store facade: catalog, vectors and words kept consistent under one roof."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.config import StoreSettings
from rag.errors import is_disk_full
from rag.index.catalog import Catalog, ChunkRow, DocRecord
from rag.index.lexical import BM25Index
from rag.index.vectors import VectorIndex, make_client
from rag.ingest.units import states_something

log = logging.getLogger(__name__)

LEXICAL_FORMAT = 3  # bump when BM25Index's pickled fields or the file's layout change
LEXICAL_MAGIC = b"reportqa-lexical\n"
UNIT_CACHE_BYTES = 256 << 20  # sentence-unit vectors kept in memory between questions
LexicalState = tuple[BM25Index, list[ChunkRow], int]  # index, its rows, catalog generation


@dataclass(frozen=True)
class Units:
    """A report's sentence units: offsets (n, 2) and float16 vectors (n, dim) of a model."""

    model_id: str
    spans: np.ndarray
    vectors: np.ndarray
    # Which units can state a result (``rag.ingest.units.states_something``): headings and
    # table rules are read for the median, never as a sentence's meaning. None: all.
    states: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return int(self.spans.nbytes + self.vectors.nbytes)


class Store:
    """Open (or create) a store folder: ``catalog.sqlite``, ``chroma/`` and caches."""

    def __init__(self, settings: StoreSettings, path: Path | None = None) -> None:
        self.path = Path(path or settings.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.path / "catalog.sqlite")
        host, port = settings.chroma_host, settings.chroma_port
        self.vectors = VectorIndex(
            None, settings.collection,
            connect=lambda: make_client(self.path / "chroma", host, port),
            where=f"{host}:{port}" if host else str(self.path / "chroma"),
            embedded=not host,
        )
        self._lex: BM25Index | None = None
        self._lex_gen = -1
        self._status_gen = -1
        self._rows: dict[str, ChunkRow] = {}
        self._row_list: list[ChunkRow] = []
        self._docs: dict[str, DocRecord] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._units: OrderedDict[str, Units] = OrderedDict()
        self._units_bytes = 0
        self._units_gen = -1

    @property
    def write_lock(self) -> threading.RLock:
        """Held by ingestion while it changes the store (answers keep reading)."""
        return self._write_lock

    def _refresh(self) -> None:
        if self.catalog.changed_elsewhere():
            # Another process ingested or deleted: an embedded Chroma client holds a stale
            # copy of what that process wrote (a server is shared, and needs nothing).
            if self.vectors.embedded:
                self.vectors.reopen()
        gen, status = self.catalog.generation(), self.catalog.status_generation()
        if gen != self._lex_gen or self._lex is None:
            base = (self._lex, self._row_list, self._lex_gen) if self._lex is not None else None
            lex, rows = self._load_lexical(gen, base)
            self._row_list = rows
            self._rows = {r.chunk_id: r for r in rows}
            self._lex, self._lex_gen = lex, gen
            self._status_gen = -1
        if status != self._status_gen:
            self._docs = {d.doc_id: d for d in self.catalog.documents()}
            self._status_gen = status

    def _saved_lexical(self, gen: int) -> Path:
        name = f"lexical-v{LEXICAL_FORMAT}-{self.catalog.catalog_id[:12]}-{gen}.pkl"
        return self.path / "cache" / name

    def _signature(self, header: bytes, payload: Iterator[bytes]) -> bytes:
        mac = hmac.new(self.catalog.derived_key, header, hashlib.sha256)
        for block in payload:
            mac.update(block)
        return mac.hexdigest().encode()

    def _read_saved(self, path: Path) -> LexicalState | None:
        """A saved index, its rows and the generation it was built for — only if this
        catalog signed it, every byte is as signed, and it holds what it says."""
        try:
            with open(path, "rb") as f:
                if f.readline() != LEXICAL_MAGIC:
                    raise ValueError("not a reportqa lexical index")
                header_line = f.readline(4096)
                signature = f.readline(256).rstrip(b"\n")
                header = json.loads(header_line)
                if header.get("catalog_id") != self.catalog.catalog_id:
                    raise ValueError("written for another catalog")
                start = f.tell()
                blocks = iter(lambda: f.read(1 << 20), b"")
                if not hmac.compare_digest(signature, self._signature(header_line, blocks)):
                    raise ValueError("checksum mismatch: altered or truncated")
                f.seek(start)
                lex, rows = pickle.load(f)
            gen = header["generation"]
            if not (isinstance(lex, BM25Index) and isinstance(rows, list) and isinstance(gen, int)
                    and len(rows) == len(lex)
                    and all(isinstance(r, ChunkRow) and r.chunk_id == cid
                            for r, cid in zip(rows, lex.ids, strict=True))):
                raise ValueError("its contents do not match its header")
            return lex, rows, gen
        except Exception as exc:  # noqa: BLE001 — whatever is wrong with it, it is rebuilt
            log.warning("ignoring the saved lexical index %s (%s: %s); rebuilding it",
                        path, type(exc).__name__, exc)
            return None

    def _newest_saved_before(self, gen: int) -> LexicalState | None:
        """The newest saved lexical index of an earlier generation of this catalog."""
        prefix = self._saved_lexical(0).name.rsplit("-", 1)[0] + "-"
        older = []
        for path in self._saved_lexical(0).parent.glob(prefix + "*.pkl"):
            tail = path.name[len(prefix) : -len(".pkl")]
            if tail.isdigit() and int(tail) < gen:
                older.append((int(tail), path))
        for _, path in sorted(older, reverse=True):
            if loaded := self._read_saved(path):
                return loaded
        return None

    def _updated(self, base: LexicalState) -> tuple[BM25Index, list[ChunkRow]] | None:
        """``base`` with the reports changed since its generation re-read; None if unknown."""
        lex, rows, g0 = base
        changed = self.catalog.changed_since(g0)
        if changed is None:
            return None
        if not changed:
            return lex, rows
        keep = np.fromiter((r.doc_id not in changed for r in rows), dtype=bool, count=len(rows))
        new_rows, tokens = self.catalog.chunk_index(changed)
        lex = lex.replace(keep, [r.chunk_id for r in new_rows], tokens)
        return lex, [r for r, k in zip(rows, keep, strict=True) if k] + new_rows

    def _load_lexical(
        self, gen: int, base: LexicalState | None = None
    ) -> tuple[BM25Index, list[ChunkRow]]:
        """The BM25 index of this catalog generation: saved on disk, updated from ``base``
        (or the newest saved earlier generation) by the reports changed since, or built."""
        saved = self._saved_lexical(gen)
        loaded = self._read_saved(saved) if saved.exists() else None
        if loaded is not None and loaded[2] == gen:
            return loaded[0], loaded[1]
        built = None
        if base is None:
            # A file under this generation's name may hold an older one: then it is a base.
            base = loaded if loaded is not None else self._newest_saved_before(gen)
        if base is not None:
            built = self._updated(base)
        if built is None:
            rows, tokens = self.catalog.chunk_index()
            built = BM25Index([r.chunk_id for r in rows], tokens), rows
        self._save_lexical(saved, gen, built)
        return built

    def _save_lexical(self, saved: Path, gen: int, built: tuple[BM25Index, list[ChunkRow]]) -> None:
        """Write the index signed, then drop the other generations' files; never leaves a
        temporary file behind, and a failure (a read-only store, a full disk) only logs."""
        # Per process: two processes saving the same generation must not share a file.
        tmp = saved.with_suffix(f".{os.getpid()}.tmp")
        try:
            saved.parent.mkdir(parents=True, exist_ok=True)
            _remove_orphans(saved.parent)
            header = json.dumps({"format": LEXICAL_FORMAT, "catalog_id": self.catalog.catalog_id,
                                 "generation": gen, "chunks": len(built[1])}).encode() + b"\n"
            mac = hmac.new(self.catalog.derived_key, header, hashlib.sha256)
            with open(tmp, "wb") as f:
                f.write(LEXICAL_MAGIC + header)
                at = f.tell()
                f.write(b"0" * mac.digest_size * 2 + b"\n")  # the signature, once known
                pickle.dump(built, _Signing(f, mac), protocol=pickle.HIGHEST_PROTOCOL)
                f.seek(at)
                f.write(mac.hexdigest().encode())
            tmp.replace(saved)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if is_disk_full(exc):
                log.warning("could not save the lexical index: the disk is full (%s); "
                            "answering from memory, it is saved when there is room", exc)
            else:  # a read-only store still answers
                log.warning("could not save the lexical index: %s", exc)
            return
        for old in saved.parent.glob("lexical-*.pkl"):
            if old != saved:
                old.unlink(missing_ok=True)

    def snapshot(self) -> tuple[BM25Index, dict[str, ChunkRow], dict[str, DocRecord]]:
        """A consistent view for one question: lexical index, chunk rows, documents."""
        with self._lock:
            self._refresh()
            assert self._lex is not None
            return self._lex, self._rows, self._docs

    def _with_states(self, doc_id: str, model_id: str, spans: np.ndarray,
                     vectors: np.ndarray) -> Units:
        text = self.catalog.text(doc_id) or ""
        states = np.fromiter((states_something(text, int(s), int(e)) for s, e in spans),
                             dtype=bool, count=len(spans))
        return Units(model_id, spans, vectors, states)

    def units(self, doc_ids: Iterable[str]) -> dict[str, Units]:
        """The stored sentence units of these reports (those embedded), least recently used
        dropped from memory beyond ``UNIT_CACHE_BYTES``."""
        ids = list(dict.fromkeys(doc_ids))
        with self._lock:
            gen = self.catalog.status_generation() + self.catalog.generation()
            if gen != self._units_gen:  # a report re-embedded or replaced: read again
                self._units.clear()
                self._units_bytes = 0
                self._units_gen = gen
            out = {d: self._units[d] for d in ids if d in self._units}
            for d in out:
                self._units.move_to_end(d)
        missing = [d for d in ids if d not in out]
        if missing:
            loaded = {d: self._with_states(d, *row)
                      for d, row in self.catalog.units(missing).items()}
            out.update(loaded)
            with self._lock:
                for d, u in loaded.items():
                    if d not in self._units:
                        self._units[d] = u
                        self._units_bytes += u.nbytes
                while self._units_bytes > UNIT_CACHE_BYTES and len(self._units) > 1:
                    _, old = self._units.popitem(last=False)
                    self._units_bytes -= old.nbytes
        return out

    def delete(self, doc_id: str) -> None:
        """Remove a report from both indexes: Chroma first, then the catalog."""
        with self._write_lock:
            self.vectors.delete_doc(doc_id)
            self.catalog.delete_document(doc_id)

    def close(self) -> None:
        self.catalog.close()


class _Signing:
    """A file that signs what is written to it."""

    def __init__(self, f, mac: hmac.HMAC) -> None:
        self.f, self.mac = f, mac

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.f.write(data)


def _remove_orphans(folder: Path) -> None:
    """Temporary files of lexical saves whose process is gone (killed mid-write)."""
    for tmp in folder.glob("lexical-*.tmp"):
        pid = tmp.suffixes[-2].lstrip(".") if len(tmp.suffixes) >= 2 else ""
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
