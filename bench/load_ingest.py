"""HTTP load while another process ingests into the store being served, in both Chroma modes.

For each mode — embedded Chroma (the API and ``reportqa ingest`` share the folder) and a
``chroma run`` server — it builds a store of the sample reports, starts ``reportqa serve``
on it, starts a separate ``reportqa ingest`` of N reports of the cities corpus (a copy of
the sample reports, each changed, when the corpus is absent), and meanwhile has C clients
ask the development questions over HTTP until the ingest has finished. It records statuses
(any non-200 is an error), latency, answers that had to do without dense search, and
whether the served store ends up holding the newly ingested reports; then writes
``bench/results/load_ingest.json``. Exit status 1 on any error.

    OMP_NUM_THREADS=1 python -m bench.load_ingest [--reports 10] [--clients 8]
                                                  [--modes embedded,server] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.common import CITIES, ROOT, stop_process, write_result
from bench.load_api import SAMPLE, free_port, percentile, questions, wait_ready

DEGRADED = "dense search unavailable"


def corpus(folder: Path, n: int, cities: Path) -> str:
    """N reports to ingest under load: the first N of the cities corpus, or copies."""
    folder.mkdir(parents=True)
    files = sorted((cities / "city").glob("*.txt"))[:n] if (cities / "city").is_dir() else []
    for f in files:
        shutil.copy(f, folder / f.name)
    if files:
        return f"cities corpus, first {len(files)} reports"
    base = sorted(SAMPLE.glob("*.txt"))
    for i in range(n):
        src = base[i % len(base)]
        text = src.read_text(encoding="utf-8") + f"\n附：负载测试第{i}份。\n"
        (folder / f"load_{i:03d}_{src.name}").write_text(text, encoding="utf-8")
    return f"{n} changed copies of the sample reports"


async def load_until(base: str, qs: list[str], clients: int, done: asyncio.Event) -> dict:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    degraded = 0

    async def client(k: int) -> None:
        nonlocal degraded
        i = k
        async with httpx.AsyncClient(base_url=base, timeout=300) as http:
            while not done.is_set():
                t0 = time.perf_counter()
                try:
                    r = await http.post("/v1/ask", json={"question": qs[i % len(qs)]})
                    statuses[str(r.status_code)] += 1
                    if r.status_code == 200:
                        latencies.append(time.perf_counter() - t0)
                        if any(DEGRADED in n for n in r.json().get("notes", [])):
                            degraded += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                i += clients

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - t0
    n = sum(statuses.values())
    return {
        "requests": n, "ok": statuses.get("200", 0), "errors": n - statuses.get("200", 0),
        "statuses": dict(statuses), "answers_without_dense_search": degraded,
        "wall_seconds": round(wall, 1), "requests_per_second": round(n / wall, 2),
        "latency_ms": {"p50": round(percentile(latencies, 0.5) * 1000, 1),
                       "p95": round(percentile(latencies, 0.95) * 1000, 1),
                       "max": round(max(latencies, default=float("nan")) * 1000, 1)},
    }


async def during_ingest(base: str, ingest: subprocess.Popen, clients: int) -> dict:
    done = asyncio.Event()

    async def watch() -> None:
        while ingest.poll() is None:
            await asyncio.sleep(0.2)
        done.set()

    watcher = asyncio.create_task(watch())
    result = await load_until(base, questions(), clients, done)
    await watcher
    return result


def run_mode(mode: str, tmp: Path, n: int, clients: int, env: dict, cities: Path) -> dict:
    env = dict(env)
    chroma = None
    if mode == "server":
        port = free_port()
        chroma_cli = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        chroma = subprocess.Popen([chroma_cli, "run", "--path", str(tmp / "chroma"), "--host",
                                   "127.0.0.1", "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chroma run did not start")
            time.sleep(0.2)
        env.update(REPORTQA_STORE__CHROMA_HOST="127.0.0.1", REPORTQA_STORE__CHROMA_PORT=str(port))
    store = tmp / "store"
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(SAMPLE), "--store",
                        str(store)], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        build = time.perf_counter() - t0
        source = corpus(tmp / "more", n, cities)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(tmp / "serve.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "rag.cli", "serve", "--store", str(store), "--port",
                 str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_ready(base, server, 300)
            t1 = time.perf_counter()
            ingest = subprocess.Popen(
                [sys.executable, "-m", "rag.cli", "ingest", str(tmp / "more"), "--store",
                 str(store)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            result = asyncio.run(during_ingest(base, ingest, clients))
            ingest_seconds = time.perf_counter() - t1
            stderr = ingest.stderr.read().decode(errors="replace") if ingest.stderr else ""
            docs = httpx.get(base + "/v1/documents", timeout=60).json()
            complete = sum(d["status"] == "complete" for d in docs)
        finally:
            stop_process(server)
        log_text = (tmp / "serve.log").read_text(errors="replace")
    finally:
        if chroma is not None:
            stop_process(chroma)
    result.update({
        "mode": mode, "ingested": source, "ingest_exit": ingest.returncode,
        "ingest_seconds": round(ingest_seconds, 1), "sample_store_build_seconds": round(build, 1),
        "reports_served_after": len(docs), "reports_complete_after": complete,
        "reports_expected_after": len(list(SAMPLE.glob("*.txt"))) + n,
        "server_tracebacks": log_text.count("Traceback"),
    })
    if ingest.returncode != 0:
        result["ingest_error"] = stderr[-2000:]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=10, help="reports ingested under load")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--modes", default="embedded,server")
    p.add_argument("--corpus", type=Path, default=CITIES, help="the cities corpus")
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1",
               ANONYMIZED_TELEMETRY="False", REPORTQA_API__RATE_PER_MINUTE="1000000")
    runs = {}
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"reportqa-load-ingest-{mode}-") as tmp:
            runs[mode] = run_mode(mode, Path(tmp), args.reports, args.clients, env, args.corpus)
        print(json.dumps(runs[mode], ensure_ascii=False, indent=2))
    errors = sum(r["errors"] + r["server_tracebacks"] + (r["ingest_exit"] != 0)
                 + (r["reports_served_after"] != r["reports_expected_after"])
                 for r in runs.values())
    write_result("load_ingest", {"clients": args.clients, "reports": args.reports,
                                 "errors": errors, "runs": runs}, "bench.load_ingest", argv)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
