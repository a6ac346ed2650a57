"""What a question asks: kind, language, regions, years, achieved or planned, and topic.

Regions are matched against the regions of the reports in the store (Chinese names, their
short forms, and their pinyin for English questions), so a question never filters on a
place the corpus does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rag.index.lexical import tokenize
from rag.retrieve.glossary import DIRECTIONS, translate

_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
             "地区", "新区", "省", "市", "区", "县", "盟", "旗", "州")
_LEVEL_WORDS = [
    (re.compile(r"哪些?(?:个)?(?:区县|县区)|"
                r"which (?:districts and counties|counties and districts)"),
     ("district", "county")),
    (re.compile(r"哪些?(?:个)?区|which districts?|districts"), ("district",)),
    (re.compile(r"哪些?(?:个)?县|which count(?:y|ies)|counties"), ("county",)),
    (re.compile(r"哪些?(?:个)?(?:城市|市|地市)|which cit(?:y|ies)|cities"), ("city",)),
    (re.compile(r"哪些?(?:个)?省|which provinces?|provinces"), ("province",)),
]
_LIST = re.compile(r"哪些|哪几个|哪几|有几个.*(?:区|县|市|城市)|"
                   r"(?:which|what) (?:[\w-]+ ){0,2}(?:districts|cities|counties|provinces|"
                   r"regions|reports)|list (?:the|all)", re.I)
_COMPARE = re.compile(r"比较|对比|相比|比一比|compare|comparison|versus|\bvs\.?\b|差别|差异", re.I)
_PLAN = re.compile(r"计划|目标|预期|预计|力争|打算|将要|安排|部署|规划|plan|target|goal|expect|aim",
                   re.I)
_ACHIEVED = re.compile(r"实际|实现了|完成了|已经|achieved|actual", re.I)
_NUMERIC = re.compile(r"多少|几[个项次天家所座条]|是多少|增速|增幅|比例|比重|率|规模|总量|"
                      r"how (?:many|much)|"
                      r"what (?:was|is) the (?:rate|number|amount|value|share|growth)|"
                      r"rate|number of",
                      re.I)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年)?(?!\d)")
# What may follow a condition's number: a percent, or a magnitude and a counter ("10万人").
_UNIT = (r"\s*(?:%|％|percent|个百分点|(?:万亿|亿|万|千)?\s*(?:人次|人|个|家|天|所|项|件|辆|吨|"
         r"元|平方米|亩|公里|场|次)?)")
_NUM = r"(\d+(?:\.\d+)?)"
_CONDITIONS = [
    (re.compile(r"(?:超过|高于|大于|多于|超|above|more than|over|exceeding|greater than)\s*"
                + _NUM + _UNIT, re.I), ">"),
    (re.compile(_NUM + _UNIT + r"\s*(?:及以上|或以上|以上|or (?:more|above|higher))", re.I), ">="),
    (re.compile(r"(?:达到|不低于|不少于|至少|at least|no less than)\s*" + _NUM + _UNIT, re.I),
     ">="),
    (re.compile(r"(?:低于|少于|小于|不到|不足|below|less than|under|lower than)\s*"
                + _NUM + _UNIT, re.I), "<"),
    (re.compile(r"(?:around|about|approximately|roughly|约)\s*" + _NUM + _UNIT, re.I), "~"),
    (re.compile(_NUM + _UNIT + r"\s*左右"), "~"),
]
_MENTION = re.compile(r"提到|提及|提出|谈到|谈及|\bmention(?:s|ed)?\b|\brefer(?:s|red)? to\b",
                      re.I)
_COUNTED_PLACES = re.compile(r"[两二三四五六七八九十]+个?(?:城市|市|区|县|地|州)")
_RATE_WORDS = {"增速": "up", "增幅": "up", "增长率": "up", "增长速度": "up", "降幅": "down",
               "下降幅度": "down", "降低幅度": "down"}
_RELATIVE = {"去年": -1, "上年": -1, "上一年": -1, "last year": -1, "今年": 0, "this year": 0}
_SCAFFOLD = set(
    "哪些 哪个 哪几个 哪 些 多少 是 什么 如何 怎样 情况 分别 比较 对比 相比 数量 数"
    " 有 了 的 和 与 及 在"
    " 请 问 呢 吗 年 区 县 市 省 城市 地区 全区 全市 全县 报告 政府 工作 工作报告 实际 实现 已经"
    " 计划 目标 预期 预计 力争 安排 多 少 几 个 其 中 该 这些 那些 定在 定 设定 相比 如何 怎么样"
    " 达到 实际 分别 当年 全年 州 省份 区县 县区 地市 城市（州） 各省 各市"
    " 提到 提及 提出 谈到 谈及".split()
)


@dataclass(frozen=True)
class Place:
    name: str  # as the reports write it: "和平区", "天津市"
    level: str  # which field it is: "province" | "city" | "district"


@dataclass
class PlaceMention:
    place: Place
    start: int
    end: int
    year: int | None = None  # a year written right after this place ("历城区2023年")


@dataclass
class QuestionSpec:
    text: str
    lang: str  # "zh" | "en"
    kind: str  # "list" | "fact" | "compare"
    mentions: list[PlaceMention] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    relative_year: int | None = None  # -1 "last year" of each report, 0 "this year"
    wants_plan: bool = False
    # "哪些城市2024年提到了低空经济": the year is the report's, and any section counts.
    mention: bool = False
    numeric: bool = False
    target_levels: tuple[str, ...] = ()
    terms: list[str] = field(default_factory=list)  # object terms, matched in sentences
    direction: str | None = None  # "up" | "down" | "zero"
    condition: tuple[str, float, str] | None = None  # (">", 30.0, "%"): "降幅超过30%"

    @property
    def places(self) -> list[Place]:
        return list(dict.fromkeys(m.place for m in self.mentions))


_ETHNIC = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,4}族)+自治(州|县|旗)$")


def short_forms(name: str) -> list[str]:
    """Names a question may use: "恩施土家族苗族自治州" → ["恩施", "恩施州"]."""
    m = _ETHNIC.match(name)
    if m:
        return [m.group(1), m.group(1) + m.group(2)]
    short = short_form(name)
    return [short] if short else []


def short_form(name: str) -> str | None:
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return None


@lru_cache(maxsize=4096)
def pinyin(name: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name)).lower()


class RegionMatcher:
    """Finds the store's regions in a question, in Chinese or in pinyin."""

    def __init__(self, places: Iterable[Place]) -> None:
        self._zh: dict[str, set[Place]] = {}
        self._en: dict[str, set[Place]] = {}
        for p in set(places):
            self._zh.setdefault(p.name, set()).add(p)
            shorts = short_forms(p.name)
            for short in shorts:
                self._zh.setdefault(short, set()).add(p)
            self._en.setdefault(pinyin(shorts[0] if shorts else p.name), set()).add(p)
        self._zh_keys = sorted(self._zh, key=len, reverse=True)
        self._en_re = (
            re.compile(r"(?<![a-z])(" + "|".join(
                re.escape(k) for k in sorted(self._en, key=len, reverse=True)) + r")(?![a-z])")
            if self._en else None
        )

    def find(self, question: str) -> list[PlaceMention]:
        found: list[PlaceMention] = []
        taken = [False] * len(question)
        for key in self._zh_keys:
            if key not in question:  # most names are absent: skip compiling a pattern
                continue
            for m in re.finditer(re.escape(key), question):
                if any(taken[m.start() : m.end()]):
                    continue
                for i in range(m.start(), m.end()):
                    taken[i] = True
                for p in sorted(self._zh[key], key=lambda p: p.level):
                    found.append(PlaceMention(p, m.start(), m.end()))
        if self._en_re is not None:
            low = question.lower()
            for m in self._en_re.finditer(low):
                if any(taken[m.start() : m.end()]):
                    continue
                places = self._en[m.group(1)]
                tail = low[m.end() : m.end() + 12]
                for p in sorted(places, key=lambda p: p.level):
                    if _english_level_ok(p, tail):
                        found.append(PlaceMention(p, m.start(), m.end()))
        found.sort(key=lambda m: m.start)
        return found


def _english_level_ok(p: Place, tail: str) -> bool:
    tail = tail.strip()
    if tail.startswith(("district", "county")):
        return p.level == "district"
    if tail.startswith(("city", "municipality", "prefecture")):
        return p.level in ("city", "province")
    if tail.startswith("province"):
        return p.level == "province"
    return True


def parse_question(question: str, matcher: RegionMatcher) -> QuestionSpec:
    q = question.strip()
    cjk = sum(1 for ch in q if "\u4e00" <= ch <= "\u9fff")
    lang = "zh" if cjk >= max(2, len(q) // 10) else "en"
    kind = "compare" if _COMPARE.search(q) else "list" if _LIST.search(q) else "fact"
    spec = QuestionSpec(text=q, lang=lang, kind=kind)
    spec.mentions = matcher.find(q)

    years = [(m.start(), int(m.group(1))) for m in _YEAR.finditer(q)]
    spec.years = list(dict.fromkeys(y for _, y in years))
    for m in spec.mentions:
        after = [y for pos, y in years if 0 <= pos - m.end <= 2]
        if after:
            m.year = after[0]
    if set(spec.years) - {m.year for m in spec.mentions}:
        # A year no place claims ("武汉市2021年和2022年"): every place is asked every year.
        for m in spec.mentions:
            m.year = None
    low = q.lower()
    for word, rel in _RELATIVE.items():
        if word in low and not spec.years:
            spec.relative_year = rel
    spec.wants_plan = bool(_PLAN.search(q)) and not _ACHIEVED.search(q)
    if spec.relative_year == 0:
        spec.wants_plan = True
    spec.numeric = bool(_NUMERIC.search(q))
    spec.mention = bool(_MENTION.search(q)) and bool(spec.years) and not spec.wants_plan
    for pattern, levels in _LEVEL_WORDS:
        if kind == "list" and pattern.search(low):
            spec.target_levels = levels
            break

    # Topic: the question without places, years, conditions and question words.
    rest = q
    for m in sorted(spec.mentions, key=lambda m: -m.start):
        rest = rest[: m.start] + " " + rest[m.end :]
    rest = _YEAR.sub(" ", rest)
    rest = _COUNTED_PLACES.sub(" ", rest)
    for pattern, op in _CONDITIONS:
        cm = pattern.search(rest)
        if cm:
            unit = ("%" if re.search(r"%|％|percent", cm.group(0)) else
                    next((m for m in ("万亿", "亿", "万", "千") if m in cm.group(0)), ""))
            spec.condition = (op, float(cm.group(1)), unit)
            rest = rest[: cm.start()] + " " + rest[cm.end() :]
            spec.numeric = True
            break
    if lang == "en":
        terms, direction = translate(rest)
        if re.search(r"\bgrowth\b|\bgrew\b", rest, re.I) and direction is None:
            direction = "up"
    else:
        terms, direction = [], None
        for word, d in _RATE_WORDS.items():
            if word in rest:
                direction = direction or d
                rest = rest.replace(word, " ")
        for d, words in DIRECTIONS.items():
            for w in sorted(words, key=len, reverse=True):
                # "增加值" is an indicator, not a direction.
                word_re = re.escape(w) + r"(?![值率量])"
                if len(w) >= 2 and re.search(word_re, rest):
                    direction = direction or d
                    rest = re.sub(word_re, " ", rest)
        terms = [t for t in tokenize(rest) if t not in _SCAFFOLD and not t.isdigit()]
    # Drop terms contained in a longer term already present (生产 inside 生产总值).
    terms = [t for t in dict.fromkeys(terms) if not any(t != o and t in o for o in terms)]
    spec.terms = terms
    spec.direction = direction
    return spec
