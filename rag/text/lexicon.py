"""The closed-class word lists of ``data/lexicon.json``, loaded once and checked.

Each list is defined once, there; code reads it through :func:`lexicon`. A malformed file
(a missing key, a pattern that does not compile, an empty list) raises ConfigError naming
what is wrong, at first use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

DATA = Path(__file__).with_name("data") / "lexicon.json"
SECTION_KINDS = ("review", "review_multi", "plan", "targets", "annex", "other")
CONDITION_OPS = (">", ">=", "<", "<=", "~")
DIRECTIONS = ("up", "down", "zero", "better")


@dataclass(frozen=True)
class SectionName:
    short: str
    long: str
    en: str


@dataclass(frozen=True)
class Lexicon:
    sections: dict[str, SectionName]
    directions_zh: dict[str, tuple[str, ...]]
    directions_en: dict[str, str]  # word → direction
    creation: frozenset[str]  # direction words asking for things made ("新建", "built")
    rate_words: dict[str, str]
    not_direction_after: str
    cues: dict[str, re.Pattern[str]]
    overview_terms: frozenset[str]
    condition_before: tuple[tuple[str, str], ...]  # (words, op), longest first
    condition_after: tuple[tuple[str, str], ...]
    relative_years: tuple[tuple[str, int], ...]  # longest first
    levels: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
    counted_places: re.Pattern[str]
    scaffold_zh: frozenset[str]
    # the modal verbs that say a verb after them is intended ("要发展", "将开工"): a plan
    intent_zh: frozenset[str]
    scaffold_en: frozenset[str]
    soft_terms: frozenset[str]
    abbreviations: dict[str, tuple[str, ...]]

    def cue(self, name: str, text: str) -> bool:
        return bool(self.cues[name].search(text))

    def section_short(self, kind: str) -> str:
        s = self.sections.get(kind)
        return s.short if s else kind

    def section_long(self, kind: str) -> str:
        s = self.sections.get(kind)
        return s.long if s else kind

    def direction_words(self, direction: str) -> tuple[str, ...]:
        """The words that state a change the way asked: its own, and an improvement for a
        rise or a fall; any change for an improvement asked."""
        own = self.directions_zh[direction]
        if direction in ("up", "down"):
            return own + self.directions_zh["better"]
        if direction == "better":
            return own + self.directions_zh["up"] + self.directions_zh["down"]
        return own

    def change_words(self) -> tuple[str, ...]:
        """Chinese words of a change up or down, two characters or more."""
        return tuple(w for d in ("up", "down", "better") for w in self.directions_zh[d]
                     if len(w) >= 2)

    def other_forms(self, term: str) -> tuple[str, ...]:
        """The other ways reports write a term: its abbreviations, or the full names of an
        abbreviation ("gdp" → 地区生产总值, 生产总值)."""
        low = term.lower()
        forms = list(self.abbreviations.get(low, ()))
        forms += [full for full, shorts in self.abbreviations.items() if low in shorts]
        return tuple(dict.fromkeys(f for f in forms if f != low))


def _words(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(
            isinstance(w, str) and w.strip() for w in value):
        raise ValueError(f"{where} must be a non-empty list of words")
    return tuple(value)


def _pattern(value: object, where: str) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a pattern")
    try:
        return re.compile(value, re.I)
    except re.error as exc:
        raise ValueError(f"{where} does not compile: {exc}") from exc


def load_lexicon(path: Path = DATA) -> Lexicon:
    """Read and check a lexicon file (see ``data/lexicon.json`` for the shape)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        sections = {k: SectionName(**v) for k, v in raw["sections"].items()}
        if set(sections) != set(SECTION_KINDS):
            raise ValueError(f"sections must name exactly {', '.join(SECTION_KINDS)}")
        dz = {d: _words(raw["directions"]["zh"][d], f"directions.zh.{d}") for d in DIRECTIONS}
        den: dict[str, str] = {}
        for d in DIRECTIONS:
            for w in _words(raw["directions"]["en"][d], f"directions.en.{d}"):
                den.setdefault(w.lower(), d)
        rate = dict(raw["rate_words"])
        if not set(rate.values()) <= set(DIRECTIONS):
            raise ValueError("rate_words must map to up, down or zero")
        cues = {name: _pattern(p, f"cues.{name}") for name, p in raw["cues"].items()}
        for needed in ("list", "compare", "plan", "achieved", "mention", "numeric", "statement",
                       "multi_year", "targets_overview", "targets_section", "count"):
            if needed not in cues:
                raise ValueError(f"cues.{needed} is missing")
        before, after = [], []
        for op, spec in raw["conditions"].items():
            if op not in CONDITION_OPS:
                raise ValueError(f"conditions: unknown operator {op!r}")
            before += [(w, op) for w in spec.get("before", [])]
            after += [(w, op) for w in spec.get("after", [])]
        rel = [(w, int(v)) for w, v in raw["relative_years"].items()]
        levels = tuple(
            (_pattern(item["pattern"], "levels.pattern"), _words(item["levels"], "levels"))
            for item in raw["levels"]
        )
        abbreviations = {k: _words(v, f"abbreviations.{k}")
                         for k, v in raw["abbreviations"].items()}
        by_len = lambda pairs: tuple(sorted(pairs, key=lambda p: -len(p[0])))  # noqa: E731
        return Lexicon(
            sections=sections,
            directions_zh=dz,
            directions_en=den,
            creation=frozenset(_words(raw["creation"]["zh"], "creation.zh")
                               + _words(raw["creation"]["en"], "creation.en")),
            rate_words=rate,
            not_direction_after=str(raw["not_direction_after"]),
            cues=cues,
            overview_terms=frozenset(_words(raw["overview_terms"], "overview_terms")),
            condition_before=by_len(before),
            condition_after=by_len(after),
            relative_years=by_len(rel),
            levels=levels,
            counted_places=_pattern(raw["counted_places"], "counted_places"),
            scaffold_zh=frozenset(_words(raw["scaffold"]["zh"], "scaffold.zh")),
            intent_zh=frozenset(_words(raw["intent_zh"], "intent_zh")),
            scaffold_en=frozenset(w.lower() for w in _words(raw["scaffold"]["en"],
                                                            "scaffold.en")),
            soft_terms=frozenset(_words(raw["soft_terms"], "soft_terms")),
            abbreviations=abbreviations,
        )
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"lexicon {path} is not usable: {exc!r}") from exc


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The project's lexicon, loaded on first use."""
    return load_lexicon()
