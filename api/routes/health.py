"""Liveness and readiness, outside authentication."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="up")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(runtime: RuntimeDep):
    """200 once the store is open and its lexical index built; 503 before (or on failure)."""
    if runtime.ready.is_set():
        return Health(status="ready")
    detail = runtime.error or "opening the store"
    return JSONResponse(Health(status="unavailable", detail=detail).model_dump(),
                        status_code=503, headers={"Retry-After": "2"})
