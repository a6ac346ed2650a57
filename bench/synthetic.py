"""A simulated large case: 30,000 reports made from the 3,004 real ones, and the curve to it.

    python -m bench.synthetic --store /tmp/reportqa-bench/full [--sizes 6000] [--parse-sample 300]
                              [--write-all DIR]

The synthetic corpus: report ``i`` (0 ≤ i < 30,000) is copy ``k = i // 3004`` of the real
report at position ``i % 3004`` of a fixed shuffled order (seed 0). Copy 0 is the real report;
in copy k ≥ 1 every name of its regions (province, city, district) gets the k-th of
甲乙丙丁戊己庚辛壬 before its last character (苏州市 → 苏州甲市), in the text, the manifest row
and the file name, so that each copy is a distinct region with the same shape of text. Years
are kept: shifting them would leave the years the corpus covers (and that questions ask),
while renaming already makes every copy a report of its own. ``--write-all DIR`` writes all
30,000 files and their manifest.

Measured:

* parse throughput: ``reportqa ingest --no-embed`` of ``--parse-sample`` synthetic files
  (copies ≥ 1) into a fresh store — reports/s with the default two parse workers;
* query latency at the real 3,004 reports and at ``--sizes`` synthetic ones, side by side in
  one process (``bench.query``'s questions and timing). The larger stores are assembled from
  the full store's catalog (built by ``bench.lexical_ready``): the copies' reports and chunks
  are cloned with renamed regions in their metadata, their text and tokens left as parsed
  (offsets stay valid); this stands for parsing the renamed files, which gives the same
  chunks, at a fraction of the time;
* serving memory of a fresh process on each store.

Then the curve is extrapolated to 30,000 reports: least squares, linear in the number of
chunks (the per-question work that grows — filtering every report and chunk, BM25 columns,
reading candidates — is linear scans). Writes ``bench/results/synthetic.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from bench.common import CITIES, write_result
from bench.lexical_ready import copy_catalog

TOTAL = 30_000
MARKS = "甲乙丙丁戊己庚辛壬"


def rename(name: str | None, k: int) -> str | None:
    if not name or k == 0:
        return name
    return name[:-1] + MARKS[k - 1] + name[-1]


def real_order(corpus: Path) -> list:
    from rag.ingest.manifest import load_manifest

    rows = load_manifest(corpus / "manifest.tsv")
    unique = {r.file: r for r in rows.values() if (corpus / r.file).is_file()}
    files = sorted(unique)
    random.Random(0).shuffle(files)
    return [unique[f] for f in files]


def synthetic_row(row, k: int):
    """The manifest row of copy ``k`` of ``row``, and the renamings to apply to its text."""
    from dataclasses import replace

    names = [n for n in dict.fromkeys([row.province, row.city, row.district]) if n]
    pairs = sorted(((n, rename(n, k)) for n in names), key=lambda p: -len(p[0]))
    base = Path(row.file).name if k == 0 else f"s{k}_{Path(row.file).name}"
    new = replace(row, file=f"syn{k}/{base}", province=rename(row.province, k),
                  city=rename(row.city, k), district=rename(row.district, k),
                  title=_apply(row.title, pairs) if row.title else None)
    return new, pairs


def _apply(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:  # longest first: 苏州市 before 苏州
        if old != new:
            text = text.replace(old, new)
    return text


def write_corpus(corpus: Path, out: Path, indexes: range | list[int]) -> Path:
    """Write the synthetic reports ``indexes`` and their manifest under ``out``."""
    order = real_order(corpus)
    out.mkdir(parents=True, exist_ok=True)
    cols = ["file", "level", "province", "city", "district", "year", "title"]
    lines = ["\t".join(cols)]
    for i in indexes:
        k, row = i // len(order), order[i % len(order)]
        new, pairs = synthetic_row(row, k)
        text = (corpus / row.file).read_text(encoding="utf-8", errors="surrogateescape")
        dest = out / new.file
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_apply(text, pairs), encoding="utf-8", errors="surrogateescape")
        lines.append("\t".join("" if getattr(new, c) is None else str(getattr(new, c))
                               for c in cols))
    (out / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def clone_store(full: Path, corpus: Path, n: int, dst: Path) -> dict:
    """A catalog of the first ``n`` synthetic reports, cloned from the full store's."""
    t0 = time.perf_counter()
    order = real_order(corpus)
    shutil.rmtree(dst, ignore_errors=True)
    copy_catalog(full, dst)
    db = sqlite3.connect(str(dst / "catalog.sqlite"))
    db.execute("DELETE FROM state WHERE key='catalog_id'")  # never reuse the full store's index
    by_source = {r[0]: (r[1], json.loads(r[2]))
                 for r in db.execute("SELECT source, doc_id, meta FROM docs")}
    cols = [r[1] for r in db.execute("PRAGMA table_info(docs)")]
    ccols = [r[1] for r in db.execute("PRAGMA table_info(chunks)")]
    added = 0
    for i in range(len(order), n):
        k, row = i // len(order), order[i % len(order)]
        found = by_source.get(Path(row.file).name)
        if found is None:
            continue
        doc_id, meta = found
        new_id = f"{doc_id}s{k}"
        names = [n for n in (meta.get("province"), meta.get("city"), meta.get("district")) if n]
        meta = {**meta, **{key: rename(meta.get(key), k)
                           for key in ("province", "city", "district")}}
        if meta.get("title"):
            meta["title"] = _apply(meta["title"], [(n, rename(n, k)) for n in
                                                   sorted(set(names), key=len, reverse=True)])
        sel = ", ".join(
            {"doc_id": "?", "source": "?", "meta": "?", "path": "NULL",
             "content_hash": "content_hash || ?"}.get(c, c) for c in cols)
        db.execute(
            f"INSERT INTO docs({', '.join(cols)}) SELECT {sel} FROM docs WHERE doc_id=?",
            _params(cols, new_id, f"s{k}_{Path(row.file).name}",
                    json.dumps(meta, ensure_ascii=False), f"s{k}", doc_id),
        )
        csel = ", ".join(
            {"chunk_id": "? || substr(chunk_id, length(doc_id) + 1)", "doc_id": "?"}.get(c, c)
            for c in ccols)
        db.execute(f"INSERT INTO chunks({', '.join(ccols)}) SELECT {csel} FROM chunks "
                   "WHERE doc_id=?", (new_id, new_id, doc_id))
        added += 1
    db.execute("UPDATE state SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")
    db.commit()
    reports = db.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
    db.close()
    return {"method": "full catalog + cloned renamed copies", "cloned": added,
            "reports": reports, "seconds": round(time.perf_counter() - t0, 1)}


def _params(cols: list[str], doc_id: str, source: str, meta: str, suffix: str, orig: str):
    out = []
    for c in cols:
        if c == "doc_id":
            out.append(doc_id)
        elif c == "source":
            out.append(source)
        elif c == "meta":
            out.append(meta)
        elif c == "content_hash":
            out.append(suffix)
    return (*out, orig)


def fit_linear(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares a + b·x."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CITIES)
    ap.add_argument("--store", type=Path, default=Path("/tmp/reportqa-bench/full"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/reportqa-bench/synthetic"))
    ap.add_argument("--sizes", default="6000", help="synthetic store sizes, in reports")
    ap.add_argument("--parse-sample", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--extra-stores", default="",
                    help="comma-separated smaller real stores to add as points of the curve "
                         "(e.g. bench.query's /tmp/reportqa-bench/query/n1500)")
    ap.add_argument("--write-all", type=Path, default=None,
                    help="also write all 30,000 synthetic files and their manifest here")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.tsv").is_file():
        print(f"corpus {args.corpus} not found; nothing to measure", file=sys.stderr)
        return 0
    if not (args.store / "catalog.sqlite").exists():
        print(f"no store at {args.store}: run python -m bench.lexical_ready --store "
              f"{args.store} first", file=sys.stderr)
        return 2
    from bench.lexical_ready import run_ingest
    from bench.query import (
        open_answerer,
        peak_mib,
        questions,
        retrieve,
        serving_memory,
        summarize,
        timed,
    )

    if args.write_all:
        write_corpus(args.corpus, args.write_all, range(TOTAL))
    shutil.rmtree(args.work, ignore_errors=True)
    n_real = len(real_order(args.corpus))
    load_at_start = [round(x, 2) for x in os.getloadavg()]

    # 1. parse throughput on synthetic files
    sample = list(range(n_real, n_real + args.parse_sample))
    folder = write_corpus(args.corpus, args.work / "sample", sample)
    wall, report = run_ingest([folder], args.work / "parse-store")
    rps = report["added"] / report["parse_seconds"]
    parse = {"files": len(sample), "added": report["added"], "skipped": len(report["skipped"]),
             "chunks": report["chunks_added"], "parse_seconds": report["parse_seconds"],
             "wall_seconds": round(wall, 1), "reports_per_second": round(rps, 2),
             "chunks_per_report": round(report["chunks_added"] / max(1, report["added"]), 1)}
    shutil.rmtree(args.work / "parse-store", ignore_errors=True)
    print(f"parse: {parse}", file=sys.stderr)

    # 2. query latency, real full store and synthetic larger ones side by side
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    extra_stores = [Path(p) for p in args.extra_stores.split(",") if p]
    paths = [(0, p, {"method": "real store (given)"}) for p in extra_stores
             if (p / "catalog.sqlite").exists()]
    paths.append((n_real, args.store, {"method": "real full store"}))
    for n in sizes:
        p = args.work / f"n{n}"
        paths.append((n, p, clone_store(args.store, args.corpus, n, p)))
        print(f"store of {n}: {paths[-1][2]}", file=sys.stderr)
    answerers = []
    for _n, p, build in paths:
        ms, ans = timed(open_answerer, p)
        ms2, _ = timed(ans.view)
        st = ans.store.catalog.stats()
        answerers.append({"ans": ans, "reports": st["reports"], "chunks": st["chunks"],
                          "build": build, "open_seconds": round((ms + ms2) / 1000, 1)})
    qs = questions()
    kinds = {q: answerers[0]["ans"].parse(q).form.value for q in qs}
    times: dict[tuple[int, str], list[float]] = {}
    for rep in range(args.repeats + 1):
        for q in qs:
            for i, a in enumerate(answerers):
                ms_r, _ = timed(retrieve, a["ans"], q)
                ms_a, _ = timed(a["ans"].ask, q)
                if rep:
                    times.setdefault((i, "retrieval"), []).append(ms_r)
                    if kinds[q] in ("fact", "list"):
                        times.setdefault((i, kinds[q]), []).append(ms_a)
    rows = []
    for i, a in enumerate(answerers):
        rows.append({"reports": a["reports"], "chunks": a["chunks"], "build": a["build"],
                     "open_seconds": a["open_seconds"],
                     **{w: summarize(times.get((i, w), []))
                        for w in ("retrieval", "fact", "list")}})
        a["ans"].store.close()
    for r, (_n, p, _b) in zip(rows, paths, strict=True):
        r["serving_memory"] = serving_memory(p)
    # The first open of a new catalog generation builds the lexical index in the serving
    # process: its peak, for the largest store, with the saved index removed.
    for saved in (paths[-1][1] / "cache").glob("lexical-*.pkl"):
        saved.unlink()
    cold = serving_memory(paths[-1][1])
    rows[-1]["serving_memory_cold_build"] = cold

    # 3. extrapolation to 30,000 reports
    chunks_per_report = rows[-1]["chunks"] / rows[-1]["reports"]
    x30 = TOTAL * chunks_per_report
    xs = [r["chunks"] for r in rows]
    extra = {"method": "least squares, linear in chunks, over this run's points "
                       f"({', '.join(str(r['reports']) for r in rows)} reports); 30,000 reports "
                       f"≈ {round(x30):,} chunks at {chunks_per_report:.1f} chunks/report",
             "chunks": round(x30)}
    for w in ("retrieval", "fact", "list"):
        for q in ("p50_ms", "p95_ms"):
            ys = [r[w][q] for r in rows]
            if None in ys:
                continue
            a0, b0 = fit_linear(xs, ys)
            extra[f"{w}_{q[:3]}_ms"] = round(a0 + b0 * x30)
    rss = [peak_mib(r["serving_memory"]) for r in rows]
    if all(rss):
        a0, b0 = fit_linear(xs, rss)
        extra["serving_peak_rss_mib"] = round(a0 + b0 * x30)
    per_chunk = peak_mib(cold) / rows[-1]["chunks"]
    extra["cold_build_peak_rss_mib"] = round(per_chunk * x30)
    extra["cold_build_method"] = ("proportional to chunks from the largest store's cold open "
                                  f"({peak_mib(cold)} MiB at {rows[-1]['chunks']} chunks)")
    extra["parse_hours_2_workers"] = round(TOTAL / rps / 3600, 2)
    result = {
        "corpus": str(args.corpus),
        "synthetic": "copy k of each real report (fixed shuffled order, seed 0) with its "
                     f"regions renamed by {MARKS[0]}…{MARKS[-1]}; years kept",
        "dense_search": "absent: lexical stores (--no-embed)",
        "load_average_at_start": load_at_start,
        "parse": parse,
        "query": {"questions": len(qs), "repeats": args.repeats, "points": rows,
                  "largest_reports": rows[-1]["reports"], "largest": rows[-1]},
        "extrapolated": extra,
    }
    for r in rows:
        print(f"{r['reports']:>6} reports: retrieval p50 {r['retrieval']['p50_ms']} ms, "
              f"list p50 {r['list']['p50_ms']} ms, serving peak {peak_mib(r['serving_memory'])}"
              " MiB")
    print(f"cold open of the largest store: {cold}")
    print(f"30,000 reports (extrapolated): {extra}")
    shutil.rmtree(args.work, ignore_errors=True)
    write_result("synthetic", result, "bench.synthetic", sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
