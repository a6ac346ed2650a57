"""Sentence evidence: which sentences of a report speak of the question's topic, how well,
and the figure each gives for it.

Two signals say what a sentence is about, and they are fused, neither gating the other:

- **meaning**: the embedder's cosine between the question and the sentence's units
  (:class:`rag.retrieve.semantic.SemanticScores`), so an English or colloquial question
  finds a formal Chinese sentence with none of its words;
- **words**: the share of the topic's terms (weighted by rarity) the sentence states.

What a sentence *says* — the figure bound to the topic, one year or several, the direction
of a change — is read by :mod:`rag.answer.figures` and :mod:`rag.text.quantities`. The quote
is narrowed to the clauses that carry the match, always a verbatim span.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rag.answer.figures import (
    Anchor,
    Figure,
    acted_figure,
    anchors_in,
    asked_acts,
    bound_figure,
    counted_figure,
)
from rag.config import AnswerSettings
from rag.index.lexical import segments, tagged, tokenize
from rag.ingest.clean import iter_sentences, split_clauses
from rag.retrieve.semantic import SemanticScores
from rag.retrieve.spec import QuestionSpec
from rag.text.lexicon import lexicon
from rag.text.quantities import Condition, Quantity, Unit, quantities_in
from rag.text.years import ONE_YEAR

_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两]+(?:个|项|家|所|次|天|场|件|人|万|亿)")
# Several years named before a figure: opening its clause ("五年新增城镇就业9万人", "过去
# 三年，…"), or as "五年来", 年均, 十三五期间 — not a programme's name ("三年大灶", "三年行动")
# mid-clause; 累计 is not either ("全年累计支出" is the year's).
_SPAN = re.compile(r"(?:^|[，,；;：:。])\s*(?:近|过去的?|这)?[两二三四五六七八九十]年(?![级度])"
                   r"|[两二三四五六七八九十]年(?:来|间)|年均|十[一二三四]五(?:期间|时期|以来)")
_ITS_CHANGE = re.compile(
    r"[、，,]?\s*(?:同比|比上年|较上年)?(?:增长|下降|增加|减少|提高|降低)\s*\d")
_STOCK = re.compile(r"达到?|发展到|增至|突破|总数|总量|累计|共有|拥有")
_ACTION_AFTER = re.compile(r".{0,3}?(?:行动|工程|计划|方案|专项|攻坚战?)")
_FIGURES_ONLY = re.compile(r"^[\s和及]*[\d.]+\s*(%|％|个百分点|倍|万|亿)?[、，,和及。；;]?$")

Term = Anchor  # a topic term is what figures anchor on


@dataclass
class Evidence:
    doc_id: str
    start: int
    end: int
    quote: str
    coverage: float  # share of the topic's terms the sentence states
    direction_ok: bool
    has_number: bool
    dense: float  # the dense score of the chunk it came from
    score: float
    figure: Figure | None = None
    kind: str = "review"  # section kind
    local_coverage: float = 0.0  # coverage of the clause that holds the figure
    semantic: float | None = None  # question–sentence relatedness in [0, 1], None: no vectors
    anchored: bool = True  # the figure sits after a topic word (not only in the best unit)
    made: bool = False  # the quote gives a count, length or area: things made, if asked
    floor: float = 0.0  # relatedness below which translated words do not count
    read_off: bool = False  # its only topic words are ones read off the closest sentences
    curated: bool = False  # it writes a telling word of the glossary's for the question's
    # the figure's topic word is whole words of the sentence (not a part of another name):
    # a figure clause short of the other topic words may then be meant
    plain_anchor: bool = False
    # nouns written just before the figure's topic word that the question does not write and
    # the reports seldom write before it ("跨境电商" of 跨境电商出口额增长98%): the figure is
    # a part's, not the topic's whole
    qualifier: str = ""

    @property
    def bound(self) -> bool:
        return self.figure is not None

    @property
    def value(self) -> Quantity | None:
        return self.figure.quantity if self.figure else None

    translated: bool = False  # its words are translations of the question's, not its own

    @property
    def support(self) -> float:
        """How surely the sentence is about the topic, by words or by meaning. Words the
        question did not write (an English phrase's glossary translation: "services" →
        服务业), or only some of its words, count where the meaning agrees: their coverage
        is combined with the sentence's relatedness."""
        if self.semantic is None:
            return self.coverage
        sem = self.semantic
        words = self.coverage
        if self.read_off:
            # Words read off the sentences closest in meaning are that meaning's echo, not
            # a second voice ("公园" read off for "planted trees" is in every park sentence).
            return sem
        if self.translated and self.curated and self.bound and self.anchored:
            # The glossary's word for the indicator, its figure bound after it the way asked
            # (生产总值…增长9.3% for "GDP growth"): as sure as the question's own words.
            return max(words, sem)
        if self.translated and sem < self.floor:
            # A translation is a guess at the reports' word that only the meaning confirms
            # ("rate" → 率 is in every other sentence): one the meaning does not back at all
            # ("优良率" for a divorce rate) is no evidence.
            return sem
        if self.translated or words < 1.0 - 1e-9:
            # Some of the topic's words, or translated ones: as sure as the meaning agrees
            # ("农村劳动力转移就业" has 就业 of "城镇新增就业", and means something else).
            words = (words + sem) / 2
        return max(words, sem)


def _norm(s: str) -> str:
    """Matching form of a sentence: lowercase, "PM_2.5" as PM2.5."""
    return s.lower().replace("_", "")


_OTHER_WAY = {"up": "down", "down": "up"}


def build_terms(spec: QuestionSpec, idf: Callable[[str], float]) -> list[Term]:
    lex = lexicon()
    terms = []
    for t in spec.terms:
        low = t.lower()
        # Its sub-words, so that "安全事故" is found in "安全生产…事故起数".
        parts = tuple(p for p in tokenize(low) if p != low) or (low,)
        weight = max(idf(p) for p in (*parts, low))
        if low in lex.soft_terms or len(low) == 1:  # a single character is weak evidence
            weight *= 0.3
        forms = (*lex.other_forms(low), *spec.term_forms.get(t, ()))
        terms.append(Term(low, parts, weight, forms, t not in spec.translated))
    return terms


def coverage(s: str, terms: list[Term]) -> float:
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    return sum(t.weight for t in terms if t.found_in(s)) / total


def direction_ok(s: str, direction: str | None) -> bool:
    """Whether the sentence moves the way asked; a direction word naming an action
    ("空气质量改善六大行动", "减塑行动") is not a result."""
    if direction is None:
        return True
    return any(
        not _ACTION_AFTER.match(s, m.end())
        for w in lexicon().direction_words(direction)
        for m in re.finditer(re.escape(w), s)
    )


def _score(cov: float, sem: float | None, dir_ok: bool, num: bool, dense: float,
           spec: QuestionSpec, cfg: AnswerSettings) -> float:
    if sem is None:  # no vectors: words alone, and the chunk's dense rank
        score = cov + cfg.dense_weight * dense
    else:
        score = cfg.lexical_weight * cov + cfg.semantic_weight * sem
    if spec.direction is not None:
        score += cfg.direction_bonus if dir_ok else -cfg.direction_bonus
    if spec.numeric:
        score += cfg.number_bonus if num else -2 * cfg.number_bonus
    return score


def _narrow(text: str, start: int, end: int, terms: list[Term], spec: QuestionSpec,
            cfg: AnswerSettings, best_unit: tuple[int, int] | None) -> tuple[int, int]:
    """The shortest run of clauses of a sentence that keeps its match: the topic's words,
    or, where none is written, the unit the question is closest to."""
    if end - start <= cfg.max_quote:
        return start, end
    clauses = list(split_clauses(text, start, end)) or [(start, end)]
    if coverage(_norm(text[start:end]), terms) == 0 and best_unit is not None:
        best = best_unit
    else:
        best, best_key = (start, end), None
        for i in range(len(clauses)):
            for j in range(i, min(i + 4, len(clauses))):
                s, e = clauses[i][0], clauses[j][1]
                if e - s > cfg.max_quote and j > i:
                    break
                piece = _norm(text[s:e])
                # Scored as sentences are: a clause with the topic's words but not the change
                # asked ("安全生产集中活动日") loses to one that states it ("…实现双下降").
                num = bool(_NUMBER.search(piece))
                score = _score(coverage(piece, terms), None,
                               direction_ok(piece, spec.direction), num, 0.0, spec, cfg)
                if num and not spec.numeric:  # a figure says more than the noun before it
                    score += cfg.number_bonus / 2
                key = (round(score, 3), -(e - s))
                if best_key is None or key > best_key:
                    best, best_key = (s, e), key
    # Keep a list of figures whole ("下降22%、33%"), and end on a word, not a comma.
    bs, be = best
    for cs, ce in clauses:
        if cs >= be and _FIGURES_ONLY.match(text[cs:ce]) and ce - bs <= cfg.max_quote + 20:
            be = ce
        elif cs >= be:
            break
    while be > bs + 1 and text[be - 1] in "、，,；;：:":
        be -= 1
    return bs, be


def _holding(text: str, s: int, e: int, qs: int, qe: int, fs: int, fe: int
             ) -> tuple[int, int]:
    """The quote ``[qs, qe)`` widened to whole clauses of the sentence ``[s, e)`` until it
    holds ``[fs, fe)``."""
    if qs <= fs and fe <= qe:
        return qs, qe
    for cs, ce in split_clauses(text, s, e):
        if cs <= fs < ce or (fs <= cs and ce <= fe) or cs < fe <= ce:
            qs, qe = min(qs, cs), max(qe, ce)
    while qe > qs + 1 and text[qe - 1] in "、，,；;：:":
        qe -= 1
    return qs, qe


def _unit_figure(text: str, unit: tuple[int, int], sent_start: int, asked: Unit | None,
                 condition: Condition | None = None, hint: Unit | None = None
                 ) -> Figure | None:
    """Where no topic word anchors a figure: the figure of the unit the question is closest
    to, in the unit asked ("How many kilometres …" → the 公里 figure), else its first count
    (a share only when it has nothing else); with a condition, of those comparable with it,
    the first that meets it ("出台10条措施，接待游客4235.4万人次" for "more than 40 million
    visits")."""
    s, e = unit
    found = quantities_in(text[s:e])
    if asked is None and hint is not None:  # the counter the thing is likely counted in
        found = [f for f in found if f[2].unit is not None
                 and f[2].unit.dimension == hint.dimension] or found
    if asked is not None:
        found = [f for f in found if f[2].unit is not None
                 and f[2].unit.dimension == asked.dimension]
    else:
        found = [f for f in found if not f[2].is_share] or found
    if condition is not None:
        comparable = [f for f in found if condition.quantity.comparable(f[2])]
        found = [f for f in comparable if condition.holds(f[2])] or comparable
    if not found:
        return None
    _, qe, q = found[0]
    return Figure(q, s - sent_start, qe + s - sent_start)


def _whole_word_at(sent: str, at: int, terms: list[Term]) -> bool:
    """Whether the topic word at ``at`` is whole words of the sentence: 优良 of 水质优良率
    is a part of another indicator's name, 增加值 of 工业增加值 is whole."""
    ends = {len(t.text) for t in terms if sent.startswith(t.text, at)} or {
        len(f) for t in terms for f in t.short if sent.startswith(f, at)}
    if not ends:
        return False
    edges, pos = {0}, 0
    for w in segments(sent):
        pos += len(w)
        edges.add(pos)
    return at in edges and any(at + n in edges for n in ends)


# A whole place as the scope of an indicator ("全市", "我省"), not a part of it.
_SCOPE = re.compile(r"(?:全|我|本)?[国省市区县州旗盟镇乡]")
_CLAUSE_MARK = re.compile(r"[，,；;。：:、（(]")
# Below this share of the reports' writings of a topic word, a noun before it narrows it
# (跨境电商 of 出口); above it, the noun is part of the name (地区 of 生产总值).
_NAME_SHARE = 0.2


def _qualifier(sent: str, at: int, terms: list[Term],
               together: Callable[[str, str], float]) -> str:
    """The nouns just before the topic word at ``at`` in its clause that narrow it: no topic
    word, no place, and seldom written before that word by the reports. "跨境电商出口额增长
    98%" → "跨境电商" (a part of exports); "全市出口增长4.9%" → ""; "地区生产总值" → "" (the
    reports write 地区 before most of their 生产总值)."""
    word = max((f for t in terms for f in (t.text, *t.short) if f and sent.startswith(f, at)),
               key=len, default="")
    if not word:
        return ""
    head = max(sent.rfind(p, 0, at) for p in "，,；;。：:、（(") + 1
    stop = _CLAUSE_MARK.search(sent, at)
    words, pos = [], head
    for w, flag in tagged(sent[head : stop.start() if stop else len(sent)]):
        if pos >= at:
            break
        words.append((w, flag))
        pos += len(w)
    if pos != at:  # within a word (外贸出口, 进出口): no word of its own before it
        return ""
    out: list[str] = []
    for w, flag in reversed(words):
        if not (flag.startswith("n") or flag == "l") or flag == "ns" or _SCOPE.fullmatch(w):
            break
        if any(w in t.text or t.text in w or any(w in f for f in t.short) for t in terms):
            break
        out.insert(0, w)
    narrowing = "".join(out)
    return narrowing if narrowing and together(narrowing, word) < _NAME_SHARE else ""


def _made(quote: str) -> bool:
    """Whether a quote gives a count, a length or an area (not a share, a sum or a rate)."""
    return any(q.unit is not None and (q.unit.dimension.startswith("counter:")
                                       or q.unit.dimension in ("length", "area"))
               for _, _, q in quantities_in(quote))


def score_sentences(
    text: str,
    doc_id: str,
    spans: Iterable[tuple[int, int, float, str]],
    spec: QuestionSpec,
    terms: list[Term],
    cfg: AnswerSettings,
    semantic: SemanticScores | None = None,
    grounded: bool = True,
    unheard: Sequence[str] = (),
    together: Callable[[str, str], float] | None = None,
) -> list[Evidence]:
    """Every sentence of the spans (start, end, dense score, section kind), best first.

    ``grounded``: the topic's terms are the reports' own wording (some candidate writes
    them), so a figure must follow one of them; otherwise the figure of the sentence's
    closest unit, in the unit asked, stands for it. ``unheard``: topic words of the
    question no report writes; a sentence writing none of them counts only when surely
    meant. ``together(a, b)``: the share of the reports' writings of ``b`` that have ``a``
    just before it; with it, a figure's topic word may be found qualified (:func:`_qualifier`).
    """
    out: list[Evidence] = []
    seen: set[tuple[int, int]] = set()
    multi_year = spec.multi_year
    asked = spec.condition.quantity.unit if spec.condition else spec.unit
    translated = bool(terms) and not any(t.own for t in terms)
    total = sum(t.weight for t in terms)
    # The figure asked is in the condition's unit, or the unit the question asks it in.
    acted = asked_acts(spec.normalized, spec.lang) if spec.numeric else ()
    topic_words = frozenset(t.text for t in terms)
    wanted = spec.condition.quantity if spec.condition else (
        Quantity(0.0, spec.unit) if spec.unit else None)
    for cs, ce, dense, kind in spans:
        for s, e in iter_sentences(text, cs, ce):
            if (s, e) in seen:
                continue
            seen.add((s, e))
            sent = _norm(text[s:e])
            found = [t for t in terms if t.found_in(sent)]
            cov = sum(t.weight for t in found) / total if total > 0 else 0.0  # coverage()
            echo = bool(found) and all(t.read_off for t in found)
            sem, best_unit = semantic.sentence(doc_id, s, e) if semantic else (None, None)
            # A sentence neither worded nor meant like the topic speaks for nothing.
            if cov == 0 and (sem is None or sem < cfg.semantic_floor):
                if not (sem is None and spec.lang == "en" and dense > 0):
                    continue
            if unheard and (sem or 0.0) < cfg.semantic_sure and \
                    not any(w in sent for w in unheard):
                continue
            dir_ok = direction_ok(sent, spec.direction)
            opposite = _OTHER_WAY.get(spec.direction or "")
            if dir_ok and opposite and bound_figure(sent, terms, spec.direction) is None \
                    and bound_figure(sent, terms, opposite) is not None:
                # The topic's own change goes the other way: "地区生产总值增长3%，…规模以上
                # 工业增加值下降6.5%" is no fall of GDP.
                dir_ok = False
            num = bool(_NUMBER.search(sent))
            # A translation the meaning must back: one only weakly telling ("rate" → 率), one
            # word's guessed sense ("rate" → 速度), or one beside words no report writes
            # ("semiconductor factories" → 工厂); the reports' rare word for a phrase of the
            # question (原煤 for "raw coal", 固定资产投资) is evidence of its own.
            weak = bool(spec.unwritten) or all(
                len(t.text) < 2 or t.weight < cfg.telling_idf or t.text in spec.guessed
                for t in found)
            floor = cfg.semantic_floor if weak else cfg.semantic_floor / 2
            # The glossary's telling word for the topic, where the question has no part the
            # reports never write.
            curated = not spec.unwritten and any(
                not t.own and not t.read_off and t.text not in spec.term_forms
                and len(t.text) >= 2 and t.weight >= cfg.telling_idf for t in found)
            figure = None
            anchored, stock = True, False
            if spec.numeric:
                # "多少处健身点" with 新建 asked: a count needs no direction word before it.
                direction = spec.direction if spec.direction_required or not spec.count \
                    else None
                figure = bound_figure(sent, terms, direction, multi_year, wanted)
                if figure is None and spec.creation and direction is not None:
                    # things made: their count, whatever the verb ("建成5G基站3700个")
                    figure = bound_figure(sent, terms, None, multi_year, wanted)
                    # "高新技术企业总数突破700家": how many there are, not how many were made
                    stock = figure is not None and bool(
                        _STOCK.search(sent[figure.anchor : figure.end]))
                    if figure is not None and (
                            stock or not _made(sent[figure.anchor : figure.end])
                            # "科技型中小企业466家、增长84%": how many there are, and its growth
                            or _ITS_CHANGE.match(sent, figure.end)):
                        figure = None
                if figure is None and wanted is not None and spec.condition is None:
                    # the unit asked is a preference ("多少人" may be written 人次)
                    figure = bound_figure(sent, terms, direction, multi_year)
                # Where no topic word stands in the sentence (an English question's words
                # are not the report's), the closest unit's figure; where one stands but
                # gives no figure of its own ("增长2%" is not a total), none.
                counter = asked or spec.unit_hint
                counted = counter is not None and counter.dimension.startswith("counter:")
                if counter is not None and counted and (
                        figure is None or figure.quantity.unit is None
                        or figure.quantity.unit.dimension != counter.dimension):
                    # how many, in a counter, where the count stands far from the topic word
                    # or after a count in another ("幼儿园10所，新增…学位5093个" for places)
                    other = counted_figure(sent, terms, counter)
                    if other is not None and (spec.direction is None or direction_ok(
                            sent[other.anchor : other.end], spec.direction)):
                        figure = other
                loose = not anchors_in(sent, terms)
                sure = counted and sem is not None and sem >= cfg.semantic_sure
                if figure is None and best_unit is not None and (
                        (loose and not grounded) or (sure and (loose or translated))):
                    # Or where the question's words are not the sentence's ("多少套保租房"
                    # for 保障性租赁住房; translations that anchor no figure) but its meaning
                    # is surely the topic's: the count in the counter asked (a rate or a
                    # sum may be another indicator's: 工业总产值增长4.1% is not GDP's).
                    figure = _unit_figure(text, best_unit, s, asked, spec.condition,
                                          spec.unit_hint)
                    anchored = False
                elif (figure is not None and best_unit is not None and not grounded
                      and spec.condition is not None and not spec.condition.holds(figure.quantity)
                      and not any(t.own for t in terms)):
                    # Words read off other sentences may anchor another indicator's figure
                    # ("隐患3746项" for "inspected 40,000 workplaces"): the closest unit's.
                    other = _unit_figure(text, best_unit, s, asked, spec.condition)
                    if other is not None and spec.condition.holds(other.quantity):
                        figure, anchored = other, False
            if figure is not None and anchored:
                figure = acted_figure(sent, figure, acted, topic_words)
            if (figure is not None and not multi_year and not ONE_YEAR.search(sent)
                    and _SPAN.search(sent[: figure.end])):
                # "五年新增城镇就业9万人", "累计培育…": several years' figure, not the year's
                figure = None
            if (figure is not None and kind == "review_multi" and spec.direction is not None
                    and not multi_year and not ONE_YEAR.search(sent)):
                # A change in a five-year review is the five years' ("新增城镇就业31.6万人")
                # unless the sentence names one year; a level reached ("达6696.4亿元") is
                # the last year's.
                figure = None
            score = _score(cov, sem, dir_ok, num, dense, spec, cfg)
            if spec.numeric and figure is not None:
                score += cfg.bound_bonus
            if kind == "review_multi":
                score -= cfg.multi_year_penalty
            local, plain, qualifier = 0.0, False, ""
            if figure is not None:
                # The clause that states the figure: from the punctuation before its topic
                # word to the figure ("水质优良率100%，打赢空气质量翻身仗" is not air).
                head = max(sent.rfind(p, 0, figure.anchor) for p in "，,；;。") + 1
                local = coverage(sent[head : figure.end], terms) if anchored else (sem or 0.0)
                plain = anchored and _whole_word_at(sent, figure.anchor, terms)
                if anchored and together is not None:
                    qualifier = _qualifier(sent, figure.anchor, terms, together)
            qs, qe = _narrow(text, s, e, terms, spec, cfg, best_unit)
            if figure is not None and "_" not in text[s:e]:
                # The quote holds the figure it was bound to: "改造老旧小区700万平方米、
                # 惠及10万户居民" is not cut before 10万户.
                qs, qe = _holding(text, s, e, qs, qe, s + figure.anchor, s + figure.end)
            made = spec.creation and _made(text[qs:qe]) and not stock and not (
                # "高新技术企业达到124家", "发展到133户": how many there are, not how many
                # were made
                figure is not None and not dir_ok
                and _STOCK.search(sent[figure.anchor : figure.end]))
            if made and not dir_ok:
                score += cfg.direction_bonus * 2  # the penalty for no direction word undone
            out.append(Evidence(doc_id, qs, qe, text[qs:qe], cov, dir_ok, num, dense, score,
                                figure, kind, local, sem, anchored, made=made,
                                translated=translated, floor=floor,
                                read_off=echo, curated=curated, plain_anchor=plain,
                                qualifier=qualifier))
    out.sort(key=lambda ev: (-ev.score, ev.start))
    return out
