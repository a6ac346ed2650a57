"""Errors at the edge: typed errors become clear 4xx/5xx JSON answers, never a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.answering import AnswerTimeout
from rag.errors import (
    ConfigError,
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
    (EmbeddingError, 503),
    (LLMError, 502),
    (ConfigError, 503),
]


def status_for(exc: ReportQAError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


async def _reportqa_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReportQAError)
    code = status_for(exc)
    log.warning("%s %s → %d: %s", request.method, request.url.path, code, exc)
    return JSONResponse({"detail": str(exc), "error": type(exc).__name__}, status_code=code)


async def _timeout(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "error": "AnswerTimeout"}, status_code=504)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": f"internal error ({type(exc).__name__}); the server logged it",
         "error": "InternalError"},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ReportQAError, _reportqa_error)
    app.add_exception_handler(AnswerTimeout, _timeout)
    app.add_exception_handler(Exception, _unexpected)
