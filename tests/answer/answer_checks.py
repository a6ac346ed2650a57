"""The honesty check of written answers, shared by the LLM tests."""

from __future__ import annotations

import re

from rag.answer.validate import numbers_in


def assert_honest(answer: dict) -> None:
    """Every figure of the answer text is in a quote it cites (or is a shown year or name)."""
    text = answer["answer"]
    allowed: set[str] = set()
    for c in answer["citations"]:
        text = text.replace(c["region"], " ").replace(c["source"], " ")
        allowed |= set(numbers_in(c["quote"])) | set(numbers_in(c["quote"], grouped=False))
        allowed |= {str(y) for y in (c["report_year"], c["covered_year"]) if y is not None}
    allowed |= {n.rstrip("%") for n in allowed}
    body = "\n".join(
        re.sub(r"^\s*(?:[-*]\s*)?\d{1,2}[.、)）](?!\d)", "", line) for line in text.splitlines()
    )
    unsupported = [n for n in numbers_in(body) if n not in allowed]
    assert not unsupported, f"numbers not in any cited quote: {unsupported}\n{answer['answer']}"
