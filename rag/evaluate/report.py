"""Reports of a run: a Markdown summary (project and baseline side by side) and full JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.evaluate.runner import EvalResult

#: (summary key, label) in table order.
SUMMARY_ROWS = (
    ("list_precision", "list precision"),
    ("list_recall", "list recall"),
    ("list_f1", "list F1"),
    ("compare_precision", "compare precision"),
    ("compare_recall", "compare recall"),
    ("compare_f1", "compare F1"),
    ("fact_score", "fact score"),
    ("fact_cited_rate", "fact cited-doc rate"),
    ("none_accuracy", "none accuracy"),
    ("citation_validity", "citation validity"),
    ("number_grounding", "number grounding"),
    ("recall_at_5", "recall@5"),
    ("recall_at_10", "recall@10"),
    ("recall_at_20", "recall@20"),
    ("mrr", "MRR"),
    ("latency_p50", "latency p50"),
    ("latency_p95", "latency p95"),
    ("questions", "questions"),
    ("failed", "failed questions"),
)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key.startswith("latency"):
        return f"{value:.2f} s"
    if key in ("questions", "failed"):
        return str(value)
    return f"{value:.3f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """The summary table: one column for the project and, when given, one for the baseline."""
    runs = [("reportqa", result)] + ([("baseline", baseline)] if baseline else [])
    lines = [
        f"## Evaluation: {result.name}",
        "",
        "| metric | " + " | ".join(label for label, _ in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for key, label in SUMMARY_ROWS:
        cells = [_fmt(key, run.summary.get(key)) for _, run in runs]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def questions_markdown(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """Per-question table: id, kind, score (and the baseline's), what went wrong."""
    base = {r.id: r for r in baseline.rows} if baseline else {}
    head = "| id | kind | score |" + (" baseline |" if baseline else "") + " errors |"
    lines = ["## Questions", "", head, "|---|---|---:|" + ("---:|" if baseline else "") + "---|"]
    for r in result.rows:
        cells = [_cell(r.id), r.kind, f"{r.score:.2f}"]
        if baseline:
            b = base.get(r.id)
            cells.append(f"{b.score:.2f}" if b else "–")
        cells.append(_cell("; ".join(r.issues)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """The whole Markdown report."""
    return (
        summary_markdown(result, baseline)
        + f"\nDataset: `{result.dataset}`\n\n"
        + questions_markdown(result, baseline)
    )


def results_json(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """Everything, including every answer: ``{"project": ..., "baseline": ... | null}``."""
    doc = {"project": result.to_dict(), "baseline": baseline.to_dict() if baseline else None}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def write_reports(
    out_dir: str | Path, result: EvalResult, baseline: EvalResult | None = None
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``results.json`` under ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "report.md", out / "results.json"
    md.write_text(render_markdown(result, baseline), encoding="utf-8")
    js.write_text(results_json(result, baseline) + "\n", encoding="utf-8")
    return md, js
