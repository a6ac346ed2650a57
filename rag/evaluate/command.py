"""``reportqa eval``: run a question set against the project (and the baseline), report, gate."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, ReportQAError
from rag.evaluate.dataset import Question, load_questions
from rag.evaluate.report import results_json, summary_markdown, write_reports
from rag.evaluate.runner import Row, check_gate, load_thresholds, run_eval
from rag.evaluate.scoring import Texts

#: Formats whose text is the decoded file itself, so they can be read without the store.
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ""}


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``eval`` subcommand; its handler is ``args.func(args) -> exit code``."""
    p = subparsers.add_parser(
        "eval",
        help="score answers to a question set (and compare with a tutorial RAG)",
        description="Ask every question of a JSONL question set, score the answers against "
        "the expected reports, facts and quotes, write report.md and results.json, and "
        "optionally fail (exit 1) under the thresholds of a gate file.",
    )
    p.add_argument("--dataset", type=Path, required=True, help="JSONL question set")
    p.add_argument("--corpus", type=Path, help="folder of reports to ingest first (idempotent)")
    p.add_argument(
        "--slice",
        type=Path,
        help="file listing paths under --corpus to use instead of all of it ('#' comments)",
    )
    p.add_argument("--store", type=Path, help="store folder (default: REPORTQA_STORE__PATH)")
    p.add_argument("--baseline", action="store_true", help="also run the tutorial RAG side by side")
    p.add_argument(
        "--json", action="store_true", help="print the full JSON results instead of the summary"
    )
    p.add_argument("--out", type=Path, help="report folder (default: .reportqa/eval/<name>)")
    p.add_argument("--url", help="ask a running server (POST {url}/v1/ask) instead of in process")
    p.add_argument("--gate", type=Path, help="thresholds TOML; exit 1 when a score is under them")
    p.add_argument("--name", help="run name and thresholds table (default: the dataset's stem)")
    p.add_argument(
        "--if-present", action="store_true", help="exit 0 quietly when the dataset file is absent"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Handle ``reportqa eval``; returns the exit code (0 ok, 1 gate failed, 2 error)."""
    try:
        return _run(args)
    except ReportQAError as e:
        print(f"reportqa eval: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.if_present and not args.dataset.exists():
        print(f"reportqa eval: {args.dataset} not present, skipped", file=sys.stderr)
        return 0
    questions = load_questions(args.dataset)
    thresholds = load_thresholds(args.gate) if args.gate else None
    if args.slice and not args.corpus:
        raise ConfigError("--slice needs --corpus")
    files = corpus_files(args.corpus, args.slice) if args.corpus else []
    if args.baseline and not files:
        raise ConfigError("--baseline needs --corpus: the baseline indexes the same files")

    from rag.config import get_settings

    settings = get_settings()
    assistant: Any = None
    if not args.url or args.baseline or args.store:
        from rag.pipeline import open_assistant

        assistant = open_assistant(settings, store_dir=args.store)
    try:
        return _evaluate(args, settings, assistant, questions, files, thresholds)
    finally:
        if hasattr(assistant, "close"):
            assistant.close()


def _evaluate(
    args: argparse.Namespace,
    settings: Any,
    assistant: Any,
    questions: list[Question],
    files: list[Path],
    thresholds: dict[str, Any] | None,
) -> int:
    name = args.name or args.dataset.stem
    out = args.out or Path(".reportqa/eval") / name
    if assistant is not None and files and not args.url:
        _say(f"ingesting {len(files)} files (already ingested ones are skipped)")
        assistant.ingest(files, manifest=settings.manifest)

    texts = source_texts(assistant, files)
    if args.url:
        ask = http_ask(args.url, settings.api.answer_timeout + 10, settings.api.api_keys)
    else:
        ask = in_process_ask(assistant)

    _say(f"asking {len(questions)} questions ({args.url or 'in process'})")
    result = run_eval(args.dataset, ask, texts, name, questions=questions, progress=_progress)

    baseline = None
    if args.baseline:
        embeddings = assistant.embeddings
        collection = "baseline-" + re.sub(r"[^A-Za-z0-9_-]", "", type(embeddings).__name__)[:40]
        from rag.evaluate.baseline import NaiveRAG  # Chroma and LangChain: only when asked

        rag = NaiveRAG(embeddings, out / "baseline-store", collection=collection)
        _say("indexing the baseline (chunks already indexed are skipped)")
        rag.ingest(files, read=lambda p: texts(p.name))
        _say("asking the baseline")
        baseline = run_eval(
            args.dataset,
            rag.ask,
            texts,
            f"{name} (baseline)",
            questions=questions,
            progress=_progress,
        )

    md, js = write_reports(out, result, baseline)
    print(results_json(result, baseline) if args.json else summary_markdown(result, baseline))
    _say(f"wrote {md} and {js}")

    if thresholds is not None:
        failures = check_gate(result, thresholds, name)
        if failures:
            print(f"gate failed for {name}:", file=sys.stderr)
            for line in failures:
                print(f"  - {line}", file=sys.stderr)
            return 1
        _say(f"gate passed for {name}")
    return 0


def corpus_files(corpus: Path, slice_file: Path | None = None) -> list[Path]:
    """The files to ingest: those listed in ``slice_file`` (relative to ``corpus``), or all
    non-hidden files under ``corpus``."""
    if not corpus.exists():
        raise ConfigError(f"corpus {corpus} does not exist")
    if corpus.is_file():
        return [corpus]
    if slice_file is None:
        return sorted(
            p
            for p in corpus.rglob("*")
            if p.is_file() and not any(s.startswith(".") for s in p.relative_to(corpus).parts)
        )
    try:
        lines = slice_file.read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read slice {slice_file}: {e.strerror or e}") from e
    wanted = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    files = [corpus / rel for rel in wanted]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"slice {slice_file} lists files that do not exist: {', '.join(missing)}")
    if not files:
        raise ConfigError(f"slice {slice_file} lists no files")
    return files


def source_texts(assistant: Any, files: Sequence[Path]) -> Texts:
    """Source name → text: the store's copy when there is an assistant, else the corpus file
    (text formats only: a PDF's offsets are into extracted text only the store has)."""
    by_name = {p.name: p for p in files}

    def texts(source: str) -> str | None:
        if assistant is not None:
            try:
                text = assistant.source_text(source)
            except ReportQAError as e:
                _say(f"cannot read {source} from the store: {e}")
                text = None
            if text is not None:
                return text
        path = by_name.get(source)
        if path is not None and path.suffix.lower() in TEXT_SUFFIXES:
            from rag.evaluate.baseline import read_text

            return read_text(path)
        return None

    return texts


def in_process_ask(assistant: Any) -> Callable[[str], dict[str, Any]]:
    """An ``ask`` over the assistant: its answer with diagnostics, as a dict."""

    def ask(question: str) -> dict[str, Any]:
        answer: dict[str, Any] = assistant.ask(question, debug=True).to_dict(debug=True)
        return answer

    return ask


def http_ask(
    url: str, timeout: float, api_keys: Sequence[str] = ()
) -> Callable[[str], dict[str, Any]]:
    """An ``ask`` that POSTs ``{"question", "debug": true}`` to ``{url}/v1/ask``."""
    import httpx

    endpoint = url.rstrip("/") + "/v1/ask"
    headers = {"Authorization": f"Bearer {api_keys[0]}"} if api_keys else {}
    client = httpx.Client(timeout=timeout, headers=headers)

    def ask(question: str) -> dict[str, Any]:
        r = client.post(endpoint, json={"question": question, "debug": True})
        if r.status_code >= 400:
            raise RuntimeError(f"HTTP {r.status_code} from {endpoint}: {r.text[:300]}")
        data = r.json()
        if not isinstance(data, dict):
            raise RuntimeError(f"{endpoint} answered {type(data).__name__}, not an answer object")
        return data

    return ask


def _progress(row: Row) -> None:
    status = f"error: {row.error}" if row.error else f"score {row.score:.2f}"
    _say(f"  {row.id} [{row.kind}] {status} ({row.latency:.1f} s)")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
