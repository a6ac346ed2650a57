"""The place matcher: store places in Chinese, short forms and pinyin; every other place
from the gazetteer (named, but not in the store); one wrong character corrected."""

import pytest

from rag.ingest.regions import get_gazetteer
from rag.retrieve.places import Place, PlaceMatcher, short_forms

STORE = [Place("历城区", "district"), Place("济南市", "city"), Place("山东省", "province"),
         Place("和平区", "district"), Place("天津市", "city"), Place("天津市", "province"),
         Place("盐城市", "city"), Place("江苏省", "province")]
HOMES = {Place("历城区", "district"): {("山东省", "济南市")},
         Place("和平区", "district"): {("天津市", "天津市")}}


@pytest.fixture(scope="module")
def matcher() -> PlaceMatcher:
    return PlaceMatcher(STORE, get_gazetteer(), HOMES)


def names(reading):
    return [m.place.name for m in reading.mentions]


@pytest.mark.parametrize("question, found", [
    ("历城区2023年新增绿化面积多少？", ["历城区"]),
    ("How many kilometres of greenways did Licheng build?", ["历城区"]),
    ("Heping District in Tianjin", ["和平区", "天津市", "天津市"]),
    ("山东省济南市历城区2023年", ["历城区"]),  # a chain names its innermost place
    ("江苏省哪些城市", ["江苏省"]),
])
def test_store_places(matcher, question, found):
    reading = matcher.read(question)
    assert names(reading) == found and reading.missing == []


@pytest.mark.parametrize("question, missing", [
    ("浦东新区2022年新增就业多少人？", "上海市浦东新区"),
    ("Pudong New Area: how many new jobs in 2022?", "上海市浦东新区"),
    ("历下区2023年的空气质量", "山东省济南市历下区"),  # the store's city, not its district
    ("How many jobs did Shenzhen add?", "广东省深圳市"),
    ("沈阳市和平区2022年空气质量", "辽宁省沈阳市和平区"),  # not the store's 和平区 (天津市)
    ("How many school places did Hexi District in Tianjin add?", "天津市河西区"),
    # a character of several readings: 朝阳 as the city is called, not as pypinyin reads it
    ("What was Chaoyang's GDP growth in 2022?", "辽宁省朝阳市"),
])
def test_places_the_store_lacks_are_named_not_dropped(matcher, question, missing):
    reading = matcher.read(question)
    assert reading.mentions == [] and reading.missing == [missing]


def test_a_store_place_and_a_missing_one(matcher):
    reading = matcher.read("比较历城区和浦东新区的新增就业")
    assert names(reading) == ["历城区"] and reading.missing == ["上海市浦东新区"]


def test_one_wrong_character_is_corrected_when_one_place_fits(matcher):
    (m,) = matcher.read("历成区2023年新建了多少处健身点？").mentions
    assert m.place.name == "历城区" and m.corrected_from == "历成区"


@pytest.mark.parametrize("question", [
    "江苏省哪些城市的空气质量改善了？",  # 些城市 is not a misspelt 盐城市
    "福州、泉州、盐城三个市的GDP",  # nor is 三个市
    "城区绿化覆盖率",  # a generic word, not a place
    "历下区2023年",  # a real place is never "corrected" into a store place
])
def test_words_are_not_corrected_into_places(matcher, question):
    assert all(m.corrected_from is None for m in matcher.read(question).mentions)
    assert "城区" not in matcher.read(question).missing


def test_short_forms():
    assert short_forms("恩施土家族苗族自治州") == ["恩施", "恩施州"]
    assert short_forms("和平区") == ["和平"]
    assert short_forms("北京") == []


@pytest.mark.parametrize("question, missing", [
    ("What was Kunshan's GDP growth in 2023?", "江苏省苏州市昆山市"),  # a county-level city
    ("How many new jobs did Jiangning create in 2022?", "江苏省南京市江宁区"),
])
def test_a_county_by_its_bare_pinyin_is_a_place_the_store_lacks(matcher, question, missing):
    reading = matcher.read(question)
    assert reading.mentions == [] and reading.missing == [missing]


@pytest.mark.parametrize("question", [
    "How did the Chishui River clean-up go?",  # part of a longer proper noun
    "Kunshan: what was the GDP growth?",  # the first word may be any word
    "what did kunshan do?",  # not written as a proper noun
    # a store place is asked
    "What was the brand value of Donggang strawberries, according to Licheng?",
])
def test_a_bare_county_pinyin_is_a_place_only_as_the_place_asked(matcher, question):
    assert matcher.read(question).missing == []


def test_a_town_of_a_store_district_is_asked_of_its_report(matcher):
    (m,) = matcher.read("港沟街道2023年新建了多少公园？").mentions
    assert m.place.name == "历城区" and m.town == "港沟街道"


def test_a_town_the_store_has_no_report_of_is_named(matcher):
    reading = matcher.read("周庄镇2023年接待了多少游客？")
    assert reading.mentions == [] and reading.missing == ["周庄镇"]  # several towns so named
    assert matcher.read("江阴市周庄镇2023年").missing == ["江苏省无锡市江阴市周庄镇"]


def test_town_suffixes_inside_words_are_not_towns(matcher):
    for question in ["哪些区推进了乡村振兴？", "哪些区建设了特色小镇？"]:
        reading = matcher.read(question)
        assert reading.mentions == [] and reading.missing == []


def test_a_county_name_inside_a_word_is_no_place(matcher):
    # "示范县" holds the letters of 范县 (河南省濮阳市): a word, not the county
    assert matcher.read("哪些城市有县入选了国家乡村振兴示范县？").missing == []
    assert matcher.read("范县2022年新增就业多少人？").missing == ["河南省濮阳市范县"]
