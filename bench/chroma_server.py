"""Chroma behind a ``chroma run`` server against embedded Chroma, through ``VectorIndex``.

    python -m bench.chroma_server [--store DIR] [--reports N] [--queries Q]

The payload is real: the chunks of ``--reports`` reports (every k-th report by source, so the
slice is fixed) from an existing store's catalog (``--store``, default the full-corpus lexical
store ``bench.lexical_ready --store`` keeps; read from a copy), with the ids and metadata
ingestion writes to Chroma (``rag/ingest/pipeline.py``; texts stay in the catalog). The vectors
are random unit vectors of 384 dimensions (seed 0): their values change neither transport nor
storage cost, so this measures the store, not the embedder. ``chroma run`` listens on 127.0.0.1
(a free port, data in a temporary folder); an embedded ``PersistentClient`` writes to another.
Each gets a fresh collection, and the two are measured in the same run, taking turns step by
step so that load from other work falls on both alike:

1. writes: every chunk upserted in the batches ingestion uses → chunks/s, set against the
   embedder's rate in ``bench/results/ingest.json`` (could writes ever be the bottleneck?);
2. the exact path of filtered questions: ``VectorIndex.vectors`` of all chunks of 10 random
   reports on a fresh index (empty cache), then ``search`` over them (warm) → p50/p95 ms;
3. the HNSW path: ``search(q, None, None, 10)`` → p50/p95 ms (and recall@10 against exact
   scoring, only to show both modes return the same);
4. ``delete_doc`` of 5 reports → ms each (the first apart: it pays a one-off cost).

Also the server process's memory (VmHWM) and each mode's data on disk; ratios are server /
embedded. Writes ``bench/results/<--out>.json`` (default ``chroma_server``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import RESULTS, dir_size_mb, peak_rss_mb, stop_process, write_result
from bench.lexical_ready import copy_catalog

STORE = Path("/tmp/rqa-bench/full")
DIM = 384
COLLECTION = "bench"
CANDIDATE_REPORTS = 10  # reports whose chunks make one filtered question's candidates
DELETED_REPORTS = 5
K = 10
MODES = ("embedded", "server")


@dataclass
class Payload:
    ids: list[str]
    metas: list[dict]
    by_doc: dict[str, list[str]]  # doc_id → its chunk ids, in order
    total_reports: int
    every: int
    first: str | None
    last: str | None


def load_payload(store: Path, n: int, scratch: Path) -> Payload:
    """Every k-th report's chunks: ids and Chroma metadata, as ingestion writes them."""
    from rag.index.catalog import Catalog
    from rag.ingest.pipeline import _chroma_meta
    from rag.models import Chunk

    copy_catalog(store, scratch)  # opening a Catalog may add tables: never open the original
    catalog = Catalog(scratch / "catalog.sqlite")
    try:
        docs = catalog.documents()  # sorted by source
        every = max(1, len(docs) // max(1, n))
        picked = {d.doc_id: d for d in docs[::every][:n]}
        rows = catalog.chunks(picked)
    finally:
        catalog.close()
    ids, metas = [], []
    by_doc: dict[str, list[str]] = {}
    for r in rows:
        chunk = Chunk(r.chunk_id, r.doc_id, r.ordinal, r.start, r.end, r.text, r.kind,
                      r.covered_from, r.covered_to)
        ids.append(chunk.chunk_id)
        metas.append(_chroma_meta(chunk, picked[r.doc_id]))
        by_doc.setdefault(chunk.doc_id, []).append(chunk.chunk_id)
    sources = [d.source for d in picked.values()]
    return Payload(ids, metas, by_doc, len(docs), every,
                   sources[0] if sources else None, sources[-1] if sources else None)


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def ingest_batch_size() -> int:
    """Chunks per Chroma write in ingestion: one embedding batch (``Assistant._embed_batch``
    in rag/pipeline.py, for the local backends)."""
    from rag.config import get_settings

    return max(8, get_settings().embed.batch_size)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_cli() -> str | None:
    # The CLI installed beside this interpreter (the venv's bin/ need not be on PATH).
    return shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")


@contextmanager
def chroma_server(cli: str, folder: Path, log_path: Path,
                  timeout: float = 60) -> Iterator[tuple[subprocess.Popen, int, list[str]]]:
    """``chroma run`` on 127.0.0.1; yields (process, port, command) once its heartbeat
    answers, and stops it however the block ends."""
    import httpx

    port = free_port()
    cmd = [cli, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited ({proc.returncode}):\n{tail(log_path)}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not answer in {timeout:g} s:\n"
                                   f"{tail(log_path)}")
            time.sleep(0.2)
        yield proc, port, cmd
    finally:
        stop_process(proc)


def tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def log_levels(path: Path) -> dict[str, int]:
    """How many lines of the server's log at each level (it logs every request at INFO)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", path.read_text(errors="replace"))
    found = re.findall(r"^\s*\S+Z\s+(TRACE|DEBUG|INFO|WARN|ERROR)\b", text, re.M)
    return {level: found.count(level) for level in sorted(set(found))}


def memory(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a live process, in MiB; empty where /proc is not."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    kib = {ln.split(":")[0]: int(ln.split()[1]) for ln in lines
           if ln.startswith(("VmRSS:", "VmHWM:"))}
    threads = next((int(ln.split()[1]) for ln in lines if ln.startswith("Threads:")), None)
    return {"vmrss_mib": round(kib.get("VmRSS", 0) / 1024, 1),
            "vmhwm_mib": round(kib.get("VmHWM", 0) / 1024, 1), "threads": threads}


def children(pid: int) -> list[int]:
    try:
        return [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
                for c in (t / "children").read_text().split()]
    except OSError:
        return []


def summarize(ms: Sequence[float]) -> dict:
    if not ms:
        return {"n": 0}
    arr = np.asarray(ms)
    return {"n": len(ms), "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2),
            "mean_ms": round(float(arr.mean()), 2), "max_ms": round(float(arr.max()), 2)}


def ratio(a, b) -> float | None:
    return round(a / b, 2) if a and b else None


def turns(i: int) -> tuple[str, ...]:
    """Both modes, the first one alternating, so neither always runs right after the other."""
    return MODES if i % 2 == 0 else MODES[::-1]


def embedder_rate() -> dict | None:
    """The embed phase's chunks/s of the last ``bench.ingest`` run, if there is one."""
    try:
        data = json.loads((RESULTS / "ingest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not data.get("embed_chunks_per_second"):
        return None
    return {"embed_chunks_per_second": data["embed_chunks_per_second"],
            "backend": (data.get("embedder") or {}).get("backend"),
            "threads": (data.get("embedder") or {}).get("threads"),
            "from": "bench/results/ingest.json", "command": data.get("command"),
            "date": (data.get("machine") or {}).get("date")}


def measure(indexes: dict, clients: dict, p: Payload, vectors: np.ndarray, queries: np.ndarray,
            batch: int, seed: int) -> tuple[dict[str, dict], dict]:
    """The four steps on both modes, taking turns: figures per mode, and the candidate sets."""
    from rag.index.vectors import VectorIndex

    out: dict[str, dict] = {m: {} for m in MODES}
    rng = random.Random(seed)
    doc_ids = list(p.by_doc)

    # 1. writes, in ingestion's batches
    secs = dict.fromkeys(MODES, 0.0)
    for n, i in enumerate(range(0, len(p.ids), batch)):
        part = slice(i, i + batch)
        for m in turns(n):
            t0 = time.perf_counter()
            indexes[m].upsert(p.ids[part], vectors[part], p.metas[part])
            secs[m] += time.perf_counter() - t0
    for m in MODES:
        out[m]["write"] = {"chunks": len(p.ids), "batch": batch,
                           "batches": -(-len(p.ids) // batch), "seconds": round(secs[m], 2),
                           "chunks_per_second": round(len(p.ids) / secs[m], 1)}
        out[m]["count_after_writes"] = indexes[m].count()

    # 2. exact path: cold reads of candidates' vectors, then scoring them (cache warm)
    cold: dict[str, list[float]] = {m: [] for m in MODES}
    warm: dict[str, list[float]] = {m: [] for m in MODES}
    sizes, drift = [], 0.0
    position = {cid: i for i, cid in enumerate(p.ids)}
    for qi, q in enumerate(queries):
        cands = [c for d in rng.sample(doc_ids, min(CANDIDATE_REPORTS, len(doc_ids)))
                 for c in p.by_doc[d]]
        sizes.append(len(cands))
        for m in turns(qi):
            fresh = VectorIndex(clients[m], COLLECTION)  # an empty cache
            t0 = time.perf_counter()
            got = fresh.vectors(cands)
            cold[m].append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            fresh.search(q, cands, None, K)
            warm[m].append(1000 * (time.perf_counter() - t0))
            if len(got) != len(cands):
                raise RuntimeError(f"{m}: {len(cands) - len(got)} candidate vectors missing")
            if qi == 0:
                drift = max(drift, max(float(np.abs(got[c] - vectors[position[c]]).max())
                                       for c in cands))
    for m in MODES:
        out[m]["exact_cold_vectors"] = summarize(cold[m])
        out[m]["exact_warm_search"] = summarize(warm[m])
    candidates = {"reports": CANDIDATE_REPORTS, "mean_chunks": round(float(np.mean(sizes)), 1),
                  "max_chunks": max(sizes),
                  # Chroma hands back cosine-space vectors renormalized: some differ by an ulp.
                  "read_back_max_abs_diff": drift}

    # 3. HNSW path over the whole collection
    exact = [set(np.argsort(-(vectors @ q))[:K].tolist()) for q in queries]
    for m in MODES:  # the first query after the writes, apart: it may load or flush the index
        t0 = time.perf_counter()
        indexes[m].search(queries[0], None, None, K)
        out[m]["hnsw_first_query_ms"] = round(1000 * (time.perf_counter() - t0), 2)
    hnsw: dict[str, list[float]] = {m: [] for m in MODES}
    ids_only: dict[str, list[float]] = {m: [] for m in MODES}
    recall: dict[str, list[float]] = {m: [] for m in MODES}
    for qi, q in enumerate(queries):
        for m in turns(qi):
            t0 = time.perf_counter()
            hits = indexes[m].search(q, None, None, K)
            hnsw[m].append(1000 * (time.perf_counter() - t0))
            recall[m].append(len({position[c] for c, _ in hits} & exact[qi]) / K)
            # The same query asking for distances only: what documents and metadata cost.
            t0 = time.perf_counter()
            indexes[m].collection.query(query_embeddings=[q.tolist()], n_results=K,
                                        include=["distances"])
            ids_only[m].append(1000 * (time.perf_counter() - t0))
    for m in MODES:
        out[m]["hnsw_search"] = summarize(hnsw[m])
        out[m]["hnsw_distances_only"] = summarize(ids_only[m])
        out[m]["hnsw_recall_at_10"] = round(float(np.mean(recall[m])), 3)

    # 4. deletes. The first one after the bulk writes costs ~2.5 s of CPU inside chromadb in
    # either mode (a process reopening the same data deletes in ~40 ms): kept apart.
    gone = rng.sample(doc_ids, min(DELETED_REPORTS, len(doc_ids)))
    deletes: dict[str, list[float]] = {m: [] for m in MODES}
    for j, d in enumerate(gone):
        for m in turns(j):
            t0 = time.perf_counter()
            indexes[m].delete_doc(d)
            deletes[m].append(1000 * (time.perf_counter() - t0))
    for m in MODES:
        out[m]["delete_doc_ms"] = [round(x, 1) for x in deletes[m]]
        out[m]["delete_doc_first_ms"] = round(deletes[m][0], 1) if deletes[m] else None
        out[m]["delete_doc_after_first"] = summarize(deletes[m][1:])
        out[m]["count_after_deletes"] = indexes[m].count()
        out[m]["count_expected_after_deletes"] = len(p.ids) - sum(len(p.by_doc[d]) for d in gone)
    return out, candidates


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=STORE,
                    help="a store whose catalog gives the chunks (read only)")
    ap.add_argument("--reports", type=int, default=200, help="reports in the slice")
    ap.add_argument("--queries", type=int, default=30, help="queries per latency figure")
    ap.add_argument("--out", default="chroma_server", help="result name (bench/results/NAME.json)")
    args = ap.parse_args(argv)
    if not (args.store / "catalog.sqlite").is_file():
        print(f"no catalog in {args.store} (build it with `python -m bench.lexical_ready "
              f"--store {args.store}`); nothing to measure", file=sys.stderr)
        return 0
    cli = chroma_cli()
    if cli is None:
        print("the chroma CLI is not installed; nothing to measure", file=sys.stderr)
        return 0

    from rag.index.vectors import VectorIndex, make_client

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    batch = ingest_batch_size()
    tmp = Path(tempfile.mkdtemp(prefix="reportqa-chroma-"))
    try:
        t0 = time.perf_counter()
        payload = load_payload(args.store, args.reports, tmp / "catalog")
        shutil.rmtree(tmp / "catalog")
        load_seconds = time.perf_counter() - t0
        if not payload.ids:
            print(f"no chunks in {args.store}; nothing to measure", file=sys.stderr)
            return 0
        rng = np.random.default_rng(0)
        vectors = unit_vectors(rng, len(payload.ids))
        queries = unit_vectors(rng, args.queries)
        data = {m: tmp / m for m in MODES}
        with chroma_server(cli, data["server"], tmp / "chroma.log") as (proc, port, _):
            server_idle = memory(proc.pid)
            helpers = children(proc.pid)
            opened = {}
            t0 = time.perf_counter()
            clients = {"embedded": make_client(data["embedded"])}
            opened["embedded"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            clients["server"] = make_client(data["server"], "127.0.0.1", port)
            opened["server"] = time.perf_counter() - t0
            indexes = {m: VectorIndex(clients[m], COLLECTION) for m in MODES}
            per_mode, candidates = measure(indexes, clients, payload, vectors, queries, batch,
                                           seed=0)
            server_end = memory(proc.pid)
            server_log = log_levels(tmp / "chroma.log")
        for m in MODES:
            per_mode[m]["open_client_seconds"] = round(opened[m], 3)
            per_mode[m]["data_mb"] = dir_size_mb(data[m])
            per_mode[m]["data_mb_per_1000_chunks"] = round(
                1000 * per_mode[m]["data_mb"] / len(payload.ids), 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    emb, srv = per_mode["embedded"], per_mode["server"]
    embed = embedder_rate()
    rate = embed["embed_chunks_per_second"] if embed else None
    ratios = {
        "write_chunks_per_second": ratio(srv["write"]["chunks_per_second"],
                                         emb["write"]["chunks_per_second"]),
        **{f"{name}_{q}": ratio(srv[name][f"{q}_ms"], emb[name][f"{q}_ms"])
           for name in ("exact_cold_vectors", "exact_warm_search", "hnsw_search",
                        "hnsw_distances_only", "delete_doc_after_first")
           for q in ("p50", "p95")},
        "delete_doc_first": ratio(srv["delete_doc_first_ms"], emb["delete_doc_first_ms"]),
    }
    capacity = {m: ratio(per_mode[m]["write"]["chunks_per_second"], rate) for m in MODES}
    result = {
        # The first scalars are the headline in bench/results/SUMMARY.md.
        "chunks": len(payload.ids),
        "server_write_chunks_per_second": srv["write"]["chunks_per_second"],
        "server_write_over_embedding_rate": capacity["server"],
        "server_over_embedded_exact_cold_p50": ratios["exact_cold_vectors_p50"],
        "server_over_embedded_hnsw_p50": ratios["hnsw_search_p50"],
        "reports": len(payload.by_doc),
        "store": str(args.store),
        "slice": {"n": len(payload.by_doc), "every": payload.every, "of": payload.total_reports,
                  "first": payload.first, "last": payload.last},
        "payload": {"ids_metadata": "catalog chunks, with _chroma_meta() as "
                                    "rag/ingest/pipeline.py writes them (no text)",
                    "vectors": f"{DIM}-dim standard normal, L2-normalized, seed 0: vector values "
                               "change neither transport nor storage cost, so this measures "
                               "the store, not the embedder"},
        "load_seconds": round(load_seconds, 2),
        "load_average_at_start": load_at_start,
        "queries": args.queries,
        "candidates": candidates,
        "k": K,
        "modes": per_mode,
        "ratios_server_over_embedded": ratios,
        "embedder": embed,
        "write_capacity_over_embedding_rate": capacity,
        "server": {"command": "chroma run --path DIR --host 127.0.0.1 --port PORT",
                   "helper_processes": len(helpers),
                   "memory_idle": server_idle, "memory_at_end": server_end,
                   "log_lines_by_level": server_log},
        "client_peak_rss_mb": peak_rss_mb(),
        "notes": [
            "modes take turns at every batch and query (the first alternating), so load from "
            "other work falls on both alike",
            "client_peak_rss_mb is this whole process: the payload, numpy and the embedded "
            "Chroma together",
            "hnsw_recall_at_10 is against exact scoring of random vectors (no clusters, "
            "HNSW's hard case): compare the two modes, not the figure with real embeddings",
            "hnsw_distances_only: the same query with include=['distances'], i.e. without "
            "the documents and metadata VectorIndex.search asks for and never uses",
        ],
    }
    print(
        f"{len(payload.ids)} chunks of {len(payload.by_doc)} reports, batches of {batch}; "
        f"writes embedded {emb['write']['chunks_per_second']}/s, server "
        f"{srv['write']['chunks_per_second']}/s (x{ratios['write_chunks_per_second']}; "
        f"embedder {rate or '-'}/s); cold vectors of ~{candidates['mean_chunks']:.0f} ids p50 "
        f"{emb['exact_cold_vectors']['p50_ms']} vs {srv['exact_cold_vectors']['p50_ms']} ms; "
        f"HNSW p50 {emb['hnsw_search']['p50_ms']} vs {srv['hnsw_search']['p50_ms']} ms; "
        f"delete p50 {emb['delete_doc_after_first']['p50_ms']} vs "
        f"{srv['delete_doc_after_first']['p50_ms']} ms; "
        f"server VmHWM {server_end.get('vmhwm_mib', '-')} MiB"
    )
    write_result(args.out, result, "bench.chroma_server", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
