"""The Slack bot: a bolt app (HTTP or Socket Mode) answering mentions and direct messages."""
