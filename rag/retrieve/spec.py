"""What a question asks, as typed data: :class:`QuestionSpec`.

Built by :func:`rag.retrieve.understand.understand`; read by the candidate filters, the
evidence scorer and the answer strategies. Nothing here parses text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rag.retrieve.places import Place, PlaceMention
from rag.text.quantities import Condition, Unit


class Mode(StrEnum):
    """What the question wants of the reports."""

    ACHIEVED = "achieved"  # results of the year asked: the reports that review it
    PLANNED = "planned"  # plans and targets for the year asked
    MENTIONED = "mentioned"  # what the reports of that year say, in any section


class Form(StrEnum):
    """How the question asks."""

    FACT = "fact"  # one value or statement (of one or several places)
    LIST = "list"  # which places …: every matching report
    COMPARE = "compare"  # two or more places side by side


@dataclass(frozen=True)
class RelativeYear:
    """"去年", "last year": a year counted from the latest report of the place asked."""

    offset: int  # -1 last year, 0 this year, -2 the year before last
    word: str  # as written


@dataclass
class QuestionSpec:
    text: str  # as asked
    normalized: str  # simplified characters, half-width, numbers in digits
    lang: str  # "zh" | "en"
    form: Form
    mode: Mode
    mentions: list[PlaceMention] = field(default_factory=list)
    missing_places: list[str] = field(default_factory=list)  # named, not in the store
    years: list[int] = field(default_factory=list)
    relative: RelativeYear | None = None
    numeric: bool = False  # asks for a figure ("多少", "how many")
    count: bool = False  # asks how many things ("多少处", "how many homes"), not a rate
    statement: bool = False  # asks what was done or how it went ("做得怎么样")
    multi_year: bool = False  # asks about several years ("年均", "five-year")
    overview: bool = False  # asks for a plan's targets as a whole ("主要预期目标是什么")
    target_levels: tuple[str, ...] = ()  # "哪些区" → ("district",)
    topic: str = ""  # the question without places, years and question words
    terms: list[str] = field(default_factory=list)  # Chinese words of the topic
    # Of those, the ones the question does not write itself (the English glossary's
    # translations): the reports' wording only where the meaning agrees.
    translated: list[str] = field(default_factory=list)
    # An English question's words the dictionary names a thing for that no report writes
    # ("semiconductor"): the topic is only partly the reports'.
    unwritten: list[str] = field(default_factory=list)
    # Of the translations, those the dictionary gives one English word ("rate" → 速度): one
    # sense of several, which the meaning must confirm.
    guessed: list[str] = field(default_factory=list)
    # Other written forms of a term (a dictionary's synonyms: 节庆 for 节日).
    term_forms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    direction: str | None = None  # "up" | "down" | "zero"
    # The direction asks for things made ("新建", "built"), not an indicator's change: a
    # count, length or area of the thing states it whatever the verb (建成5G基站3700个).
    creation: bool = False
    condition: Condition | None = None
    unit: Unit | None = None  # the unit the figure is asked in ("多少公里", "how many km")
    # The counter an English "how many <thing>" likely counts in ("households" → 户): a
    # preference only, a report may count the thing in another.
    unit_hint: Unit | None = None
    notes: list[str] = field(default_factory=list)  # what the reading assumed

    @property
    def places(self) -> list[Place]:
        return list(dict.fromkeys(m.place for m in self.mentions))

    @property
    def wants_plan(self) -> bool:
        return self.mode is Mode.PLANNED

    @property
    def direction_required(self) -> bool:
        """A change asked must be stated — except "how many … were added/built": a count
        of what was built is the answer whatever verb the report uses (建成, 开通 …)."""
        if self.direction is None:
            return False
        share = self.condition is not None and self.condition.quantity.is_share
        return not (self.direction == "up" and self.count and self.form is not Form.LIST
                    and not share)
