"""Answering off the event loop, within the configured time and question length."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from api.schemas import unicode_text
from rag.config import APISettings
from rag.errors import QuestionError
from rag.models import Answer
from rag.pipeline import Assistant


class AnswerTimeout(Exception):
    """The answer took longer than ``settings.api.answer_timeout``."""


def check_question(question: str, settings: APISettings) -> str:
    """The question stripped, or a :class:`QuestionError` saying what is wrong with it.

    The length is that of the question as sent, as the OpenAPI document's ``maxLength``.
    """
    question = question or ""
    if len(question) > settings.max_question_chars:
        raise QuestionError(
            f"the question has {len(question)} characters; the limit is "
            f"{settings.max_question_chars}"
        )
    try:
        unicode_text(question)
    except ValueError as exc:
        raise QuestionError(f"the question {exc}") from exc
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty")
    return question


async def answer(assistant: Assistant, question: str, settings: APISettings,
                 debug: bool = False) -> Answer:
    """Answer in a worker thread; raise :class:`AnswerTimeout` past the time limit."""
    question = check_question(question, settings)
    try:
        return await asyncio.wait_for(
            run_in_threadpool(assistant.ask, question, debug), settings.answer_timeout
        )
    except TimeoutError as exc:
        raise AnswerTimeout(
            f"no answer within {settings.answer_timeout:g} s; try a narrower question"
        ) from exc
