"""Parse, describe, section, chunk and tokenize a whole corpus without storing or embedding.

    python -m bench.dry_run [--corpus ../shared/corpus/cities] [--workers 2] [--limit N]
                            [--no-manifest] [--no-ingestor]

Measures the CPU-bound first phase of ingestion on its own: time, reports/s, chunks,
failures with their reasons (a crash is counted, never raised), reports whose province,
city or year stayed unknown, and peak memory; then the same files once more through
``Ingestor.run(dry_run=True)``, the path ``reportqa ingest`` takes.
Writes ``bench/results/dry_run.json``
(``dry_run_w<N>.json`` for another worker count, ``dry_run_no_manifest.json`` when the
metadata comes from the texts and file names alone, ``dry_run_limit.json`` with --limit).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from multiprocessing import get_context
from pathlib import Path

from bench.common import CITIES, peak_rss_mb, write_result

_INGESTOR = None


def _init(manifest: str | None, max_tokens: int, overlap: int) -> None:
    global _INGESTOR
    from rag.config import ChunkSettings
    from rag.ingest.pipeline import Ingestor

    chunking = ChunkSettings(max_tokens=max_tokens, overlap_tokens=overlap)
    # Parsing needs neither a store nor an embedder.
    _INGESTOR = Ingestor(None, None, chunking, manifest=Path(manifest) if manifest else None)


def _parse_one(args: tuple[str, str]) -> dict:
    from rag.errors import LoadError, ReportQAError
    from rag.tokens import count_tokens

    path, source = args
    t0 = time.perf_counter()
    out: dict = {"source": source}
    try:
        parsed = _INGESTOR.parse(Path(path), source)
    except LoadError as exc:
        out["skipped"] = exc.reason
    except ReportQAError as exc:
        out["skipped"] = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - the benchmark's job is to count crashes
        out["crashed"] = f"{type(exc).__name__}: {exc}"
    else:
        m = parsed.meta
        budget = _INGESTOR.chunking.max_tokens
        out.update(
            chunks=len(parsed.chunks),
            chars=len(parsed.doc.text),
            level=m.level,
            province=m.province,
            city=m.city,
            year=m.report_year,
            over_budget=sum(count_tokens(c.text) > budget for c in parsed.chunks),
            sections=len(parsed.sections),
        )
    out["seconds"] = time.perf_counter() - t0
    out["rss_mb"] = peak_rss_mb()
    return out


def files_of(corpus: Path, manifest: Path | None) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, source) of every report, and the files left out because no manifest row names
    them (a corpus's README or SOURCE.md). Sources are paths relative to the corpus."""
    from rag.ingest.manifest import load_manifest
    from rag.ingest.pipeline import discover

    found = [(str(p), p.relative_to(corpus).as_posix()) for p in discover([corpus])]
    if manifest is None:
        return found, []
    rows = load_manifest(manifest)
    listed = [f for f in found if rows.get(f[1]) is not None]
    return listed, [s for _, s in found if rows.get(s) is None]


def time_ingestor(files: list[tuple[str, str]], manifest: Path | None, args) -> dict:
    """The same files through ``Ingestor.run(dry_run=True)``: the product's own path, whose
    workers send every parsed report (text, chunks, tokens) back to the main process."""
    from rag.config import ChunkSettings
    from rag.ingest.pipeline import Ingestor

    chunking = ChunkSettings(max_tokens=args.max_tokens, overlap_tokens=args.overlap_tokens)
    ingestor = Ingestor(None, None, chunking, manifest=manifest, workers=args.workers)
    t0 = time.perf_counter()
    report = ingestor.run([Path(p) for p, _ in files], dry_run=True)
    seconds = time.perf_counter() - t0
    return {
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "reports_per_second": round(len(files) / seconds, 2) if seconds else None,
        "parsed": len(report.added),
        "chunks": report.chunks_added,
        "skipped": [{"source": s, "reason": r} for s, r in report.skipped],
        "peak_rss_mb_main": peak_rss_mb(),
    }


def compare_with_manifest(rows: list[dict], listing: Path) -> dict:
    """How often metadata read from the text alone differs from the manifest's (when both
    are known), with a few examples of each."""
    from rag.ingest.manifest import load_manifest

    manifest = load_manifest(listing)
    out: dict = {}
    for key, col in (("province", "province"), ("city", "city"), ("year", "year")):
        wrong, unknown = [], 0
        for r in rows:
            m = manifest.get(r["source"])
            expected = getattr(m, col) if m else None
            if key == "city" and m is not None and not (m.level or "").startswith("city"):
                continue
            if expected is None:
                continue
            if r[key] is None:
                unknown += 1
            elif r[key] != expected:
                wrong.append(f"{r['source']}: {r[key]} != {expected}")
        out[key] = {"differs": len(wrong), "unknown": unknown, "examples": wrong[:8]}
    return out


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CITIES)
    ap.add_argument("--workers", type=int, default=2, help="parse processes (1 = in process)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files")
    ap.add_argument("--no-manifest", action="store_true",
                    help="ignore the corpus manifest: metadata from text and file name only")
    ap.add_argument("--no-ingestor", action="store_true",
                    help="skip timing the same files through Ingestor.run(dry_run=True)")
    ap.add_argument("--max-tokens", type=int, default=320)
    ap.add_argument("--overlap-tokens", type=int, default=40)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found; nothing to measure", file=sys.stderr)
        return 0

    from rag.ingest.pipeline import find_manifest

    corpus = args.corpus.resolve()
    listing = find_manifest([corpus])
    files, unlisted = files_of(corpus, listing)  # the manifest still says what is a report
    manifest = None if args.no_manifest else listing
    if args.limit:
        files = files[: args.limit]
    init = (str(manifest) if manifest else None, args.max_tokens, args.overlap_tokens)

    t0 = time.perf_counter()
    if args.workers <= 1:
        _init(*init)
        rows = [_parse_one(f) for f in files]
    else:
        ctx = get_context("fork")
        with ctx.Pool(args.workers, initializer=_init, initargs=init) as pool:
            rows = list(pool.imap_unordered(_parse_one, files, chunksize=4))
    seconds = time.perf_counter() - t0

    ok = [r for r in rows if "chunks" in r]
    skipped = [{"source": r["source"], "reason": r["skipped"]} for r in rows if "skipped" in r]
    crashed = [{"source": r["source"], "error": r["crashed"]} for r in rows if "crashed" in r]
    by_level = Counter(r["level"] or "unknown" for r in ok)
    # A province-level report has no city; only reports below province level need one.
    city_expected = [r for r in ok if r["level"] not in ("national", "province")]
    slowest = sorted(rows, key=lambda r: -r["seconds"])[:5]
    result = {
        "corpus": str(args.corpus),
        "workers": args.workers,
        "chunking": {"max_tokens": args.max_tokens, "overlap_tokens": args.overlap_tokens},
        "manifest": str(manifest) if manifest else None,
        "files": len(files),
        "not_in_manifest": unlisted,
        "parsed": len(ok),
        "seconds": round(seconds, 1),
        "reports_per_second": round(len(files) / seconds, 2) if seconds else None,
        "cpu_seconds_per_report": round(sum(r["seconds"] for r in rows) / max(1, len(rows)), 3),
        "chunks": sum(r["chunks"] for r in ok),
        "chunks_per_report": round(sum(r["chunks"] for r in ok) / max(1, len(ok)), 1),
        "chunks_over_token_budget": sum(r["over_budget"] for r in ok),
        "chars": sum(r["chars"] for r in ok),
        "failures": len(skipped) + len(crashed),
        "skipped": skipped,
        "crashed": crashed,
        "levels": dict(by_level.most_common()),
        "unknown": {
            "province": sum(r["province"] is None and r["level"] != "national" for r in ok),
            "city": sum(r["city"] is None for r in city_expected),
            "year": sum(r["year"] is None for r in ok),
            "level": by_level.get("unknown", 0),
        },
        "unknown_examples": {
            "province": [r["source"] for r in ok
                         if r["province"] is None and r["level"] != "national"][:10],
            "city": [r["source"] for r in city_expected if r["city"] is None][:10],
            "year": [r["source"] for r in ok if r["year"] is None][:10],
        },
        "slowest": [{"source": r["source"], "seconds": round(r["seconds"], 2)} for r in slowest],
        "peak_rss_mb": {
            "main": peak_rss_mb(),
            "largest_worker": max((r["rss_mb"] for r in rows), default=None),
        },
    }
    if not args.no_ingestor:
        result["ingestor_run"] = time_ingestor(files, manifest, args)
    if args.no_manifest and listing is not None:
        result["disagrees_with_manifest"] = compare_with_manifest(ok, listing)
    name = "dry_run" if args.workers == 2 else f"dry_run_w{args.workers}"
    if args.no_manifest:
        name = name.replace("dry_run", "dry_run_no_manifest")
    if args.limit:
        name = "dry_run_limit"
    print(
        f"{len(files)} files in {seconds:.1f}s ({result['reports_per_second']} reports/s, "
        f"{args.workers} workers): {result['chunks']} chunks, {result['failures']} failures "
        f"({len(crashed)} crashes); unknown {result['unknown']}; "
        f"peak RSS {result['peak_rss_mb']}"
    )
    write_result(name, result, "bench.dry_run", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
