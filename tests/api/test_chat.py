"""OpenAI-compatible chat: non-streaming, SSE streaming, follow-ups, and the openai client."""

from __future__ import annotations

import json

import pytest
from api_support import QUESTION, serve
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.chat import pieces
from rag.config import APISettings, Settings


@pytest.fixture
def client(assistant):
    with TestClient(create_app(Settings(), assistant=assistant)) as c:
        assert c.app.state.runtime.wait_ready(30)
        yield c


def events(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.split("\n\n") if line.startswith("data: ")]


def test_models(client):
    assert client.get("/v1/models").json()["data"][0]["id"] == "reportqa"


def test_non_streaming_carries_citations(client):
    r = client.post("/v1/chat/completions",
                    json={"model": "reportqa", "temperature": 0,
                          "messages": [{"role": "system", "content": "be brief"},
                                       {"role": "user", "content": QUESTION}]})
    assert r.status_code == 200
    body = r.json()
    msg = body["choices"][0]["message"]
    assert msg["role"] == "assistant" and "[1]" in msg["content"]
    assert msg["citations"] and msg["citations"] == body["citations"]
    assert body["choices"][0]["finish_reason"] == "stop" and body["object"] == "chat.completion"


def test_streaming_sse(client):
    with client.stream("POST", "/v1/chat/completions",
                       json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]}
                       ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        data = events(r.read().decode())
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop" and final["citations"]
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert "[1]" in text
    whole = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert text == whole["answer"] and final["citations"] == whole["citations"]


def test_follow_up_uses_the_earlier_turns(client):
    r = client.post("/v1/chat/completions", json={"messages": [
        {"role": "user", "content": "和平区2021年新增就业多少人？"},
        {"role": "assistant", "content": "……"},
        {"role": "user", "content": [{"type": "text", "text": "那2022年呢？"}]},
    ]})
    body = r.json()
    assert body["question"] == "和平区2022年新增就业多少人？"
    assert any("2万" in c["quote"] for c in body["citations"])


@pytest.mark.parametrize("payload", [
    {"messages": []},
    {"messages": [{"role": "assistant", "content": "hi"}]},
    {"messages": [{"role": "user", "content": ""}]},
    {"messages": "hello"},
    {"model": "reportqa"},
    {"messages": [{"role": "user", "content": "x" * 2001}]},
])
def test_bad_chat_requests(client, payload):
    r = client.post("/v1/chat/completions", json=payload)
    assert 400 <= r.status_code < 500 and r.json()["detail"]


def test_pieces_keep_the_text():
    text = "符合条件的地区：\n- **和平区**：“新增就业2万人。”[1]，其余，略。"
    assert "".join(pieces(text)) == text and len(pieces(text)) > 2


def test_openai_client(assistant):
    openai = pytest.importorskip("openai")
    app = create_app(Settings(api=APISettings(api_keys=["sk-test"])), assistant=assistant)
    with serve(app) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0)
        assert [m.id for m in client.models.list()] == ["reportqa"]
        messages = [{"role": "user", "content": QUESTION}]
        done = client.chat.completions.create(model="reportqa", messages=messages)
        content = done.choices[0].message.content
        citations = done.model_extra["citations"]
        assert "[1]" in content and citations[0]["quote"]
        assert done.choices[0].message.model_extra["citations"] == citations

        text, final = "", None
        for chunk in client.chat.completions.create(model="reportqa", messages=messages,
                                                    stream=True):
            text += chunk.choices[0].delta.content or ""
            if chunk.choices[0].finish_reason == "stop":
                final = chunk
        assert text == content
        assert final is not None and final.model_extra["citations"] == citations

        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0) \
                .chat.completions.create(model="reportqa", messages=messages)
