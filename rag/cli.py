"""The ``reportqa`` command: ingest, docs, rm, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from rag.config import get_settings
from rag.errors import ReportQAError

SECTION_NAMES = {"review": "回顾", "review_multi": "五年回顾", "plan": "工作安排",
                 "targets": "预期目标", "annex": "附注", "other": "其他"}


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, default=None, help="store folder (default: settings)")


def _open(args):
    from rag.pipeline import open_assistant

    return open_assistant(get_settings(), args.store)


def _progress(args):
    """A bar on a terminal; plain lines every few seconds into a log file or a pipe."""
    from rag.ingest.progress import Progress

    if sys.stderr.isatty():
        return Progress(bar=not args.json)
    return Progress(stream=sys.stderr, every=get_settings().progress_every)


def cmd_ingest(args) -> int:
    assistant = _open(args)
    report = assistant.ingest(
        args.paths, args.manifest, embed=not args.no_embed, dry_run=args.dry_run,
        progress=_progress(args),
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary())
    return 0


def cmd_docs(args) -> int:
    assistant = _open(args)
    docs = [d.to_dict() for d in assistant.documents()]
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    for d in docs:
        where = d["region"] + ("" if d["district"] or d["level"] not in ("district", "county")
                               else "（区县名未写明）")
        if d["inferred"]:  # which names, at which offsets, the region was inferred from
            said = "、".join(f"{e['name']}@{e['start']}" for e in d["evidence"])
            where += f"（据正文地名推断：{said}）"
        years = ",".join(str(y) for y in d["covered_years"])
        print(f"{d['source']}\t{where}\t{d['level'] or '?'}\t报告{d['report_year'] or '?'}年"
              f"\t涉及{years or '?'}\t{d['chunks']}块\t{d['status']}")
    return 0


def cmd_rm(args) -> int:
    assistant = _open(args)
    missing = [k for k in args.keys if not assistant.delete(k)]
    for k in missing:
        print(f"no such report: {k}", file=sys.stderr)
    return 1 if missing else 0


def cmd_ask(args) -> int:
    assistant = _open(args)
    answer = assistant.ask(args.question, debug=args.debug)
    if args.json:
        print(json.dumps(answer.to_dict(debug=args.debug), ensure_ascii=False, indent=2))
        return 0
    print(answer.answer)
    if answer.citations:
        print()
        for c in answer.citations:
            covered = f"，涉及{c.covered_year}年" if c.covered_year else ""
            section = SECTION_NAMES.get(c.section, c.section)
            print(f"[{c.id}] {c.region}，{c.report_year or '?'}年报告{covered}，{section}"
                  f" — {c.source}:{c.start}-{c.end}\n    “{c.quote}”")
    for note in answer.notes:
        print(f"({note})")
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from api.main import create_app

    app = create_app(store_dir=args.store)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reportqa", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add reports (files or folders) to the store")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--manifest", type=Path, default=None, help="CSV/TSV/JSON sidecar manifest")
    p.add_argument("--no-embed", action="store_true", help="parse only: searchable by words")
    p.add_argument("--dry-run", action="store_true", help="parse and chunk, store nothing")
    p.add_argument("--json", action="store_true")
    _store_arg(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("docs", help="list the reports in the store")
    p.add_argument("--json", action="store_true")
    _store_arg(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("rm", help="delete reports (by source name or doc_id) from the store")
    p.add_argument("keys", nargs="+")
    _store_arg(p)
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.add_argument("--debug", action="store_true", help="include the retrieved chunks")
    _store_arg(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="HTTP API, chat page and Slack endpoint")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    _store_arg(p)
    p.set_defaults(func=cmd_serve)

    try:
        from rag.evaluate.command import register
    except ImportError:
        pass
    else:
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BrokenPipeError:
        return 0
    except ReportQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
