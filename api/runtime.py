"""What the server holds while it runs: settings, the assistant (opened once), jobs, limits.

The assistant is opened in a background thread at startup so that ``/healthz`` answers at
once; ``/readyz`` turns 200 when the store is open and its lexical index is built.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from api.jobs import IngestJobs
from api.limits import RateLimiter
from rag.config import Settings

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, store_dir: Path | None = None, assistant=None) -> None:
        self.settings = settings
        self.store_dir = store_dir
        self.assistant = assistant
        self.owns_assistant = assistant is None
        self.jobs = IngestJobs()
        self.limiter = RateLimiter(settings.api.rate_per_minute)
        self.slack_app: Any = None  # slack_bolt.App once built
        self.socket_handler: Any = None  # SocketModeHandler when an app token is set
        self.error: str | None = None
        self.ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def upload_dir(self) -> Path:
        store = self.assistant.store.path if self.assistant is not None else (
            self.store_dir or self.settings.store.path)
        return Path(store) / "uploads"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._open, name="reportqa-open", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)

    def _open(self) -> None:
        try:
            if self.assistant is None:
                from rag.pipeline import open_assistant

                self.assistant = open_assistant(self.settings, self.store_dir)
            self.assistant.store.snapshot()  # builds the lexical index once, before traffic
            slack = self.settings.slack
            if slack.bot_token and slack.signing_secret:
                from api.slack.app import build_slack_app

                self.slack_app = build_slack_app(slack, self.assistant)
            if slack.app_token and slack.bot_token:
                from api.slack.socket import socket_mode_handler

                self.socket_handler = socket_mode_handler(self.settings, self.assistant)
                self.socket_handler.connect()
            self.ready.set()
            log.info("reportqa ready")
        except Exception as exc:  # noqa: BLE001 — reported by /readyz and every request
            log.exception("could not open the store")
            self.error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.jobs.shutdown()
        if self.socket_handler is not None:
            try:
                self.socket_handler.close()
            except Exception:  # noqa: BLE001
                log.warning("socket mode did not close cleanly", exc_info=True)
        if self.owns_assistant and self.assistant is not None:
            self.assistant.close()
