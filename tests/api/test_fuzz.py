"""Schema fuzzing of the real server: ``schemathesis run`` against ``reportqa serve`` over a
copy of the sample store, bounded in examples. Any 5xx, or a response that the OpenAPI
document does not describe (status, headers, body), fails it.

``make fuzz`` runs this file alone; ``make test`` runs it with the rest of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import EmbeddingServer, free_port, subprocess_server

SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))  # per operation
# Checks that cannot hold for this API by design: the open server has no auth to ignore,
# and a schema-valid request may still be refused for what only the server can know (a
# question about nothing, a file that is not a report).
EXCLUDED = "ignored_auth,positive_data_acceptance"


@pytest.mark.slow
@pytest.mark.skipif(SCHEMATHESIS is None, reason="schemathesis is not installed")
def test_fuzz_the_running_server(sample_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(sample_store, store)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with EmbeddingServer() as emb:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
        env.update(emb.env(), REPORTQA_API__RATE_PER_MINUTE="1000000",
                   REPORTQA_API__ANSWER_TIMEOUT="60")
        cmd = [sys.executable, "-m", "rag.cli", "serve", "--store", str(store), "--port",
               str(port)]
        with subprocess_server(cmd, base + "/readyz", tmp_path / "serve.log", timeout=120,
                               env=env):
            assert SCHEMATHESIS is not None
            run = subprocess.run(
                [SCHEMATHESIS, "run", f"{base}/openapi.json", "--checks", "all",
                 "--exclude-checks", EXCLUDED, "--max-examples", str(MAX_EXAMPLES),
                 "--seed", "14", "--workers", "1", "--request-timeout", "90",
                 "--generation-database", "none", "--no-color",
                 "--report", "junit", "--report-dir", str(tmp_path / "report")],
                cwd=tmp_path, capture_output=True, text=True, timeout=1200,
                env={**env, "SCHEMATHESIS_TELEMETRY": "false"},
            )
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:] + log[-2000:]
    assert "Traceback" not in log, log[-4000:]
