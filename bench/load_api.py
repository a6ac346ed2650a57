"""Bounded load test of ``POST /v1/ask`` over loopback.

Starts ``reportqa serve`` in a subprocess on a free port (by default over a store of the sample
reports, built first with the configured embedder), runs N requests from C concurrent clients
with the dev questions, and writes requests/s, p50/p95 latency and errors to
``bench/results/load_api.json``. It stops the server by itself.

    OMP_NUM_THREADS=1 python -m bench.load_api [--store DIR] [--requests 200] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.common import ROOT, stop_process, write_result

DEV = ROOT / "eval" / "dev.jsonl"
SAMPLE = ROOT / "examples" / "reports"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions() -> list[str]:
    lines = DEV.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def build_sample_store(path: Path, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SAMPLE), "--store", str(path)],
                   check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


async def run_load(base: str, qs: list[str], n: int, clients: int) -> dict:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    todo: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        todo.put_nowait(i)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            while True:
                try:
                    i = todo.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    r = await http.post("/v1/ask", json={"question": qs[i % len(qs)]})
                    statuses[str(r.status_code)] += 1
                    if r.status_code == 200:
                        latencies.append(time.perf_counter() - t0)
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    ok = statuses.get("200", 0)
    return {
        "requests": n,
        "clients": clients,
        "ok": ok,
        "errors": n - ok,
        "statuses": dict(statuses),
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(n / wall, 2),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
            "max": round(max(latencies, default=float("nan")) * 1000, 1),
            "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        },
    }


def wait_ready(base: str, proc: subprocess.Popen, timeout: float) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready within {timeout} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", type=Path, default=None,
                   help="store folder to serve (default: build one from examples/reports)")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--ready-timeout", type=float, default=300.0)
    args = p.parse_args(argv)

    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False",
           # The load test measures answering, not the per-client rate limit.
           "REPORTQA_API__RATE_PER_MINUTE": str(max(10 * args.requests, 1000))}
    with tempfile.TemporaryDirectory(prefix="reportqa-load-") as tmp:
        store, build_seconds = args.store, None
        if store is None:
            store = Path(tmp) / "store"
            build_seconds = round(build_sample_store(store, env), 2)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 — closed below
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "serve", "--store", str(store), "--host",
             "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            ready_seconds = round(wait_ready(base, proc, args.ready_timeout), 2)
            qs = questions()
            asyncio.run(run_load(base, qs, min(len(qs), args.clients), args.clients))  # warm-up
            result = asyncio.run(run_load(base, qs, args.requests, args.clients))
        finally:
            stop_process(proc)
            log.close()
    result.update({"store": str(args.store) if args.store else "examples/reports (built)",
                   "store_build_seconds": build_seconds, "server_ready_seconds": ready_seconds,
                   "questions": len(qs)})
    print(json.dumps(result, ensure_ascii=False, indent=2))
    write_result("load_api", result, "bench.load_api", argv)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
