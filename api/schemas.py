"""Public request and response models of the HTTP API (the answer contract, OpenAI chat)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The question, in Chinese or English")
    debug: bool = Field(False, description="Include the retrieved chunks")


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


class ChatRequest(BaseModel):
    """OpenAI ``/v1/chat/completions`` request; sampling parameters are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = "reportqa"
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False


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
    status: str
    detail: str | None = None


class ErrorOut(BaseModel):
    detail: str
