"""End to end over loopback: the Assistant, a real store, and a scripted OpenAI-compatible server.

The server speaks ``POST /v1/chat/completions`` with and without ``stream: true`` and answers
from a script that is sometimes wrong on purpose; the final answer must stay honest.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from answer_checks import assert_honest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from support import BigramEmbeddings, free_port
from support import assert_citations_verbatim as assert_verbatim

from rag.answer.llm import FALLBACK_NOTE, INVALID_NOTE, JUDGE_MAX_TOKENS, make_chat_model
from rag.config import LLMSettings, Settings
from rag.pipeline import open_assistant

PASSAGE = re.compile(r"\[(\d+)\] ([^\n｜]+)[^\n]*\n“(.*?)”\n", re.S)
Reply = str | tuple[float, str]  # a reply, or (seconds to wait first, reply)


def good_answer(prompt: str) -> str:
    """What a careful model writes: each passage's quote, cited."""
    lines = [f"- {region}：“{quote}”[{n}]" for n, region, quote in PASSAGE.findall(prompt + "\n")]
    return "\n".join(lines)


class ScriptedLLM:
    """A chat completions endpoint whose replies come from ``judge`` and ``answer``."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.completions)
        self.reset()

    def reset(self) -> None:
        self.judge: Callable[[str], Reply] = lambda prompt: '{"match": true, "sentence": 1}'
        self.answer: Callable[[str], Reply] = good_answer
        # The question's reading: by default the model recognises nothing.
        self.read: Callable[[str], Reply] = lambda prompt: (
            '{"places": [], "years": [], "topic": "", "condition": null}')
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def completions(self, request: Request):
        body = await request.json()
        self.requests.append(body)
        prompt = body["messages"][-1]["content"]
        script = (self.read if '"topic"' in prompt else
                  self.judge if '"match"' in prompt else self.answer)
        reply = script(prompt)
        delay, text = reply if isinstance(reply, tuple) else (0.0, reply)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(delay or 0.02)
        finally:
            self.in_flight -= 1
        base = {"id": "chatcmpl-1", "created": int(time.time()), "model": body.get("model", "m")}
        if not body.get("stream"):
            return JSONResponse({
                **base, "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

        def events() -> Iterator[str]:
            chunk = {**base, "object": "chat.completion.chunk"}
            deltas = [{"role": "assistant", "content": ""}]
            deltas += [{"content": text[i : i + 7]} for i in range(0, len(text), 7)]
            for delta in deltas:
                choice = {"index": 0, "delta": delta, "finish_reason": None}
                yield f"data: {json.dumps({**chunk, 'choices': [choice]})}\n\n"
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({**chunk, 'choices': [done]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ScriptedLLM, str]]:
    scripted = ScriptedLLM()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(
        scripted.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    ))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "scripted LLM server did not start"
        time.sleep(0.02)
    yield scripted, f"http://127.0.0.1:{port}/v1"
    uv.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def llm_server(server: tuple[ScriptedLLM, str]) -> tuple[ScriptedLLM, str]:
    server[0].reset()
    return server


def settings_for(url: str, **llm) -> Settings:
    return Settings(llm=LLMSettings(base_url=url, model="scripted", **llm))


def sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer["citations"]}


SCHOOL_PLACES = {"002_11fb4cd1e17529ea.txt", "004_c2261995aa5722eb.txt"}


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "sse"])
def test_list_answer_written_by_the_model(llm_server, open_store, streaming: bool) -> None:
    scripted, url = llm_server
    llm = make_chat_model(settings_for(url, timeout=5).llm, streaming=streaming)
    out = open_store(llm).ask("2022年哪些区新增了学位？").to_dict()
    assert out["found"] and out["mode"] == "llm" and out["kind"] == "list"
    assert sources(out) == SCHOOL_PLACES
    assert [i["citations"] for i in out["items"]] == [[1], [2]]
    assert_verbatim(out)
    assert_honest(out)
    assert {bool(r.get("stream")) for r in scripted.requests} == {streaming}
    judged = [r for r in scripted.requests if '"match"' in r["messages"][-1]["content"]]
    assert judged and {r["max_tokens"] for r in judged} == {JUDGE_MAX_TOKENS}
    assert not any("max_completion_tokens" in r for r in scripted.requests)


def test_configured_endpoint_answers_a_fact(llm_server, sample_store) -> None:
    scripted, url = llm_server
    scripted.answer = lambda p: "和平区2022年新增就业2万人[1]。"
    assistant = open_assistant(settings_for(url), sample_store, embeddings=BigramEmbeddings())
    try:
        out = assistant.ask("和平区2022年新增就业多少人？").to_dict()
    finally:
        assistant.close()
    assert out["mode"] == "llm"
    assert out["answer"].endswith("和平区2022年新增就业2万人[1]。")
    assert sources(out) == {"002_11fb4cd1e17529ea.txt"}
    assert_verbatim(out)
    assert_honest(out)


def test_invented_numbers_and_dangling_markers_are_removed(llm_server, open_store) -> None:
    scripted, url = llm_server
    scripted.answer = lambda p: good_answer(p) + "\n两区合计新增学位9866个[1][2]。详见[5]。"
    out = open_store(make_chat_model(settings_for(url).llm)).ask("2022年哪些区新增了学位？")
    data = out.to_dict()
    assert data["mode"] == "llm"
    assert "9866" not in data["answer"] and "[5]" not in data["answer"]
    assert any("9866" in n for n in data["notes"]) and any("[5]" in n for n in data["notes"])
    assert sources(data) == SCHOOL_PLACES
    assert_verbatim(data)
    assert_honest(data)


def test_an_answer_of_invented_numbers_falls_back(llm_server, open_store) -> None:
    scripted, url = llm_server
    scripted.answer = lambda p: "和平区新增学位7000个[1]，另一区新增学位4000个[2]。"
    out = open_store(make_chat_model(settings_for(url).llm)).ask("2022年哪些区新增了学位？")
    data = out.to_dict()
    assert data["mode"] == "extractive"
    assert INVALID_NOTE in data["notes"]
    assert "7000" not in data["answer"]
    assert sources(data) == SCHOOL_PLACES
    assert_verbatim(data)
    assert_honest(data)


def test_malformed_judge_replies_fall_back_to_the_rule(llm_server, open_store) -> None:
    scripted, url = llm_server
    scripted.judge = lambda p: "是的，第一句符合要求。"
    llm = make_chat_model(settings_for(url, max_concurrency=1).llm)
    data = open_store(llm).ask("2022年哪些区新增了学位？").to_dict()
    assert sources(data) == SCHOOL_PLACES  # what the extractive rule decides
    assert data["mode"] == "llm"
    assert scripted.max_in_flight == 1
    assert_verbatim(data)
    assert_honest(data)


def test_judge_saying_no_is_followed(llm_server, open_store) -> None:
    scripted, url = llm_server
    scripted.judge = lambda p: ('{"match": true, "sentence": 1}' if "6300" in p
                                else '{"match": false, "sentence": null}')
    data = open_store(make_chat_model(settings_for(url).llm)).ask(
        "2022年哪些区新增了学位？").to_dict()
    assert sources(data) == {"002_11fb4cd1e17529ea.txt"}


def test_slow_reply_beyond_the_timeout_gives_the_extractive_answer(llm_server, open_store):
    scripted, url = llm_server
    scripted.answer = lambda p: (3.0, good_answer(p))
    llm = make_chat_model(settings_for(url, timeout=0.5).llm)
    start = time.monotonic()
    data = open_store(llm).ask("迎泽区2017年旅游总收入是多少？").to_dict()
    assert time.monotonic() - start < 3.5
    assert data["found"] and data["mode"] == "extractive"
    assert data["notes"][-1].startswith(FALLBACK_NOTE)
    assert sources(data) == {"003_6c455b50551dc8b5.txt"}
    assert "137.6亿元" in data["answer"]
    assert_verbatim(data)


def test_unreachable_endpoint_gives_the_extractive_answer(open_store) -> None:
    port = free_port()  # nothing listens there now
    llm = make_chat_model(settings_for(f"http://127.0.0.1:{port}/v1", timeout=2).llm)
    data = open_store(llm).ask("历城区2023年新增绿色建筑多少平方米？").to_dict()
    assert data["mode"] == "extractive" and data["notes"][-1].startswith(FALLBACK_NOTE)
    assert "530万" in data["answer"]


def test_the_models_reading_supplies_a_topic_the_rules_did_not_recognise(
    llm_server, open_e5_store
) -> None:
    scripted, url = llm_server
    scripted.read = lambda prompt: (
        '{"places": ["和平区"], "years": [2022], "topic": "燃气管网改造", "condition": null}')
    llm = make_chat_model(settings_for(url, timeout=5).llm)
    out = open_e5_store(llm).ask("What did Heping District do about ageing gas pipes in 2022?")
    out = out.to_dict()
    assert out["found"] and sources(out) == {"002_11fb4cd1e17529ea.txt"}
    assert any("燃气" in c["quote"] for c in out["citations"])
    assert any("the chat model read topic" in n for n in out["notes"])
    assert_verbatim(out)


def test_an_unusable_reading_changes_nothing(llm_server, open_store) -> None:
    scripted, url = llm_server
    scripted.read = lambda prompt: "我认为这个问题问的是就业。"
    llm = make_chat_model(settings_for(url, timeout=5).llm)
    out = open_store(llm).ask("和平区2022年新增就业多少人？").to_dict()
    assert out["found"] and "2万" in out["answer"]
    assert "the chat model's reading of the question was unusable" in out["notes"]
