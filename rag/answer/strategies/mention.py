"""Mention questions ("哪些城市2024年提到了低空经济"): what the reports of the year asked say,
in any section; a report counts when a sentence names the topic as asked."""

from __future__ import annotations

from rag.answer.strategies.facts import Facts
from rag.answer.strategies.lists import Lists
from rag.retrieve.spec import Form, Mode, QuestionSpec


class MentionList(Lists):
    name = "mention-list"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.mode is Mode.MENTIONED and spec.form is Form.LIST


class MentionFact(Facts):
    name = "mention-fact"

    def applies(self, spec: QuestionSpec) -> bool:
        return spec.mode is Mode.MENTIONED and spec.form is Form.FACT
