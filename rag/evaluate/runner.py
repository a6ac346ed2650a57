"""Run a question set through an ``ask`` function, score every answer, aggregate, gate.

``ask`` is anything that maps a question to an answer dict: the in-process assistant, an HTTP
client of a running server, or the tutorial baseline. One failing question is recorded as a
failed row with zero scores; it never stops the run.
"""

from __future__ import annotations

import math
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluate.dataset import Question, load_questions
from rag.evaluate.scoring import Texts, score_answer

Ask = Callable[[str], Any]

#: Metrics of :attr:`EvalResult.summary` where lower is better; every other one is a floor.
CEILING_METRICS = ("latency_p50", "latency_p95", "failed")

#: Every metric name :attr:`EvalResult.summary` may hold, in report order.
METRICS = (
    "list_precision",
    "list_recall",
    "list_f1",
    "compare_precision",
    "compare_recall",
    "compare_f1",
    "fact_score",
    "fact_cited_rate",
    "none_accuracy",
    "found_accuracy",
    "citation_validity",
    "number_grounding",
    "recall_at_5",
    "recall_at_10",
    "recall_at_20",
    "mrr",
    "score",
    "latency_p50",
    "latency_p95",
    "questions",
    "failed",
)


@dataclass
class Row:
    """One question's outcome."""

    id: str
    kind: str
    question: str
    score: float
    scores: dict[str, float | None]
    issues: list[str]
    latency: float
    answer: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class EvalResult:
    """Rows plus aggregates: ``summary`` (flat, see :data:`METRICS`) and ``by_kind``."""

    name: str
    dataset: str
    rows: list[Row]
    summary: dict[str, float | int | None] = field(default_factory=dict)
    by_kind: dict[str, dict[str, float | int | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataset": self.dataset,
            "summary": dict(self.summary),
            "by_kind": {k: dict(v) for k, v in self.by_kind.items()},
            "rows": [asdict(r) for r in self.rows],
        }


def run_eval(
    dataset_path: str | Path,
    ask: Ask,
    texts: Texts,
    name: str,
    *,
    questions: Sequence[Question] | None = None,
    progress: Callable[[Row], None] | None = None,
) -> EvalResult:
    """Ask every question, score the answers and aggregate.

    Args:
        dataset_path: the JSONL question set (read unless ``questions`` is given).
        ask: question → answer dict of the contract (an object with ``to_dict`` also works).
        texts: source name → that file's text as read from disk, or ``None``.
        name: the run's name (usually the dataset's), used in reports and gates.
        questions: already loaded questions, to skip reading ``dataset_path``.
        progress: called with each row as it is scored.

    Returns:
        The scored rows and their aggregates.
    """
    qs = list(questions) if questions is not None else load_questions(dataset_path)
    cached = _memo(texts)
    rows = []
    for q in qs:
        row = _run_one(q, ask, cached)
        rows.append(row)
        if progress is not None:
            progress(row)
    result = EvalResult(name=name, dataset=str(dataset_path), rows=rows)
    result.summary, result.by_kind = aggregate(rows)
    return result


def _run_one(q: Question, ask: Ask, texts: Texts) -> Row:
    t0 = time.perf_counter()
    try:
        answer = ask(q.question)
        if hasattr(answer, "to_dict"):
            answer = answer.to_dict(debug=True)
        if not isinstance(answer, Mapping):
            raise TypeError(f"ask() returned {type(answer).__name__}, not an answer dict")
        answer = dict(answer)
    except Exception as e:  # the edge: one broken question must not stop the run
        latency = time.perf_counter() - t0
        error = f"{type(e).__name__}: {e}"
        zeros = _zero_scores(q, texts)
        return Row(q.id, q.kind, q.question, 0.0, zeros, [error], latency, None, error)
    latency = time.perf_counter() - t0
    s = score_answer(q, answer, texts)
    return Row(q.id, q.kind, q.question, s.score, s.scores, s.issues, latency, answer)


def _zero_scores(q: Question, texts: Texts) -> dict[str, float | None]:
    applicable = score_answer(q, {"found": True, "answer": "", "retrieved": []}, texts).scores
    zeros: dict[str, float | None] = {k: 0.0 for k, v in applicable.items() if v is not None}
    if q.kind == "none":
        zeros["none_correct"] = 0.0
    zeros["citation_validity"] = 0.0
    zeros["number_grounding"] = 0.0
    return zeros


def _memo(texts: Texts) -> Texts:
    cache: dict[str, str | None] = {}

    def cached(source: str) -> str | None:
        if source not in cache:
            cache[source] = texts(source)
        return cache[source]

    return cached


# --- aggregation ------------------------------------------------------------------------------


def _mean(rows: Sequence[Row], key: str) -> float | None:
    values = [r.scores[key] for r in rows if r.scores.get(key) is not None]
    return sum(values) / len(values) if values else None  # type: ignore[arg-type]


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear-interpolated percentile (``p`` in 0..100), ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def aggregate(rows: Sequence[Row]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Summary metrics over all rows, and per-kind means of every per-question score."""
    of = {kind: [r for r in rows if r.kind == kind] for kind in ("list", "compare", "fact", "none")}
    summary: dict[str, Any] = {
        "list_precision": _mean(of["list"], "precision"),
        "list_recall": _mean(of["list"], "recall"),
        "list_f1": _mean(of["list"], "f1"),
        "compare_precision": _mean(of["compare"], "precision"),
        "compare_recall": _mean(of["compare"], "recall"),
        "compare_f1": _mean(of["compare"], "f1"),
        "fact_score": _mean(of["fact"], "fact_score"),
        "fact_cited_rate": _mean(of["fact"], "fact_cited"),
        "none_accuracy": _mean(of["none"], "none_correct"),
        "found_accuracy": _mean(rows, "found_correct"),
        "citation_validity": _mean(rows, "citation_validity"),
        "number_grounding": _mean(rows, "number_grounding"),
        "recall_at_5": _mean(rows, "recall@5"),
        "recall_at_10": _mean(rows, "recall@10"),
        "recall_at_20": _mean(rows, "recall@20"),
        "mrr": _mean(rows, "mrr"),
        "score": sum(r.score for r in rows) / len(rows) if rows else None,
        "latency_p50": percentile([r.latency for r in rows], 50),
        "latency_p95": percentile([r.latency for r in rows], 95),
        "questions": len(rows),
        "failed": sum(r.error is not None for r in rows),
    }
    by_kind: dict[str, dict[str, Any]] = {}
    for kind, krows in of.items():
        if not krows:
            continue
        keys = dict.fromkeys(k for r in krows for k in r.scores)
        stats: dict[str, Any] = {"questions": len(krows)}
        stats["score"] = sum(r.score for r in krows) / len(krows)
        stats.update({k: _mean(krows, k) for k in keys})
        by_kind[kind] = stats
    return summary, by_kind


# --- gate -------------------------------------------------------------------------------------


def load_thresholds(path: str | Path) -> dict[str, Any]:
    """Read a thresholds TOML file: one table per dataset name, metric = bound."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read thresholds {path}: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"thresholds {path} is not valid TOML: {e}") from e


def check_gate(
    result: EvalResult, thresholds: Mapping[str, Any] | str | Path, dataset_name: str
) -> list[str]:
    """Compare a result with the thresholds of ``dataset_name``.

    Args:
        result: a finished run.
        thresholds: the loaded TOML document (or its path). The table named after the dataset
            is used, else ``[default]``. Bounds are floors, except :data:`CEILING_METRICS`.
        dataset_name: which table to use.

    Returns:
        One readable line per failure; empty when the gate passes. A metric the result does
        not have (no list questions in the set, say) is not a failure; an unknown name is.
    """
    if not isinstance(thresholds, Mapping):
        thresholds = load_thresholds(thresholds)
    table = thresholds.get(dataset_name, thresholds.get("default"))
    if not isinstance(table, Mapping):
        return [f"no [{dataset_name}] or [default] table in the thresholds"]
    failures = []
    for metric, bound in table.items():
        if metric not in METRICS:
            failures.append(f"{metric}: unknown metric (known: {', '.join(METRICS)})")
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            failures.append(f"{metric}: threshold {bound!r} is not a number")
            continue
        value = result.summary.get(metric)
        if value is None:
            continue
        if metric in CEILING_METRICS:
            if value > bound:
                failures.append(f"{metric} = {value:.3f}, above the limit {bound}")
        elif value < bound:
            failures.append(f"{metric} = {value:.3f}, below the threshold {bound}")
    return failures
