"""Background ingestion of uploaded files: one worker thread, so uploads ingest in order.

Ingestion takes the store's write lock around each change; answers keep reading meanwhile.
An upload waits in ``uploads/.incoming/<job>/`` until its turn, then takes its place in
``uploads/``; if it fails to ingest, it is removed and the file it was replacing (if any)
put back, so ``uploads/`` only holds what the store holds.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.ingest.progress import Progress, ProgressState

log = logging.getLogger(__name__)

MAX_JOBS = 1000  # finished jobs kept for status queries


@dataclass
class Job:
    id: str
    source: str
    status: str  # queued | running | done | failed
    created: float
    started: float | None = None
    finished: float | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    progress: dict[str, dict[str, Any]] | None = None  # per phase: parse, embed, index

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class IngestJobs:
    """Queue files for ``assistant.ingest`` and report on them by job id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")
        self._staged: dict[str, Path] = {}  # job id → its file waiting in .incoming/

    def submit(self, assistant, folder: Path, name: str, data: bytes, *,
               replace: bool = False) -> Job:
        """Queue ``data`` to be ingested as ``folder/name``.

        Raises:
            UploadConflict: without ``replace``, when a job for the same name is pending.
        """
        job = Job(id=uuid.uuid4().hex[:16], source=name, status="queued", created=time.time())
        with self._lock:
            if not replace and self.pending(name):
                raise UploadConflict(f"an upload of {name!r} is already queued; wait for it "
                                     "to finish, or replace it explicitly")
            self._jobs[job.id] = job  # pending from now on: a second upload sees it
            if len(self._jobs) > MAX_JOBS:
                for old in [j for j in self._jobs.values() if j.finished][: len(self._jobs) // 10]:
                    self._jobs.pop(old.id, None)
        try:
            staged = _stage(folder, job.id, name, data)
        except BaseException:
            with self._lock:
                self._jobs.pop(job.id, None)
            raise
        self._staged[job.id] = staged
        self._pool.submit(self._run, job, assistant, staged, folder / name, replace)
        return job

    def pending(self, name: str) -> bool:
        """Whether a queued or running job will ingest a file of this name (lock held)."""
        return any(j.source == name and j.status in ("queued", "running")
                   for j in self._jobs.values())

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, assistant, staged: Path, final: Path, replace: bool) -> None:
        job.status, job.started = "running", time.time()
        previous = staged.with_name(f".previous-{staged.name}")
        placed = False

        def on_update(state: ProgressState) -> None:
            job.progress = {**(job.progress or {}), state.phase: state.to_dict()}

        try:
            if not replace and assistant.store.catalog.document_by_source(final.name):
                raise UploadConflict(
                    f"a report named {final.name!r} was added meanwhile; send the upload "
                    f"with ?replace=true or PUT /v1/documents/{final.name} to replace it")
            if final.exists():
                os.replace(final, previous)
            os.replace(staged, final)
            placed = True
            report = assistant.ingest([final], progress=Progress(on_update=on_update))
            summary = report.to_dict()
            skipped = [s["reason"] for s in summary.get("skipped", [])]
            job.summary = summary
            if skipped:
                job.status, job.error = "failed", "; ".join(skipped)
            else:
                job.status = "done"
        except UploadConflict as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 — a job reports its failure, it never raises
            log.exception("ingest job %s failed", job.id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if job.status == "failed" and placed:
                final.unlink(missing_ok=True)  # the store did not take it: neither does uploads/
                if previous.exists():
                    os.replace(previous, final)
            shutil.rmtree(staged.parent, ignore_errors=True)
            self._staged.pop(job.id, None)
            job.finished = time.time()

    def wait(self, job_id: str, timeout: float = 60.0) -> Job | None:
        """Block until a job has finished (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job is None or job.status in ("done", "failed"):
                return job
            time.sleep(0.05)
        return self.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for job_id, staged in list(self._staged.items()):
            job = self.get(job_id)
            if job is not None and job.status == "queued":  # cancelled: never ingested
                shutil.rmtree(staged.parent, ignore_errors=True)


class UploadConflict(Exception):
    """An upload would replace a report of the same name without being asked to."""


def _stage(folder: Path, job_id: str, name: str, data: bytes) -> Path:
    """Write an upload where it waits for its job: ``folder/.incoming/<job>/<name>``."""
    path = folder / ".incoming" / job_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_bytes(data)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    return path
