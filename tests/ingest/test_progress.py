"""Progress reaches output that is not a terminal: lines with counts, rate and ETA."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

from support import REPORTS, ROOT

from rag.ingest.progress import Progress, ProgressState


def test_state_line_has_counts_rate_and_eta():
    s = ProgressState("parse", "reports", 12, 70, 840, 15.0)
    assert s.line() == "parse: 12/70 reports (17%), 840 chunks, 0.8 reports/s, ETA 1m12s"
    s = ProgressState("embed", "chunks", 64, 325, 64, 4.0)
    assert s.line() == "embed: 64/325 chunks (19%), 16.0 chunks/s, ETA 16s"
    assert ProgressState("embed", "chunks", 0, 325, 0, 7.0).line() == (
        "embed: 0/325 chunks (0%), 7s so far")
    done = ProgressState("parse", "reports", 70, 70, 5400, 3725.0, finished=True)
    assert done.line() == "parse: 70/70 reports (100%), 5400 chunks, 1.1 reports/min, done in 1h02m"
    assert ProgressState("index", "reports", 0, None, 0, 3.0, True).line() == "index: done in 3s"
    d = s.to_dict()
    assert (d["done"], d["total"], d["rate"], d["eta"], d["finished"]) == (64, 325, 16.0, 16.3,
                                                                           False)


def test_lines_go_to_a_stream_while_a_slow_step_runs():
    out = io.StringIO()
    seen: list[ProgressState] = []
    p = Progress(stream=out, every=0.05, on_update=seen.append)
    p.start("embed", 10, "chunks")
    time.sleep(0.3)  # e.g. building the model: no unit done, lines still come
    p.advance(4, chunks=4)
    p.finish()
    lines = out.getvalue().splitlines()
    assert lines[0] == "embed: 0/10 chunks (0%), 0s so far"
    assert len([x for x in lines if x.startswith("embed: 0/10 chunks")]) >= 3
    assert re.fullmatch(r"embed: 4/10 chunks \(40%\), [\d.]+ chunks/s, done in 0s", lines[-1])
    assert seen[-1].finished and seen[-1].done == 4
    n = len(lines)
    time.sleep(0.15)
    assert len(out.getvalue().splitlines()) == n  # a finished phase is silent


def test_ingest_into_a_log_file_prints_progress(tmp_path):
    log = tmp_path / "ingest.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env["REPORTQA_PROGRESS_EVERY"] = "0.5"
    with log.open("w") as f:
        subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(REPORTS), "--no-embed",
                        "--store", str(tmp_path / "store")],
                       cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, check=True,
                       timeout=300)
    text = log.read_text()
    assert "parse: 0/5 reports (0%)" in text
    assert re.search(r"parse: 5/5 reports \(100%\), 107 chunks, [\d.]+ reports/s, done in", text)
    assert re.search(r"index: done in \d+s", text)
    assert "5 files: 5 added" in text
    assert "\r" not in text  # no bar
