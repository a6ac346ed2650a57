"""The ``reportqa`` command: ingest, docs, rm, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from rag.config import get_settings
from rag.errors import ConfigError, ReportQAError
from rag.text.lexicon import lexicon


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, default=None, help="store folder (default: settings)")


def _store_dir(args) -> Path:
    """The store folder, made if missing, or a one-line error saying how to choose another."""
    path = Path(args.store or get_settings().store.path)
    how = "choose a writable folder with --store DIR or REPORTQA_STORE__PATH=DIR"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"the store {path} is a file, not a folder; {how}", help="")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot make the store folder {path}: {exc.strerror}; {how}",
                          help="") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"the store folder {path} is not writable; {how}", help="")
    return path


def _open(args):
    from rag.pipeline import open_assistant

    settings = get_settings()
    return open_assistant(settings, _store_dir(args))


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
            section = lexicon().section_short(c.section)
            print(f"[{c.id}] {c.region}，{c.report_year or '?'}年报告{covered}，{section}"
                  f" — {c.source}:{c.start}-{c.end}\n    “{c.quote}”")
    for note in answer.notes:
        print(f"({note})")
    return 0


def _check_listen(host: str, port: int) -> None:
    """Fail in one line, before the server starts, when it could not listen there."""
    import socket

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port} is not a TCP port; the right form: --port 8080 "
                          "(1-65535)", help="")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, OverflowError, UnicodeError) as exc:
        raise ConfigError(f"--host {host} --port {port}: {getattr(exc, 'strerror', None) or exc};"
                          " the right form: --host 127.0.0.1 (0.0.0.0: every interface)"
                          " --port 8080", help="") from None
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            s.bind(address)
        except (OSError, OverflowError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"cannot listen on {host}:{port}: {why}; choose another --port "
                              "(or --host)", help="") from None


def cmd_serve(args) -> int:
    import uvicorn

    from api.main import create_app

    get_settings()  # a wrong setting fails here, in one line, not in the server's thread
    _check_listen(args.host, args.port)
    app = create_app(store_dir=_store_dir(args))
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from rag.settings_check import settings_help

    parser = argparse.ArgumentParser(prog="reportqa", description=__doc__,
                                     epilog=settings_help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, and the traceback of an unexpected error")
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
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except Exception as exc:  # the edge: one line, the traceback only when asked for
        if args.verbose:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
