"""Progress of long work, wherever its output goes.

One :class:`Progress` reports a run's phases (parse, embed, lexical index) three ways, each
optional: a tqdm bar for a terminal; plain lines to a stream that is not a terminal (a log
file), one when a phase starts, one every ``every`` seconds while it runs — also while a
step is slow, such as building the embedding model — and one when it ends; and a callback
with each new state (the API keeps it as a job's status).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from tqdm import tqdm


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass(frozen=True)
class ProgressState:
    """Where a phase stands: ``done`` of ``total`` units, and the chunks they made."""

    phase: str  # "parse" | "embed" | "index"
    unit: str  # "reports" | "chunks"
    done: int
    total: int | None  # None when the phase has no count (building the lexical index)
    chunks: int  # chunks parsed so far (parse), embedded so far (embed)
    elapsed: float  # seconds since the phase started
    finished: bool = False

    @property
    def rate(self) -> float | None:
        """Units per second so far."""
        return self.done / self.elapsed if self.done and self.elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far."""
        if self.total is None or self.rate is None:
            return None
        return max(self.total - self.done, 0) / self.rate

    def line(self) -> str:
        """"parse: 12/70 reports (17%), 840 chunks, 0.8 reports/s, ETA 1m12s"."""
        if self.total is None:
            verb = "done in" if self.finished else "running for"
            return f"{self.phase}: {verb} {_duration(self.elapsed)}"
        parts = [f"{self.done}/{self.total} {self.unit}"
                 + (f" ({100 * self.done // self.total}%)" if self.total else "")]
        if self.unit != "chunks":
            parts.append(f"{self.chunks} chunks")
        if self.rate is not None:
            per_minute = self.rate < 0.1  # "0.0 reports/s" says nothing
            parts.append(f"{self.rate * 60:.1f} {self.unit}/min" if per_minute
                         else f"{self.rate:.1f} {self.unit}/s")
        if self.finished:
            parts.append(f"done in {_duration(self.elapsed)}")
        elif self.eta is not None:
            parts.append(f"ETA {_duration(self.eta)}")
        else:
            parts.append(f"{_duration(self.elapsed)} so far")
        return f"{self.phase}: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "unit": self.unit, "done": self.done, "total": self.total,
                "chunks": self.chunks, "elapsed": round(self.elapsed, 3),
                "rate": None if self.rate is None else round(self.rate, 3),
                "eta": None if self.eta is None else round(self.eta, 1),
                "finished": self.finished, "line": self.line()}


class Progress:
    """Reports phases to a bar, a stream of lines and a callback, whichever are given.

    Args:
        bar: draw a tqdm bar (for a terminal).
        stream: write a line per phase start and end, and every ``every`` seconds between.
        every: seconds between lines on ``stream``.
        on_update: called with each new state, from the thread doing the work.
    """

    def __init__(self, *, bar: bool = False, stream: TextIO | None = None, every: float = 5.0,
                 on_update: Callable[[ProgressState], None] | None = None) -> None:
        self.bar, self.stream, self.every, self.on_update = bar, stream, every, on_update
        self._lock = threading.Lock()
        self._state: ProgressState | None = None
        self._started = 0.0
        self._tqdm: tqdm | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def state(self) -> ProgressState | None:
        """The current (or last) phase's state."""
        with self._lock:
            return self._now()

    def start(self, phase: str, total: int | None, unit: str = "reports") -> None:
        self.finish()
        with self._lock:
            self._started = time.monotonic()
            self._state = ProgressState(phase, unit, 0, total, 0, 0.0)
        if self.bar and total is not None:
            self._tqdm = tqdm(total=total, desc=phase, unit=unit.rstrip("s"))
        self._publish(line=True)
        if self.stream is not None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def advance(self, n: int = 1, chunks: int = 0) -> None:
        with self._lock:
            if self._state is None:
                return
            s = self._state
            self._state = ProgressState(s.phase, s.unit, s.done + n, s.total, s.chunks + chunks,
                                        s.elapsed)
        if self._tqdm is not None:
            self._tqdm.update(n)
        self._publish(line=False)

    def finish(self) -> None:
        """End the current phase (if any) with its last line."""
        with self._lock:
            if self._state is None or self._state.finished:
                return
            s = self._now()
            assert s is not None
            self._state = ProgressState(s.phase, s.unit, s.done, s.total, s.chunks, s.elapsed,
                                        True)
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        self._publish(line=True)

    def _now(self) -> ProgressState | None:
        s = self._state
        if s is None or s.finished:
            return s
        return ProgressState(s.phase, s.unit, s.done, s.total, s.chunks,
                             time.monotonic() - self._started)

    def _publish(self, *, line: bool) -> None:
        state = self.state
        if state is None:
            return
        if self.on_update is not None:
            self.on_update(state)
        if line:
            self._write(state)

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            state = self.state
            if state is not None and not state.finished:
                self._write(state)

    def _write(self, state: ProgressState) -> None:
        if self.stream is not None:
            print(state.line(), file=self.stream, flush=True)


def as_progress(progress: bool | Progress | None) -> Progress:
    """A ``Progress`` from what callers pass: True draws a bar, False or None reports nothing."""
    if isinstance(progress, Progress):
        return progress
    return Progress(bar=bool(progress))
