"""``POST /slack/events``: Slack's Events API, handed to the bolt app (which checks signatures)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep

router = APIRouter(tags=["slack"])


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request, runtime: RuntimeDep) -> Response:
    """Dispatch off the event loop: bolt verifies, acks, and answers in its own threads."""
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
    bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
    return to_starlette_response(bolt_response)
