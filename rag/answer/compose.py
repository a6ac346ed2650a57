"""Extractive answers: the evidence sentences themselves, labelled, with [n] markers.

The answer text holds no number that is not inside a quote, so every figure a reader sees
can be checked against its citation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.index.catalog import DocRecord
from rag.models import Answer, Citation, Item

LABEL = {
    "zh": "（摘录式回答：以下引文均为报告原文，未经改写）",
    "en": "(Extractive answer: the quotes below are verbatim from the reports.)",
}
NOT_FOUND = {
    "zh": "报告中没有找到能回答这个问题的内容。",
    "en": "The reports do not say.",
}
UNSTATED = {"zh": "报告中没有找到相关内容", "en": "not stated in its report"}
NO_REPORT = {"zh": "库中没有{place}的报告", "en": "the store has no report of {place}"}


@dataclass
class Finding:
    """One decided piece of evidence: a report, the year it speaks of, a verbatim span."""

    doc: DocRecord
    year: int | None
    section: str
    quote: str
    start: int
    end: int


def entity_name(doc: DocRecord) -> str:
    m = doc.meta
    inferred = f"；{m.inferred_from}" if m.inferred else ""
    if m.level in ("district", "county") and not m.district:
        unit = "区" if m.level == "district" else "县"
        where = (m.city or m.province or "")
        return f"{where}（{unit}名未写明，{doc.source}{inferred}）"
    if m.inferred:
        return f"{m.region}（{m.inferred_from}）"
    return m.region if m.region != "未知地区" else f"未知地区（{doc.source}）"


class CitationBook:
    """Numbers citations in order of first use; one number per distinct span."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._ids: dict[tuple[str, int, int], int] = {}

    def cite(self, f: Finding) -> int:
        key = (f.doc.doc_id, f.start, f.end)
        if key not in self._ids:
            cid = len(self.citations) + 1
            self._ids[key] = cid
            self.citations.append(
                Citation(
                    id=cid, source=f.doc.source, doc_id=f.doc.doc_id, region=entity_name(f.doc),
                    report_year=f.doc.meta.report_year, covered_year=f.year, section=f.section,
                    quote=f.quote, start=f.start, end=f.end,
                )
            )
        return self._ids[key]


def not_found(question: str, kind: str, lang: str, reason: str, mode: str = "extractive") -> Answer:
    return Answer(question=question, answer=NOT_FOUND[lang], found=False, mode=mode, kind=kind,
                  notes=[reason])


def _cite_group(book: CitationBook, findings: list[Finding]) -> tuple[str, str, Item]:
    """One entity's quotes with their markers, and its item."""
    ids = [book.cite(f) for f in findings]
    name = entity_name(findings[0].doc)
    quotes = "；".join(f"“{f.quote}”[{i}]" for f, i in zip(findings, ids, strict=True))
    return name, quotes, Item(entity=name, citations=ids)


def _answer(question: str, kind: str, lines: list[str], book: CitationBook,
            items: list[Item]) -> Answer:
    return Answer(question=question, answer="\n".join(lines), found=True, mode="extractive",
                  kind=kind, citations=book.citations, items=items)


def list_answer(question: str, lang: str, groups: list[list[Finding]]) -> Answer:
    book = CitationBook()
    lines = [LABEL[lang], "", "符合条件的地区：" if lang == "zh" else "Matching reports:"]
    items = []
    for findings in groups:
        name, quotes, item = _cite_group(book, findings)
        lines.append(f"- **{name}**：{quotes}")
        items.append(item)
    return _answer(question, "list", lines, book, items)


def fact_answer(question: str, lang: str, findings: list[Finding]) -> Answer:
    book = CitationBook()
    lines = [LABEL[lang], ""]
    items: list[Item] = []
    for f in findings:
        cid = book.cite(f)
        name = entity_name(f.doc)
        lines.append(f"- **{name}**：“{f.quote}”[{cid}]")
        if not any(it.entity == name for it in items):
            items.append(Item(entity=name, citations=[cid]))
    return _answer(question, "fact", lines, book, items)


def no_report(question: str, kind: str, lang: str, places: Sequence[str]) -> Answer:
    """Not found because the store holds no report of the places asked."""
    names = "、".join(places)
    text = NO_REPORT[lang].format(place=names)
    ans = not_found(question, kind, lang, NO_REPORT["en"].format(place=names))
    ans.answer = text[0].upper() + text[1:] + ("。" if lang == "zh" else ".")
    return ans


def compare_answer(
    question: str, lang: str, rows: list[list[Finding]], unstated: Sequence[DocRecord] = (),
    missing: Sequence[str] = (),
) -> Answer:
    """A table: one row per compared report, and a row saying so for each compared region
    whose report does not state it, or that the store has no report of (no citation:
    nothing was found to cite)."""
    book = CitationBook()
    head = "| 地区 | 报告原文 |" if lang == "zh" else "| Region | Report text |"
    lines = [LABEL[lang], "", head, "|---|---|"]
    items = []
    names = [entity_name(findings[0].doc) for findings in rows]
    for findings in rows:
        name, quotes, item = _cite_group(book, findings)
        year = findings[0].year
        if names.count(name) > 1 and year is not None:  # one region in several years
            name += f"（{year}年）" if lang == "zh" else f" ({year})"
        lines.append(f"| {name} | {quotes} |")
        items.append(item)
    shown = {item.entity for item in items}
    for doc in unstated:
        name = entity_name(doc)
        if name not in shown:
            shown.add(name)
            lines.append(f"| {name} | {UNSTATED[lang]} |")
    for place in missing:
        lines.append(f"| {place} | {NO_REPORT[lang].format(place=place)} |")
    return _answer(question, "compare", lines, book, items)


def with_assumptions(ans: Answer, lines: Sequence[str]) -> Answer:
    """State above the answer what the reading assumed ("去年" taken as 2023, a corrected
    place name), so that the reader sees it next to the quotes."""
    if lines and ans.found:
        head = ans.answer.split("\n", 1)
        rest = head[1] if len(head) > 1 else ""
        ans.answer = "\n".join([head[0], *[f"> {ln}" for ln in lines], rest]).rstrip()
    return ans
