"""Where a report is when its title and opening lines do not say: inferred from its body.

A district report that never names its district still names its own towns and subdistricts
("中市街道"), and often its city ("阜阳市", "阜阳名小吃"). Each distinct place the body names
votes for the units it may lie in, its vote split among them when the name is ambiguous
(中市街道: half to 六安市金安区, half to 阜阳市颍泉区). A unit is inferred only when it clearly
wins: votes worth 1.5 names or more, from two names or more, and against every other candidate
twice the votes of the names that tell the two apart. A district is inferred only when one of
its own towns is among them, since a county named in the body is as likely a neighbour. When
the district stays ambiguous its city or province may still be clear, and is kept. What is
inferred carries its evidence: the names and their offsets in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.index.lexical import segments
from rag.ingest.regions import Place, get_gazetteer
from rag.models import PlaceEvidence

FIELDS = ("province", "city", "district")
_MIN_SCORE = 1.5  # votes for the winner, in names
_MIN_NAMES = 2  # distinct names for the winner
_MARGIN = 2.0  # of the votes telling two candidates apart, the winner's share to one
_MIN_COUNTY_CHARS = 3  # "城区", "郊区", "和县" are words as often as they are places
_MAX_OCCURRENCES = 3  # offsets kept per supporting name


@dataclass(frozen=True)
class _Name:
    """One distinct place named in the body, with every place it may denote."""

    surface: str
    places: tuple[Place, ...]
    town: bool  # a town or subdistrict: ``places`` are the units holding it
    spans: tuple[tuple[int, int], ...]

    def weight(self, unit: Place) -> float:
        """The share of this name's places that are the unit, inside it or around it."""
        hits = sum(1 for p in self.places if p.within(unit) or unit.within(p))
        return hits / len(self.places)


@dataclass(frozen=True)
class Inference:
    """What the body says about a report's place: the fields inferred, and why."""

    fields: dict[str, str]  # "province" / "city" / "district" -> inferred name
    evidence: tuple[PlaceEvidence, ...]
    notes: tuple[str, ...]


def word_edges(segment: str) -> set[int]:
    """Offsets where a word starts or ends."""
    out, pos = {0}, 0
    for word in segments(segment):
        pos += len(word)
        out.add(pos)
    return out


def _names(text: str, blocks: Sequence[tuple[int, int]]) -> list[_Name]:
    """Distinct places the body names: regions by full name (short forms of provinces and
    cities when they are whole words: "阜阳名小吃") and towns when they are whole words
    ("中市街道", not the "林城镇" of "森林城镇")."""
    gaz = get_gazetteer()
    found: dict[tuple[tuple[Place, ...], bool], tuple[str, list[tuple[int, int]]]] = {}
    for b_start, b_end in blocks or [(0, len(text))]:
        segment = text[b_start:b_end]
        edges = word_edges(segment)
        hits: list[tuple[str, tuple[Place, ...], bool, int, int]] = []
        for m in gaz.find_in_text(segment, short_forms=True):
            full = any(m.surface.endswith(p.own_name) for p in m.places)
            if not full and not (m.start in edges and m.end in edges):
                continue
            if m.places[0].district and len(m.surface) < _MIN_COUNTY_CHARS:
                continue
            hits.append((m.surface, m.places, False, m.start, m.end))
        hits += [(t.surface, t.within, True, t.start, t.end)
                 for t in gaz.find_towns_in_text(segment, edges)]
        for surface, places, town, start, end in hits:
            found.setdefault((places, town), (surface, []))[1].append(
                (b_start + start, b_start + end))
    return [_Name(surface, places, town, tuple(spans))
            for (places, town), (surface, spans) in found.items()]


def _unit(place: Place, level: str) -> Place | None:
    """The unit of ``level`` that ``place`` lies in (itself, at its own level)."""
    if level == "province":
        return Place(place.province, None, None, "province", place.province)
    if level == "city":
        if place.city is None:
            return None
        name = place.city if place.city == place.province else place.province + place.city
        return Place(place.province, place.city, None, "city", name)
    return place if place.district else None


def _key(place: Place) -> tuple[str | None, ...]:
    return (place.province, place.city, place.district)


@dataclass
class _Candidate:
    unit: Place
    weights: dict[_Name, float]  # the names voting for it, and how much

    @property
    def score(self) -> float:
        return sum(self.weights.values())

    def beats(self, other: _Candidate) -> bool:
        """The names telling the two apart favour this one, ``_MARGIN`` to one at least."""
        names = self.weights.keys() | other.weights.keys()
        mine = sum(max(0.0, self.weights.get(n, 0) - other.weights.get(n, 0)) for n in names)
        theirs = sum(max(0.0, other.weights.get(n, 0) - self.weights.get(n, 0)) for n in names)
        return mine > 0 and mine >= _MARGIN * theirs

    def describe(self) -> str:
        return f"{self.unit.name} ({'、'.join(n.surface for n in self.weights)})"


def _candidates(names: list[_Name], level: str) -> list[_Candidate]:
    """Units of ``level`` that the names may denote, best supported first."""
    units: dict[tuple[str | None, ...], Place] = {}
    for name in names:
        for p in name.places:
            unit = _unit(p, level)
            if unit is not None:
                units.setdefault(_key(unit), unit)
    out = []
    for unit in units.values():
        weights = {n: w for n in names if (w := n.weight(unit)) > 0}
        if level == "district" and not any(n.town for n in weights):
            continue  # a county named in the body is as likely a neighbour: towns decide
        out.append(_Candidate(unit, weights))
    out.sort(key=lambda c: -c.score)
    return out


def _restrict(names: list[_Name], known: dict[str, str | None]) -> list[_Name]:
    """Only the places inside what is already known: the others are other places."""
    def inside(p: Place) -> bool:
        return all(not known.get(k) or getattr(p, k) == known[k] for k in ("province", "city"))

    return [_Name(n.surface, kept, n.town, n.spans) for n in names
            if (kept := tuple(p for p in n.places if inside(p)))]


def infer_place(text: str, blocks: Sequence[tuple[int, int]], known: dict[str, str | None],
                level: str | None) -> Inference:
    """Infer the missing parts of a report's place from the places its body names.

    Args:
        text: the document text.
        blocks: body spans ``(start, end)`` of ``text``; empty means all of it.
        known: the ``province``, ``city`` and ``district`` already known (None when not).
        level: the report's level when known; a district is inferred only for a district-
            or county-level report, a province alone for a province's report.

    Returns:
        The fields inferred (none when the evidence is missing or ambiguous), the evidence
        for them, and notes saying what was inferred or why not.
    """
    names = _restrict(_names(text, blocks), known)
    if not names:
        return Inference({}, (), ("place not inferred: the text names no place",))
    levels = {"district": FIELDS[::-1], "county": FIELDS[::-1],
              "province": ("province",)}.get(level or "", ("city", "province"))
    notes: list[str] = []
    for lv in levels:
        if known.get(lv):
            break
        cands = _candidates(names, lv)
        if not cands:
            continue
        best, others = cands[0], cands[1:]
        rivals = [c for c in others if not best.beats(c)]
        if best.score >= _MIN_SCORE and len(best.weights) >= _MIN_NAMES and not rivals:
            fields = {k: v for k, v in zip(FIELDS, _key(best.unit), strict=True)
                      if v and not known.get(k)}
            evidence = tuple(PlaceEvidence(text[s:e], s, e)
                             for n in best.weights for s, e in n.spans[:_MAX_OCCURRENCES])
            said = "、".join(f"{n.surface}@{n.spans[0][0]}" for n in best.weights)
            notes.append(f"{lv} inferred from the places the text names: {said} "
                         f"→ {best.unit.name}")
            return Inference(fields, evidence, tuple(notes))
        if rivals:
            shown = [best, *rivals][:3]
            extra = 1 + len(rivals) - len(shown)
            more = f" and {extra} more" if extra else ""
            notes.append(f"{lv} not inferred: the places named point to several, "
                         + ", ".join(c.describe() for c in shown) + more)
        else:
            notes.append(f"{lv} not inferred: too little evidence, {best.describe()}")
    return Inference({}, (), tuple(notes))
