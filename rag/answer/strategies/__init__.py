"""Question types, tried in order: the first that applies answers.

To add one: a module here with a :class:`~rag.answer.strategies.base.Strategy` subclass, an
entry in :data:`STRATEGIES` before the more general ones, and its tests.
"""

from __future__ import annotations

from rag.answer.strategies.base import Decided, Strategy
from rag.answer.strategies.compare import Compare
from rag.answer.strategies.facts import Facts
from rag.answer.strategies.lists import Lists
from rag.answer.strategies.mention import MentionFact, MentionList
from rag.answer.strategies.statements import Statements
from rag.answer.strategies.targets import Targets
from rag.retrieve.spec import QuestionSpec

STRATEGIES: tuple[type[Strategy], ...] = (
    Targets, MentionList, MentionFact, Lists, Compare, Statements, Facts,
)


def strategy_for(spec: QuestionSpec) -> Strategy:
    """A fresh instance of the first strategy that applies (Facts always does)."""
    return next(cls() for cls in STRATEGIES if cls().applies(spec))


__all__ = ["STRATEGIES", "Decided", "Strategy", "strategy_for"]
