"""What every benchmark records: the machine it ran on, and where its result goes."""

from __future__ import annotations

import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CITIES = ROOT.parent / "shared" / "corpus" / "cities"


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident set size of this process (or of its finished children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # ru_maxrss is KiB on Linux


def machine() -> dict:
    """CPU, memory, load and versions, so that figures from two runs can be compared."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            timeout=5,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "git_commit": commit,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def command(module: str, argv: list[str]) -> str:
    """The shell command that reproduces this run."""
    return " ".join(["OMP_NUM_THREADS=1", "python", "-m", module, *map(shlex.quote, argv)])


def write_result(name: str, result: dict, module: str, argv: list[str] | None = None) -> Path:
    """Write ``bench/results/<name>.json`` with the machine and the command; print both."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = command(module, argv)
    payload = {"benchmark": name, "command": cmd, "machine": machine(), **result}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    print(f"reproduce: {cmd}")
    return out


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server started by a benchmark; kill it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def dir_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return round(total / 1024 / 1024, 2)


def backend_of(embeddings):
    """The embedding backend behind the lazy and caching wrappers."""
    while hasattr(embeddings, "inner"):
        embeddings = embeddings.inner
    return embeddings

