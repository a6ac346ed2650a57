"""Liveness and readiness, outside authentication."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="up")


@router.get("/readyz", response_model=Health, response_model_exclude_none=True,
            responses={503: {"model": Health}})
async def readyz(runtime: RuntimeDep):
    """200 once the store is open and its lexical index built — ``degraded`` then names the
    parts that are down meanwhile (vectors, slack, llm); 503 before."""
    if runtime.ready.is_set():
        degraded = await run_in_threadpool(runtime.degraded)
        if degraded:
            return Health(status="degraded", degraded=degraded)
        return Health(status="ready")
    detail = runtime.error or "opening the store"
    return JSONResponse(Health(status="unavailable", detail=detail).model_dump(exclude_none=True),
                        status_code=503, headers={"Retry-After": "2"})
