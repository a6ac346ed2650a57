"""``POST /slack/events``: Slack's Events API, handed to the bolt app once its signature holds.

The signature is checked here, before anything parses the body: an unsigned request gets a
401, never a parse error.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["slack"])

MAX_SKEW = 5 * 60  # seconds: Slack's own bound on a request's age


def verify_signature(secret: str, body: bytes, timestamp: str | None,
                     signature: str | None) -> str | None:
    """Why a request is not Slack's (None when it is): its timestamp and HMAC-SHA256."""
    if not timestamp or not signature:
        return "missing x-slack-request-timestamp or x-slack-signature"
    try:
        ts = int(timestamp)
    except ValueError:
        return "x-slack-request-timestamp is not a number of seconds"
    if abs(time.time() - ts) > MAX_SKEW:
        return "x-slack-request-timestamp is too old or in the future"
    if not SignatureVerifier(secret).is_valid(body, timestamp, signature):
        return "the signature does not match"
    return None


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request, runtime: RuntimeDep) -> Response:
    """Dispatch off the event loop: bolt acks, and answers in its own threads."""
    app = runtime.slack_app
    if app is None:
        if not runtime.slack_configured:
            detail = ("Slack is not configured: set REPORTQA_SLACK__BOT_TOKEN and "
                      "REPORTQA_SLACK__SIGNING_SECRET")
        else:
            detail = f"Slack is not connected yet ({runtime.slack_error or 'starting'}); retrying"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail,
                            headers={"Retry-After": "5"})
    body = await request.body()
    why = verify_signature(runtime.settings.slack.signing_secret or "", body,
                           request.headers.get("x-slack-request-timestamp"),
                           request.headers.get("x-slack-signature"))
    if why is not None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"not a signed Slack request: {why}")
    try:
        bolt_request = to_bolt_request(request, body)
    except Exception as exc:  # noqa: BLE001 — a signed body Slack would never send
        log.warning("unreadable Slack request: %s", exc)
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            f"unreadable Slack request body ({type(exc).__name__})") from exc
    bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
    return to_starlette_response(bolt_response)
