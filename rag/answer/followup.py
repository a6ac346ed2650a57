"""Follow-up questions in a conversation: "那2022年呢？" after "和平区2021年新增就业多少人？".

Pure, regex-level code. A follow-up that names only a year and/or a region (no topic of its
own) takes the previous question and swaps that year or region in; anything else is a new
question and is returned as it is.
"""

from __future__ import annotations

import re

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)(\s*年)?")

# Words around a bare year or region that carry no topic: "那……呢？", "What about ...?".
_LEAD = re.compile(
    r"^\s*(?:那么|那|还有|再看看?|换成|如果是|改成|那如果是|and\s+|what\s+about\s+|how\s+about\s+"
    r"|and\s+in\s+|what\s+about\s+in\s+|how\s+about\s+in\s+)",
    re.IGNORECASE,
)
_TRAIL = re.compile(
    r"(?:的情况|情况|又如何|如何|怎么样|怎样|呢|吗|then|instead)?\s*[？?。.!！\s]*$", re.IGNORECASE
)

_ZH_SUFFIX = "省市区县旗州盟"
_ZH_REGION_ONLY = re.compile(rf"^[\u4e00-\u9fff]{{1,12}}[{_ZH_SUFFIX}]$")
# Two characters before a suffix, optionally preceded by "X市"/"X省" ("济南市历城区").
_ZH_REGION = re.compile(
    rf"(?:[\u4e00-\u9fff]{{2}}[省市])?(?<![哪些各全本该])[\u4e00-\u9fff]{{2}}[{_ZH_SUFFIX}]"
)
_NOT_REGION_START = ("哪", "各", "全", "本", "该", "此", "每", "其", "这")
_NOT_REGION = {"城区", "市区", "辖区", "地区", "县区", "新区", "园区", "社区", "景区", "山区"}
_ZH_WHICH = re.compile(r"哪(?:些|个|几个)(?:地区|区县|区|县|市|省)")
_EN_REGION = re.compile(
    r"\b(?:[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)*)\s+(?:District|County|City|Province|Prefecture)\b"
)
_EN_REGION_ONLY = re.compile(rf"^{_EN_REGION.pattern}$")


def _core(question: str) -> str:
    core = _LEAD.sub("", question.strip())
    return _TRAIL.sub("", core).strip()


def _years(text: str) -> list[str]:
    return [m.group(1) for m in _YEAR.finditer(text)]


def _zh_regions(text: str) -> list[re.Match[str]]:
    return [m for m in _ZH_REGION.finditer(text) if _is_zh_region(m.group(0))]


def _is_zh_region(name: str) -> bool:
    return not name.startswith(_NOT_REGION_START) and name not in _NOT_REGION


def _bare(question: str) -> tuple[list[str], str | None] | None:
    """Years and region of a question that names nothing else; None when it has a topic."""
    core = _core(question)
    if not core:
        return None
    years = _years(core)
    rest = _YEAR.sub(" ", core)
    rest = re.sub(r"[,，、\s]+", " ", rest).strip()
    rest = re.sub(r"^(?:的|在|in|for)\s*|\s*(?:的|in|for)$", "", rest, flags=re.IGNORECASE).strip()
    region: str | None = None
    if rest:
        if _ZH_REGION_ONLY.match(rest) and _is_zh_region(rest):
            region = rest
        elif _EN_REGION_ONLY.match(rest):
            region = rest
        else:
            return None
    if not years and region is None:
        return None
    return years, region


def _swap_years(previous: str, years: list[str]) -> str:
    found = list(_YEAR.finditer(previous))
    if not found:
        if re.search(r"[\u4e00-\u9fff]", previous):
            return f"{years[0]}年" + previous
        return previous.rstrip("?？ ") + f" in {years[0]}?"
    out, last = [], 0
    # One new year replaces every year of the previous question; several replace in order.
    for i, m in enumerate(found):
        new = years[i] if i < len(years) else years[-1] if len(years) == 1 else m.group(1)
        out.append(previous[last:m.start(1)] + new)
        last = m.end(1)
    return "".join(out) + previous[last:]


def _swap_region(previous: str, region: str) -> str:
    if _EN_REGION_ONLY.match(region):
        m = _EN_REGION.search(previous)
        if m:
            return previous[: m.start()] + region + previous[m.end():]
        return previous.rstrip("?？ ") + f" in {region}?"
    zh = _zh_regions(previous)
    if zh:
        m = zh[0]
        return previous[: m.start()] + region + previous[m.end():]
    en = _EN_REGION.search(previous)
    if en:
        return previous[: en.start()] + region + previous[en.end():]
    which = _ZH_WHICH.search(previous)
    if which:  # "2022年哪些区新增了学位？" → "2022年和平区新增了学位？"
        return previous[: which.start()] + region + previous[which.end():]
    return region + previous


def _resolve_one(previous: str, question: str) -> str:
    bare = _bare(question)
    if bare is None or not previous.strip():
        return question
    years, region = bare
    out = previous
    if region:
        out = _swap_region(out, region)
    if years:
        out = _swap_years(out, years)
    return out


def resolve_followup(history: list[str], question: str) -> str:
    """The question to answer, given the earlier questions of the conversation.

    Args:
        history: earlier user questions, oldest first (raw or already resolved).
        question: the new question.

    Returns:
        ``question`` itself when it has a topic of its own; otherwise the previous question
        with the year and/or region of ``question`` put in.
    """
    previous = ""
    for q in history:
        if q and q.strip():
            previous = _resolve_one(previous, q) if previous else q.strip()
    return _resolve_one(previous, question.strip()) if previous else question.strip()
