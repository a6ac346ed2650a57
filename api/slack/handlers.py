"""Slack listeners as plain functions, registered on a bolt app by :func:`register`.

Bolt acks each event at once (``process_before_response=False``) and runs the listener in
its worker threads, so answering never holds up the 3-second acknowledgement.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

from slack_bolt import BoltResponse

from api.slack.format import answer_blocks, fallback_text
from rag.answer.followup import resolve_followup
from rag.errors import ReportQAError

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
HINT = "请直接提问，例如：@reportqa 哪些区在2023年减少了安全生产事故？"
MAX_QUESTION_CHARS = 2000


class Memory:
    """Bounded, thread-safe memory: seen event ids, and each thread's earlier questions."""

    def __init__(self, max_events: int = 5000, max_threads: int = 2000) -> None:
        self._events: OrderedDict[str, None] = OrderedDict()
        self._threads: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self.max_events, self.max_threads = max_events, max_threads
        self._lock = threading.Lock()

    def first_sight(self, event_id: str | None) -> bool:
        """True the first time an event id is seen (Slack redelivers on slow acks)."""
        if not event_id:
            return True
        with self._lock:
            if event_id in self._events:
                return False
            self._events[event_id] = None
            while len(self._events) > self.max_events:
                self._events.popitem(last=False)
            return True

    def history(self, channel: str, thread_ts: str) -> list[str]:
        with self._lock:
            return list(self._threads.get((channel, thread_ts), []))

    def remember(self, channel: str, thread_ts: str, question: str) -> None:
        with self._lock:
            questions = self._threads.pop((channel, thread_ts), [])
            self._threads[(channel, thread_ts)] = (questions + [question])[-10:]
            while len(self._threads) > self.max_threads:
                self._threads.popitem(last=False)


def question_of(text: str | None) -> str:
    return MENTION.sub(" ", text or "").strip()


def answer_event(assistant, memory: Memory, event: dict, body: dict, client,
                 logger: logging.Logger = log) -> dict | None:
    """Answer one mention or direct message in its thread; return what was posted."""
    if not memory.first_sight(body.get("event_id")):
        logger.info("duplicate event %s ignored", body.get("event_id"))
        return None
    channel = event["channel"]
    thread_ts = event.get("thread_ts") or event["ts"]
    question = question_of(event.get("text"))
    if not question:
        return client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=HINT).data
    if len(question) > MAX_QUESTION_CHARS:
        text = f"问题太长（{len(question)}字），请控制在{MAX_QUESTION_CHARS}字以内。"
        return client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text).data
    resolved = resolve_followup(memory.history(channel, thread_ts), question, assistant.places())
    try:
        ans = assistant.ask(resolved)
    except ReportQAError as exc:
        logger.warning("question %r failed: %s", resolved, exc)
        text = f"抱歉，无法回答：{exc}"
        return client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text).data
    except Exception:  # noqa: BLE001 — the edge: the user gets a message, the log the trace
        logger.exception("question %r failed", resolved)
        text = "抱歉，回答时出错了，请稍后再试。"
        return client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text).data
    memory.remember(channel, thread_ts, resolved)
    return client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=fallback_text(ans), blocks=answer_blocks(ans),
        unfurl_links=False,
    ).data


def is_direct_message(event: dict) -> bool:
    """A person's message in a DM with the bot (not an edit, not a bot's own message)."""
    return (event.get("channel_type") == "im" and not event.get("subtype")
            and not event.get("bot_id"))


def skip_retries(req, resp, next):  # noqa: A002 — bolt's middleware signature
    """Slack retries an event it thinks we missed; the first delivery is already answered."""
    if req.headers.get("x-slack-retry-num"):
        return BoltResponse(status=200, body="")
    return next()


def register(app, assistant, memory: Memory | None = None) -> Memory:
    """Register the listeners on a bolt ``App``; returns the conversation memory."""
    memory = memory or Memory()

    def on_mention(event, body, client, logger):
        answer_event(assistant, memory, event, body, client, logger)

    def on_message(event, body, client, logger):
        if is_direct_message(event):
            answer_event(assistant, memory, event, body, client, logger)

    app.use(skip_retries)
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    return memory
