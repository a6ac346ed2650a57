"""Question sets: JSON Lines in the schema of ``shared/eval/README.md``, loaded and checked.

Each line is one question::

    {"id": "d01", "question": "...", "kind": "list",
     "expect": {"docs": [...], "optional_docs": [...], "facts": [...]},
     "evidence": [{"doc": "...", "quote": "..."}]}

``expect`` may be ``{}`` (for ``none`` questions); ``optional_docs`` and ``facts`` are optional.
Keys this schema does not name are ignored, so later additions do not break older harnesses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ReportQAError

KINDS = ("list", "fact", "compare", "none")


class DatasetError(ReportQAError):
    """A question set cannot be read: the message names the file and line."""

    help = "fix that line of the question set and run again"


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class Expect:
    docs: tuple[str, ...] = ()
    optional_docs: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    kind: str
    expect: Expect = field(default_factory=Expect)
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "kind": self.kind,
            "expect": {
                "docs": list(self.expect.docs),
                "optional_docs": list(self.expect.optional_docs),
                "facts": list(self.expect.facts),
            },
            "evidence": [{"doc": e.doc, "quote": e.quote} for e in self.evidence],
        }


def load_questions(path: str | Path) -> list[Question]:
    """Read and validate a question set.

    Args:
        path: a ``.jsonl`` file; blank lines are skipped.

    Returns:
        The questions in file order.

    Raises:
        DatasetError: the file is missing or empty, a line is not JSON, a field is missing or
            of the wrong type, a kind is unknown, or an id repeats. The message names the line.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise DatasetError(f"{path}: cannot read question set: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text") from e

    questions: list[Question] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from e
        q = parse_question(obj, where)
        if q.id in seen:
            raise DatasetError(f"{where}: id {q.id!r} already used on line {seen[q.id]}")
        seen[q.id] = lineno
        questions.append(q)
    if not questions:
        raise DatasetError(f"{path}: no questions in the file")
    return questions


def parse_question(obj: Any, where: str = "question") -> Question:
    """Validate one decoded JSON object; ``where`` prefixes every error message."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    for key in ("id", "question", "kind", "expect", "evidence"):
        if key not in obj:
            raise DatasetError(f"{where}: missing field {key!r}")

    qid = obj["id"]
    if isinstance(qid, bool) or not isinstance(qid, str | int) or str(qid).strip() == "":
        raise DatasetError(f"{where}: 'id' must be a non-empty string")
    qid = str(qid)
    where = f"{where} (id {qid})"

    text = obj["question"]
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")

    kind = obj["kind"]
    if kind not in KINDS:
        raise DatasetError(f"{where}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")

    expect_obj = obj["expect"]
    if not isinstance(expect_obj, dict):
        raise DatasetError(f"{where}: 'expect' must be an object (it may be {{}})")
    docs = _strings(expect_obj.get("docs", []), f"{where}: 'expect.docs'")
    optional = _strings(expect_obj.get("optional_docs", []), f"{where}: 'expect.optional_docs'")
    facts = _strings(expect_obj.get("facts", []), f"{where}: 'expect.facts'")
    if kind != "none" and not docs:
        raise DatasetError(f"{where}: a {kind!r} question needs 'expect.docs'")

    evidence_obj = obj["evidence"]
    if not isinstance(evidence_obj, list):
        raise DatasetError(f"{where}: 'evidence' must be a list")
    evidence = []
    for i, ev in enumerate(evidence_obj):
        if (
            not isinstance(ev, dict)
            or not isinstance(ev.get("doc"), str)
            or not isinstance(ev.get("quote"), str)
            or not ev["quote"]
        ):
            raise DatasetError(f"{where}: evidence[{i}] must be {{'doc': str, 'quote': str}}")
        evidence.append(Evidence(doc=ev["doc"], quote=ev["quote"]))

    return Question(
        id=qid,
        question=text,
        kind=kind,
        expect=Expect(docs=docs, optional_docs=optional, facts=facts),
        evidence=tuple(evidence),
    )


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DatasetError(f"{what} must be a list of non-empty strings")
    return tuple(value)
