"""Errors at the edge: typed errors become clear 4xx/5xx JSON answers, never a bare 500.

Every error body is an :class:`api.schemas.ErrorOut`: ``detail`` is a sentence; invalid
requests (422) also list each invalid field in ``errors``. Nothing a client sent is echoed
back raw, so no input can make the error itself fail to encode.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.answering import AnswerTimeout
from rag.errors import (
    ConfigError,
    DiskFull,
    EmbeddingError,
    LLMError,
    LoadError,
    QuestionError,
    ReportQAError,
    StoreError,
)

log = logging.getLogger(__name__)

STATUS = [
    (QuestionError, 422),
    (LoadError, 422),
    (StoreError, 503),
    (DiskFull, 507),
    (EmbeddingError, 503),
    (LLMError, 502),
    (ConfigError, 503),
]


class SafeJSONResponse(JSONResponse):
    """JSON that cannot fail to encode: text that is not valid Unicode is \\u-escaped."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode()


def _issue(error: dict) -> dict:
    loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
    return {"loc": loc, "msg": str(error.get("msg", "invalid")),
            "type": str(error.get("type", "value_error"))}


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [_issue(e) for e in exc.errors()]
    parts = []
    for i in issues[:5]:
        where = ".".join(str(p) for p in i["loc"][1:]) or (i["loc"][0] if i["loc"] else "")
        parts.append(f"{where}: {i['msg']}" if where else i["msg"])
    detail = "invalid request: " + "; ".join(parts) if parts else "invalid request"
    return SafeJSONResponse({"detail": detail, "error": "InvalidRequest", "errors": issues},
                            status_code=422)


def status_for(exc: ReportQAError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


async def _reportqa_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReportQAError)
    code = status_for(exc)
    log.warning("%s %s → %d: %s", request.method, request.url.path, code, exc)
    return SafeJSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)


async def _timeout(request: Request, exc: Exception) -> JSONResponse:
    return SafeJSONResponse({"detail": str(exc), "error": "AnswerTimeout"}, status_code=504)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return SafeJSONResponse(
        {"detail": f"internal error ({type(exc).__name__}); the server logged it",
         "error": "InternalError"},
        status_code=500,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed(request))
    return SafeJSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code,
                            headers=headers)


def _allowed(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's).
    HEAD, which Starlette adds to every GET, is left implied."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ReportQAError, _reportqa_error)
    app.add_exception_handler(AnswerTimeout, _timeout)
    app.add_exception_handler(Exception, _unexpected)
