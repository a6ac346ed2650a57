"""Answers as Slack messages: Markdown to mrkdwn, citations in a context block."""

from __future__ import annotations

import re

from rag.models import Answer, Citation

SECTION_LIMIT = 3000  # characters in a section's text
CONTEXT_ELEMENTS = 10  # elements in a context block
QUOTE_CHARS = 120


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cells(line: str) -> list[str] | None:
    line = line.strip()
    if len(line) < 2 or not (line.startswith("|") and line.endswith("|")):
        return None
    return [c.strip() for c in line[1:-1].split("|")]


def tables_to_lists(markdown: str) -> str:
    """Markdown tables (which Slack does not draw) as one bullet per row: "- **a**：b；c"."""
    out, in_table = [], False
    for line in markdown.split("\n"):
        cells = _cells(line)
        if cells is None:
            in_table = False
            out.append(line)
        elif not in_table:
            in_table = True  # the header row: the bullets say what each cell is
        elif not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
            out.append(f"- **{cells[0]}**：" + "；".join(cells[1:]))
    return "\n".join(out)


def to_mrkdwn(markdown: str) -> str:
    """Convert the answer's Markdown to Slack mrkdwn: bold, italics, lists, headings, tables
    as lists.

    Links are not converted: answers quote report text, and ``[官方通知](https://evil/)`` in a
    report must not become a link whose text hides where it goes. It stays as written, so
    the address is in plain sight.
    """
    bold = "\x01"  # stands for mrkdwn's "*" until single-star italics are converted
    text = escape(tables_to_lists(markdown))
    text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", bold + r"\1" + bold, text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__",
                  lambda m: bold + (m.group(1) or m.group(2)) + bold, text)
    text = re.sub(r"(?m)^(\s*)[-*+]\s+", lambda m: m.group(1) + "• ", text)
    text = re.sub(r"(?<![A-Za-z0-9_*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![A-Za-z0-9_*])", r"_\1_",
                  text)
    text = re.sub(r"~~(.+?)~~", r"~\1~", text)
    return text.replace(bold, "*")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def citation_line(c: Citation) -> str:
    parts = [f"[{c.id}] {c.region}"]
    if c.report_year:
        parts.append(f"{c.report_year}年报告")
    if c.covered_year:
        parts.append(f"涉及{c.covered_year}年")
    parts.append(f"“{truncate(c.quote, QUOTE_CHARS)}”")
    return escape(" · ".join(parts))


def answer_blocks(ans: Answer) -> list[dict]:
    """Block Kit: the answer as a section, then the citations as context elements."""
    blocks: list[dict] = [
        {"type": "section",
         "text": {"type": "mrkdwn", "text": truncate(to_mrkdwn(ans.answer), SECTION_LIMIT)}}
    ]
    lines = [citation_line(c) for c in ans.citations]
    if len(lines) > CONTEXT_ELEMENTS:
        lines = lines[: CONTEXT_ELEMENTS - 1] + [f"…and {len(lines) - CONTEXT_ELEMENTS + 1} more"]
    if lines:
        blocks.append({"type": "context",
                       "elements": [{"type": "mrkdwn", "text": t} for t in lines]})
    return blocks


def fallback_text(ans: Answer) -> str:
    """Plain text for notifications and clients without blocks."""
    return truncate(ans.answer, SECTION_LIMIT)
