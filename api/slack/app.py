"""Build the bolt app that serves both HTTP (``/slack/events``) and Socket Mode."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from api.slack.handlers import register
from rag.config import SlackSettings
from rag.errors import ConfigError


def build_slack_app(settings: SlackSettings, assistant, *, client: WebClient | None = None) -> App:
    """A bolt App with the listeners registered; ``settings.api_url`` redirects the Web API."""
    if not settings.bot_token:
        raise ConfigError("Slack needs REPORTQA_SLACK__BOT_TOKEN (xoxb-...)")
    if client is None:
        client = WebClient(token=settings.bot_token)
        if settings.api_url:
            client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    app = App(
        client=client,
        signing_secret=settings.signing_secret,
        # Ack first, answer in bolt's worker threads: Slack wants the ack within 3 seconds.
        process_before_response=False,
    )
    register(app, assistant)
    return app
