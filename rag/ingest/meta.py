"""Whose report a text is, and when: title, date, session year and region.

Sources, strongest first: the manifest row, the file name ("云南省_临沧市_2021.txt"), then the
report's own title and opening lines (the date line, the speaker line, the congress line).
The body is not read for the region while these name it: a city report names its counties, a
district report its province. Only when they leave it unknown are the places the body names
weighed (``rag.ingest.place_inference``), and what that yields is marked inferred, with its
evidence.
Unknown stays None, and ``notes`` says why.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from rag.ingest.manifest import ManifestRow
from rag.ingest.place_inference import infer_place
from rag.ingest.regions import MUNICIPALITIES, Place, combine_places, get_gazetteer
from rag.ingest.sections import body_lines
from rag.models import ReportMeta
from rag.text.years import DATE

_HEAD_LINES = 14  # the opening: title, date line, speaker line, "各位代表"
_CN_DIGITS = "〇零一二三四五六七八九"
_CN_DATE = re.compile(r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月"
                      r"([一二三四五六七八九十]{1,3})日")
_TITLE_YEAR = re.compile(r"(\d{4})\s*年?\s*[）)]?.{0,20}?工作报告|工作报告.{0,4}[（(](\d{4})")
_FILE_YEAR = re.compile(r"(?:^|_)(\d{4})(?=[-_.]|$)")
_PAGE_SUFFIX = re.compile(r"\s*-\s*\d+篇.*$")
_LEVEL_HINT = (("国务院", "national"), ("全国人民代表大会", "national"))
_UNNAMED = re.compile(r"^(\d{4}年)?(区|县|市|省)(人民)?(\d{4}年)?(人民)?政府工作报告")


def _cn_number(s: str) -> int:
    if all(c in _CN_DIGITS for c in s):
        return int("".join(str(_CN_DIGITS.index(c) % 10 if c != "零" else 0) for c in s))
    tens, _, ones = s.partition("十")
    if "十" not in s:
        return _CN_DIGITS.index(s) % 10 if s != "零" else 0
    return (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)


def _find_date(line: str) -> tuple[int, int, int] | None:
    m = DATE.search(line)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        c = _CN_DATE.search(line)
        if not c:
            return None
        y, mo, d = (_cn_number(g) for g in c.groups())
    if 1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
        return y, mo, d
    return None


def _normalize_level(level: str | None) -> str | None:
    if not level:
        return None
    for known in ("national", "province", "city", "district", "county"):
        if level.startswith(known):
            return known
    return None


def _fields(place: Place) -> dict[str, str | None]:
    return {"province": place.province, "city": place.city, "district": place.district,
            "level": place.level}


def _from_file_name(source: str) -> tuple[dict[str, str | None], int | None]:
    stem = PurePosixPath(source.replace("\\", "/")).stem
    m = _FILE_YEAR.search(stem)
    year = int(m.group(1)) if m else None
    parts = [p for p in stem.split("_") if p and not p[:4].isdigit()]
    if parts and parts[0] == "全国":
        return {"level": "national"}, year
    gaz = get_gazetteer()
    fields: dict[str, str | None] = {}
    for part in parts:
        places = [p for p in gaz.resolve(part) if p.own_name == part]
        if fields.get("province"):
            places = [p for p in places if p.province == fields["province"]]
        if len(places) != 1:
            continue
        fields = _fields(places[0])
    return fields, year


def _from_head(head: list[str], notes: list[str]) -> dict[str, str | None]:
    gaz = get_gazetteer()
    groups = [list(m.places) for line in head for m in gaz.find_in_text(line)]
    if not groups:
        return {}
    places = combine_places(groups)
    if len(places) == 1:
        return _fields(places[0])
    names = "、".join(p.name for p in places)
    notes.append(f"opening lines name several regions ({names}); kept only what they share")
    shared: dict[str, str | None] = {}
    for key in ("province", "city", "district"):
        values = {getattr(p, key) for p in places}
        if len(values) != 1 or None in values:
            break
        shared[key] = values.pop()
    return shared


def _merge(sources: list[tuple[str, dict[str, str | None]]], notes: list[str],
           cap: str | None) -> dict[str, str | None]:
    """Fill each field from the strongest source that has it, without mixing regions."""
    out: dict[str, str | None] = {"province": None, "city": None, "district": None}
    origin: dict[str, str] = {}
    # A manifest level caps what the text may add: a city report gets no district.
    allowed: tuple[str, ...] = ("province", "city", "district")
    if cap == "national":
        allowed = ()
    elif cap in ("province", "city"):
        allowed = ("province", "city")
    for name, fields in sources:
        for key in ("province", "city", "district"):
            value = fields.get(key)
            if not value:
                continue
            if out[key] and out[key] != value:
                notes.append(f"{key}: {origin[key]} says {out[key]}, {name} says {value}; "
                             f"kept {origin[key]}")
                continue
            if key not in allowed or out[key]:
                continue
            # Only fill a gap when the source agrees with what is already known above it.
            above = {"province": (), "city": ("province",), "district": ("province", "city")}
            if any(out[k] and fields.get(k) and out[k] != fields.get(k) for k in above[key]):
                continue
            out[key] = value
            origin[key] = name
    if cap == "province" and out["province"] not in MUNICIPALITIES:
        out["city"] = None
    return out


def _complete(fields: dict[str, str | None]) -> dict[str, str | None]:
    """Fill a known unit's parents from the gazetteer: 太原市迎泽区 → 山西省."""
    gaz = get_gazetteer()
    for key in ("district", "city"):
        name = fields.get(key)
        if not name:
            continue
        cands = [p for p in gaz.resolve(name) if p.own_name == name
                 and all(not fields.get(k) or getattr(p, k) == fields[k]
                         for k in ("province", "city") if k != key)]
        if len(cands) == 1:
            fields = {**fields, "province": cands[0].province, "city": cands[0].city or
                      fields.get("city")}
            break
    return fields


def extract_meta(text: str, blocks, source: str,
                 manifest_row: ManifestRow | None = None) -> ReportMeta:
    """Read a report's title, date, session year and region.

    Args:
        text: the document text.
        blocks: body spans ``(start, end)`` of ``text``; empty means all of it.
        source: the file name (or relative path) the text came from.
        manifest_row: the manifest's row for this file, if any; its values win.

    Returns:
        A ``ReportMeta``; what could not be determined is None and explained in ``notes``.
    """
    notes: list[str] = []
    lines = [t for _, _, t in body_lines(text, blocks)]
    if blocks:
        # Page furniture before the body (a page counter, a page title) can still name
        # the report: "区2023年政府工作报告-39篇(第127/192页)".
        first = min(s for s, _ in blocks)
        lines = [t for _, _, t in body_lines(text, [(0, first)]) if "工作报告" in t] + lines
    head: list[str] = []
    for line in lines[:_HEAD_LINES]:
        if line.startswith("各位代表"):
            break
        if len(line) <= 90:
            head.append(line)
    row = manifest_row
    flag = (row.qc_flag or "") if row else ""

    # Title: the first opening line that names a work report.
    title = next((_PAGE_SUFFIX.sub("", h) for h in head if "工作报告" in h), None)
    if title is None and row and row.title:
        title = row.title
    if title is None:
        notes.append("no title line found")

    # Date: the first full date in the opening lines (title, "——2018年3月21日在…").
    date = None
    for line in ([title] if title else []) + head:
        date = _find_date(line)
        if date:
            break
    if date and flag.startswith("BAD_HEADER_DATE"):
        notes.append(f"report date dropped: manifest flags it ({flag})")
        date = None
    report_date = f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}" if date else None

    # Session year: date, title, file name, manifest (manifest wins unless flagged wrong).
    text_year, how = None, ""
    if date:
        text_year, how = date[0], "report date"
        if date[1] == 12 and re.search(rf"{date[0] + 1}年(是|工作|主要|经济社会发展)", text):
            text_year, how = date[0] + 1, "report date (December, for the next year)"
    elif title and (m := _TITLE_YEAR.search(title)):
        text_year, how = int(m.group(1) or m.group(2)), "title"
    file_fields, file_year = _from_file_name(source)
    if text_year is None and file_year:
        text_year, how = file_year, "file name"
    report_year = text_year
    if row and row.year:
        if text_year and text_year != row.year:
            if flag.startswith("WRONG_YEAR"):
                notes.append(f"year: manifest says {row.year} but flags it ({flag}); "
                             f"kept {text_year} from the {how}")
            else:
                notes.append(f"year: manifest says {row.year}, {how} says {text_year}; "
                             "kept the manifest")
                report_year = row.year
        else:
            report_year = row.year
    if report_year is None:
        notes.append("session year not found in the date, title, file name or manifest")

    # Region.
    head_fields = _from_head(head, notes)
    manifest_fields: dict[str, str | None] = {}
    if row:
        manifest_fields = {"province": row.province, "city": row.city,
                           "district": row.district}
    sources = [("manifest", manifest_fields), ("file name", file_fields),
               ("opening lines", head_fields)]
    if flag.startswith("WRONG_CITY"):
        sources = [sources[2], sources[0], sources[1]]
        notes.append(f"region: manifest flags its city ({flag}); the text wins")
    level = _normalize_level(row.level) if row else None
    hinted = None
    joined = "\n".join(head)
    for word, lv in _LEVEL_HINT:
        if word in joined and not head_fields:
            hinted = lv
    if file_fields.get("level") == "national":
        hinted = "national"
    unnamed = _UNNAMED.match(title or "")
    fields = _complete(_merge(sources, notes, level or hinted))
    if level is None:
        level = hinted
    if level is None:
        if fields["district"]:
            level = "district" if fields["district"].endswith("区") else "county"
        elif unnamed and unnamed.group(2) in ("区", "县"):
            level = "district" if unnamed.group(2) == "区" else "county"
        elif fields["city"] and fields["city"] != fields["province"]:
            level = "city"
        elif fields["province"]:
            level = "province"
    if level in ("district", "county") and not fields["district"]:
        notes.append(f"the {level} is not named in the title or opening lines")
    if level is None and not any(fields.values()):
        notes.append("no region named in the title, opening lines, file name or manifest")
    inferred: tuple[str, ...] = ()
    evidence: tuple = ()
    wanted = {"district": "district", "county": "district", "city": "city"}.get(level or "")
    if level != "national" and not (fields["province"] and (not wanted or fields[wanted])):
        guess = infer_place(text, blocks, fields, level)
        notes += guess.notes
        fields = {**fields, **guess.fields}
        inferred = tuple(k for k in ("province", "city", "district") if k in guess.fields)
        evidence = guess.evidence
    if fields["province"] in MUNICIPALITIES and level != "national":
        fields["city"] = fields["city"] or fields["province"]
    return ReportMeta(title=title, province=fields["province"], city=fields["city"],
                      district=fields["district"], level=level, report_date=report_date,
                      report_year=report_year, notes=tuple(notes), inferred=inferred,
                      evidence=evidence)
