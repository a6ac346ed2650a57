"""Errors that tell the operator what to do.

ReportQAError
 ├── ConfigError        a setting is missing or wrong: fix the environment or flags
 │    └── SettingsError a REPORTQA_* variable is wrong: one line each, with the right form
 ├── LoadError          one input file cannot be read: it is skipped, the batch goes on
 ├── StoreError         the store is missing, locked or inconsistent: re-run ingest
 │    └── VectorsUnavailable  Chroma cannot be reached: answers use words alone meanwhile
 ├── DiskFull           a write found the disk full: free space, then retry
 ├── EmbeddingError     the embedding backend failed: check the model or endpoint
 ├── LLMError           the chat model failed or timed out: the extractive answer is used
 └── QuestionError      the question is empty or too long: rephrase it
"""

from __future__ import annotations


class ReportQAError(Exception):
    """Base of every error the project raises on purpose."""

    help = ""

    def __init__(self, *args: object, help: str | None = None) -> None:
        super().__init__(*args)
        if help is not None:  # a message that already says what to do needs no more
            self.help = help

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} ({self.help})" if self.help else msg


class ConfigError(ReportQAError):
    help = "check REPORTQA_* environment variables and command-line flags"


class SettingsError(ConfigError):
    """One line per wrong variable: its name, what was wrong, the right form."""

    help = "`reportqa --help` lists the settings"


class LoadError(ReportQAError):
    """A file could not be read; carries the path and the reason."""

    help = "the file is skipped; fix or remove it and ingest again"

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(ReportQAError):
    help = "run `reportqa ingest` again; it completes or repairs the store"


class VectorsUnavailable(StoreError):
    """Chroma is stopped, unreachable or failing; the store keeps answering by words."""

    help = "start the Chroma server or check REPORTQA_STORE__CHROMA_*; it is retried by itself"


class DiskFull(ReportQAError):
    """A write failed for want of disk space (nothing is damaged)."""

    help = "free disk space on the store's volume, then retry"


class EmbeddingError(ReportQAError):
    help = "check the embedding backend settings (REPORTQA_EMBED__*)"


class LLMError(ReportQAError):
    help = "the extractive answer is used instead"


class QuestionError(ReportQAError):
    help = "ask a non-empty question within the length limit"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError or a sqlite3 error) means the disk or quota is full."""
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return False
