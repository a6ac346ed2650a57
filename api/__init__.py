"""The HTTP edge: JSON API, OpenAI-compatible chat, a chat page and the Slack endpoint."""
