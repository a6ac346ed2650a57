"""What the server holds while it runs: settings, the assistant (opened once), jobs, limits.

The assistant is opened in a background thread at startup so that ``/healthz`` answers at
once; ``/readyz`` turns 200 when the store is open and its lexical index is built. Each
integration starts on its own and is retried until it comes up: a store that cannot be
opened yet (retried), Slack's API out of reach (the API answers meanwhile), a Chroma
server that is down (answers by words), an LLM endpoint that does not answer (extractive
answers). :meth:`Runtime.degraded` names what is missing.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from api.jobs import IngestJobs
from api.limits import RateLimiter
from rag.config import Settings

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = 1.0, 30.0  # seconds between attempts to start a part, doubling
LLM_PROBE_SECONDS = 5.0  # /readyz asks the LLM endpoint's /models at most this often


class Runtime:
    def __init__(self, settings: Settings, store_dir: Path | None = None, assistant=None) -> None:
        self.settings = settings
        self.store_dir = store_dir
        self.assistant = assistant
        self.owns_assistant = assistant is None
        self.jobs = IngestJobs()
        self.limiter = RateLimiter(settings.api.rate_per_minute)
        self.auth_limiter = RateLimiter(settings.api.auth_failures_per_minute)
        self.slack_app: Any = None  # slack_bolt.App once built
        self.socket_handler: Any = None  # SocketModeHandler when an app token is set
        self.slack_error: str | None = None  # why Slack is not up yet (it is being retried)
        self.error: str | None = None  # why the store is not open yet (it is being retried)
        self.ready = threading.Event()
        self._llm_error: str | None = None
        self._llm_checked = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def upload_dir(self) -> Path:
        store = self.assistant.store.path if self.assistant is not None else (
            self.store_dir or self.settings.store.path)
        return Path(store) / "uploads"

    @property
    def slack_configured(self) -> bool:
        slack = self.settings.slack
        return bool(slack.bot_token and (slack.signing_secret or slack.app_token))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._start, name="reportqa-open", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)

    def _start(self) -> None:
        if self.slack_configured:
            self.slack_error = "not connected yet"
        if self._retry("the store", self._open_store, "error"):
            self.ready.set()
            log.info("reportqa ready")
            if self.slack_configured:
                self._retry("Slack", self._start_slack, "slack_error")

    def _retry(self, what: str, attempt, error_attr: str) -> bool:
        """Run ``attempt`` until it succeeds or the runtime closes; the last failure is kept
        in ``error_attr`` meanwhile. Returns whether it succeeded."""
        delay = RETRY_FIRST
        while not self._stop.is_set():
            try:
                attempt()
            except Exception as exc:  # noqa: BLE001 — reported by /readyz, and retried
                reason = f"{type(exc).__name__}: {exc}"
                if getattr(self, error_attr) != reason:
                    log.warning("could not start %s (retrying every %g s at most): %s",
                                what, RETRY_MAX, reason, exc_info=not isinstance(exc, OSError))
                setattr(self, error_attr, reason)
                self._stop.wait(delay)
                delay = min(RETRY_MAX, delay * 2)
                continue
            if getattr(self, error_attr) is not None:
                log.info("%s started after all", what)
            setattr(self, error_attr, None)
            return True
        return False

    def _open_store(self) -> None:
        if self.assistant is None:
            from rag.pipeline import open_assistant

            self.assistant = open_assistant(self.settings, self.store_dir)
        self.assistant.store.snapshot()  # builds the lexical index once, before traffic
        vectors = getattr(self.assistant.store, "vectors", None)
        if vectors is not None:
            vectors.unavailable()  # connects now, so that /readyz tells at once

    def _start_slack(self) -> None:
        slack = self.settings.slack
        if self.slack_app is None and slack.signing_secret:
            from api.slack.app import build_slack_app

            self.slack_app = build_slack_app(slack, self.assistant)
        if slack.app_token and self.socket_handler is None:
            from api.slack.socket import socket_mode_handler

            handler = socket_mode_handler(self.settings, self.assistant)
            handler.connect()
            self.socket_handler = handler

    def degraded(self) -> dict[str, str]:
        """What is missing or down while the API answers: part → reason."""
        out: dict[str, str] = {}
        vectors = getattr(getattr(self.assistant, "store", None), "vectors", None)
        if vectors is not None and (why := vectors.unavailable()):
            out["vectors"] = (f"Chroma at {vectors.where} is unavailable ({why}); "
                              "answers use lexical search only")
        if self.slack_configured and self.slack_error:
            out["slack"] = f"Slack is not connected ({self.slack_error}); retrying"
        if why := self._llm_unavailable():
            out["llm"] = (f"the LLM endpoint at {self.settings.llm.base_url} does not answer "
                          f"({why}); answers are extractive meanwhile")
        return out

    def _llm_unavailable(self) -> str | None:
        """Why the configured LLM endpoint is unreachable (its ``/models``), or None; a 4xx
        means it is there."""
        llm = self.settings.llm
        if not llm.base_url:
            return None
        now = time.monotonic()
        if now - self._llm_checked < LLM_PROBE_SECONDS:
            return self._llm_error
        self._llm_checked = now
        headers = {"Authorization": f"Bearer {llm.api_key}"} if llm.api_key else {}
        try:
            r = httpx.get(llm.base_url.rstrip("/") + "/models", headers=headers, timeout=3)
            self._llm_error = f"HTTP {r.status_code}" if r.status_code >= 500 else None
        except httpx.HTTPError as exc:
            self._llm_error = f"{type(exc).__name__}: {exc}"
        return self._llm_error

    def close(self) -> None:
        self._stop.set()
        self.jobs.shutdown()
        if self.socket_handler is not None:
            try:
                self.socket_handler.close()
            except Exception:  # noqa: BLE001
                log.warning("socket mode did not close cleanly", exc_info=True)
        if self.owns_assistant and self.assistant is not None:
            self.assistant.close()
