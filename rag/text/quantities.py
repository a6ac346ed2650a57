"""Quantities: numbers as reports and people write them, their magnitudes, units and
conversions — the one owner of what "35万平方米", "1.8亿元", "40,000", "forty thousand",
"超过5千人" and "8亿斤" mean, for the question, the evidence and the validator alike.

The tables live in ``data/units.json``: dimensions with a base unit and exact conversion
factors (亿斤 and 万吨 compare; 公顷 and 亩 compare), counters (人, 个, 套 … each its own
dimension), magnitudes (万, 亿, thousand, million …) and number words.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

DATA = Path(__file__).with_name("data") / "units.json"
# How close "about 5%" / "5%左右" must be: a quarter point, or 5% of larger values.
NEAR_POINTS = 0.25
NEAR_SHARE = 0.05
GENERIC_COUNTER = "counter:个"


@dataclass(frozen=True)
class Unit:
    """A unit as written ("万吨" is the unit 吨 with a magnitude) and what it measures."""

    form: str  # "吨", "%", "人", "公顷"
    dimension: str  # "mass", "percent", "counter:人", …
    factor: float  # to the dimension's base unit

    @property
    def is_share(self) -> bool:
        return self.dimension in ("percent", "points")


@dataclass(frozen=True)
class Quantity:
    """A number with its magnitude applied and its unit: "35万平方米" → 350000 平方米."""

    value: float
    unit: Unit | None = None
    above: bool = False  # "超30%", "30%以上": just above the value
    scaled: bool = False  # written with a magnitude (万, 亿, million …)

    @property
    def base(self) -> float:
        """The value in its dimension's base unit (亿斤 → 吨), nudged up when ``above``."""
        v = self.value * (self.unit.factor if self.unit else 1.0)
        return v + abs(v) * 1e-9 + 1e-9 if self.above else v

    @property
    def is_share(self) -> bool:
        return self.unit is not None and self.unit.is_share

    def comparable(self, other: Quantity) -> bool:
        """Whether two quantities measure the same thing (a bare number fits any count)."""
        if self.unit is None or other.unit is None:
            # A bare number is not a share unless both are bare; "超过10万" is a count.
            bare, other_q = (self, other) if self.unit is None else (other, self)
            return not (other_q.is_share and bare.scaled)
        if GENERIC_COUNTER in (self.unit.dimension, other.unit.dimension):
            # 个 counts anything: "多少个健身点" is answered by "健身路径55处".
            return self.unit.dimension.startswith("counter:") and \
                other.unit.dimension.startswith("counter:")
        return self.unit.dimension == other.unit.dimension


@dataclass(frozen=True)
class Condition:
    """A numeric condition of a question: "降幅超过30%" → Condition(">", 30 %)."""

    op: str  # ">", ">=", "<", "<=", "~"
    quantity: Quantity

    def holds(self, q: Quantity | None) -> bool:
        if q is None:
            return False
        ref = self.quantity
        if ref.is_share and not q.is_share:
            return False
        if not ref.comparable(q):
            return False
        v, r = q.base, ref.base
        if self.op == "~":
            tol = NEAR_POINTS if ref.is_share else 0.0
            return abs(v - r) <= max(tol, NEAR_SHARE * abs(r)) + 1e-9
        return {
            ">": v > r, ">=": v >= r - 1e-9, "<": v < r, "<=": v <= r + 1e-9,
        }[self.op]

    def describe(self) -> str:
        unit = self.quantity.unit.form if self.quantity.unit else ""
        return f"{self.op} {self.quantity.value:g}{unit}"


class Tables:
    """The unit tables of ``data/units.json``, checked when loaded."""

    def __init__(self, path: Path = DATA) -> None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            units: dict[str, Unit] = {}
            for dim, spec in raw["dimensions"].items():
                if spec["base"] not in spec["forms"]:
                    raise ValueError(f"dimension {dim}: its base {spec['base']!r} is not a form")
                for form, factor in spec["forms"].items():
                    if not isinstance(factor, int | float) or factor <= 0:
                        raise ValueError(f"{dim}.{form}: factor must be a positive number")
                    units[form.lower()] = Unit(spec["base"] if form == spec["base"] else form,
                                               dim, float(factor))
            for counter in raw["counters"]:
                if counter.lower() in units:
                    raise ValueError(f"counter {counter!r} is also a unit form")
                units[counter.lower()] = Unit(counter, f"counter:{counter}", 1.0)
            for group in raw.get("same_counters", []):
                for counter in group:
                    if counter.lower() not in units or counter not in raw["counters"]:
                        raise ValueError(f"same_counters: {counter!r} is not a counter")
                    units[counter.lower()] = Unit(counter, f"counter:{group[0]}", 1.0)
            self.units = units
            self.magnitudes: dict[str, float] = {k.lower(): float(v)
                                                 for k, v in raw["magnitudes"].items()}
            self.english: dict[str, float] = {k: float(v)
                                              for k, v in raw["english_numbers"].items()}
            self.cn_digits: dict[str, int] = dict(raw["chinese_digits"])
            self.cn_scales: dict[str, int] = dict(raw["chinese_scales"])
        except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"unit tables {path} are not usable: {exc}") from exc
        by_len = lambda keys: sorted(keys, key=len, reverse=True)  # noqa: E731
        self._unit_re = re.compile(
            r"\s*(" + "|".join(_form_pattern(k) for k in by_len(self.units)) + ")", re.I)
        zh_mags = [k for k in self.magnitudes if not k.isascii()]
        en_mags = [k for k in self.magnitudes if k.isascii()]
        self._mag_re = re.compile(
            r"\s*(?:(" + "|".join(map(re.escape, by_len(zh_mags))) + r")|("
            + "|".join(map(re.escape, by_len(en_mags))) + r")(?![a-z]))", re.I)

    def unit_at(self, text: str, pos: int) -> tuple[Unit, int] | None:
        m = self._unit_re.match(text, pos)
        if not m:
            return None
        return self.units[m.group(1).lower()], m.end()

    def magnitude_at(self, text: str, pos: int) -> tuple[float, int] | None:
        m = self._mag_re.match(text, pos)
        if not m:
            return None
        word = (m.group(1) or m.group(2)).lower()
        return self.magnitudes[word], m.end()


def _form_pattern(form: str) -> str:
    """A unit form as a pattern: Latin forms must end on a word boundary ("km", not "kmh")."""
    pat = re.escape(form).replace(r"\ ", r"\s+")
    return pat + r"(?![a-z])" if form[-1:].isascii() and form[-1:].isalpha() else pat


@lru_cache(maxsize=1)
def tables() -> Tables:
    return Tables()


# Digits as written: "40,000", "3,566.5", "1.8", "６３００" (folded before reading).
NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?)")
_ABOVE_BEFORE = re.compile(r"(?:超过|超|逾|多于|高于)\s*$")
_ABOVE_AFTER = re.compile(r"\s*(?:以上|多|余)")


def read_quantity(text: str, pos: int) -> tuple[Quantity, int] | None:
    """The quantity written at ``pos`` (a digit): number, magnitude, unit; and where it ends.

    "35万平方米" → (350000 平方米), "22%" → (22 %), "1.8亿元" → (1.8e8 元), "6公里" → (6 公里),
    "8230套" → (8230 套), "30%以上" → (30 %, above).
    """
    m = NUMBER.match(text, pos)
    if not m:
        return None
    t = tables()
    value = float(m.group(1).replace(",", ""))
    end = m.end()
    scaled = False
    mag = t.magnitude_at(text, end)
    if mag:
        value *= mag[0]
        end = mag[1]
        scaled = True
    unit = None
    got = t.unit_at(text, end)
    if got:
        unit, end = got
    after = _ABOVE_AFTER.match(text, end)
    above = bool(_ABOVE_BEFORE.search(text[max(0, pos - 3) : pos])) or bool(
        after and text[end : after.end()].strip() in ("以上", "多", "余"))
    return Quantity(value, unit, above, scaled), end


_YEAR_AFTER = re.compile(r"\s*年(?![均度])")


def is_year(text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]`` is a year ("2023年", not "2000亩")."""
    digits = text[start:end]
    return len(digits) == 4 and digits[:2] in ("19", "20") and bool(
        _YEAR_AFTER.match(text, end))


def _in_name(text: str, start: int, end: int) -> bool:
    """A number inside a name ("5G", "PM2.5", "G20"): Latin letters touch it, and no unit
    ("12km") explains them."""
    before = start > 0 and text[start - 1].isascii() and text[start - 1].isalpha()
    after = end < len(text) and text[end].isascii() and text[end].isalpha()
    return before or (after and tables().unit_at(text, end) is None
                      and tables().magnitude_at(text, end) is None)


def quantities_in(text: str) -> list[tuple[int, int, Quantity]]:
    """Every quantity written in digits in ``text`` (years left out): (start, end, quantity)."""
    out = []
    for m in NUMBER.finditer(text):
        if is_year(text, m.start(), m.end()) or _in_name(text, m.start(), m.end()):
            continue
        got = read_quantity(text, m.start())
        if got:
            out.append((m.start(), got[1], got[0]))
    return out


# -- numbers written in words -------------------------------------------------------------

_EN_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?", re.I)


def english_numbers_to_digits(text: str) -> str:
    """"forty thousand" → "40 thousand" (read as 40000 later), "two million" → "2 million".
    Only runs worth ten or more, or followed by a magnitude, are rewritten: "zero accidents",
    "which one" stay words. "two and a half million" is left alone (rare)."""
    t = tables()
    words = list(_EN_WORD.finditer(text))
    out, last, i = [], 0, 0
    while i < len(words):
        j, total, current, seen = i, 0.0, 0.0, False
        while j < len(words):
            w = words[j].group().lower()
            parts = w.split("-")
            if all(p in t.english and p not in ("a", "half") for p in parts):
                for p in parts:
                    v = t.english[p]
                    if v == 100:
                        current = (current or 1) * 100
                    else:
                        current += v
                seen = True
                j += 1
            elif w == "and" and seen and j + 1 < len(words) \
                    and words[j + 1].group().lower() in t.english:
                j += 1
            else:
                break
        nxt = words[j].group().lower() if j < len(words) else ""
        if seen and (current >= 10 or nxt in t.magnitudes):
            total += current
            out.append(text[last : words[i].start()])
            out.append(f"{total:g}")
            last = words[j - 1].end()
            i = j
        else:
            i += 1
    out.append(text[last:])
    return "".join(out)


_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+")


def chinese_number_at(text: str, pos: int) -> tuple[str, int] | None:
    """A number written in Chinese numerals at ``pos``, as digits, and where it ends:
    "两万人" → ("2", 1) then 万 is read as a magnitude; "三千五百" → ("3500", 4); "一亿四千万"
    → ("14000", 4), before its 万. Read only where a number is expected (after "超过",
    "不少于" …): elsewhere 一, 三 and 十 are words."""
    m = _CN_NUMERAL.match(text, pos)
    if not m:
        return None
    value = _cn_value(m.group())
    # "一亿四千万人次": 亿 then a number of 万, read as 14000 and the 万 after it.
    after = m.end()
    if text[after : after + 1] == "亿":
        rest = _CN_NUMERAL.match(text, after + 1)
        if rest and text[rest.end() : rest.end() + 1] == "万":
            return str(value * 10000 + _cn_value(rest.group())), rest.end()
    return str(value), after


def _cn_value(s: str) -> int:
    t = tables()
    total, current = 0, 0
    for ch in s:
        if ch in t.cn_digits:
            current = current * 10 + t.cn_digits[ch] if ch in "零〇" else t.cn_digits[ch]
        else:
            total += (current or 1) * t.cn_scales[ch]
            current = 0
    return total + current
