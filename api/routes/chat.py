"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models`` (model id ``reportqa``).

The last user message is the question; earlier user messages resolve follow-ups. Citation
markers ``[n]`` stay in the content and ``citations`` carries the contract citations.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import StreamingResponse

from api import answering
from api.deps import PROTECTED, AssistantDep, SettingsDep
from api.routes.ask import ERRORS
from api.schemas import ChatCompletion, ChatRequest, ModelCard, ModelList, error_responses
from rag.answer.followup import resolve_followup
from rag.models import Answer

MODEL_ID = "reportqa"

router = APIRouter(prefix="/v1", tags=["chat"], dependencies=PROTECTED)


@router.get("/models", response_model=ModelList, responses=error_responses(401, 429))
async def models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID)])


@router.post("/chat/completions", response_model=ChatCompletion,
             responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def chat_completions(body: ChatRequest, assistant: AssistantDep, settings: SettingsDep):
    """Answer the last user message; ``stream: true`` sends Server-Sent Events."""
    users = [m.text() for m in body.messages if m.role == "user"]
    if not users or not users[-1].strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "the last user message is empty: put the question in it")
    answering.check_question(users[-1], settings.api)
    question = resolve_followup(users[:-1], users[-1], assistant.places())
    ans = await answering.answer(assistant, question, settings.api)
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    model = body.model or MODEL_ID
    if body.stream:
        return StreamingResponse(
            _sse(ans, cid, created, model), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    citations = [c.to_dict() for c in ans.citations]
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": ans.answer,
                                 "citations": citations}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": citations, "question": ans.question, "found": ans.found,
    }


def pieces(text: str) -> list[str]:
    """Stream-sized pieces of the answer: lines and clauses, markers kept whole."""
    parts = re.findall(r"[^\n，。；：,;]*[\n，。；：,;]?", text)
    out = [p for p in parts if p]
    return out or [""]


def _sse(ans: Answer, cid: str, created: int, model: str) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        payload = {"id": cid, "object": "chat.completion.chunk", "created": created,
                   "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(ans.answer):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=[c.to_dict() for c in ans.citations],
                question=ans.question, found=ans.found)
    yield "data: [DONE]\n\n"
