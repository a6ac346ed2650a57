"""Gazetteer of Chinese administrative divisions, built from jionlp's offline dictionary.

Province, prefecture (city) and county-level names are the regions. Towns and subdistricts
(镇, 乡, 街道, 苏木) are read into an index of their own, consulted only through
:meth:`Gazetteer.find_towns_in_text` as evidence of where a report is
(``rag.ingest.place_inference``): a town is never a region itself, and villages are
skipped. Municipalities (北京/天津/上海/重庆) have ``province == city``.
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO

from rag.errors import ConfigError

LEVEL_RANK = {"province": 0, "city": 1, "district": 2, "county": 2}
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_DIRECT = "直辖"  # "省直辖行政区划": county-level units run by the province, e.g. 济源市
_BRACKETS = "()（）〔〕[]【】 \u3000"
# Town-level units: township, town, subdistrict, and the sumu of Inner Mongolia. Names of
# other units at this depth (farms, development zones, "社区") are too generic to place a text.
TOWN_SUFFIXES = ("街道", "镇", "乡", "苏木")
_MIN_TOWN_LEN = 3  # "城镇", "乡镇" are words, not places
# Conventional English names where plain pinyin is wrong or ambiguous (陕西 vs 山西).
_ENGLISH = {
    "陕西省": {"shaanxi"},
    "内蒙古自治区": {"inner mongolia", "nei mongol"},
    "西藏自治区": {"tibet", "xizang"},
    "香港特别行政区": {"hong kong", "hongkong"},
    "澳门特别行政区": {"macau", "macao"},
}
_EN_SUFFIX = {
    "province": ("province", "autonomous region", "region"),
    "city": ("city", "prefecture", "municipality", "autonomous prefecture", "league"),
    "district": ("district", "new area"),
    "county": ("county", "city", "banner", "autonomous county"),
}


@dataclass(frozen=True)
class Place:
    """One administrative unit; ``district`` is set for district- and county-level units."""

    province: str
    city: str | None
    district: str | None
    level: str  # "province" | "city" | "district" | "county"
    name: str  # full name, most specific last, e.g. "天津市和平区"

    @property
    def own_name(self) -> str:
        """The unit's own name: "和平区", "太原市", "山西省"."""
        return self.district or self.city or self.province

    def within(self, other: Place) -> bool:
        """True when this place is ``other`` or lies inside it."""
        if self.province != other.province:
            return False
        if other.city and self.city != other.city:
            return False
        return not (other.district and self.district != other.district)


@dataclass(frozen=True)
class TownMention:
    """A town or subdistrict name found in a text: ``text[start:end] == surface``."""

    start: int
    end: int
    surface: str
    within: tuple[Place, ...]  # the county-level units (or cities) holding a town so named


@dataclass(frozen=True)
class PlaceMention:
    """A region name found in a text: ``text[start:end] == surface``."""

    start: int
    end: int
    surface: str
    places: tuple[Place, ...]  # more than one when the name is ambiguous (和平区)


def _jionlp_dictionary() -> Path:
    # find_spec does not import jionlp, which is slow to import and prints a banner.
    spec = importlib.util.find_spec("jionlp")
    if spec is None or spec.origin is None:
        raise ConfigError("jionlp is not installed; its gazetteer is needed to resolve regions")
    # The package ships it zipped and unzips it on its own first use; read either form.
    folder = Path(spec.origin).parent / "dictionary"
    text = folder / "china_location.txt"
    return text if text.is_file() else folder / "china_location.zip"


def _open_text(path: Path) -> IO[str]:
    """A text file, or the one text file inside a zip archive of it."""
    if path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        member = next(n for n in archive.namelist() if n.endswith(".txt"))
        return io.TextIOWrapper(archive.open(member), encoding="utf-8")
    return open(path, encoding="utf-8")


def _county_level(name: str) -> str:
    return "district" if name.endswith("区") else "county"


@lru_cache(maxsize=8192)
def pinyin(name: str) -> tuple[str, ...]:
    """A name's pinyin, its usual reading first, then the other readings of characters
    that have several (朝阳 is zhaoyang as pypinyin reads it, Chaoyang as the city is
    called)."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin import pinyin as readings

    usual = "".join(lazy_pinyin(name)).lower()
    each = readings(name, style=Style.NORMAL, heteronym=True)
    forms = [""]
    for options in each:
        forms = [f + o.lower() for f in forms for o in dict.fromkeys(options)][:MAX_READINGS]
    return tuple(dict.fromkeys([usual, *forms]))


MAX_READINGS = 4  # a name's readings kept: its usual one and a few others


class Gazetteer:
    """Names of administrative units and their short forms, looked up both ways."""

    def __init__(self, path: Path | None = None) -> None:
        self.places: list[Place] = []
        self._full: dict[str, list[Place]] = defaultdict(list)  # own full name -> places
        self._short: dict[str, list[Place]] = defaultdict(list)  # alias without suffix
        self._stem: dict[Place, str] = {}
        self._towns: dict[str, list[Place]] = defaultdict(list)  # town name -> its parents
        self._load(path or _jionlp_dictionary())
        self._max_len = max(len(k) for k in self._full)
        self._max_town_len = max((len(k) for k in self._towns), default=0)
        # The first two characters of every name: most offsets of a text start none.
        self._heads = {k[:2] for k in self._full} | {k[:2] for k in self._short}
        self._town_heads = {k[:2] for k in self._towns}
        self._pinyin: dict[str, list[Place]] | None = None

    # -- building -------------------------------------------------------------------------
    def _add(self, place: Place, alias: str) -> None:
        self.places.append(place)
        self._full[place.own_name].append(place)
        self._stem[place] = alias
        if len(alias) >= 2 and alias != place.own_name:
            self._short[alias].append(place)

    def _add_town(self, parent: Place, name: str) -> None:
        if not name.endswith(TOWN_SUFFIXES):
            return
        names = {name}
        if name.startswith(parent.own_name):  # "济源市下冶镇" is also "下冶镇"
            names.add(name[len(parent.own_name):])
        for n in names:
            if len(n) >= _MIN_TOWN_LEN and parent not in self._towns[n]:
                self._towns[n].append(parent)

    def _load(self, path: Path) -> None:
        province: str | None = None
        city: str | None = None
        city_place: Place | None = None
        parent: Place | None = None  # the unit holding the towns that follow
        with _open_text(path) as f:
            for line in f:
                if line.startswith("\t\t\t"):  # towns and subdistricts; villages skipped
                    if line[3] != "\t" and parent is not None:
                        self._add_town(parent, line.strip())
                    continue
                depth = len(line) - len(line.lstrip("\t"))
                parts = line.strip().split("\t")
                if len(parts) != 3:
                    continue
                name, _code, alias = parts
                alias = alias.split("/")[0]
                parent = None
                if depth == 0:
                    province, city = name, None
                    city_place = Place(name, name if name in MUNICIPALITIES else None, None,
                                       "province", name)
                    self._add(city_place, alias)
                elif depth == 1 and province:
                    if _DIRECT in name:
                        city = None
                    elif name in MUNICIPALITIES:
                        city = name  # already added as the province
                    else:
                        city = name
                        city_place = Place(province, name, None, "city", province + name)
                        self._add(city_place, alias)
                elif depth == 2 and province:
                    if city is None:  # directly administered county-level city: a city
                        parent = Place(province, name, None, "city", province + name)
                        self._add(parent, alias)
                    else:
                        full = (city if city == province else province + city) + name
                        parent = Place(province, city, name, _county_level(name), full)
                        self._add(parent, alias)
                        if _DIRECT in name:  # "市直辖行政区划": the city's own towns (东莞)
                            parent = city_place

    # -- lookups --------------------------------------------------------------------------
    def resolve(self, name: str) -> list[Place]:
        """All places a name may denote: "迎泽区", "太原市迎泽区", "和平区" (several), "迎泽".

        A short form without its suffix is accepted only when it names exactly one unit.
        """
        name = name.strip().strip(_BRACKETS)
        if not name:
            return []
        if name in self._full:
            return list(self._full[name])
        mentions = self.find_in_text(name)
        if mentions and mentions[0].start == 0 and mentions[-1].end == len(name):
            return list(_narrow(mentions))
        short = self._short.get(name, [])
        return list(short) if len(short) == 1 and name not in self._full else []

    def find_in_text(self, text: str, *, short_forms: bool = False) -> list[PlaceMention]:
        """Region names in ``text``, longest match first, chained ("山东省济南市历城区").

        Args:
            text: any text.
            short_forms: also match province and city names without their suffix
                ("天津", "山东"); off by default because body text is full of such words.

        Returns:
            Mentions in text order; a chained mention carries only the innermost places.
        """
        out: list[PlaceMention] = []
        i, n = 0, len(text)
        while i < n:
            hit = self._match_at(text, i, None, short_forms)
            if not hit:
                i += 1
                continue
            end, places = hit
            # Follow with names inside the matched unit: 山东省 → 济南市 → 历城区.
            while True:
                j = end
                while j < n and text[j] in _BRACKETS:
                    j += 1
                nxt = self._match_at(text, j, places, short_forms)
                if not nxt:
                    break
                end, places = nxt
            out.append(PlaceMention(i, end, text[i:end], tuple(places)))
            i = end
        return out

    def _match_at(self, text: str, i: int, parents: list[Place] | None,
                  short_forms: bool) -> tuple[int, list[Place]] | None:
        if text[i:i + 2] not in self._heads:
            return None
        for length in range(min(self._max_len, len(text) - i), 1, -1):
            key = text[i:i + length]
            cands = list(self._full.get(key, ()))
            if short_forms and not cands:
                cands = [p for p in self._short.get(key, ()) if p.level in ("province", "city")]
            if not cands:
                continue
            if parents is not None:
                cands = [c for c in cands
                         if any(c.within(p) and c != p for p in parents)]
                if not cands:
                    continue
            return i + length, cands
        return None

    # -- towns ---------------------------------------------------------------------------
    def town_parents(self, name: str) -> list[Place]:
        """The county-level units (or cities) holding a town or subdistrict of this name."""
        return list(self._towns.get(name.strip(), ()))

    def find_towns_in_text(self, text: str,
                           boundaries: set[int] | None = None) -> list[TownMention]:
        """Town and subdistrict names in ``text``, longest match first, in text order.

        Args:
            text: any text.
            boundaries: offsets where a word starts or ends (a segmenter's); when given, a
                name must start and end on one, so that "森林城镇" does not yield "林城镇".
        """
        out: list[TownMention] = []
        i, n = 0, len(text)
        while i < n:
            if (boundaries is not None and i not in boundaries) \
                    or text[i:i + 2] not in self._town_heads:
                i += 1
                continue
            for length in range(min(self._max_town_len, n - i), _MIN_TOWN_LEN - 1, -1):
                end = i + length
                parents = self._towns.get(text[i:end])
                if parents and (boundaries is None or end in boundaries):
                    out.append(TownMention(i, end, text[i:end], tuple(parents)))
                    i = end
                    break
            else:
                i += 1
        return out

    # -- English and pinyin ---------------------------------------------------------------
    def aliases(self, place: Place) -> set[str]:
        """Lowercase pinyin forms: {"heping", "heping district"} for 和平区."""
        stem = self._stem.get(place, place.own_name)
        base = set(pinyin(stem)) | _ENGLISH.get(place.own_name, set())
        suffixes = _EN_SUFFIX[place.level]
        if place.province in MUNICIPALITIES and place.level == "province":
            suffixes = ("city", "municipality")
        out = set(base)
        for b in base:
            out.update(f"{b} {s}" for s in suffixes)
        return out

    def _pinyin_index(self) -> dict[str, list[Place]]:
        if self._pinyin is None:
            index: dict[str, list[Place]] = defaultdict(list)
            for p in self.places:
                for a in self.aliases(p):
                    index[a].append(p)
            self._pinyin = index
        return self._pinyin

    def english_index(self) -> dict[str, list[Place]]:
        """Lowercase pinyin and English names ("heping district", "shaanxi") → places."""
        return self._pinyin_index()

    @staticmethod
    def conventional_english() -> set[str]:
        """English names that are not the pinyin ("shaanxi", "inner mongolia")."""
        return {a for names in _ENGLISH.values() for a in names}

    def find_in_question(self, question: str) -> list[Place]:
        """Places a question names, in Chinese or English, most specific kept.

        "Heping District in Tianjin" → [天津市和平区]; "Shandong" → [山东省];
        "Jiangsu cities" → [江苏省]. A bare English word matches only provinces and cities;
        districts and counties need their English suffix ("Heping District").
        """
        groups: list[list[Place]] = [list(m.places)
                                     for m in self.find_in_text(question, short_forms=True)]
        groups += self._english_mentions(question)
        return combine_places(groups)

    def _english_mentions(self, question: str) -> list[list[Place]]:
        words = re.findall(r"[a-z]+(?:'[a-z]+)?", question.lower().replace("'", ""))
        index = self._pinyin_index()
        groups: list[list[Place]] = []
        i = 0
        while i < len(words):
            for size in (4, 3, 2, 1):
                phrase = " ".join(words[i:i + size])
                places = index.get(phrase)
                if not places or len(words[i:i + size]) < size:
                    continue
                if size == 1 or phrase in {a for p in places for a in _ENGLISH.get(p.own_name, ())}:
                    places = [p for p in places if p.level in ("province", "city")]
                if places:
                    groups.append(places)
                    i += size
                    break
            else:
                i += 1
        return groups


def _narrow(mentions: list[PlaceMention]) -> tuple[Place, ...]:
    groups = [list(m.places) for m in mentions]
    return tuple(combine_places(groups))


def combine_places(groups: list[list[Place]]) -> list[Place]:
    """Keep the most specific places consistent with every other mention."""
    if not groups:
        return []
    kept: list[Place] = []
    for gi, group in enumerate(groups):
        others = [g for j, g in enumerate(groups) if j != gi]
        # A mention containing another mention's place is only context for it.
        if any(any(q.within(p) and q != p for q in g for p in group) for g in others):
            continue
        # Of an ambiguous name, prefer the candidates inside another mention ("in Tianjin").
        inside = [p for p in group if any(p.within(q) and p != q for g in others for q in g)]
        for p in inside or group:
            if p not in kept:
                kept.append(p)
    return kept


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The gazetteer, built on first use (reads about 12 MB once)."""
    return Gazetteer()
