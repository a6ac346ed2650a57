"""The one place matcher: which places a question names, which of them the store holds.

Store places are matched by their names as the reports write them, their short forms
("恩施州", "历城") and pinyin ("Licheng District"). Every other Chinese administrative
division comes from the gazetteer (:mod:`rag.ingest.regions`), so a question about a place
the store lacks ("浦东新区", "Pudong New Area") is known to be about it, and answered so,
instead of being read as a question about no place. A name with one wrong character
("历成区") is taken for the store place it nearly spells when exactly one fits and it is no
real place itself; the reading says so.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.ingest.place_inference import word_edges
from rag.ingest.regions import Gazetteer, pinyin
from rag.ingest.regions import Place as GazPlace
from rag.text.lexicon import lexicon

_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
             "地区", "新区", "省", "市", "区", "县", "盟", "旗", "州")
_ETHNIC = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,4}族)+自治(州|县|旗)$")
_WORD = re.compile(r"[a-z]+", re.I)
_NEXT_PROPER = re.compile(r"(?:'s)?\s+[A-Z][a-z]")  # "Chishui River", not "Kunshan's GDP"
_EN_LEVEL = re.compile(r"\s+(?:district|county|city|province|new area|municipality|prefecture"
                       r"|autonomous prefecture)(?:'s)?(?![a-z])")
# Generic words that end like a place name but name none ("城区", "辖区"): never corrected.
_GENERIC = {"城区", "市区", "辖区", "地区", "县区", "新区", "园区", "社区", "景区", "山区",
            "全区", "全市", "全县", "全省", "各区", "各县", "各市", "本区", "本市", "该区", "该市",
            "哪个区", "哪些区", "哪个市", "哪些市", "城市", "开发区", "高新区", "示范区", "自贸区",
            "功能区"}


@dataclass(frozen=True)
class Place:
    """A place of the store: its name as the reports write it and the field it fills."""

    name: str  # "和平区", "天津市", "江苏省"
    level: str  # "province" | "city" | "district"


@dataclass
class PlaceMention:
    place: Place
    start: int
    end: int
    year: int | None = None  # a year written right after this place ("历城区2023年")
    corrected_from: str | None = None  # the question's spelling, when one character differed
    town: str | None = None  # the town or subdistrict asked about, that this place holds


@dataclass
class PlaceReading:
    """What a question says of places: store places named, and places the store lacks."""

    mentions: list[PlaceMention] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # full names: "上海市浦东新区"
    spans: list[tuple[int, int]] = field(default_factory=list)  # every place named
    missing_places: list[GazPlace] = field(default_factory=list)  # the gazetteer's, in order

    def lacking(self, places: tuple[GazPlace, ...] | list[GazPlace], surface: str,
                name: str | None = None) -> None:
        """Record a place the store has no report of (its full name, or as written when the
        name is ambiguous: "朝阳区" is in Beijing and in Changchun)."""
        name = name or (places[0].name if len(places) == 1 else surface)
        if name not in self.missing:
            self.missing.append(name)
            self.missing_places.extend(places)

    def drop_containers(self) -> None:
        """A store place named only as the home of a missing one ("Hexi District in
        Tianjin", "沈阳市和平区") is context, not a place asked about."""
        inside = {(g.province, g.city) for g in self.missing_places
                  if g.level in ("district", "county")}
        names = {n for pair in inside for n in pair if n}
        self.mentions = [m for m in self.mentions
                         if not (m.place.level in ("province", "city") and m.place.name in names)]


def short_forms(name: str) -> list[str]:
    """Names a question may use: "恩施土家族苗族自治州" → ["恩施", "恩施州"]."""
    m = _ETHNIC.match(name)
    if m:
        return [m.group(1), m.group(1) + m.group(2)]
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return [name[: -len(suf)]]
    return []




def _english_level_ok(level: str, tail: str) -> bool:
    tail = tail.strip()
    if tail.startswith(("district", "county", "new area")):
        return level == "district"
    if tail.startswith(("city", "municipality", "prefecture")):
        return level in ("city", "province")
    if tail.startswith("province"):
        return level == "province"
    return True


class PlaceMatcher:
    """Finds places in a question (already normalized: simplified, half-width).

    Args:
        places: the places of the store's reports.
        gazetteer: every Chinese administrative division; without it only store places
            are known (and no missing place can be named).
    """

    def __init__(self, places: Iterable[Place], gazetteer: Gazetteer | None = None,
                 homes: dict[Place, set[tuple[str | None, str | None]]] | None = None) -> None:
        self.places = set(places)
        # (province, city) of the reports each store place names: the store's 和平区 is
        # 天津市's, so 沈阳市和平区 is another place.
        self.homes = homes or {}
        self.gazetteer = gazetteer
        self._zh: dict[str, set[Place]] = defaultdict(set)
        self._en: dict[str, set[Place]] = defaultdict(set)
        for p in self.places:
            self._zh[p.name].add(p)
            shorts = short_forms(p.name)
            for short in shorts:
                self._zh[short].add(p)
            for form in pinyin(shorts[0] if shorts else p.name):
                self._en[form].add(p)
        self._zh_keys = sorted(self._zh, key=len, reverse=True)
        self._en_re = (
            re.compile(r"(?<![a-z])(" + "|".join(
                re.escape(k) for k in sorted(self._en, key=len, reverse=True)) + r")(?![a-z])")
            if self._en else None
        )
        # Full names by (length, last character), for one-character corrections.
        self._by_shape: dict[tuple[int, str], list[Place]] = defaultdict(list)
        for p in self.places:
            if len(p.name) >= 3:
                self._by_shape[(len(p.name), p.name[-1])].append(p)

    def names_place(self, word: str) -> bool:
        """Whether a word is a place's name or short form ("南京", "历城区")."""
        if word in self._zh:
            return True
        return self.gazetteer is not None and bool(self.gazetteer.resolve(word))

    # -- reading a question -------------------------------------------------------------
    def read(self, question: str) -> PlaceReading:
        reading = PlaceReading()
        taken = [False] * len(question)

        def claim(s: int, e: int) -> bool:
            if any(taken[s:e]):
                return False
            for i in range(s, e):
                taken[i] = True
            reading.spans.append((s, e))
            return True

        # The gazetteer first: a chain ("沈阳市和平区") says which 和平区 is meant.
        self._gazetteer_zh(question, claim, reading)
        self._store_zh(question, claim, reading)
        self._towns(question, claim, reading)
        self._store_en(question, claim, reading)
        self._gazetteer_en(question, claim, reading)
        # Question words are never a misspelt place ("哪些城市" is not 盐城市, "三个市" is
        # not 三明市).
        lex = lexicon()
        for pattern in [lex.cues["list"], lex.counted_places, *(p for p, _ in lex.levels)]:
            for m in pattern.finditer(question):
                for i in range(m.start(), m.end()):
                    taken[i] = True
        self._corrections(question, taken, claim, reading)
        reading.drop_containers()
        reading.mentions.sort(key=lambda m: m.start)
        reading.spans.sort()
        reading.missing = list(dict.fromkeys(reading.missing))
        return reading

    def _store_zh(self, q: str, claim, reading: PlaceReading) -> None:
        for key in self._zh_keys:
            if key not in q:  # most names are absent: skip the pattern
                continue
            for m in re.finditer(re.escape(key), q):
                if claim(m.start(), m.end()):
                    for p in sorted(self._zh[key], key=lambda p: p.level):
                        reading.mentions.append(PlaceMention(p, m.start(), m.end()))

    def _in_store(self, g: GazPlace) -> Place | None:
        own = {"province": (g.province, "province"), "city": (g.city or "", "city")}.get(
            g.level, (g.district or "", "district"))
        for p in (Place(*own), Place(g.district or "", "city")):
            # (the second: a county-level city the store files as a city)
            if p in self.places and self._home_fits(p, g):
                return p
        return None

    def _home_fits(self, p: Place, g: GazPlace) -> bool:
        homes = self.homes.get(p)
        if not homes or p.level == "province":
            return True
        return any((prov is None or prov == g.province)
                   and (p.level == "city" or city is None or city == g.city)
                   for prov, city in homes)

    def _gazetteer_zh(self, q: str, claim, reading: PlaceReading) -> None:
        if self.gazetteer is None:
            return
        edges: set[int] | None = None
        for m in self.gazetteer.find_in_text(q, short_forms=True):
            if m.surface in _GENERIC:
                continue
            held = [p for g in m.places if (p := self._in_store(g)) is not None]
            if not held:
                # A place the store lacks is named as a word of its own: "示范县" holds the
                # letters of 范县, not the county.
                edges = word_edges(q) if edges is None else edges
                if m.start not in edges:
                    continue
            if not claim(m.start, m.end):
                continue
            if held:  # a chained or full form of a store place ("山东省济南市历城区")
                for p in dict.fromkeys(held):
                    reading.mentions.append(PlaceMention(p, m.start, m.end))
            else:
                reading.lacking(m.places, m.surface)

    def _towns(self, q: str, claim, reading: PlaceReading) -> None:
        """A town or subdistrict ("周庄镇", whole words only): asked of the report of the
        county or district that holds it when the store has that, else a place the store
        lacks."""
        if self.gazetteer is None:
            return
        for t in self.gazetteer.find_towns_in_text(q, word_edges(q)):
            if not claim(t.start, t.end):
                continue
            held = [p for g in t.within if (p := self._in_store(g)) is not None]
            named = [g.name for g in t.within if g.name in reading.missing]
            if named:  # "江阴市周庄镇": the missing county named with its town
                reading.missing[reading.missing.index(named[0])] = named[0] + t.surface
            elif held:
                reading.mentions += [PlaceMention(p, t.start, t.end, town=t.surface)
                                     for p in dict.fromkeys(held)]
            else:
                home = t.within[0].name if len(t.within) == 1 else ""
                reading.lacking(list(t.within), t.surface, home + t.surface)

    def _store_en(self, q: str, claim, reading: PlaceReading) -> None:
        if self._en_re is None:
            return
        low = q.lower()
        for m in self._en_re.finditer(low):
            places = self._en[m.group(1)]
            tail = low[m.end() : m.end() + 12]
            fits = [p for p in sorted(places, key=lambda p: p.level)
                    if _english_level_ok(p.level, tail)]
            suffix = _EN_LEVEL.match(low, m.end())  # "Yingze District('s)" is one mention
            end = suffix.end() if suffix else m.end()
            if fits and claim(m.start(), end):
                reading.mentions += [PlaceMention(p, m.start(), end) for p in fits]

    def _gazetteer_en(self, q: str, claim, reading: PlaceReading) -> None:
        if self.gazetteer is None:
            return
        index = self.gazetteer.english_index()
        words = list(_WORD.finditer(q.lower()))
        i = 0
        while i < len(words):
            for size in (4, 3, 2, 1):
                group = words[i : i + size]
                if len(group) < size:
                    continue
                phrase = " ".join(w.group() for w in group)
                places = index.get(phrase)
                if not places:
                    continue
                if size == 1 or phrase in self.gazetteer.conventional_english():
                    top = [p for p in places if p.level in ("province", "city")]
                    # A county or district by its bare pinyin ("Kunshan's GDP") only as the
                    # place asked: a proper noun (capitalised, not the first word) of a
                    # question naming no store place ("Donggang strawberries, according to
                    # Dandong" asks Dandong), not a part of a longer one ("Chishui River").
                    s0, e0 = group[0].start(), group[0].end()
                    proper = size == 1 and s0 > 0 and q[s0].isupper() \
                        and not reading.mentions and not _NEXT_PROPER.match(q, e0)
                    places = top or (places if proper else [])
                if not places:
                    continue
                s, e = group[0].start(), group[-1].end()
                if claim(s, e):
                    held = [p for g in places if (p := self._in_store(g)) is not None]
                    if held:
                        reading.mentions += [PlaceMention(p, s, e) for p in dict.fromkeys(held)]
                    else:
                        reading.lacking(places, q[s:e])
                i += size
                break
            else:
                i += 1

    def _corrections(self, q: str, taken: list[bool], claim, reading: PlaceReading) -> None:
        """"历成区" → 历城区: one character differs, the suffix is the same, and exactly one
        store place fits; a real place of that spelling is never corrected."""
        for (n, last), places in self._by_shape.items():
            for end in [i + 1 for i, ch in enumerate(q) if ch == last]:
                start = end - n
                if start < 0 or any(taken[start:end]):
                    continue
                word = q[start:end]
                if word in _GENERIC or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
                    continue
                fits = [p for p in places
                        if sum(a != b for a, b in zip(p.name, word, strict=True)) == 1]
                if len(fits) != 1:
                    continue
                if self.gazetteer is not None and self.gazetteer.resolve(word):
                    continue
                if claim(start, end):
                    reading.mentions.append(
                        PlaceMention(fits[0], start, end, corrected_from=word))
