"""Background ingestion of uploaded files: one worker thread, so uploads ingest in order.

Ingestion takes the store's write lock around each change; answers keep reading meanwhile.
"""

from __future__ import annotations

import logging
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

    def submit(self, assistant, path: Path) -> Job:
        job = Job(id=uuid.uuid4().hex[:16], source=path.name, status="queued", created=time.time())
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > MAX_JOBS:
                for old in [j for j in self._jobs.values() if j.finished][: len(self._jobs) // 10]:
                    self._jobs.pop(old.id, None)
        self._pool.submit(self._run, job, assistant, path)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, assistant, path: Path) -> None:
        job.status, job.started = "running", time.time()

        def on_update(state: ProgressState) -> None:
            job.progress = {**(job.progress or {}), state.phase: state.to_dict()}

        try:
            report = assistant.ingest([path], progress=Progress(on_update=on_update))
            summary = report.to_dict()
            skipped = [s["reason"] for s in summary.get("skipped", [])]
            job.summary = summary
            if skipped:
                job.status, job.error = "failed", "; ".join(skipped)
            else:
                job.status = "done"
        except Exception as exc:  # noqa: BLE001 — a job reports its failure, it never raises
            log.exception("ingest job %s failed", job.id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
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
