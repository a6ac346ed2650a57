"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.jobs import IngestJobs
from api.limits import RateLimiter
from api.runtime import Runtime
from rag.config import Settings
from rag.pipeline import Assistant


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_assistant(runtime: RuntimeDep) -> Assistant:
    if runtime.error and not runtime.ready.is_set():
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"the store could not be opened: {runtime.error} (retrying)",
                            headers={"Retry-After": "5"})
    if not runtime.ready.is_set() or runtime.assistant is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "the store is still opening; retry in a few seconds",
                            headers={"Retry-After": "2"})
    return runtime.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


def get_jobs(runtime: RuntimeDep) -> IngestJobs:
    return runtime.jobs


JobsDep = Annotated[IngestJobs, Depends(get_jobs)]


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _address(request: Request) -> str:
    return f"ip:{request.client.host if request.client else '?'}"


def _too_many(wait: float, limit: str) -> HTTPException:
    retry = RateLimiter.retry_after(wait)
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                         f"{limit} exceeded; retry in {retry} s",
                         headers={"Retry-After": str(retry)})


def require_api_key(request: Request, runtime: RuntimeDep) -> str | None:
    """Check the Bearer key when keys are configured; return it (None when the API is open).

    An address that sent too many missing or wrong keys gets 429 before its key is looked
    at, so keys cannot be guessed at line speed.
    """
    keys = runtime.settings.api.api_keys
    if not keys:
        return None
    guard = runtime.auth_limiter
    limit = f"limit of {runtime.settings.api.auth_failures_per_minute} failed authentications " \
            "per minute"
    if (wait := guard.wait(_address(request))) > 0:
        raise _too_many(wait, limit)
    token = _bearer(request)
    if token is None:
        guard.take(_address(request))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "missing API key: send 'Authorization: Bearer <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(token.encode(), k.encode()) for k in keys):
        guard.take(_address(request))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key",
                            headers={"WWW-Authenticate": "Bearer"})
    return token


ApiKey = Annotated[str | None, Depends(require_api_key)]


def rate_limit(request: Request, runtime: RuntimeDep, key: ApiKey) -> None:
    """One token per request from the client's key, or its address when the API is open."""
    client = f"key:{key}" if key else _address(request)
    if (wait := runtime.limiter.take(client)) > 0:
        raise _too_many(wait, f"rate limit of {runtime.settings.api.rate_per_minute} requests "
                              "per minute")


# Every /v1 router depends on this: authentication first, then the rate limit.
PROTECTED = [Depends(rate_limit)]
