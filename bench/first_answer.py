"""From a fresh clone to the first answer: ``make run`` with a venv of its own, step by step.

    python -m bench.first_answer [--cold [--no-pip-cache]] [--keep] [--dir DIR]

Clones this repository's HEAD (committed work only) into a sibling folder, runs ``make run``
there and times each step from make's own echo of it: the venv, pip, torch, the package and
its dependencies, then ingest, docs and ask. ``--cold`` is a machine that never ran the
project: new, empty caches for pip, the fast e5 runtime, tiktoken and temporary files;
``--no-pip-cache`` also turns pip's cache off (PIP_NO_CACHE_DIR=1). Without ``--cold`` the
caches of this machine are used, as in a rerun.
The target is the first answer within 240 s of ``make run`` on a fresh clone. CPU seconds are
recorded beside wall seconds: on a machine shared with other jobs, wall time is theirs too.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, write_result

TARGET_SECONDS = 240
# make's echo of a recipe line -> the step it starts
STEPS = [
    ("venv", re.compile(r"-m venv ")),
    ("pip", re.compile(r"pip install -q --upgrade pip")),
    ("torch", re.compile(r"pip install -q torch")),
    ("package", re.compile(r"pip install -q -e \.$")),
    ("ingest", re.compile(r"reportqa ingest ")),
    ("docs", re.compile(r"reportqa docs ")),
    ("ask", re.compile(r"reportqa ask ")),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", action="store_true", help="empty pip and project caches")
    ap.add_argument("--no-pip-cache", action="store_true", help="with --cold: pip caches nothing")
    ap.add_argument("--dir", type=Path, default=ROOT.parent / f"{ROOT.name}-first-answer",
                    help="where to clone (removed first, and afterwards unless --keep)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    shutil.rmtree(args.dir, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(args.dir)],
                   check=True)
    subprocess.run(["git", "checkout", "--quiet", commit], cwd=args.dir, check=True)
    scratch = Path(tempfile.mkdtemp(prefix="reportqa-first-answer-"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REPORTQA_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(TMPDIR=str(scratch), TIKTOKEN_CACHE_DIR=str(scratch / "tiktoken"))
    if args.cold:
        env.update(PIP_CACHE_DIR=str(scratch / "pip"),
                   REPORTQA_FAST_E5_CACHE=str(scratch / "fast_e5"))
        if args.no_pip_cache:
            env["PIP_NO_CACHE_DIR"] = "1"

    starts: dict[str, float] = {}
    lines: list[str] = []
    t0 = time.monotonic()
    proc = subprocess.Popen(["make", "run"], cwd=args.dir, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.monotonic() - t0
        line = line.rstrip("\n")
        if not line.startswith("WARNING: Location"):  # pip on this machine's local indexes
            lines.append(f"{now:7.1f} {line}")
        for name, pattern in STEPS:
            if name not in starts and pattern.search(line):
                starts[name] = now
    code = proc.wait()
    total = time.monotonic() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    names = [n for n, _ in STEPS if n in starts]
    bounds = [starts[n] for n in names] + [total]
    steps = {n: round(bounds[i + 1] - bounds[i], 1) for i, n in enumerate(names)}
    answered = any("[1]" in line for line in lines[-20:])
    result = {
        "cold": args.cold,
        "pip_cache": "off" if args.cold and args.no_pip_cache else
        "empty" if args.cold else "this machine's",
        "commit": commit,
        "exit_code": code,
        "answered": answered,
        "seconds": round(total, 1),
        "install_seconds": round(starts.get("ingest", total), 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "target_seconds": TARGET_SECONDS,
        "target_met": code == 0 and answered and total <= TARGET_SECONDS,
        "steps": steps,
        "log_tail": lines[-25:],
    }
    print("\n".join(lines[-12:]))
    print(f"make run: {total:.0f} s wall, {result['cpu_seconds']:.0f} s CPU, steps {steps}")
    name = "first_answer" + ("_cold" if args.cold else "") + ("_nocache" if args.no_pip_cache
                                                              else "")
    write_result(name, result,
                 "bench.first_answer", sys.argv[1:] if argv is None else argv)
    shutil.rmtree(scratch, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0 if code == 0 and answered else 1


if __name__ == "__main__":
    sys.exit(main())
