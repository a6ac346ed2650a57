"""Years as reports and questions write them: "2023年", "2021—2025年", "十四五", "去年".

The one owner of the year pattern (questions, follow-ups and section tagging read it here).
"""

from __future__ import annotations

import re

from rag.text.quantities import read_quantity

# A four-digit year of this era, not part of a longer number; "年" optional.
YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年)?(?!\d)")
# "2023年" with its 年: the form section headings and sentences use.
YEAR_NIAN = re.compile(r"(?<!\d)(\d{4})年")
# A full date: "2022年1月11日" (a report's title line, its header).
DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
RANGE = re.compile(r"(\d{4})\s*[—\-–~至到]+\s*(\d{4})年")
FIVE_YEAR_PLANS = {"九五": 1996, "十五": 2001, "十一五": 2006, "十二五": 2011, "十三五": 2016,
                   "十四五": 2021, "十五五": 2026}
FIVE_YEAR = re.compile(r"[“\"]?(十[一二三四五]?五|九五)[”\"]?(时期|期间|以来|规划|计划)?")
# A year named alone in a sentence ("2023年", "去年", "全年"), not the start of a range.
ONE_YEAR = re.compile(r"(?:19|20)\d\d年(?![—\-至到])|去年|上年|全年|当年")


def year_matches(text: str) -> list[re.Match[str]]:
    """The years written in ``text``: "2023年", "in 2022" — not a count that looks like one
    ("超过2000个", "2020万元")."""
    out = []
    for m in YEAR.finditer(text):
        if not m.group(0).endswith("年"):
            got = read_quantity(text, m.start(1))
            if got is not None and (got[0].unit is not None or got[0].scaled):
                continue
        out.append(m)
    return out


def years_in(text: str) -> list[tuple[int, int]]:
    """(position, year) of every year written in ``text``."""
    return [(m.start(), int(m.group(1))) for m in year_matches(text)]


def without_years(text: str, fill: str = " ") -> str:
    """``text`` with its years (:func:`year_matches`) replaced by ``fill``."""
    for m in reversed(year_matches(text)):
        text = text[: m.start()] + fill + text[m.end() :]
    return text
