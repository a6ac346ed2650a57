"""reportqa: question answering with checkable citations over Chinese government work reports.

The package follows the data flow: ``ingest`` (load, clean, describe, chunk) → ``index``
(store, lexical index) and ``embed`` → ``retrieve`` (understand the question, search) →
``answer`` (decide, cite, validate) → ``evaluate``. ``api`` serves it over HTTP and Slack.
"""

__version__ = "0.1.0"
