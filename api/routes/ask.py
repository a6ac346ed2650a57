"""``POST /v1/ask``: one question, the answer contract back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import answering
from api.deps import PROTECTED, AssistantDep, SettingsDep
from api.schemas import AnswerOut, AskRequest, error_responses

router = APIRouter(prefix="/v1", tags=["ask"], dependencies=PROTECTED)

# Of every route that answers a question (chat too).
ERRORS: dict[int | str, dict[str, Any]] = error_responses(400, 401, 413, 422, 429, 503, 504)


@router.post("/ask", response_model=AnswerOut, response_model_exclude_none=True,
             responses=ERRORS)
async def ask(body: AskRequest, assistant: AssistantDep, settings: SettingsDep) -> dict:
    """Answer a question with verbatim citations (see the answer contract)."""
    ans = await answering.answer(assistant, body.question, settings.api, debug=body.debug)
    return ans.to_dict(debug=body.debug)
