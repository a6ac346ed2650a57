"""The Slack listeners called as plain functions, with a recording client."""

from __future__ import annotations

from types import SimpleNamespace

from api.slack.handlers import Memory, answer_event, is_direct_message, question_of
from rag.errors import QuestionError
from rag.models import Answer, Citation
from rag.retrieve.places import Place, PlaceMatcher


class Client:
    def __init__(self) -> None:
        self.posts: list[dict] = []

    def chat_postMessage(self, **kwargs):  # noqa: N802 — slack_sdk's name
        self.posts.append(kwargs)
        return SimpleNamespace(data=kwargs)


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.questions: list[str] = []
        self.fail = fail

    def ask(self, question: str, debug: bool = False) -> Answer:
        self.questions.append(question)
        if self.fail:
            raise self.fail
        c = Citation(1, "s.txt", "d", "天津市和平区", 2023, 2022, "review", "新增就业2万人", 0, 7)
        return Answer(question, "新增就业2万人[1]", True, "extractive", [c])

    def places(self) -> PlaceMatcher:
        return PlaceMatcher([Place("和平区", "district")])


def event(text: str, ts: str = "1.1", thread_ts: str | None = None) -> dict:
    e = {"type": "app_mention", "channel": "C1", "user": "U1", "text": text, "ts": ts}
    if thread_ts:
        e["thread_ts"] = thread_ts
    return e


def test_answers_in_thread_with_blocks():
    assistant, memory, client = Recorder(), Memory(), Client()
    answer_event(assistant, memory, event("<@UBOT> 和平区2021年新增就业多少人？"),
                 {"event_id": "E1"}, client)
    post = client.posts[0]
    assert post["channel"] == "C1" and post["thread_ts"] == "1.1"
    assert assistant.questions == ["和平区2021年新增就业多少人？"]
    assert post["blocks"][1]["type"] == "context"


def test_follow_up_in_the_same_thread_and_dedupe():
    assistant, memory, client = Recorder(), Memory(), Client()
    answer_event(assistant, memory, event("<@UBOT> 和平区2021年新增就业多少人？"),
                 {"event_id": "E1"}, client)
    answer_event(assistant, memory, event("<@UBOT> 那2022年呢？", "1.2", "1.1"),
                 {"event_id": "E2"}, client)
    answer_event(assistant, memory, event("<@UBOT> 那2022年呢？", "1.2", "1.1"),
                 {"event_id": "E2"}, client)  # Slack's redelivery
    answer_event(assistant, memory, event("<@UBOT> 那2022年呢？", "9.9"),
                 {"event_id": "E3"}, client)  # another thread: no history
    assert assistant.questions == ["和平区2021年新增就业多少人？", "和平区2022年新增就业多少人？",
                                   "那2022年呢？"]
    assert [p["thread_ts"] for p in client.posts] == ["1.1", "1.1", "9.9"]


def test_empty_and_failing_questions_get_a_message():
    client = Client()
    answer_event(Recorder(), Memory(), event("<@UBOT>"), {"event_id": "E1"}, client)
    assert "例如" in client.posts[0]["text"]
    answer_event(Recorder(QuestionError("too long")), Memory(), event("q"), {"event_id": "E2"},
                 client)
    assert "too long" in client.posts[1]["text"]
    answer_event(Recorder(RuntimeError("x")), Memory(), event("q"), {"event_id": "E3"}, client)
    assert "出错" in client.posts[2]["text"]


def test_helpers():
    assert question_of("<@U123|bot> 你好 <@U9>") == "你好"
    assert is_direct_message({"channel_type": "im", "text": "hi"})
    assert not is_direct_message({"channel_type": "im", "bot_id": "B1"})
    assert not is_direct_message({"channel_type": "im", "subtype": "message_changed"})
    assert not is_direct_message({"channel_type": "channel"})


def test_manifest_subscribes_to_what_is_handled():
    from pathlib import Path

    yaml = __import__("pytest").importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "slack_manifest.yaml")
                              .read_text(encoding="utf-8"))
    events = manifest["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == {"app_mention", "message.im"}
    assert events["request_url"].endswith("/slack/events")
    assert {"app_mentions:read", "chat:write", "im:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"])
