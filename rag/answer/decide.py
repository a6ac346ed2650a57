"""The extractive decision: does this sentence state what the question asks?

One rule for every strategy and for the LLM path's checks. A sentence must be about the
topic — by its words or by its meaning (:attr:`Evidence.support`) — move the way asked, and,
when a figure is asked, give the topic's own figure, meeting the condition if there is one.
"""

from __future__ import annotations

from rag.answer.evidence import Evidence
from rag.retrieve.spec import Mode, QuestionSpec


def mention_phrase(spec: QuestionSpec) -> list[str]:
    """What a quote must contain for "提到了新能源汽车": the topic as asked (the joined
    terms when the question writes them so), else every term."""
    phrase = "".join(spec.terms).lower()
    return [phrase] if phrase and phrase in spec.normalized.lower() else list(spec.terms)


def accepts(ev: Evidence, spec: QuestionSpec, min_support: float, words: bool = False) -> bool:
    """Whether ``ev`` states what ``spec`` asks, at least ``min_support`` sure of its topic.

    With ``words``, the sentence must also write some of the topic's words: a list question
    whose words the candidate reports use (they are the reports' own wording, then) does not
    take a sentence that merely means something near ("风险防范呈现新局面" for accidents).
    """
    if words and ev.coverage == 0:
        return False
    if spec.mode is Mode.MENTIONED:
        need = mention_phrase(spec)
        quote = ev.quote.lower()
        if need and not all(t.lower() in quote for t in need):
            return False
    cond = spec.condition
    if cond is not None and ev.bound and cond.holds(ev.value) and ev.local_coverage >= 0.5:
        # The figure is bound to the topic's rarest word: the rest of the wording may vary
        # ("优良天数比例达92.6%" without "空气").
        min_support = min(min_support, 0.5)
    made = spec.creation and ev.made  # things made, counted: no direction word needed
    if ev.support < min_support or (not ev.direction_ok and not made
                                    and spec.direction_required):
        return False
    if spec.numeric and not ev.has_number:
        return False
    if cond is not None:
        # The clause holding the figure must itself be about the topic: by its words, or by
        # the figure bound to a whole topic word in a sentence its meaning puts on the topic
        # ("港口货物吞吐量6847万吨" for ports and 货运; not "水质优良率100%，打赢空气质量
        # 翻身仗" for air: 优良 is a part of 水质优良率).
        if ev.qualifier and (cond.quantity.is_share or cond.op in ("<", "<=", "~")):
            # A part's rate is not the whole's ("跨境电商出口额增长98%" for exports); a part's
            # count only bounds the whole's from below (公办幼儿园学位 for kindergarten places).
            return False
        about = ev.local_coverage >= 0.5 or (
            ev.plain_anchor and ev.semantic is not None and ev.semantic >= min_support)
        return cond.holds(ev.value) and about
    if spec.numeric:
        # "增长了多少", "是多少": the figure must be the topic's own, not any number nearby.
        return ev.bound
    return True
