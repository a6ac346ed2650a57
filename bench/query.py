"""Query latency as the store grows: 500, 1,500 and all 3,004 reports of the cities corpus.

    python -m bench.query --store /tmp/rqa-bench/full [--sizes 500,1500] [--build ingest|derive]
                          [--repeats 3] [--no-profile]

Stores are lexical only (``reportqa ingest … --no-embed``): embedding 235k chunks takes hours
on a small CPU, so dense search is absent and every figure is BM25 plus the answer engine.
``--store`` is the full-corpus store (built by ``bench.lexical_ready --store``, or here when
missing); the smaller ones are built in /tmp from the first N files of a fixed shuffled order
(seed 0) that always holds the Jiangsu/Hubei files of ``eval/cities_slice.txt``, so that the
questions have answers. ``--build ingest`` runs ``reportqa ingest`` on those files;
``--build derive`` copies the full catalog and deletes the other reports (the same chunks,
without parsing them again).

The question list is ``eval/cities.jsonl`` plus a few more list questions. Measured warm, in
process, after one warm-up pass, all stores side by side question by question (so that load
from other work falls on every size alike):

* retrieval: the answerer's snapshot, ``understand``, ``select``, ``hybrid_rank``;
* fact answers and list answers: ``Answerer.ask``, extractive.

Then the serving memory: a fresh process opens the full store, answers one question and
reports its peak and current RSS. Where a target is missed, cProfile's top functions are
recorded. Writes ``bench/results/query.json`` and ``bench/results/query.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import CITIES, RESULTS, ROOT, dir_size_mb, write_result

TARGETS = {"retrieval_p50_ms": 50, "retrieval_p95_ms": 150, "list_p50_ms": 1000,
           "serving_rss_gib": 3.0}
EXTRA_QUESTIONS = [
    "2021年广东省哪些城市地区生产总值增速超过8%？",
    "2022年浙江省哪些城市的地区生产总值增速超过4%？",
    "2023年湖北省哪些城市的生产安全事故起数下降了？",
    "Which cities in Jiangsu grew GDP by more than 5% in 2023?",
    "南京市2022年城镇新增就业多少人？",
]
SERVE_QUESTION = "2022年江苏省哪些城市的生产安全事故起数降幅超过30%？"


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "cities.jsonl").open(encoding="utf-8")
            if line.strip()]
    return [r["question"] for r in rows] + EXTRA_QUESTIONS


def slice_files() -> list[str]:
    lines = (ROOT / "eval" / "cities_slice.txt").read_text(encoding="utf-8").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.startswith("#")]


def subset(corpus: Path, n: int, seed: int = 0) -> list[Path]:
    """The first ``n`` report files of a fixed shuffled order, the eval slice first."""
    from rag.ingest.manifest import load_manifest

    rows = load_manifest(corpus / "manifest.tsv")
    files = sorted({row.file for row in rows.values() if (corpus / row.file).is_file()})
    pinned = [f for f in slice_files() if f in set(files)]
    rest = [f for f in files if f not in set(pinned)]
    random.Random(seed).shuffle(rest)
    return [corpus / f for f in (pinned + rest)[:n]]


def build_ingest(files: list[Path], corpus: Path, store: Path) -> dict:
    from bench.lexical_ready import run_ingest

    seconds, report = run_ingest(files, store, "--manifest", str(corpus / "manifest.tsv"))
    return {"method": "reportqa ingest --no-embed", "seconds": round(seconds, 1),
            "reports": report["added"], "skipped": len(report["skipped"])}


def build_derive(files: list[Path], full: Path, store: Path) -> dict:
    """Copy the full catalog and delete the reports outside ``files``."""
    import sqlite3

    from bench.lexical_ready import copy_catalog
    from rag.index.catalog import Catalog

    t0 = time.perf_counter()
    copy_catalog(full, store)
    # A fresh catalog id, so that no saved lexical index of the full store is ever taken.
    with sqlite3.connect(str(store / "catalog.sqlite")) as db:
        db.execute("DELETE FROM state WHERE key='catalog_id'")
    catalog = Catalog(store / "catalog.sqlite")
    keep = {p.name for p in files}
    drop = [d.doc_id for d in catalog.documents() if d.source not in keep]
    for doc_id in drop:
        catalog.delete_document(doc_id)
    reports = catalog.stats()["reports"]
    catalog.close()
    return {"method": "copy of the full catalog, other reports deleted",
            "seconds": round(time.perf_counter() - t0, 1), "reports": reports}


def open_answerer(store_dir: Path):
    """A lexical-only answerer (no embedder: the stores hold no vectors)."""
    from rag.answer.engine import Answerer
    from rag.config import get_settings
    from rag.index.store import Store

    store = Store(get_settings().store, store_dir)
    return Answerer(store, embeddings=None)


def retrieve(answerer, question: str):
    """What ``Answerer.ask`` does before reading any sentence."""
    from rag.retrieve.search import hybrid_rank, select
    from rag.retrieve.understand import understand

    view = answerer.view()
    spec = understand(question, view.places)
    cands = select(spec, list(view.docs.values()), view.rows_by_doc).candidates
    ranking, _ = hybrid_rank(spec, cands, view.lexical, None, None) if cands else ([], {})
    return spec, cands, ranking


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000, out


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 1)


def summarize(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95),
            "max_ms": round(max(ms), 1) if ms else None}


def profile_rows(fn) -> list[dict]:
    """Run ``fn`` under cProfile: every function's calls, own and cumulative time."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = file.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        rows.append({"function": f"{where}:{line}({name})", "calls": nc,
                     "own_ms": round(tt * 1000, 1), "cumulative_ms": round(ct * 1000, 1)})
    return rows


def profile_top(fn, n: int = 15, by: str = "own_ms") -> list[dict]:
    """cProfile's top functions by own (or cumulative) time."""
    return sorted(profile_rows(fn), key=lambda r: -r[by])[:n]


SERVE_SNIPPET = """
import json, os, resource, sys, time
from pathlib import Path
from rag.config import get_settings
from rag.pipeline import open_assistant
from bench.common import backend_of
t0 = time.perf_counter()
a = open_assistant(get_settings(), Path(sys.argv[1]))
ans = a.ask(sys.argv[2])
st = {l.split(':')[0]: int(l.split()[1]) for l in Path('/proc/self/status').read_text()
      .splitlines() if l.startswith(('VmRSS', 'VmHWM'))}
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2),
                  "ru_maxrss_mib": round(
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "vmrss_mib": round(st['VmRSS'] / 1024, 1),
                  "vmhwm_mib": round(st['VmHWM'] / 1024, 1), "found": ans.found,
                  "embedder": type(backend_of(a.embeddings)).__name__}))
"""


def serving_memory(store: Path) -> dict:
    """A fresh process, as ``reportqa serve`` opens it (default embedder), one answer."""
    env = dict(os.environ, OMP_NUM_THREADS="1", ANONYMIZED_TELEMETRY="False")
    proc = subprocess.run([sys.executable, "-c", SERVE_SNIPPET, str(store), SERVE_QUESTION],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["question"] = SERVE_QUESTION
    out["note"] = ("vmhwm_mib is this process's peak (the kernel resets it at exec); "
                   "ru_maxrss can carry the parent's high-water mark across fork+exec on "
                   "Linux, so it is an upper bound only")
    return out


def peak_mib(mem: dict) -> float:
    """The serving process's own peak: VmHWM (and VmRSS after answering, if larger)."""
    return max(mem.get("vmhwm_mib", 0), mem.get("vmrss_mib", 0))


FIXES = {
    "retrieval": "most of it is question parsing, not search: the place matcher "
                 "(rag/retrieve/places.py) runs re.finditer(re.escape(key), question) for "
                 "every place name in the store (~720 at 3,004 reports); past re's 512-pattern "
                 "cache every call compiles a new pattern. Test `key in question` first (or "
                 "build one alternation / Aho-Corasick automaton per generation, as is done "
                 "for the pinyin names). Next: candidates() calls qualifies() per chunk of "
                 "every candidate report in Python; keep chunk kinds and covered years as "
                 "numpy columns per report and filter them vectorised",
    "list": "a list question without a region reads every report of the year: "
            "score_sentences re-splits each candidate's full text on every question "
            "(clean.iter_sentences and _quoted_ranges are the top own-time functions), and "
            "_narrow/_anchors/_coverage score every sentence. Cache the sentence split per "
            "report and catalog generation, fetch the candidates' texts in one query, and "
            "score only sentences inside chunks whose BM25 score for the topic words is "
            "non-zero",
}


def slowest(answerer, qs: list[str], kinds: dict[str, str], kind: str, n: int = 5) -> list:
    out = []
    for q in qs:
        if kinds[q] == kind:
            ms, _ = timed(answerer.ask, q)
            out.append({"question": q, "ms": round(ms, 1)})
    return sorted(out, key=lambda r: -r["ms"])[:n]


def profile_only(store: Path) -> int:
    """Profile the slowest list question and all retrievals on the full store; add them."""
    out = RESULTS / "query.json"
    data = json.loads(out.read_text(encoding="utf-8"))
    big = open_answerer(store)
    qs = questions()
    kinds = {q: big.parse(q).form.value for q in qs}
    for q in qs:  # warm
        big.ask(q)
    slow = slowest(big, qs, kinds, "list")
    data["slowest_list_questions"] = slow
    data["profiles"] = {
        "retrieval": {"what": f"retrieval of all {len(qs)} questions once, full store",
                      "top": profile_top(lambda: [retrieve(big, q) for q in qs]),
                      "fix": FIXES["retrieval"]},
        "slowest_list": {"what": f"the slowest list question, full store: {slow[0]['question']}"
                                 f" ({slow[0]['ms']} ms)",
                         "top": profile_top(lambda: big.ask(slow[0]["question"])),
                         "fix": FIXES["list"]},
    }
    data["profiles_command"] = f"OMP_NUM_THREADS=1 python -m bench.query --store {store} " \
                               "--profile-only"
    big.store.close()
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "query.md").write_text(markdown(data), encoding="utf-8")
    print(json.dumps(data["profiles"], ensure_ascii=False, indent=1)[:4000])
    return 0


def memory_only(store: Path) -> int:
    """Re-measure the serving memory (from a small parent) and update query.json / .md."""
    out = RESULTS / "query.json"
    data = json.loads(out.read_text(encoding="utf-8"))
    data["serving_memory"] = mem = serving_memory(store)
    for t in data["targets"]:
        if t["name"].startswith("serving"):
            t["value"] = round(peak_mib(mem) / 1024, 2)
            t["met"] = t["value"] <= t["target"]
    data["serving_memory_command"] = f"OMP_NUM_THREADS=1 python -m bench.query --store " \
                                     f"{store} --memory-only"
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "query.md").write_text(markdown(data), encoding="utf-8")
    print(mem)
    return 0


def markdown(result: dict) -> str:
    lines = [
        "# Query latency by store size",
        "",
        f"{result['machine_note']}",
        "",
        "Lexical only (BM25 over jieba tokens): **dense search is absent** — the stores were "
        "built with `--no-embed`. Warm, in process, extractive; all sizes measured side by side "
        "question by question. Milliseconds.",
        "",
        "| reports | chunks | retrieval p50 | retrieval p95 | fact p50 | fact p95 "
        "| list p50 | list p95 | open (cold) s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["scaling"]:
        lines.append(
            f"| {r['reports']} | {r['chunks']} | {r['retrieval']['p50_ms']} "
            f"| {r['retrieval']['p95_ms']} | {r['fact']['p50_ms']} | {r['fact']['p95_ms']} "
            f"| {r['list']['p50_ms']} | {r['list']['p95_ms']} | {r['open_seconds']} |"
        )
    lines += ["", "Median per-question ratio to the smallest store (same run):", "",
              "| reports | retrieval | fact | list |", "|---:|---:|---:|---:|"]
    for r in result["scaling"]:
        x = r["ratio_to_smallest"]
        lines.append(f"| {r['reports']} | {x['retrieval']} | {x['fact']} | {x['list']} |")
    mem = result.get("serving_memory", {})
    if result.get("slowest_list_questions"):
        lines += ["", "Slowest list questions at the full store (one warm run each):", ""]
        lines += [f"- {r['ms']} ms — {r['question']}" for r in result["slowest_list_questions"]]
    lines += ["", f"Serving memory (fresh process, full store, one answer, default embedder "
              f"{mem.get('embedder')}): peak (VmHWM) {mem.get('vmhwm_mib')} MiB, VmRSS after "
              f"answering {mem.get('vmrss_mib')} MiB (ru_maxrss {mem.get('ru_maxrss_mib')} "
              "MiB: an upper bound, see the JSON).", "", "## Targets", ""]
    for t in result["targets"]:
        lines.append(f"- {t['name']}: {t['value']} vs {t['target']} — "
                     f"{'met' if t['met'] else '**missed**'}")
    for name, prof in result.get("profiles", {}).items():
        lines += ["", f"## Profile: {name}", "", prof["what"], "",
                  "| function | calls | own ms | cumulative ms |", "|---|---:|---:|---:|"]
        lines += [f"| `{p['function']}` | {p['calls']} | {p['own_ms']} | {p['cumulative_ms']} |"
                  for p in prof["top"][:10]]
        if prof.get("fix"):
            lines += ["", f"What would fix it: {prof['fix']}"]
    lines += ["", f"Reproduce: `{result.get('command', '')}`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CITIES)
    ap.add_argument("--store", type=Path, default=Path("/tmp/reportqa-bench/full"),
                    help="full-corpus lexical store (built with --no-embed when missing)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/reportqa-bench/query"),
                    help="where the smaller stores are built (rebuilt on each run)")
    ap.add_argument("--sizes", default="500,1500", help="smaller stores, in reports")
    ap.add_argument("--build", choices=["ingest", "derive"], default="ingest")
    ap.add_argument("--repeats", type=int, default=3, help="measured passes after the warm-up")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--profile-only", action="store_true",
                    help="only profile the slowest list question and retrieval on --store and "
                         "add them to the existing query.json / query.md")
    ap.add_argument("--memory-only", action="store_true",
                    help="only re-measure the serving memory on --store and update query.json")
    args = ap.parse_args(argv)
    if args.profile_only:
        return profile_only(args.store)
    if args.memory_only:
        return memory_only(args.store)
    if not (args.corpus / "manifest.tsv").is_file():
        print(f"corpus {args.corpus} not found; nothing to measure", file=sys.stderr)
        return 0

    from rag.ingest.pipeline import find_manifest

    if not (args.store / "catalog.sqlite").exists():
        from bench.lexical_ready import run_ingest

        print(f"building the full lexical store in {args.store} …", file=sys.stderr)
        run_ingest([args.corpus], args.store, "--manifest", str(find_manifest([args.corpus])))

    stores: list[tuple[int, Path, dict]] = []
    shutil.rmtree(args.work, ignore_errors=True)
    for n in sorted(int(s) for s in args.sizes.split(",") if s):
        files = subset(args.corpus, n)
        path = args.work / f"n{n}"
        build = (build_ingest(files, args.corpus, path) if args.build == "ingest"
                 else build_derive(files, args.store, path))
        print(f"store of {n}: {build}", file=sys.stderr)
        stores.append((n, path, build))
    stores.append((0, args.store, {"method": "given (--store)"}))

    answerers = []
    for _n, path, build in stores:
        ms_open, ans = timed(open_answerer, path)
        ms_views, _ = timed(ans.view)  # loads (or builds) the lexical index of this generation
        stats = ans.store.catalog.stats()
        answerers.append({"ans": ans, "reports": stats["reports"], "chunks": stats["chunks"],
                          "build": build, "open_seconds": round((ms_open + ms_views) / 1000, 2),
                          "store_mb": dir_size_mb(path)})
    qs = questions()
    kinds = {q: answerers[-1]["ans"].parse(q).form.value for q in qs}
    samples: dict[tuple[int, str], dict[str, float]] = {}  # (store, kind) -> question -> ms
    times: dict[tuple[int, str, str], list[float]] = {}
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    for rep in range(args.repeats + 1):  # pass 0 is the warm-up
        for q in qs:
            for i, a in enumerate(answerers):
                ms_r, _ = timed(retrieve, a["ans"], q)
                ms_a, _ = timed(a["ans"].ask, q)
                if rep == 0:
                    continue
                times.setdefault((i, "retrieval", q), []).append(ms_r)
                if kinds[q] in ("fact", "list"):
                    times.setdefault((i, kinds[q], q), []).append(ms_a)
        print(f"pass {rep} done", file=sys.stderr)
    for (i, what, q), ms in times.items():
        samples.setdefault((i, what), {})[q] = statistics.median(ms)

    scaling = []
    for i, a in enumerate(answerers):
        row = {k: a[k] for k in ("reports", "chunks", "build", "open_seconds", "store_mb")}
        for what in ("retrieval", "fact", "list"):
            all_ms = [m for (j, w, _), ms in times.items() if j == i and w == what for m in ms]
            row[what] = summarize(all_ms)
        row["ratio_to_smallest"] = {
            what: round(statistics.median(
                samples[(i, what)][q] / samples[(0, what)][q]
                for q in samples.get((0, what), {}) if samples[(0, what)][q] > 0), 2)
            if samples.get((i, what)) else None
            for what in ("retrieval", "fact", "list")
        }
        scaling.append(row)
    full = scaling[-1]
    mem = serving_memory(args.store)
    rss_gib = peak_mib(mem) / 1024
    targets = [
        {"name": "retrieval p50 at full corpus (ms)", "value": full["retrieval"]["p50_ms"],
         "target": TARGETS["retrieval_p50_ms"]},
        {"name": "retrieval p95 at full corpus (ms)", "value": full["retrieval"]["p95_ms"],
         "target": TARGETS["retrieval_p95_ms"]},
        {"name": "list answer p50 at full corpus (ms)", "value": full["list"]["p50_ms"],
         "target": TARGETS["list_p50_ms"]},
        {"name": "serving peak RSS (GiB)", "value": round(rss_gib, 2),
         "target": TARGETS["serving_rss_gib"]},
    ]
    for t in targets:
        t["met"] = t["value"] is not None and t["value"] <= t["target"]

    profiles = {}
    big = answerers[-1]["ans"]
    if not args.no_profile:
        if not (targets[0]["met"] and targets[1]["met"]):
            profiles["retrieval"] = {
                "what": f"retrieval of all {len(qs)} questions once, full store",
                "top": profile_top(lambda: [retrieve(big, q) for q in qs]),
                "fix": FIXES["retrieval"],
            }
        if not targets[2]["met"]:
            lists = [q for q in qs if kinds[q] == "list"]
            profiles["list"] = {
                "what": f"the {len(lists)} list questions answered once, full store",
                "top": profile_top(lambda: [big.ask(q) for q in lists]),
                "fix": FIXES["list"],
            }
    result = {
        "corpus": str(args.corpus),
        "machine_note": "2 cores shared with other work; load average at start "
                        f"{load_at_start}; OMP_NUM_THREADS=1.",
        "dense_search": "absent: stores built with --no-embed (embedding 235k chunks takes "
                        "hours on this CPU); retrieval is BM25 only, the query is not embedded",
        "subset": "first N of a fixed shuffled order (random.Random(0)) of the manifest's "
                  "files, eval/cities_slice.txt pinned first",
        "questions": {"total": len(qs), "by_kind": {k: sum(v == k for v in kinds.values())
                                                     for k in set(kinds.values())},
                      "list": qs},
        "repeats": args.repeats,
        "scaling": scaling,
        "serving_memory": mem,
        "targets": targets,
        "profiles": profiles,
        "slowest_list_questions": slowest(big, qs, kinds, "list"),
    }
    for a in answerers:
        a["ans"].store.close()
    for r in scaling:
        print(f"{r['reports']:>5} reports {r['chunks']:>7} chunks: retrieval p50 "
              f"{r['retrieval']['p50_ms']} p95 {r['retrieval']['p95_ms']} ms; fact p50 "
              f"{r['fact']['p50_ms']} ms; list p50 {r['list']['p50_ms']} ms")
    print(f"serving memory: {mem}")
    out = write_result("query", result, "bench.query", sys.argv[1:] if argv is None else argv)
    saved = json.loads(out.read_text(encoding="utf-8"))
    (RESULTS / "query.md").write_text(markdown(saved), encoding="utf-8")
    print(f"wrote {(RESULTS / 'query.md').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
