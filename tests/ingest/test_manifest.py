"""Manifests load from CSV, TSV and JSON, keyed by relative path and bare name."""

import json
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.ingest.manifest import load_manifest

CITIES = Path("/work/shared/corpus/cities/manifest.tsv")
HEADER = ["file", "level", "province", "city", "district", "year", "title", "qc_flag", "url"]
ROW = ["city/云南省_临沧市_2021.txt", "city", "云南省", "临沧市", "", "2021",
       "临沧市政府工作报告", "", "https://example.org/x"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json_list", "json_map"])
def test_formats(tmp_path, fmt):
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        path = _write(tmp_path, f"m.{fmt}", sep.join(HEADER) + "\n" + sep.join(ROW) + "\n")
    else:
        record = dict(zip(HEADER, ROW, strict=True))
        data = [record] if fmt == "json_list" else {record.pop("file"): record}
        path = _write(tmp_path, "m.json", json.dumps(data, ensure_ascii=False))
    rows = load_manifest(path)
    row = rows["云南省_临沧市_2021.txt"]
    assert rows["city/云南省_临沧市_2021.txt"] is row
    assert (row.level, row.province, row.city, row.district, row.year) == (
        "city", "云南省", "临沧市", None, 2021)
    assert row.extra == {"url": "https://example.org/x"}


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("m.csv", "file,year\na.txt,2020\nb.txt,twenty\n", "line 3"),
        ("m.csv", "name,year\na.txt,2020\n", "line 1"),
        ("m.tsv", "file\tyear\na.txt\t2020\textra\n", "line 2"),
        ("m.json", '[{"file": "a.txt",\n "year": }]', "line 2"),
        ("m.xml", "<x/>", "unknown format"),
    ],
)
def test_bad_manifest(tmp_path, name, text, match):
    with pytest.raises(ConfigError, match=match):
        load_manifest(_write(tmp_path, name, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_manifest(tmp_path / "nope.tsv")


@pytest.mark.skipif(not CITIES.exists(), reason="shared cities corpus not present")
def test_cities_manifest():
    rows = load_manifest(CITIES)
    row = rows["云南省_临沧市_2021.txt"]
    assert (row.province, row.city, row.year, row.level) == ("云南省", "临沧市", 2021, "city")
    assert rows["全国_国务院_2020.txt"].level == "national"
    assert rows["province/上海市_2005.txt"].level.startswith("province")
