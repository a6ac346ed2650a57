"""Which figure of a sentence is the topic's own: "地区生产总值增长6%" → 6 % for 生产总值.

Pure code over a sentence and the topic's terms. The figure must be that indicator's (not
the next indicator's in the sentence, not a share of it), of one year (not "年均增长",
"比2016年增长", unless the question asks for several years), and, when a direction is asked,
a change in that direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.index.lexical import tagged
from rag.text.bilingual import acts, singular
from rag.text.lexicon import lexicon
from rag.text.normalize import ASIDE
from rag.text.quantities import Quantity, Unit, quantities_in, read_quantity
from rag.text.years import ONE_YEAR

_STOP_WINDOW = re.compile(r"[。；;！？]")
# Words between a topic and its figure that make the figure span several years
# ("年均增长7.9%", "比2016年增长30.3%", "累计下降"): not the figure of one year.
_MULTI_YEAR = re.compile(r"年均|年平均|平均增长|累计|比(?:19|20)\d\d年")
_LEVEL_AFTER_CHANGE = re.compile(r"(?:总量|总额|规模)(?:达到?|为|突破|超过?)?\s*(?=\d)")
_SHARE = re.compile(r"比重|占比")
# What may stand before a figure: "达", "同比增长", "幅度超".
_LEAD = re.compile(r"(?:了|达|为|至|到|约|近|超过|超|幅度超?|幅度|分别|同比|比上年|达到|实现)*\s*")
_DIGIT = re.compile(r"\d")
# What may stand between commas on the way from an indicator to its change: "4550亿元，
# 同比分别增长10%", "24653亿元，按可比价计算，增长4.6%", "高于全省1个百分点，按增长7%以上安排".
_LINK = re.compile(
    r"(?:同比|比上年|较上年|分别|预计|约|按(?:可比价格?|不变价格?|可比口径)?(?:计算)?)*"
)


@dataclass(frozen=True)
class Figure:
    """The topic's figure in a sentence: its quantity, where its topic word starts and
    where the figure ends (offsets into the sentence)."""

    quantity: Quantity
    anchor: int
    end: int


class Anchor:
    """A topic word as found in sentences: its text, sub-words and other written forms."""

    def __init__(self, text: str, parts: tuple[str, ...], weight: float,
                 short: tuple[str, ...] = (), own: bool = True, read_off: bool = False) -> None:
        self.text, self.parts, self.weight, self.short = text, parts, weight, short
        self.own = own  # written in the question (not a translation of its words)
        # read off the sentences closest in meaning: it anchors figures, and says no more
        # of a sentence's topic than that meaning does
        self.read_off = read_off

    def found_in(self, s: str) -> bool:
        return (
            self.text in s
            or any(a in s for a in self.short)
            or (len(self.parts) > 1 and all(p in s for p in self.parts))
        )


def _window(s: str, start: int, size: int = 40) -> str:
    """Text after a term: up to a sentence stop, and across at most two commas."""
    w = s[start : start + size]
    stop = _STOP_WINDOW.search(w)
    if stop:
        w = w[: stop.start()]
    commas = [i for i, ch in enumerate(w) if ch in "，,"]
    if len(commas) >= 3:
        w = w[: commas[2]]
    return w


def anchor_groups(s: str, terms: list[Anchor]) -> list[list[tuple[int, int]]]:
    """Where each topic word stands in a sentence, rarest word first (figures follow them)."""
    soft = lexicon().soft_terms
    strong = [t for t in terms if t.text not in soft and len(t.text) >= 2] or [
        t for t in terms if t.text not in soft
    ]
    groups = []
    for t in sorted(strong, key=lambda t: -t.weight):
        hits = [(m.start(), m.end()) for m in re.finditer(re.escape(t.text), s)]
        for short in t.short if not hits else ():
            hits += [(m.start(), m.end()) for m in re.finditer(re.escape(short), s)]
        if not hits and len(t.parts) > 1 and all(p in s for p in t.parts):
            hits = [(m.start(), m.end()) for m in re.finditer(re.escape(t.parts[-1]), s)]
        if hits:
            groups.append(hits)
    return groups


def anchors_in(s: str, terms: list[Anchor]) -> list[tuple[int, int]]:
    """Where the topic's rarest word stands in a sentence."""
    groups = anchor_groups(s, terms)
    return groups[0] if groups else []


def counted_figure(s: str, terms: list[Anchor], counter: Unit) -> Figure | None:
    """The one count in the counter asked that follows the topic in a sentence, however far:
    "新能源汽车整车制造、动力电池、光伏行业新增产值…，全年整车产销超34万辆" gives 34万辆 for
    how many vehicles. Only where the sentence has no other count in that counter after the
    topic (two would leave it open which one is the topic's) and none over several years."""
    hits = anchors_in(s, terms)
    if not hits:
        return None
    start, end = hits[0]
    found = [(qs, qe, q) for qs, qe, q in quantities_in(s)
             if qs >= end and q.unit is not None and q.unit.dimension == counter.dimension]
    if len(found) != 1:
        return None
    qs, qe, q = found[0]
    if _MULTI_YEAR.search(s[end:qs]):
        return None
    return Figure(q, start, qe)


# Verbs too light to tell one act from another ("set up", "put into use").
_LIGHT = frozenset("be do get give go have make put set take come".split())


def asked_acts(question: str, lang: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """The English verbs a question asks by, with the word that says each: its own words,
    stemmed ("finishing" → finish), or the CC-CEDICT verbs of a Chinese question's verbs
    (完成 → complete, accomplish)."""
    if lang == "zh":
        return tuple((w, frozenset(acts(w)) - _LIGHT) for w, f in tagged(question)
                     if f.startswith("v") and acts(w))
    out = []
    for w in re.findall(r"[a-z]+", question.lower()):
        forms = {w, singular(w)}
        for end, add in (("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""),
                         ("s", "")):
            if w.endswith(end) and len(w) > len(end) + 2:
                forms.add(w[: -len(end)] + add)
        out.append((w, frozenset(forms) - _LIGHT))
    return tuple(out)


def acted_figure(s: str, figure: Figure, asked: tuple[tuple[str, frozenset[str]], ...],
                 topic: frozenset[str] = frozenset()) -> Figure:
    """Of several figures in one unit after the topic word, each after its own verb, the one
    whose verb is the question's: "新开工老旧小区改造13万户、完工12.7万户" gives 12.7万户
    for how many were finished, 13万户 for how many were started. A verb of the topic that
    the sentence writes (改造 of 老旧小区改造) tells no figure from another. The bound
    figure stays unless exactly one other figure's verb is asked and its own is not."""
    unit = figure.quantity.unit
    if unit is None or unit.is_share or not asked:
        return figure
    found = [(qs, qe, q) for qs, qe, q in quantities_in(s)
             if qs > figure.anchor and q.unit is not None and q.unit.dimension == unit.dimension]
    if len(found) < 2:
        return figure
    head = max(s.rfind(p, 0, figure.anchor) for p in "，,；;。") + 1
    span = s[head : found[-1][1]]
    wanted = frozenset().union(*(senses for w, senses in asked
                                 if not (w in topic and w in span)))
    if not wanted:
        return figure
    matched, bound_matched, prev = [], False, head
    for qs, qe, q in found:
        senses = {a for w, f in tagged(s[prev:qs]) if f.startswith("v") and w not in topic
                  for a in (*acts(w), *(acts(w[-2:]) if len(w) > 2 else ()))}
        hit = bool(senses & wanted)
        if qe == figure.end:
            bound_matched = hit
        elif hit:
            matched.append(Figure(q, figure.anchor, qe))
        prev = qe
    return matched[0] if len(matched) == 1 and not bound_matched else figure


def _same_indicator(lead: str) -> bool:
    """Whether the words between a topic and its change still speak of that topic: after a
    comma only a link may stand, not another indicator ("增速不低于全省平均水平，全社会固定资产
    投资增长7%")."""
    lead = ASIDE.sub("", lead)  # "同比（下同）增长10.1%"
    # the year it is of may stand between: "经济增速…，全年增长0.7%", "2022年同比增长5%"
    return all(_LINK.fullmatch(ONE_YEAR.sub("", part.strip(), count=1))
               for part in re.split(r"[，,]", lead)[1:])


def _figure_at(w: str, pos: int) -> tuple[Quantity, int] | None:
    """The quantity at ``pos`` of ``w`` after its lead words ("达", "同比增长")."""
    lead = _LEAD.match(w, pos)
    at = lead.end() if lead else pos
    if at >= len(w) or not w[at].isdigit():
        return None
    got = read_quantity(w, at)
    if got is None:
        return None
    q, end = got
    if not q.above and re.search(r"超", w[pos:at]):
        q = Quantity(q.value, q.unit, True, q.scaled)
    return q, end


def bound_figure(
    s: str, terms: list[Anchor], direction: str | None, multi_year: bool = False,
    wanted: Quantity | None = None,
) -> Figure | None:
    """The figure a sentence gives for the topic: "地区生产总值增长6%" → 6 % (anchor 0).

    With a direction, the number must follow a word of that direction, itself after the
    topic ("事故起数下降30.7%") or just before it ("新增就业2万人"). Without one, the first
    figure after the topic that is not a change ("增长2%" is not a total). A figure stated
    as "超30%" or "30%以上" counts as just above 30. Unless ``multi_year``, a figure over
    several years ("年均增长7.9%", "比2016年增长30.3%") is not taken for one year's.

    With ``wanted`` (the quantity a condition names), only a figure in its unit counts, and
    the other topic words are tried in turn: for "优良天数比例达到90%", "空气质量优良天数
    338天、优良比例92.6%" gives 92.6 %, not 338 days.
    """
    groups = anchor_groups(s, terms)
    for hits in groups if wanted is not None else groups[:1]:
        for figure in _figures(s, hits, direction, multi_year):
            if wanted is None or wanted.comparable(figure.quantity) and (
                    figure.quantity.is_share == wanted.is_share or wanted.unit is None):
                return figure
    return None


def _figures(s: str, hits: list[tuple[int, int]], direction: str | None, multi_year: bool):
    """The figure each anchor hit gives (see :func:`bound_figure`), in order."""
    lex = lexicon()
    words = sorted((w for w in lex.direction_words(direction) if len(w) >= 2), key=len,
                   reverse=True) if direction else []
    changes = lex.change_words()
    for start, end in hits:
        w = _window(s, end)
        if direction:
            for word in words:
                i = w.find(word)
                if i < 0:
                    continue
                lead = w[:i]
                if not multi_year and _MULTI_YEAR.search(lead):
                    break
                if _SHARE.search(lead) or not _same_indicator(lead):
                    continue
                got = _figure_at(w, i + len(word))
                if got:
                    yield Figure(got[0], start, end + got[1])
                    break
            # The direction word may open an enumeration the topic is an item of: "新增卫技
            # 人员3500人、医疗床位1200张、普惠性婴幼儿托位3000个" (back to the clause's start).
            before = re.split(r"[，,。；;]", s[max(0, start - 40) : start])[-1]
            if "、" not in before:
                before = before[-8:]
            if not multi_year and _MULTI_YEAR.search(before):
                continue  # "累计实现城镇新增就业22.2万人": five years, not one
            if any(word in before for word in words):
                m = _DIGIT.search(w)
                if m and m.start() <= 12 and not _SHARE.search(w[: m.start()]):
                    got = _figure_at(w, m.start())
                    if got:
                        yield Figure(got[0], start, end + got[1])
        else:
            m = _DIGIT.search(w)
            if m and m.start() <= 12:
                lead = w[: m.start()]
                if _SHARE.search(lead):
                    continue
                if not multi_year and _MULTI_YEAR.search(lead):
                    continue
                if any(c in lead for c in changes) and not re.search(r"[到至]$", lead):
                    # "增长2%" is a change, not the level asked ("提升到85%" is); the level
                    # may follow it: "增长4.6%，总量1.74万亿元".
                    first = read_quantity(w, m.start())
                    rest_at = first[1] if first else m.end()
                    later = _LEVEL_AFTER_CHANGE.search(w, rest_at)
                    got = _figure_at(w, later.end()) if later else None
                    if later and got:
                        yield Figure(got[0], start, end + got[1])
                    continue
                got = _figure_at(w, m.start())
                if got:
                    q, fend = got
                    if re.search(r"(超过|超|高于|逾|多于)$", lead) and not q.above:
                        q = Quantity(q.value, q.unit, True, q.scaled)
                    yield Figure(q, start, end + fend)
                # Later figures of the same statement, for a unit asked that the first is
                # not in: "改造老旧小区700万平方米、惠及10万户居民".
                base = fend if got else m.end()
                for _, qe, q in quantities_in(w[base:]):
                    yield Figure(q, start, end + base + qe)
