"""Socket Mode is built from settings without connecting (Slack itself is not reached)."""

from __future__ import annotations

import pytest

from api.slack.socket import socket_mode_handler
from rag.config import Settings, SlackSettings
from rag.errors import ConfigError


def test_socket_mode_handler_is_constructed(assistant, slack_api):
    settings = Settings(slack=SlackSettings(bot_token="xoxb-test", app_token="xapp-test",
                                            api_url=slack_api.url))
    handler = socket_mode_handler(settings, assistant)
    assert handler.app_token == "xapp-test"
    assert handler.app.client.base_url == slack_api.url
    assert any(m == "auth.test" for m, _ in slack_api.calls)


def test_socket_mode_needs_the_app_token(assistant):
    with pytest.raises(ConfigError, match="APP_TOKEN"):
        socket_mode_handler(Settings(slack=SlackSettings(bot_token="xoxb-x")), assistant)
