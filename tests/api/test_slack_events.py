"""Signed Events API requests to the running server; the bot's replies caught by a local
Slack Web API stand-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from api_support import QUESTION, serve

from api.main import create_app
from rag.config import Settings, SlackSettings

SECRET = "test-signing-secret"


def signed(body: dict, secret: str = SECRET, ts: int | None = None, **extra) -> dict:
    raw = json.dumps(body, ensure_ascii=False)
    ts = int(time.time()) if ts is None else ts
    sig = hmac.new(secret.encode(), f"v0:{ts}:{raw}".encode(), hashlib.sha256).hexdigest()
    return {"content": raw.encode(),
            "headers": {"content-type": "application/json", "x-slack-request-timestamp": str(ts),
                        "x-slack-signature": f"v0={sig}", **extra}}


def callback(event: dict, event_id: str) -> dict:
    return {"token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": event}


def mention(text: str, ts: str, thread_ts: str | None = None) -> dict:
    e = {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": "C1",
         "event_ts": ts}
    return {**e, "thread_ts": thread_ts} if thread_ts else e


@pytest.fixture
def slack_server(assistant, slack_api):
    settings = Settings(slack=SlackSettings(bot_token="xoxb-test", signing_secret=SECRET,
                                            api_url=slack_api.url))
    with serve(create_app(settings, assistant=assistant)) as base:
        wait_connected(base)
        yield base


def wait_connected(base: str, timeout: float = 30.0) -> None:
    """/readyz turns 200 with the store; Slack connects just after ("degraded" till then)."""
    deadline = time.monotonic() + timeout
    while httpx.get(base + "/readyz").json()["status"] != "ready":
        assert time.monotonic() < deadline, httpx.get(base + "/readyz").json()
        time.sleep(0.05)


def test_mention_is_answered_in_thread(slack_server, slack_api, assistant):
    url = slack_server + "/slack/events"
    t0 = time.monotonic()
    r = httpx.post(url, **signed(callback(mention(f"<@UBOT> {QUESTION}", "100.1"), "Ev1")))
    assert r.status_code == 200 and time.monotonic() - t0 < 3
    post = slack_api.wait_posts(1)[0]
    assert post["channel"] == "C1" and post["thread_ts"] == "100.1"
    section, context = post["blocks"][0], post["blocks"][1]
    assert section["type"] == "section" and "[1]" in section["text"]["text"]
    quote = assistant.ask(QUESTION).citations[0].quote
    assert context["type"] == "context" and quote[:20] in context["elements"][0]["text"]
    assert ("auth.test", ) <= tuple(m for m, _ in slack_api.calls[:1])

    # Same event again (a redelivery) and a retry header: nothing more is posted.
    httpx.post(url, **signed(callback(mention(f"<@UBOT> {QUESTION}", "100.1"), "Ev1")))
    r = httpx.post(url, **signed(callback(mention("<@UBOT> 和平区呢？", "100.3"), "Ev3"),
                                 **{"x-slack-retry-num": "1", "x-slack-retry-reason": "timeout"}))
    assert r.status_code == 200
    # A follow-up in the thread resolves against the thread's first question.
    httpx.post(url, **signed(callback(mention("<@UBOT> 那2022年呢？", "100.2", "100.1"), "Ev2")))
    posts = slack_api.wait_posts(2)
    time.sleep(0.5)
    assert len(slack_api.posts()) == 2
    assert posts[1]["thread_ts"] == "100.1"
    assert "2022" in json.dumps(posts[1]["blocks"], ensure_ascii=False)


def test_direct_message(slack_server, slack_api):
    dm = {"type": "message", "channel_type": "im", "user": "U1", "ts": "200.1",
          "text": "和平区2022年新增就业多少人？", "channel": "D1", "event_ts": "200.1"}
    r = httpx.post(slack_server + "/slack/events", **signed(callback(dm, "Ev9")))
    assert r.status_code == 200
    post = slack_api.wait_posts(1)[0]
    assert post["channel"] == "D1" and post["thread_ts"] == "200.1"
    assert "2万" in json.dumps(post["blocks"], ensure_ascii=False)


def test_signatures_are_checked(slack_server, slack_api):
    url = slack_server + "/slack/events"
    body = callback(mention("<@UBOT> hi", "300.1"), "Ev5")
    assert httpx.post(url, **signed(body, secret="wrong")).status_code == 401
    stale = int(time.time()) - 10 * 60
    assert httpx.post(url, **signed(body, ts=stale)).status_code == 401
    assert httpx.post(url, content=b"{}", headers={"content-type": "application/json"}
                      ).status_code == 401
    challenge = {"type": "url_verification", "token": "t", "challenge": "abc123"}
    r = httpx.post(url, **signed(challenge))
    assert r.status_code == 200 and "abc123" in r.text
    time.sleep(0.3)
    assert slack_api.posts() == []


def test_slack_not_configured_is_503(assistant):
    with serve(create_app(Settings(), assistant=assistant)) as base:
        r = httpx.post(base + "/slack/events", content=b"{}")
        assert r.status_code == 503 and "SIGNING_SECRET" in r.json()["detail"]


def test_unsigned_garbage_is_401_not_500(slack_server, slack_api):
    url = slack_server + "/slack/events"
    for headers in (
        {"content-type": "application/json"},
        {"content-type": "application/json", "x-slack-request-timestamp": "soon",
         "x-slack-signature": "v0=00"},
        {"content-type": "application/x-www-form-urlencoded",
         "x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=00"},
        {"content-type": "application/json", "x-slack-request-timestamp": "1e99",
         "x-slack-signature": "v0=00"},
    ):
        r = httpx.post(url, content=b"x", headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "not a signed Slack request" in r.json()["detail"]
    # Signed, so from whoever holds the secret, but not a body Slack sends: still a 4xx.
    ts = int(time.time())
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:x".encode(), hashlib.sha256).hexdigest()
    r = httpx.post(url, content=b"x", headers={"content-type": "application/json",
                                               "x-slack-request-timestamp": str(ts),
                                               "x-slack-signature": f"v0={sig}"})
    assert 400 <= r.status_code < 500, r.text
    assert slack_api.posts() == []


def test_slack_unreachable_at_start_leaves_the_api_up_and_recovers(assistant):
    from api_support import SlackAPI
    from support import free_port

    port = free_port()  # nothing listens there yet: Slack's API is out of reach
    settings = Settings(slack=SlackSettings(bot_token="xoxb-test", signing_secret=SECRET,
                                            api_url=f"http://127.0.0.1:{port}/api/"))
    with serve(create_app(settings, assistant=assistant)) as base:
        ready = httpx.get(base + "/readyz").json()
        assert ready["status"] == "degraded" and "slack" in ready["degraded"], ready
        r = httpx.post(base + "/v1/ask", json={"question": QUESTION}, timeout=30)
        assert r.status_code == 200 and r.json()["found"]
        body = callback(mention(f"<@UBOT> {QUESTION}", "400.1"), "Ev40")
        r = httpx.post(base + "/slack/events", **signed(body))
        assert r.status_code == 503 and "not connected" in r.json()["detail"]

        api = SlackAPI(port)  # Slack comes back
        api.thread.start()
        try:
            deadline = time.monotonic() + 60
            while httpx.get(base + "/readyz").json()["status"] != "ready":
                assert time.monotonic() < deadline, "Slack was never picked up"
                time.sleep(0.2)
            r = httpx.post(base + "/slack/events", **signed(body))
            assert r.status_code == 200
            assert api.wait_posts(1)[0]["thread_ts"] == "400.1"
        finally:
            api.server.shutdown()
            api.server.server_close()


def test_report_text_never_becomes_a_disguised_link(writable_assistant, slack_api, tmp_path):
    source = "002_11fb4cd1e17529ea.txt"
    text = writable_assistant.source_text(source)
    assert "新增就业2万人。" in text
    folder = tmp_path / "changed"
    folder.mkdir()
    (folder / source).write_text(
        text.replace("新增就业2万人。", "新增就业2万人，详见[官方通知](https://evil.example/login)。"),
        encoding="utf-8")
    assert writable_assistant.ingest([folder]).replaced == [source]
    settings = Settings(slack=SlackSettings(bot_token="xoxb-test", signing_secret=SECRET,
                                            api_url=slack_api.url))
    with serve(create_app(settings, assistant=writable_assistant)) as base:
        wait_connected(base)
        body = callback(mention("<@UBOT> 和平区2022年新增就业多少人？", "500.1"), "Ev50")
        assert httpx.post(base + "/slack/events", **signed(body)).status_code == 200
        post = slack_api.wait_posts(1)[0]
    shown = json.dumps(post["blocks"], ensure_ascii=False) + post["text"]
    assert "官方通知" in shown and "https://evil.example/login" in shown  # quoted as written
    assert "|官方通知>" not in shown and "<https://evil.example" not in shown
