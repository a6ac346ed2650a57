"""Helpers for the HTTP edge tests: uvicorn on loopback in a thread and a Slack Web API
stand-in that speaks the real protocol (the embedder and ports come from ``support``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import uvicorn
from support import free_port

QUESTION = "哪些区在2023年减少了安全生产事故？"


@contextmanager
def serve(app, ready_path: str = "/readyz", timeout: float = 60.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    import httpx

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if httpx.get(base + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"server on {base} did not become ready")
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class SlackAPI:
    """A Slack Web API stand-in on loopback: answers auth.test, records chat.postMessage."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[tuple[str, dict]] = []
        self._cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                if "json" in (self.headers.get("content-type") or ""):
                    payload = json.loads(raw or "{}")
                else:
                    payload = {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                if not (self.headers.get("authorization") or "").startswith("Bearer xoxb-"):
                    reply = {"ok": False, "error": "not_authed"}
                elif method == "auth.test":
                    reply = {"ok": True, "url": "https://t.slack.com/", "team": "T",
                             "user": "reportqa", "team_id": "T1", "user_id": "UBOT",
                             "bot_id": "BBOT", "is_enterprise_install": False}
                elif method == "chat.postMessage":
                    reply = {"ok": True, "channel": payload.get("channel"),
                             "ts": f"{time.time():.6f}", "message": payload}
                else:
                    reply = {"ok": True}
                with api._cond:
                    api.calls.append((method, payload))
                    api._cond.notify_all()
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def posts(self) -> list[dict]:
        with self._cond:
            return [p for m, p in self.calls if m == "chat.postMessage"]

    def wait_posts(self, n: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([c for c in self.calls if c[0] == "chat.postMessage"]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        return self.posts()
