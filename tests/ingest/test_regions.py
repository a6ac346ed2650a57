"""The gazetteer resolves names, finds them in text and in English questions."""

import pytest

from rag.ingest.regions import Place, get_gazetteer


@pytest.fixture(scope="module")
def gaz():
    return get_gazetteer()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("太原市迎泽区", {"山西省太原市迎泽区"}),
        ("迎泽区", {"山西省太原市迎泽区"}),
        ("迎泽", {"山西省太原市迎泽区"}),
        ("济南市历城区", {"山东省济南市历城区"}),
        ("和平区", {"天津市和平区", "辽宁省沈阳市和平区"}),
        ("天津市和平区", {"天津市和平区"}),
        ("临沧市", {"云南省临沧市"}),
        ("山东省", {"山东省"}),
        ("和平", set()),  # too ambiguous a short form
        ("姜堂集", set()),  # villages and towns are not in the gazetteer
    ],
)
def test_resolve(gaz, name, expected):
    assert {p.name for p in gaz.resolve(name)} == expected


def test_municipality_province_is_city(gaz):
    (tianjin,) = gaz.resolve("天津市")
    assert tianjin == Place("天津市", "天津市", None, "province", "天津市")
    (heping,) = gaz.resolve("天津市和平区")
    assert (heping.province, heping.city, heping.district, heping.level) == (
        "天津市", "天津市", "和平区", "district")


@pytest.mark.parametrize(
    ("text", "surface", "name"),
    [
        ("(山东省)济南市历城区人民政府工作报告", "山东省)济南市历城区", "山东省济南市历城区"),
        ("天津市和平区人民政府", "天津市和平区", "天津市和平区"),
        ("在太原市迎泽区第五届人民代表大会", "太原市迎泽区", "山西省太原市迎泽区"),
    ],
)
def test_find_in_text_longest_match(gaz, text, surface, name):
    (m,) = gaz.find_in_text(text)
    assert text[m.start:m.end] == m.surface == surface
    assert [p.name for p in m.places] == [name]


def test_find_in_text_ambiguous_keeps_all(gaz):
    (m,) = gaz.find_in_text("和平区2023年")
    assert len(m.places) == 2


def test_aliases(gaz):
    (heping,) = gaz.resolve("天津市和平区")
    assert {"heping", "heping district"} <= gaz.aliases(heping)
    assert "tianjin" in gaz.aliases(gaz.resolve("天津市")[0])
    assert "yingze district" in gaz.aliases(gaz.resolve("迎泽区")[0])
    assert "licheng district" in gaz.aliases(gaz.resolve("济南市历城区")[0])
    assert "taiyuan" in gaz.aliases(gaz.resolve("太原市")[0])
    assert "jinan" in gaz.aliases(gaz.resolve("济南市")[0])
    assert "shaanxi" in gaz.aliases(gaz.resolve("陕西省")[0])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Heping District in Tianjin", ["天津市和平区"]),
        ("What did Shandong plan?", ["山东省"]),
        ("Jiangsu cities", ["江苏省"]),
        ("Licheng District of Jinan in 2023", ["山东省济南市历城区"]),
        ("天津和平区2022年", ["天津市和平区"]),
        ("太原市迎泽区旅游收入", ["山西省太原市迎泽区"]),
        ("What is the growth target?", []),
    ],
)
def test_find_in_question(gaz, question, expected):
    assert [p.name for p in gaz.find_in_question(question)] == expected


def test_the_gazetteer_reads_the_zipped_dictionary_of_a_fresh_install(tmp_path):
    """jionlp ships china_location.zip and unzips it only on its own first use."""
    import zipfile

    from rag.ingest.regions import Gazetteer, _jionlp_dictionary

    source = _jionlp_dictionary()
    archive = tmp_path / "china_location.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        if source.suffix == ".zip":
            with zipfile.ZipFile(source) as src:
                z.writestr("china_location.txt", src.read(src.namelist()[0]))
        else:
            z.write(source, "china_location.txt")
    g = Gazetteer(archive)
    (place,) = g.resolve("迎泽区")
    assert (place.province, place.city) == ("山西省", "太原市")
