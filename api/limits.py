"""Request limits kept in memory: a token bucket per client, and a cap on body size."""

from __future__ import annotations

import json
import math
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RateLimiter:
    """A token bucket per client key: ``rate_per_minute`` requests, refilled continuously."""

    def __init__(self, rate_per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(rate_per_minute)
        self.refill = rate_per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take a token for ``client``: 0.0 when allowed, else seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                allowed = 0.0
            else:
                self._buckets[client] = (tokens, now)
                allowed = (1.0 - tokens) / self.refill
            if len(self._buckets) > self.max_clients:  # forget the idlest clients
                for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:1000]:
                    del self._buckets[key]
        return allowed

    def wait(self, client: str) -> float:
        """Seconds until ``client`` has a token again (0.0 now), without taking one."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.refill)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.refill

    @staticmethod
    def retry_after(wait: float) -> int:
        return max(1, math.ceil(wait))


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over a limit with 413, whether announced or streamed.

    ``limits`` maps a path prefix to its byte limit; other paths get ``default``.
    """

    def __init__(self, app: ASGIApp, default: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = limits or {}

    def _limit(self, path: str) -> int:
        for prefix, limit in self.limits.items():
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                await _error(send, 400, "invalid Content-Length header")
                return
            if too_big:
                await _error(send, 413, f"request body over the limit of {limit} bytes")
                return
        seen = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                started = True  # whatever the app made of the cut body, the client gets 413
                await _error(send, 413, f"request body over the limit of {limit} bytes")
                return
            if exceeded:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await _error(send, 413, f"request body over the limit of {limit} bytes")


async def _error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
