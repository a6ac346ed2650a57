"""Public request and response models of the HTTP API (the answer contract, OpenAI chat)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_text(value: str) -> str:
    """Refuse lone surrogates (``"\\ud800"`` in JSON): they are not text, and nothing
    downstream can encode them. (Pydantic refuses them in ``str`` fields by itself; this is
    for text inside free-form values.)"""
    if m := _SURROGATE.search(value):
        raise ValueError(f"contains a lone surrogate (U+{ord(m.group()):04X} at {m.start()}): "
                         "not valid Unicode text")
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty or only spaces: put the question in it")
    return value



class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The upper bound is the server's setting (REPORTQA_API__MAX_QUESTION_CHARS): checked by
    # api.answering and written into the OpenAPI document by api.main.
    question: Annotated[str, AfterValidator(not_blank)] = Field(
        ..., min_length=1, json_schema_extra={"pattern": r"\S"},
        description="The question, in Chinese or English")
    debug: StrictBool = Field(False, description="Include the retrieved chunks")


class CitationOut(BaseModel):
    id: int
    source: str = Field(..., description="File name of the report, as ingested")
    doc_id: str
    region: str
    report_year: int | None
    covered_year: int | None
    section: str
    quote: str = Field(..., description="Verbatim: the report's text[start:end]")
    start: int
    end: int


class ItemOut(BaseModel):
    entity: str
    citations: list[int]


class AnswerOut(BaseModel):
    """The answer contract (``shared/eval/README.md``)."""

    question: str
    answer: str = Field(..., description="Markdown with [n] citation markers")
    found: bool
    mode: str
    kind: str
    citations: list[CitationOut]
    items: list[ItemOut]
    notes: list[str] = []
    retrieved: list[dict[str, Any]] | None = None


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""

    @model_validator(mode="after")
    def _parts_are_text(self) -> ChatMessage:
        unicode_text(self.text())
        return self


class ChatRequest(BaseModel):
    """OpenAI ``/v1/chat/completions`` request; sampling parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("reportqa", max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: StrictBool = False


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut]


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatChoiceMessage
    finish_reason: str = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage = Usage()
    citations: list[CitationOut] = Field(..., description="Same as choices[0].message.citations")
    question: str = Field(..., description="The question answered, follow-ups resolved")
    found: bool


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "reportqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class DocumentOut(BaseModel):
    source: str
    doc_id: str
    title: str | None
    province: str | None
    city: str | None
    district: str | None
    level: str | None
    region: str
    report_date: str | None
    report_year: int | None
    chunks: int
    covered_years: list[int]
    status: str = Field(..., description="parsed (searchable by words) or complete (embedded)")
    notes: list[str]
    inferred: list[str] = Field(
        default_factory=list, description="Region fields inferred from the places the text names")
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="Those names and their offsets (name, start, end)")


class JobOut(BaseModel):
    id: str
    source: str
    status: Literal["queued", "running", "done", "failed"]
    created: float
    started: float | None = None
    finished: float | None = None
    summary: dict[str, Any] | None = Field(None, description="The ingest summary when done")
    error: str | None = Field(None, description="Why the job failed")
    progress: dict[str, dict[str, Any]] | None = Field(
        None, description="Per phase (parse, embed, index): done, total, chunks, rate (per "
        "second), eta (seconds), finished, and the same as one line")


class Deleted(BaseModel):
    deleted: str
    doc_id: str


class Health(BaseModel):
    status: Literal["up", "ready", "degraded", "unavailable"]
    detail: str | None = Field(None, description="Why the server is not ready yet")
    degraded: dict[str, str] | None = Field(
        None, description="Parts that are down while the API answers (vectors, slack, llm), "
        "each with the reason and what answers do meanwhile")


class ErrorIssue(BaseModel):
    loc: list[str | int] = Field(..., description="Where: body, query or path, then the field")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer: a readable reason; 422s also list each invalid field."""

    detail: str = Field(..., description="What was wrong, and what to do about it")
    error: str | None = Field(None, description="The error's type, when the server raised one")
    errors: list[ErrorIssue] | None = Field(None, description="Each invalid field (422)")


ERROR_TEXT = {
    400: "Malformed request (body or headers)", 401: "Missing or wrong API key",
    404: "Not found", 409: "Conflicts with what exists", 413: "Body over the size limit",
    415: "Unsupported file type", 422: "Invalid request: see errors", 429: "Rate limited",
    503: "The store or a part it needs is not available yet", 504: "The answer took too long",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these status codes, each an :class:`ErrorOut`."""
    return {code: {"model": ErrorOut, "description": ERROR_TEXT[code]} for code in codes}
