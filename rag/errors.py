"""Errors that tell the operator what to do.

ReportQAError
 ├── ConfigError        a setting is missing or wrong: fix the environment or flags
 │    └── SettingsError a REPORTQA_* variable is wrong: one line each, with the right form
 ├── LoadError          one input file cannot be read: it is skipped, the batch goes on
 ├── StoreError         the store is missing, locked or inconsistent: re-run ingest
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


class EmbeddingError(ReportQAError):
    help = "check the embedding backend settings (REPORTQA_EMBED__*)"


class LLMError(ReportQAError):
    help = "the extractive answer is used instead"


class QuestionError(ReportQAError):
    help = "ask a non-empty question within the length limit"
