"""The FastAPI application: ``create_app()`` for ``reportqa serve`` and for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from api import errors
from api.limits import BodySizeLimit
from api.routes import ask, chat, documents, health, page, slack
from api.runtime import Runtime
from rag.config import Settings, get_settings

JSON_BODY_LIMIT = 1 << 20  # questions and chat histories; uploads have their own limit
MULTIPART_OVERHEAD = 64 * 1024


def create_app(
    settings: Settings | None = None, store_dir: Path | None = None, assistant=None
) -> FastAPI:
    """Build the app. The assistant is opened once at startup, or taken as given (tests).

    Args:
        settings: defaults to :func:`rag.config.get_settings`.
        store_dir: store folder; defaults to ``settings.store.path``.
        assistant: an opened :class:`rag.pipeline.Assistant`; the app then does not close it.
    """
    settings = settings or get_settings()
    runtime = Runtime(settings, Path(store_dir) if store_dir else None, assistant)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="reportqa",
        summary="Questions over government work reports, answered with verbatim citations",
        version="0.1.0",
        lifespan=lifespan,
        default_response_class=errors.SafeJSONResponse,
    )
    app.state.runtime = runtime
    errors.install(app)
    for module in (health, page, ask, chat, documents, slack):
        app.include_router(module.router)
    app.add_middleware(
        BodySizeLimit,
        default=JSON_BODY_LIMIT,
        limits={"/v1/documents": settings.api.max_upload_bytes + MULTIPART_OVERHEAD},
    )
    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's document, with the limits that come from settings written in."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = FastAPI.openapi(app)  # builds and caches app.openapi_schema
    question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    question["maxLength"] = settings.api.max_question_chars
    return schema
