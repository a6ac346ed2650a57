"""``POST /v1/ask``: one question, the answer contract back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import answering
from api.deps import PROTECTED, AssistantDep, SettingsDep
from api.schemas import AnswerOut, AskRequest, ErrorOut

router = APIRouter(prefix="/v1", tags=["ask"], dependencies=PROTECTED)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut}, 422: {"model": ErrorOut}, 429: {"model": ErrorOut},
    503: {"model": ErrorOut}, 504: {"model": ErrorOut},
}


@router.post("/ask", response_model=AnswerOut, response_model_exclude_none=True,
             responses=ERRORS)
async def ask(body: AskRequest, assistant: AssistantDep, settings: SettingsDep) -> dict:
    """Answer a question with verbatim citations (see the answer contract)."""
    ans = await answering.answer(assistant, body.question, settings.api, debug=body.debug)
    return ans.to_dict(debug=body.debug)
