"""Reading a question into a :class:`QuestionSpec`: places, years, form, mode, condition,
topic.

The question is normalized first (traditional characters, full-width forms, numbers in
words). How it asks — list, compare, plan, mention, a condition — is read with the closed
word lists of :mod:`rag.text.lexicon`; what it is about is kept as text (``topic``) and as
the question's own Chinese words (``terms``): whether a sentence is about it is decided by
meaning downstream (:mod:`rag.retrieve.semantic`), never by a topic list here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace

from rag.index.lexical import tagged, tokenize, words
from rag.retrieve.places import PlaceMatcher
from rag.retrieve.spec import Form, Mode, QuestionSpec, RelativeYear
from rag.text.bilingual import (
    asks_only,
    measure_words,
    render,
    singular,
    unwritten,
    verb_senses,
)
from rag.text.glossary import translate
from rag.text.lexicon import Lexicon, lexicon
from rag.text.normalize import ASIDE, normalize_question
from rag.text.quantities import (
    NUMBER,
    Condition,
    Quantity,
    Unit,
    chinese_number_at,
    read_quantity,
    tables,
)
from rag.text.years import without_years, years_in

_ASK_ZH = re.compile(r"(?:多少|几)(?:万|亿|千)?")
_LATIN_RUN = re.compile(r"(?<![a-z])[a-z]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# A word that opens with a question word asks, it is not the topic: "哪些地方", "哪几个市州",
# "什么样", "多少钱" (the segmenter keeps them whole, so the scaffold's "哪些" misses them).
_COUNTING = re.compile(r"[几个些一两二三四五六七八九十]+")
_ASKING = re.compile(r"^(?:哪|什么|多少|怎么|怎样|如何|是否|有没有)")
# A Latin word, letters with digits allowed ("5G", "PM2.5"), not a bare number.
_LATIN_WORD = re.compile(r"(?<![\w.])(?=[\w.]*[a-z])[a-z0-9]+(?:[-&.][a-z0-9]+)*", re.I)


def language(text: str) -> str:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "zh" if cjk >= max(2, len(text) // 10) else "en"


def understand(question: str, places: PlaceMatcher) -> QuestionSpec:
    """The typed reading of ``question`` against the store's places."""
    lex = lexicon()
    text = question.strip()
    q = normalize_question(text)
    low = q.lower()
    lang = language(q)
    reading = places.read(q)
    spec = QuestionSpec(text=text, normalized=q, lang=lang, form=Form.FACT, mode=Mode.ACHIEVED,
                        mentions=reading.mentions, missing_places=reading.missing)
    for m in reading.mentions:
        if m.corrected_from:
            spec.notes.append(f"took {m.corrected_from} for {m.place.name}")
        if m.town:
            spec.notes.append(f"{m.town} is in {m.place.name}: its report was read")

    _years(spec, q, lex, low)
    # Two places named without a comparison word are compared too: the candidate filter
    # decides, since only the store knows that "天津市" merely narrows "和平区".
    if lex.cue("compare", q):
        spec.form = Form.COMPARE
    elif lex.cue("list", q):
        spec.form = Form.LIST
    planned = (lex.cue("plan", q) or _intends(q, lex)) and not lex.cue("achieved", q)
    if spec.relative is not None and spec.relative.offset == 0:
        planned = True  # "今年的目标": this year's is a plan
    if lex.cue("mention", q) and (spec.years or spec.relative) and not planned:
        spec.mode = Mode.MENTIONED
    elif planned:
        spec.mode = Mode.PLANNED
    spec.unit = asked_unit(q)
    if spec.unit is None and lang == "en":
        spec.unit_hint = counted_in(low)
    spec.numeric = lex.cue("numeric", q) or spec.unit is not None  # "几块金牌"
    spec.count = lex.cue("count", q) or (spec.unit is not None and not spec.unit.is_share)
    spec.multi_year = lex.cue("multi_year", q)
    if spec.form is Form.LIST:
        for pattern, levels in lex.levels:
            if pattern.search(low):
                spec.target_levels = levels
                break

    rest = _without_places_and_years(q, reading.spans, lex)
    rest = _condition(spec, rest, lex)
    rest = _without_asked_unit(rest)
    _topic(spec, rest, lex)
    spec.statement = lex.cue("statement", q) and not spec.numeric and spec.condition is None
    words = spec.terms if lang == "zh" else [*spec.terms, *spec.topic.split()]
    # A threshold asks for one indicator's figure ("经济增长目标定在7%及以上"), not the
    # targets as a whole.
    spec.overview = spec.mode is Mode.PLANNED and spec.condition is None and all(
        t.lower() in lex.overview_terms or len(t) == 1 for t in words)
    return spec


def dictionary_terms(spec: QuestionSpec, corpus_idf: Callable[[str], float | None],
                     telling_idf: float) -> None:
    """Where none of an English question's words (as written, or the glossary's) is one
    the corpus writes and finds telling, its topic words in the corpus's own Chinese words
    through CC-CEDICT ("jellyfish" → 海蜇, "raw coal" → 原煤), as translations: a sentence
    is as sure of them as its meaning agrees.

    Args:
        spec: an English question's reading; its terms are extended.
        corpus_idf: a Chinese word's idf in the corpus, None where it never occurs.
        telling_idf: how rare a word must be to say something.
    """
    if spec.lang != "en" or any((idf := corpus_idf(t)) is not None and idf >= telling_idf
                                for t in spec.terms):
        return
    _, unglossed = translate(spec.topic)
    got = []
    # Function words are no topic, and their renderings are noise ("not" → 好不、并不).
    asked = [w for w in unglossed.split() if w.lower() not in _english_stop_words()]
    spec.unwritten = unwritten(asked, corpus_idf)
    for r in render(asked, corpus_idf):
        if r.forms and r.forms[0] in spec.terms:
            # the same word again ("battery", "battery-materials"): not its next sense (炮台)
            continue
        forms = [f for f in r.forms if f not in spec.terms]
        # A word whose plainest rendering most chunks write (经济 for "economy", 安全 for
        # "safety") says nothing of the topic.
        if not forms or (corpus_idf(forms[0]) or 0.0) < telling_idf:
            continue
        spec.terms.append(forms[0])
        spec.translated.append(forms[0])
        spec.term_forms[forms[0]] = tuple(forms[1:])
        if " " not in r.english:
            spec.guessed.append(forms[0])  # one word's sense, of several it may have
        got.append(f"{r.english} → {'、'.join(forms)}")
    if got:
        spec.notes.append("the dictionary's words for it: " + "; ".join(got))


def glossed_share(topic: str) -> float:
    """The share of an English topic's words the glossary renders (function words aside)."""
    lex = lexicon()

    def content(text: str) -> list[str]:
        return [w for w in _LATIN_WORD.findall(text.lower())
                if w not in _english_stop_words() and singular(w) not in lex.scaffold_en
                and w not in lex.directions_en and not asks_only(w)]

    before = content(topic)
    if not before:
        return 0.0
    return 1.0 - len(content(translate(topic)[1])) / len(before)


@functools.cache
def _english_stop_words() -> frozenset[str]:
    from stop_words import get_stop_words

    return frozenset(get_stop_words("en"))


_HOW_MANY = re.compile(r"\bhow many\s+((?:[a-z'-]+\s+){0,5}?[a-z'-]+?)"
                       r"(?=\s+(?:did|do|does|were|was|are|is|has|have|had|will|in|of|for|by|"
                       r"got|across|at)\b|\s*[?,.]|$)")


def counted_in(low: str) -> Unit | None:
    """The counter an English "how many …" counts its thing in, by the measure words
    CC-CEDICT gives the noun: "how many households" → 户, "how many schools" → 所. A hint:
    a report may count in another (人 for "jobs")."""
    m = _HOW_MANY.search(low)
    if not m:
        return None
    head = m.group(1).split()[-1]
    t = tables()
    for word in measure_words(head):
        got = t.unit_at(word, 0)
        if got and got[1] == len(word) and got[0].dimension.startswith("counter:"):
            return got[0]
    return None


def asked_unit(q: str) -> Unit | None:
    """The unit a question asks its figure in: "多少公里", "几处", "how many kilometres"."""
    t = tables()
    low = q.lower()
    for m in _ASK_ZH.finditer(low):
        got = t.unit_at(low, m.end())
        if got:
            return got[0]
    for m in _LATIN_RUN.finditer(low):
        got = t.unit_at(low, m.start())
        if got and got[0].form.isascii():
            return got[0]
    return None


def _without_asked_unit(text: str) -> str:
    """"多少人", "几处": the unit asked is read (``spec.unit``), not a topic word."""
    t = tables()
    for m in reversed(list(_ASK_ZH.finditer(text))):
        got = t.unit_at(text, m.end())
        if got:
            text = text[: m.start()] + " " + text[got[1]:]
    return text


def _years(spec: QuestionSpec, q: str, lex: Lexicon, low: str) -> None:
    found = years_in(q)
    spec.years = list(dict.fromkeys(y for _, y in found))
    for m in spec.mentions:
        after = [y for pos, y in found if 0 <= pos - m.end <= 2]
        if after:
            m.year = after[0]
    if set(spec.years) - {m.year for m in spec.mentions}:
        # A year no place claims ("武汉市2021年和2022年"): every place is asked every year.
        for m in spec.mentions:
            m.year = None
    if spec.years:
        return
    for word, offset in lex.relative_years:
        if (word in low if not word.isascii() else re.search(rf"\b{re.escape(word)}\b", low)):
            spec.relative = RelativeYear(offset, word)
            return


def _without_places_and_years(q: str, spans: list[tuple[int, int]], lex: Lexicon) -> str:
    rest = q
    for s, e in sorted(spans, reverse=True):
        rest = rest[:s] + " " + rest[e:]
    rest = without_years(rest)
    rest = lex.counted_places.sub(" ", rest)
    for word, _ in lex.relative_years:
        rest = re.sub(re.escape(word), " ", rest, flags=re.I)
    return rest


def _quantity_at(text: str, pos: int) -> tuple[Quantity, int] | None:
    """A quantity in digits or Chinese numerals at ``pos`` (spaces skipped)."""
    while pos < len(text) and text[pos] == " ":
        pos += 1
    got = read_quantity(text, pos)
    if got:
        return got
    cn = chinese_number_at(text, pos)
    if cn:
        digits, end = cn
        tail = text[end:]
        got = read_quantity(digits + tail, 0)
        if got:
            return got[0], end + got[1] - len(digits)
    return None


_COUNTED_NOUN = re.compile(
    r"\s+(?!percent|per\b|pct\b|points?\b|(?:in|of|for|on|at|by|from|to|and|or|than|this|"
    r"last|year|years)\b)[a-z]", re.I)
_ASPECT = ("了", "过")  # aspect particles between a comparison verb and its figure


def _condition(spec: QuestionSpec, rest: str, lex: Lexicon) -> str:
    """Find "降幅超过30%", "more than 1,000", "5%左右", "两万人以上"; remove it from ``rest``.
    A parenthetical aside ("(for children under 3)") holds no condition on the figure."""
    asides = [(m.start(), m.end()) for m in ASIDE.finditer(rest)]
    low = rest.lower()
    best: tuple[int, int, Condition] | None = None
    for word, op in lex.condition_before:
        for m in re.finditer(re.escape(word.lower()), low):
            if word.isascii() and (
                    (m.start() and low[m.start() - 1].isalpha())
                    or (m.end() < len(low) and low[m.end()].isalpha())):
                continue
            at = m.end()
            if not word.isascii() and rest[at : at + 1] in _ASPECT:
                at += 1  # "超过了8%", "达到过"
            got = _quantity_at(rest, at)
            if got and any(a <= m.start() < b for a, b in asides):
                continue
            if got and (best is None or m.start() < best[0]):
                best = (m.start(), got[1], Condition(op, got[0]))
                break
    if best is None:
        for m in NUMBER.finditer(rest):
            got = read_quantity(rest, m.start())
            if not got or any(a <= m.start() < b for a, b in asides):
                continue
            tail = low[got[1]:].lstrip()
            for word, op in lex.condition_after:
                if tail.startswith(word.lower()):
                    end = len(rest) - len(tail) + len(word)
                    best = (m.start(), end, Condition(op, got[0]))
                    break
            if best:
                break
    if best is None:
        return rest
    start, end, cond = best
    q = replace(cond.quantity, above=False)  # "超过30%": the operator, not a figure above 30
    if q.unit is None and _COUNTED_NOUN.match(rest, end):
        # "more than 100 old residential compounds": a count of things, which 142万平方米
        # of them is not
        counter = tables().unit_at("个", 0)
        if counter:
            q = replace(q, unit=counter[0])
    spec.condition = Condition(cond.op, q)
    spec.numeric = True
    return rest[:start] + " " + rest[end:]


def _verb_direction(rest: str, lex: Lexicon) -> tuple[str | None, str]:
    """A change the question's verb asks for that the direction words do not list ("涨了",
    "跌", "缩水"), by the verb's first sense in CC-CEDICT (rise, fall, shrink) read as the
    English directions are: and the question without that verb."""
    for w, flag in tagged(rest):
        if not flag.startswith("v") or w in lex.scaffold_zh:
            continue
        senses = verb_senses(w)
        if senses and senses[0] in lex.directions_en and senses[0] not in lex.creation \
                and lex.directions_en[senses[0]] in ("up", "down"):
            return lex.directions_en[senses[0]], rest.replace(w, " ", 1)
    return None, rest


# Parts of speech that carry no topic: conjunctions (还是), prepositions, particles, modal
# particles, pronouns (各, 什么).
_FUNCTION_TAGS = ("c", "p", "u", "y", "r")


def _without_function_words(rest: str, lex: Lexicon) -> str:
    """Without the words that only hold the question together ("还是", "各是" 's 各) and the
    modals of intent ("打算", "准备"): how it asks, not what."""
    out = rest
    for w, flag in tagged(rest):
        if w in lex.intent_zh or flag[:1] in _FUNCTION_TAGS:
            out = out.replace(w, " ", 1)
    return out


def _intends(q: str, lex: Lexicon) -> bool:
    """"要发展低空经济", "将开工", "准备建设": a modal of intent before a verb asks what is
    planned (the segmenter's words and parts of speech: 主要, 需要 are other words)."""
    ws = tagged(q)
    return any(w in lex.intent_zh and nxt.startswith("v")
               for (w, _), (_, nxt) in zip(ws, ws[1:], strict=False))


def _without_time_words(rest: str) -> str:
    """"年初", "当年", "年底": when, not what (the segmenter's time words; the years asked
    are read before)."""
    out = rest
    for w, flag in tagged(rest):
        # (a single character is a word's part as often: 夜 of 夜经济)
        if flag == "t" and len(w) >= 2 and not any(ch.isdigit() for ch in w):
            out = out.replace(w, " ", 1)
    return out


def _without_asked_class(rest: str) -> str:
    """"哪些市州的旅游收入" without "哪些市州": the word after a question word names the kind
    of place asked for (市州, 地方, 城市), not the topic."""
    ws = words(rest)
    for i, w in enumerate(ws):
        if not w.startswith("哪"):
            continue
        if len(w) >= 3 and not _COUNTING.fullmatch(w[1:]):  # "哪些地方", one word
            return rest.replace(w, " ", 1)
        j = i + 1
        while j < len(ws) and _COUNTING.fullmatch(ws[j]):  # "哪" "几个" "市县"
            j += 1
        after = ws[j] if j < len(ws) else ""
        if len(after) <= 2 and _CJK_RUN.fullmatch(after * 2):
            return re.sub(r"\s*".join(map(re.escape, ws[i : j + 1])), " ", rest, count=1)
    return rest


def _without_form_words(rest: str, lex: Lexicon) -> str:
    """Without the words that are by themselves how the question asks ("比一比", "差别"):
    the form cue they match, not the topic."""
    out = rest
    for w in words(rest):
        if any(lex.cues[name].fullmatch(w) for name in ("compare", "list")):
            out = out.replace(w, " ", 1)
    return out


_OPPOSITE = {"up": "down", "down": "up"}
# A direction word negated: "did not grow", "didn't fall", "never rose", "not at all grow".
_NEGATED = r"(?:\bnot|\bnever|n't)\s+(?:[a-z]+\s+){{0,2}}?{}\b"


def _topic(spec: QuestionSpec, rest: str, lex: Lexicon) -> None:
    direction: str | None = None
    named: list[str] = []  # every direction the question names
    if spec.lang == "en":
        # Chinese written inside an English question is the report's wording: use it as is.
        zh = [t for run in _CJK_RUN.findall(rest) for t in tokenize(run)]
        latin = _CJK_RUN.sub(" ", rest)
        glossed, unglossed = translate(latin)
        latin_words = [w.lower() for w in _LATIN_WORD.findall(latin)]
        for w in _LATIN_WORD.findall(unglossed.lower()):
            if w in lex.directions_en:
                d = lex.directions_en[w]
                if d in _OPPOSITE and re.search(_NEGATED.format(re.escape(w)), latin.lower()):
                    if w in lex.creation:
                        continue  # "not yet built" says nothing of a fall
                    d = _OPPOSITE[d]  # "did not grow": fell (or stood still), not grew
                named.append(d)
                if direction is None:
                    direction = d
                    spec.creation = w in lex.creation and d == lex.directions_en[w]
        topic_words = [w for w in latin_words
                       if singular(w) not in lex.scaffold_en and w not in lex.scaffold_en
                       and w not in lex.directions_en]
        spec.topic = " ".join(topic_words + _CJK_RUN.findall(rest))
        terms = zh + glossed
        spec.translated = [t for t in glossed if t not in zh]
    else:
        rest = _without_form_words(_without_time_words(_without_asked_class(rest)), lex)
        rest = _without_function_words(rest, lex)
        # The topic as words, direction included ("经济增长"): what the embedder reads.
        spec.topic = "".join(w for w in words(rest) if w not in lex.scaffold_zh
                             and not w.isdigit() and not _ASKING.match(w))
        for word, d in lex.rate_words.items():
            if word in rest:
                direction = direction or d
                rest = rest.replace(word, " ")
        block = lex.not_direction_after
        # longest first across directions: 零增长 is no change, 负增长 a fall, not 增长
        pairs = sorted(((w, d) for d in ("down", "up", "zero", "better")
                        for w in lex.directions_zh[d]), key=lambda p: -len(p[0]))
        for w, d in pairs:
            # "增加值" is an indicator, not a direction.
            pattern = re.escape(w) + (rf"(?![{block}])" if block else "")
            if len(w) >= 2 and re.search(pattern, rest):
                named.append(d)
                if direction is None:
                    direction, spec.creation = d, w in lex.creation
                rest = re.sub(pattern, " ", rest)
        if direction is None:
            direction, rest = _verb_direction(rest, lex)
        # (nor a word made of scaffold alone: "有县" of "有县入选" is 有 and 县)
        terms = [t for t in tokenize(rest)
                 if t not in lex.scaffold_zh and not t.isdigit() and not _ASKING.match(t)
                 and not all(ch in lex.scaffold_zh for ch in t)]
    # Drop terms contained in a longer term already present (生产 inside 生产总值).
    terms = [t for t in dict.fromkeys(terms) if not any(t != o and t in o for o in terms)]
    spec.terms = terms
    # "增长还是下降", "up or down": the question asks which way, not for one of them.
    spec.direction = None if {"up", "down"} <= set(named) else direction
