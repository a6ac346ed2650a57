"""Socket Mode: the bot without a public URL (needs ``REPORTQA_SLACK__APP_TOKEN``, xapp-...).

``reportqa serve`` connects it by itself when the app token is set; ``python -m
api.slack.socket`` runs the bot alone.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from api.slack.app import build_slack_app
from rag.config import Settings, get_settings
from rag.errors import ConfigError


def socket_mode_handler(settings: Settings, assistant) -> SocketModeHandler:
    """A handler ready to connect (nothing is opened until ``connect()`` or ``start()``)."""
    if not settings.slack.app_token:
        raise ConfigError("Socket Mode needs REPORTQA_SLACK__APP_TOKEN (xapp-...)")
    # Socket Mode carries no HTTP signature; bolt still wants a value to be constructed.
    slack = settings.slack.model_copy(
        update={"signing_secret": settings.slack.signing_secret or "unused-in-socket-mode"}
    )
    app = build_slack_app(slack, assistant)
    return SocketModeHandler(app, settings.slack.app_token)


def run_socket_mode(settings: Settings | None = None, assistant=None) -> None:
    """Connect to Slack over Socket Mode and serve until interrupted."""
    settings = settings or get_settings()
    if assistant is None:
        from rag.pipeline import open_assistant

        assistant = open_assistant(settings)
    socket_mode_handler(settings, assistant).start()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run_socket_mode()
