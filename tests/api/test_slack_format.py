"""Markdown to Slack mrkdwn, and answers as Block Kit."""

from __future__ import annotations

from api.slack.format import CONTEXT_ELEMENTS, answer_blocks, citation_line, to_mrkdwn
from rag.models import Answer, Citation


def cite(n: int, quote: str = "新增就业2万人") -> Citation:
    return Citation(n, "002.txt", "d2", "天津市和平区", 2023, 2022, "review", quote, 10, 17)


def test_markdown_to_mrkdwn():
    md = "# 结论\n- **和平区**：新增*就业*[1]\n* see [doc](https://x.org/a)\n1 < 2 & ~~old~~"
    assert to_mrkdwn(md) == (
        "*结论*\n• *和平区*：新增_就业_[1]\n• see [doc](https://x.org/a)\n1 &lt; 2 &amp; ~old~"
    )


def test_a_compare_table_becomes_one_bullet_per_row():
    md = ("（摘录式回答）\n\n| 地区 | 报告原文 |\n|---|---|\n"
          "| 天津市和平区 | “空气质量优良天数273天”[1] |\n"
          "| 山东省德州市陵城区 | 报告中没有找到相关内容 |\n\n"
          "a | b")
    assert to_mrkdwn(md) == (
        "（摘录式回答）\n\n• *天津市和平区*：“空气质量优良天数273天”[1]\n"
        "• *山东省德州市陵城区*：报告中没有找到相关内容\n\na | b"
    )


def test_citation_line_and_truncation():
    line = citation_line(cite(3, "长" * 500))
    assert line.startswith("[3] 天津市和平区 · 2023年报告 · 涉及2022年 · “")
    assert line.endswith("…”") and len(line) < 200


def test_blocks_have_section_and_citation_context():
    ans = Answer("q", "**和平区**：新增就业2万人[1]", True, "extractive", [cite(1)])
    section, context = answer_blocks(ans)
    assert section["type"] == "section" and section["text"]["text"].startswith("*和平区*")
    assert context["type"] == "context"
    assert "新增就业2万人" in context["elements"][0]["text"]
    many = Answer("q", "x", True, "extractive", [cite(i) for i in range(1, 15)])
    elements = answer_blocks(many)[1]["elements"]
    assert len(elements) == CONTEXT_ELEMENTS and "5 more" in elements[-1]["text"]
    assert len(answer_blocks(Answer("q", "未找到", False, "extractive"))) == 1
