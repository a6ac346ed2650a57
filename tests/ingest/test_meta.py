"""Report metadata from the text, the file name and the manifest; nothing invented."""

from pathlib import Path

import pytest
from support import CITIES, line_blocks
from support import REPORTS as EXAMPLES

from rag.ingest.manifest import ManifestRow, load_manifest
from rag.ingest.meta import extract_meta


def read_report(path: Path) -> tuple[str, list[tuple[int, int]]]:
    text = path.read_text(encoding="utf-8")
    return text, line_blocks(text)

SAMPLES = [
    ("000_a8555e4fddf26ffc.txt", "山东省", "济南市", "历城区", "district", "2024-01-17", 2024),
    ("001_0308ac578581e688.txt", "山东省", "德州市", "陵城区", "district", "2023-01-08", 2023),
    ("002_11fb4cd1e17529ea.txt", "天津市", "天津市", "和平区", "district", "2023-01-03", 2023),
    ("003_6c455b50551dc8b5.txt", "山西省", "太原市", "迎泽区", "district", "2018-03-21", 2018),
    # Never names its district: inferred from its subdistrict and city (tests/ingest/test_places).
    ("004_c2261995aa5722eb.txt", "安徽省", "阜阳市", "颍泉区", "district", None, 2023),
]


@pytest.mark.parametrize(("name", "province", "city", "district", "level", "date", "year"),
                         SAMPLES)
def test_samples(name, province, city, district, level, date, year):
    text, blocks = read_report(EXAMPLES / name)
    meta = extract_meta(text, blocks, name)
    assert (meta.province, meta.city, meta.district, meta.level) == (
        province, city, district, level)
    assert (meta.report_date, meta.report_year) == (date, year)
    assert meta.title and "工作报告" in meta.title


def test_unnamed_district_has_note():
    text, blocks = read_report(EXAMPLES / "004_c2261995aa5722eb.txt")
    meta = extract_meta(text, blocks, "004_c2261995aa5722eb.txt")
    assert meta.title == "区2023年政府工作报告"
    assert any("not named" in n for n in meta.notes)


CITY_FILES = [
    ("city/云南省_临沧市_2021.txt", "云南省", "临沧市", None, "city", 2021),
    ("city/安徽省_池州市_2021.txt", "安徽省", "池州市", None, "city", 2021),
    ("province/四川省_2023.txt", "四川省", None, None, "province", 2023),
    ("province/上海市_2005.txt", "上海市", "上海市", None, "province", 2005),
    ("national/全国_国务院_2020.txt", None, None, None, "national", 2020),
]


@pytest.mark.skipif(not CITIES.exists(), reason="shared cities corpus not present")
@pytest.mark.parametrize("with_manifest", [False, True])
@pytest.mark.parametrize(("rel", "province", "city", "district", "level", "year"), CITY_FILES)
def test_cities(rel, province, city, district, level, year, with_manifest):
    text, blocks = read_report(CITIES / rel)
    row = None
    if with_manifest:
        row = _manifest(load_manifest)[rel]
    meta = extract_meta(text, blocks, rel, row)
    assert (meta.province, meta.city, meta.district, meta.level, meta.report_year) == (
        province, city, district, level, year)


_cache: dict = {}


def _manifest(load):
    if "m" not in _cache:
        _cache["m"] = load(CITIES / "manifest.tsv")
    return _cache["m"]


def test_manifest_wins_and_disagreement_is_noted():
    text = "临沧市政府工作报告（2021年2月2日 张之政）\n各位代表：\n过去一年，我们完成了目标。\n"
    row = ManifestRow(file="x.txt", level="city", province="云南省", city="临沧市", year=2020)
    meta = extract_meta(text, line_blocks(text), "x.txt", row)
    assert meta.report_year == 2020
    assert any("manifest" in n for n in meta.notes)


def test_province_only():
    text = ("山东省政府工作报告\n——2020年1月18日在山东省第十三届人民代表大会第三次会议上\n"
            "各位代表：\n")
    meta = extract_meta(text, line_blocks(text), "report.txt")
    assert (meta.province, meta.city, meta.district, meta.level) == (
        "山东省", None, None, "province")
    assert (meta.report_date, meta.report_year) == ("2020-01-18", 2020)


def test_no_region_at_all():
    text = "政府工作报告\n各位代表：\n过去一年，我们完成了各项任务。\n"
    meta = extract_meta(text, line_blocks(text), "report.txt")
    assert (meta.province, meta.city, meta.district, meta.level) == (None, None, None, None)
    assert meta.report_year is None
    assert any("no region" in n for n in meta.notes)


def test_body_mentions_are_ignored():
    text = ("2019年政府工作报告\n各位代表：\n"
            "过去一年，济南市历城区和太原市迎泽区的经验值得学习，姜堂集污水设施建成。\n")
    meta = extract_meta(text, line_blocks(text), "report.txt")
    assert (meta.province, meta.city, meta.district) == (None, None, None)
    assert meta.report_year == 2019
