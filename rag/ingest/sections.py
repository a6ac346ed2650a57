"""What each part of a report talks about: last year's review, the plan, targets, annex.

The body is read line by line (a line is a paragraph in these reports). Headings with a
cue ("2017年工作回顾", "2018年工作安排", "名词解释") switch the state; headings without one
("一、坚定不移做大做强实体经济") keep it. Where there are no headings, paragraph openings
("过去的一年", "今年是", "主要预期目标是") do the same, and a report that starts mid-text
is review when its first paragraphs report results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rag.models import Section
from rag.text.lexicon import lexicon
from rag.text.years import FIVE_YEAR as _FIVE_YEAR_RE
from rag.text.years import FIVE_YEAR_PLANS as _FIVE_YEAR
from rag.text.years import RANGE as _RANGE
from rag.text.years import YEAR_NIAN as _YEAR

_END_PUNCT = "。；;！!？?"
_NUM_HEADING = re.compile(r"^(#+\s*)?([一二三四五六七八九十]+、|第[一二三四五六七八九十]+部分)")
_REVIEW_HEAD = ("回顾", "过去", "一年来", "五年来", "以来")
_PLAN_HEAD = ("安排", "任务", "要求", "重点", "目标", "工作", "计划", "思路", "建议", "实事")
_ANNEX = re.compile(r"^(附件|附[：:]|附录|名词解释|注释|.{0,12}(相关注释|名词解释|注释)$)")
_OPENING = re.compile(r"^(各位代表[：:!！,，]?$|现在[，,]?我代表|政府工作报告$|—+\s*\d)")
_REVIEW_START = re.compile(r"^(过去的一年|过去一年|一年来|刚刚过去的|回顾过去的?一年|去年[，,])")
_MULTI_START = re.compile(
    r"^(——)?(过去的?五年|五年来|本届政府任期内|“?十[一二三四五]?五”?(以来|时期))")
_PLAN_START = re.compile(r"^(今年是|今年工作|今年政府工作|做好今年|今年经济社会发展|"
                         r"今后五年|未来五年|今后一个时期)")
_ACHIEVED = re.compile(r"完成|建成|实现|获得|获评|荣获|入选|较上年|比上年|同比|累计|全年|达到|"
                       r"增加|下降|提升|新增|成功")
_INTENDED = re.compile(r"将|要|力争|确保|计划|争取|今年|明年")


def body_lines(text: str, blocks: Iterable[tuple[int, int]] | None
               ) -> Iterator[tuple[int, int, str]]:
    """Non-empty lines of the body as ``(start, end, stripped_text)``.

    The spans partition each block: a line's span runs to the next line's start, so the
    lines of a block cover it exactly.
    """
    spans = list(blocks) if blocks else [(0, len(text))]
    for b_start, b_end in spans:
        pending: tuple[int, str] | None = None
        pos = b_start
        for raw in text[b_start:b_end].splitlines(keepends=True):
            stripped = raw.strip()
            if stripped:
                if pending is not None:
                    yield pending[0], pos, pending[1]
                    pending = (pos, stripped)
                else:
                    pending = (b_start, stripped)
            pos += len(raw)
        if pending is not None:
            yield pending[0], b_end, pending[1]


def _is_heading(line: str) -> bool:
    if _NUM_HEADING.match(line) and len(line) <= 60 and "。" not in line:
        return True
    return len(line) <= 40 and line[-1] not in _END_PUNCT and "。" not in line


def is_section_heading(line: str) -> bool:
    """A heading that opens a review, a plan or an annex ("过去五年工作回顾", "一、过去五年
    发展成就及2021年主要工作", "2022年工作安排"): it names a part of the report, not a result.
    A heading that names a topic ("（三）全力推进乡村振兴") is not one."""
    line = line.strip()
    if not line or not _is_heading(line):
        return False
    return _classify_heading(line, None) is not None


def _years(line: str, report_year: int | None) -> tuple[int | None, int | None]:
    """Years a heading or sentence names: a range, a five-year plan, or single years."""
    lows: list[int] = []
    highs: list[int] = []
    for m in _RANGE.finditer(line):
        lows.append(int(m.group(1)))
        highs.append(int(m.group(2)))
    for m in _FIVE_YEAR_RE.finditer(line):
        start = _FIVE_YEAR[m.group(1)]
        lows.append(start)
        highs.append(start + 4)
    for m in _YEAR.finditer(line):
        y = int(m.group(1))
        if 1949 <= y <= 2100 and not any(lo <= y <= hi for lo, hi in zip(lows, highs,
                                                                         strict=True)):
            lows.append(y)
            highs.append(y)
    if ("过去五年" in line or "过去的五年" in line or "五年来" in line) and report_year:
        lows.append(report_year - 5)
        highs.append(report_year - 1)
    if not lows:
        return None, None
    return min(lows), max(highs)


def _classify_heading(line: str, report_year: int | None
                      ) -> tuple[str, int | None, int | None] | None:
    if "工作报告" in line or "人民代表大会" in line:  # title, date and congress lines
        return None
    if _ANNEX.match(line):
        return "annex", None, None
    if "预期目标" in line:
        return "targets", report_year, report_year
    lo, hi = _years(line, report_year)
    review = any(w in line for w in _REVIEW_HEAD)
    plan = any(w in line for w in _PLAN_HEAD)
    if review or (lo is not None and report_year and hi is not None and hi < report_year
                  and "工作" in line):
        if lo is None:
            lo = hi = (report_year - 1) if report_year else None
        if "今年以来" in line and report_year:  # "2019年和今年以来工作回顾"
            hi = report_year
        return ("review_multi" if lo != hi else "review"), lo, hi
    if plan and (lo is not None or "今年" in line or "今后" in line):
        if lo is None:
            lo = hi = report_year
            if "今后五年" in line and report_year:
                hi = report_year + 4
        return "plan", lo, hi
    return None


def _classify_start(par: str, report_year: int | None, state: str
                    ) -> tuple[str, int | None, int | None] | None:
    head = re.sub(r"^各位代表[，,!！:：。]?", "", par)
    # A short rhetorical opening may come first: "星光不负赶路人，江河眷顾奋楫者。刚刚过去的
    # 2021年，……".
    stop = head.find("。", 0, 30)
    if stop >= 0 and _REVIEW_START.match(head[stop + 1 :]):
        head = head[stop + 1 :]
    head = head[:40]
    prev = report_year - 1 if report_year else None
    if _MULTI_START.match(head):
        lo, hi = _years(head[:20], report_year)
        if lo is None or lo == hi:
            lo, hi = (report_year - 5, prev) if report_year else (None, None)
        return "review_multi", lo, hi
    if _REVIEW_START.match(head):
        return "review", prev, prev
    if report_year and re.match(rf"^{report_year}年(是|，|,|我们|全[市区县省]|经济社会)", head) \
            and not re.match(rf"^{report_year}年[，,]?(我们)?(完成|实现)", head):
        return "plan", report_year, report_year
    if _PLAN_START.match(head):
        if head.startswith(("今后五年", "未来五年")) and report_year:
            return "plan", report_year, report_year + 4
        return "plan", report_year, report_year
    m = re.match(r"^(\d{4})年(是|[，,]|以来|我们|全[市区县省])", head)
    if m and report_year and int(m.group(1)) < report_year and state != "plan":
        y = int(m.group(1))
        return "review", y, y
    return None


def _glued_heading(par: str, report_year: int | None
                   ) -> tuple[str, int | None, int | None] | None:
    """A numbered heading run into its first paragraph where a line break was lost ("一、2022年
    工作回顾过去的一年，极不平凡……"): the heading's part, where the rest opens a paragraph."""
    if not _NUM_HEADING.match(par):
        return None
    for cut in range(4, min(len(par), 40)):
        rest = par[cut:]
        if _REVIEW_START.match(rest) or _MULTI_START.match(rest) or _PLAN_START.match(rest):
            return _classify_heading(par[:cut], report_year)
    return None


def _looks_achieved(par: str) -> bool:
    return len(_ACHIEVED.findall(par)) > len(_INTENDED.findall(par))


def tag_sections(text: str, blocks, report_year: int | None) -> list[Section]:
    """Partition the body into contiguous sections, each with a kind and covered years.

    Args:
        text: the document text.
        blocks: body spans ``(start, end)``; empty means all of ``text``.
        report_year: the session year; covered years are derived from it where the text
            does not name them.

    Returns:
        Sections in order; together they cover every block. A section never spans a gap
        between blocks that holds non-body text.
    """
    prev = report_year - 1 if report_year else None
    kind, lo, hi = "other", None, None
    started = False  # has the body proper begun (past the title and address)?
    tagged: list[tuple[int, int, str, int | None, int | None]] = []
    for start, end, line in body_lines(text, blocks):
        this: tuple[str, int | None, int | None] | None = None
        if kind != "annex":
            if _is_heading(line):
                new = _classify_heading(line, report_year)
                if new:
                    kind, lo, hi = new
                    started = True
                this = (kind, lo, hi) if started else ("other", None, None)
            else:
                new = _glued_heading(line, report_year) or _classify_start(line, report_year,
                                                                          kind)
                if new:
                    kind, lo, hi = new
                    started = True
                targets = lexicon().cues["targets_section"]
                if (targets.search(line[:60]) and (kind in ("plan", "targets")
                                                    or "今年" in line[:60])):
                    # Targets are the paragraph itself; the plan goes on after it.
                    this = ("targets", report_year, report_year)
                    if kind != "targets":
                        kind, lo, hi = "plan", report_year, report_year
                elif (line.endswith(("：", ":")) and targets.search(line[-40:])
                      and (kind in ("plan", "targets") or "今年" in line
                           or f"{report_year}年" in line[-60:])):
                    # "……综合各方面因素，2022年全市经济社会发展主要预期目标是：" closes a long
                    # paragraph: the targets are the lines that follow.
                    kind, lo, hi = "targets", report_year, report_year
                    this = (kind, lo, hi)
                elif not started:
                    if _OPENING.match(line) or len(line) < 40:
                        this = ("other", None, None)
                    elif _looks_achieved(line):
                        kind, lo, hi, started = "review", prev, prev, True
                    else:
                        started = True
                        kind = "other"
        tagged.append((start, end, *(this or (kind, lo, hi))))
    _closing(text, tagged)
    return _merge(text, tagged)


def _closing(text: str, tagged: list) -> None:
    """The rallying call that ends the plan is ``other``: "各位代表！…让我们…"."""
    i = len(tagged) - 1
    while i >= 0 and tagged[i][2] == "annex":
        i -= 1
    while i >= 0 and tagged[i][2] == "plan":
        line = text[tagged[i][0]:tagged[i][1]].strip()
        if not (line.startswith("各位代表") and "让我们" in line):
            break
        tagged[i] = (*tagged[i][:2], "other", None, None)
        i -= 1


def _merge(text: str, tagged: list) -> list[Section]:
    out: list[Section] = []
    for start, end, kind, lo, hi in tagged:
        if out:
            last = out[-1]
            gap = text[last.end:start]
            if (last.kind, last.covered_from, last.covered_to) == (kind, lo, hi) \
                    and not gap.strip():
                out[-1] = Section(last.start, end, kind, lo, hi)
                continue
        out.append(Section(start, end, kind, lo, hi))
    return out


def covered_year_for(section: Section) -> int | None:
    """The single year a section talks about, or None for ranges and untimed text."""
    if section.covered_from is not None and section.covered_from == section.covered_to:
        return section.covered_from
    return None
