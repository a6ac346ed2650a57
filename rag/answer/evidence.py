"""Sentence-level evidence: which sentence of a report answers the question, and how well.

Pure code over texts and question specs; no model. A sentence is scored by the share of the
question's topic (weighted by how rare each term is) that it states, whether it moves in the
direction asked ("下降", "新增", "未发生"), and whether it holds a number when one is asked.
The quote is then narrowed to the clauses that carry the match, always a verbatim span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rag.index.lexical import tokenize
from rag.ingest.clean import iter_sentences, split_clauses
from rag.retrieve.glossary import DIRECTIONS, other_forms
from rag.retrieve.question import QuestionSpec

_SOFT = {
    "规模", "总量", "水平", "情况", "数量", "总额", "数据", "指标", "幅度", "多少", "比例", "以上",
}
_VALUE = re.compile(
    r"^(?:了|达|为|至|到|约|近|超过|超|幅度超?|幅度|分别|同比|比上年|达到|实现)*\s*"
    r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(%|％|个百分点|万亿|亿|万|倍)?(以上)?"
)
_NUM_ANY = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)")
_STOP_WINDOW = re.compile(r"[。；;！？]")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(?:个|项|家|所|次|天|场|件|人|万|亿)")
MAX_QUOTE = 90
# Words between a topic and its figure that make the figure span several years
# ("年均增长7.9%", "比2016年增长30.3%", "累计下降"): not the figure of one year.
_MULTI_YEAR = re.compile(r"年均|年平均|平均增长|累计|比(?:19|20)\d\d年")
MULTI_YEAR_QUESTION = re.compile(r"年均|平均|累计|五年|两年|三年|average|cumulative|five.year",
                                 re.I)
_ONE_YEAR = re.compile(r"(?:19|20)\d\d年(?![—\-至到])|去年|上年|全年|当年")
_ACTION_AFTER = re.compile(r".{0,3}?(?:行动|工程|计划|方案|专项|攻坚战?)")
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}
_LEVEL_AFTER_CHANGE = re.compile(r"(?:总量|总额|规模)(?:达到?|为|突破|超过?)?\s*(?=\d)")
_FIGURES_ONLY = re.compile(r"^[\s和及]*[\d.]+\s*(%|％|个百分点|倍|万|亿)?[、，,和及。；;]?$")


@dataclass
class Term:
    text: str
    parts: tuple[str, ...]
    weight: float
    # other ways of writing it: "固投" for 固定资产投资, 地区生产总值 for "gdp"
    short: tuple[str, ...] = ()

    def found_in(self, s: str) -> bool:
        return (
            self.text in s
            or any(a in s for a in self.short)
            or (len(self.parts) > 1 and all(p in s for p in self.parts))
        )


@dataclass
class Evidence:
    doc_id: str
    start: int
    end: int
    quote: str
    coverage: float
    direction_ok: bool
    has_number: bool
    dense: float
    score: float
    # figure, unit, where its topic word stands, where the figure ends
    value: tuple[float, str, int, int] | None = None
    kind: str = "review"
    local_coverage: float = 0.0  # coverage of the clause that holds the figure

    @property
    def bound(self) -> bool:
        return self.value is not None


def _norm(s: str) -> str:
    """Matching form of a sentence: lowercase, "PM_2.5" as PM2.5."""
    return s.lower().replace("_", "")


def build_terms(spec: QuestionSpec, idf: Callable[[str], float]) -> list[Term]:
    terms = []
    for t in spec.terms:
        low = t.lower()
        # Its sub-words, so that "安全事故" is found in "安全生产…事故起数".
        parts = tuple(p for p in tokenize(low) if p != low) or (low,)
        weight = max(idf(p) for p in (*parts, low))
        if low in _SOFT:
            weight *= 0.3
        terms.append(Term(low, parts, weight, other_forms(low)))
    return terms


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


def _anchors(s: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the topic's rarest word stands in a sentence (the figure follows it)."""
    strong = [t for t in terms if t.text not in _SOFT and len(t.text) >= 2] or [
        t for t in terms if t.text not in _SOFT
    ]
    for t in sorted(strong, key=lambda t: -t.weight):
        hits = [(m.start(), m.end()) for m in re.finditer(re.escape(t.text), s)]
        for short in t.short if not hits else ():
            hits += [(m.start(), m.end()) for m in re.finditer(re.escape(short), s)]
        if not hits and len(t.parts) > 1 and all(p in s for p in t.parts):
            hits = [(m.start(), m.end()) for m in re.finditer(re.escape(t.parts[-1]), s)]
        if hits:
            return hits
    return []


# What may stand between commas on the way from an indicator to its change: "4550亿元，
# 同比分别增长10%", "24653亿元，按可比价计算，增长4.6%", "高于全省1个百分点，按增长7%以上安排".
_LINK = re.compile(
    r"(?:同比|比上年|较上年|分别|预计|约|按(?:可比价格?|不变价格?|可比口径)?(?:计算)?)*"
)


def _same_indicator(lead: str) -> bool:
    """Whether the words between a topic and its change still speak of that topic: after a
    comma only a link may stand, not another indicator ("增速不低于全省平均水平，全社会固定资产
    投资增长7%")."""
    return all(_LINK.fullmatch(part.strip()) for part in re.split(r"[，,]", lead)[1:])


def bound_value(
    s: str, terms: list[Term], direction: str | None, multi_year: bool = False
) -> tuple[float, str, int, int] | None:
    """The figure a sentence gives for the topic: "地区生产总值增长6%" → (6.0, "%", 0, 11)
    (with where the topic word starts and where the figure ends).

    With a direction, the number must follow a word of that direction, itself after the
    topic ("事故起数下降30.7%") or just before it ("新增就业2万人"). Without one, the first
    figure after the topic that is not a change ("增长2%" is not a total). A figure stated
    as "超30%" or "30%以上" counts as just above 30. Unless ``multi_year``, a figure over
    several years ("年均增长7.9%", "比2016年增长30.3%") is not taken for one year's.
    """
    words = sorted((w for w in DIRECTIONS[direction] if len(w) >= 2), key=len, reverse=True) \
        if direction else []
    changes = [w for d in ("up", "down") for w in DIRECTIONS[d] if len(w) >= 2]
    for start, end in _anchors(s, terms):
        w = _window(s, end)
        if direction:
            for word in words:
                i = w.find(word)
                if i < 0:
                    continue
                lead = w[:i]
                if not multi_year and _MULTI_YEAR.search(lead):
                    break
                if re.search(r"比重|占比", lead) or not _same_indicator(lead):
                    continue
                m = _VALUE.match(w[i + len(word) :])
                if m:
                    return (*_value(m), start, end + i + len(word) + m.end())
            before = re.split(r"[，,。；;、]", s[max(0, start - 8) : start])[-1]
            if not multi_year and _MULTI_YEAR.search(before):
                continue  # "累计实现城镇新增就业22.2万人": five years, not one
            if any(word in before for word in words):
                m = _NUM_ANY.search(w)
                if m and m.start() <= 12 and not re.search(r"比重|占比", w[: m.start()]):
                    vm = _VALUE.match(w[m.start() :])
                    if vm:
                        return (*_value(vm), start, end + m.start() + vm.end())
        else:
            m = _NUM_ANY.search(w)
            if m and m.start() <= 12:
                lead = w[: m.start()]
                if re.search(r"比重|占比", lead):
                    continue
                if not multi_year and _MULTI_YEAR.search(lead):
                    continue
                if any(c in lead for c in changes) and not re.search(r"[到至]$", lead):
                    # "增长2%" is a change, not the level asked ("提升到85%" is); the level
                    # may follow it: "增长4.6%，总量1.74万亿元".
                    rest = w[m.end() :]
                    later = _LEVEL_AFTER_CHANGE.search(rest)
                    vm = _VALUE.match(rest[later.end() :]) if later else None
                    if later and vm:
                        return (*_value(vm), start, end + m.end() + later.end() + vm.end())
                    continue
                vm = _VALUE.match(w[m.start() :])
                if vm:
                    v, unit = _value(vm)
                    if re.search(r"(超过|超|高于|逾|多于)$", lead):
                        v += 1e-6
                    return v, unit, start, end + m.start() + vm.end()
    return None


def _value(m: re.Match) -> tuple[float, str]:
    v = float(m.group(1).replace(",", ""))
    if "超" in m.group(0)[: m.start(1) - m.start(0)] or m.group(3):
        v += 1e-6
    unit = "%" if m.group(2) in ("%", "％") else (m.group(2) or "")
    return v, unit


def meets(value: tuple | None, condition: tuple[str, float, str] | None) -> bool:
    if condition is None:
        return True
    if value is None:
        return False
    op, ref, unit = condition
    v, vunit = value[0], value[1]
    if unit == "%" and vunit != "%":
        return False
    if unit in _SCALE or vunit in _SCALE:  # "超过10万人" against "38.1万人" or "105000人"
        if vunit == "%":
            return False
        v, ref = v * _SCALE.get(vunit, 1), ref * _SCALE.get(unit, 1)
    if op == "~":  # "5%左右", "around 5%": within a quarter point, or 5% of larger values
        return abs(v - ref) <= max(0.25, 0.05 * abs(ref)) + 1e-6
    return {">": v > ref, ">=": v >= ref - 1e-9, "<": v < ref}[op]


def _coverage(s: str, terms: list[Term]) -> float:
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    return sum(t.weight for t in terms if t.found_in(s)) / total


def _direction_ok(s: str, direction: str | None) -> bool:
    """Whether the sentence moves the way asked; a direction word naming an action
    ("空气质量改善六大行动", "减塑行动") is not a result."""
    if direction is None:
        return True
    return any(
        not _ACTION_AFTER.match(s, m.end())
        for w in DIRECTIONS[direction]
        for m in re.finditer(re.escape(w), s)
    )


def _score(cov: float, dir_ok: bool, num: bool, dense: float, spec: QuestionSpec) -> float:
    score = cov
    if spec.direction is not None:
        score += 0.25 if dir_ok else -0.25
    if spec.numeric:
        score += 0.15 if num else -0.3
    return score + 0.2 * dense


def _narrow(
    text: str, start: int, end: int, terms: list[Term], spec: QuestionSpec
) -> tuple[int, int]:
    """The shortest run of clauses of a sentence that keeps its match."""
    if end - start <= MAX_QUOTE:
        return start, end
    clauses = list(split_clauses(text, start, end)) or [(start, end)]
    best, best_key = (start, end), None
    for i in range(len(clauses)):
        for j in range(i, min(i + 4, len(clauses))):
            s, e = clauses[i][0], clauses[j][1]
            if e - s > MAX_QUOTE and j > i:
                break
            piece = _norm(text[s:e])
            # Scored as sentences are: a clause with the topic's words but not the change asked
            # ("安全生产集中活动日") loses to one that states it ("事故起数…实现双下降").
            score = _score(_coverage(piece, terms), _direction_ok(piece, spec.direction),
                           bool(_NUMBER.search(piece)), 0.0, spec)
            key = (round(score, 3), -(e - s))
            if best_key is None or key > best_key:
                best, best_key = (s, e), key
    # Keep a list of figures whole ("下降22%、33%"), and end on a word, not a comma.
    bs, be = best
    for cs, ce in clauses:
        if cs >= be and _FIGURES_ONLY.match(text[cs:ce]) and ce - bs <= MAX_QUOTE + 20:
            be = ce
        elif cs >= be:
            break
    while be > bs + 1 and text[be - 1] in "、，,；;：:":
        be -= 1
    return bs, be


def sentences_of(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Distinct sentences of the given spans (overlapping chunks share sentences)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for s, e in spans:
        for span in iter_sentences(text, s, e):
            if span not in seen:
                seen.add(span)
                out.append(span)
    return out


def score_sentences(
    text: str,
    doc_id: str,
    spans: Iterable[tuple[int, int, float, str]],
    spec: QuestionSpec,
    terms: list[Term],
) -> list[Evidence]:
    """Every sentence of the spans (start, end, dense score, section kind), best first."""
    out: list[Evidence] = []
    seen: set[tuple[int, int]] = set()
    multi_year = bool(MULTI_YEAR_QUESTION.search(spec.text))
    for cs, ce, dense, kind in spans:
        for s, e in iter_sentences(text, cs, ce):
            if (s, e) in seen:
                continue
            seen.add((s, e))
            sent = _norm(text[s:e])
            cov = _coverage(sent, terms)
            # A sentence with none of the topic's words is kept only for an English question
            # (its translation may have missed the report's wording) and only where dense
            # search ranked the chunk: elsewhere nothing would speak for it.
            if cov == 0 and (spec.lang == "zh" or dense <= 0):
                continue
            dir_ok = _direction_ok(sent, spec.direction)
            num = bool(_NUMBER.search(sent))
            value = (bound_value(sent, terms, spec.direction, multi_year)
                     if spec.numeric else None)
            if (value is not None and kind == "review_multi" and spec.direction is not None
                    and not multi_year and not _ONE_YEAR.search(sent)):
                # A change in a five-year review is the five years' ("新增城镇就业31.6万人")
                # unless the sentence names one year; a level reached ("达6696.4亿元") is
                # the last year's.
                value = None
            score = _score(cov, dir_ok, num, dense, spec)
            if spec.numeric:
                score += 0.2 if value is not None else 0.0
            if kind == "review_multi":
                score -= 0.1
            local = 0.0
            if value is not None:
                # The clause that states the figure: from the punctuation before its topic
                # word to the figure ("水质优良率100%，打赢空气质量翻身仗" is not air).
                head = max(sent.rfind(p, 0, value[2]) for p in "，,；;。") + 1
                local = _coverage(sent[head : value[3]], terms)
            qs, qe = _narrow(text, s, e, terms, spec)
            out.append(
                Evidence(doc_id, qs, qe, text[qs:qe], cov, dir_ok, num, dense, score, value, kind,
                         local)
            )
    out.sort(key=lambda ev: (-ev.score, ev.start))
    return out
