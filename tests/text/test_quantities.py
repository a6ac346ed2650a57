"""Quantities: numbers as written, magnitudes, units and exact conversions, conditions."""

import json

import pytest

from rag.errors import ConfigError
from rag.text.quantities import (
    DATA,
    Condition,
    Tables,
    chinese_number_at,
    english_numbers_to_digits,
    quantities_in,
    read_quantity,
)


def q(written: str):
    got = read_quantity(written, 0)
    assert got is not None, written
    return got[0]


@pytest.mark.parametrize("written, value, unit", [
    ("35万平方米", 350000, "平方米"), ("22%", 22, "%"), ("1.8亿元", 1.8e8, "元"),
    ("6公里", 6, "公里"), ("8230套", 8230, "套"), ("40,000 homes", 40000, None),
    ("3,566个", 3566, "个"), ("12 km", 12, "km"), ("1.5 million yuan", 1.5e6, "yuan"),
    ("5千人", 5000, "人"), ("2.4万亿元", 2.4e12, "元"), ("1.2个百分点", 1.2, "个百分点"),
])
def test_read_quantity(written, value, unit):
    got = q(written)
    assert got.value == pytest.approx(value)
    assert (got.unit.form if got.unit else None) == unit


def test_above_is_read_from_the_words_around_a_figure():
    assert q("30%以上").above and read_quantity("幅度超30%", 3)[0].above
    assert not q("30%").above


@pytest.mark.parametrize("cond, figure, holds", [
    ((">", "8亿斤"), "45万吨", True),  # 8亿斤 = 40万吨
    ((">", "8亿斤"), "35万吨", False),
    ((">", "5千人"), "6千人", True),
    ((">", "5千人"), "6000", True),  # a bare count fits a counter
    ((">", "5千人"), "6000张", False),  # another counter is another thing
    ((">", "1500个"), "1646处", True),  # but 个 counts anything
    ((">", "200家"), "433户", True),  # counters written for the same things
    ((">", "1000人"), "1200名", True),
    ((">", "200家"), "433张", False),
    ((">", "30%"), "35%", True),
    ((">", "30%"), "35万", False),  # a share is not a count
    ((">", "10万"), "12%", False),
    ((">=", "4%"), "4%", True),
    ((">", "30%"), "30%", False),
    (("<", "5%"), "4.5%", True),
    (("~", "5%"), "5.2%", True),  # within a quarter point
    (("~", "5%"), "6%", False),
    (("~", "300"), "310天", True),  # 5% of larger values
    ((">", "1000公顷"), "20000亩", True),  # 20000亩 = 1333公顷
    ((">", "1万亿"), "2329.2亿", False),
])
def test_conditions_compare_across_units_and_magnitudes(cond, figure, holds):
    op, ref = cond
    assert Condition(op, q(ref)).holds(q(figure)) is holds


def test_an_above_figure_is_strictly_more():
    assert Condition(">", q("30%")).holds(q("30%以上"))
    assert not Condition(">", q("30%")).holds(None)


@pytest.mark.parametrize("text, expected", [
    ("more than forty thousand jobs", "more than 40 thousand jobs"),
    ("twenty-five parks", "25 parks"),
    ("two million tons", "2 million tons"),
    ("zero accidents", "zero accidents"),  # a word, not a quantity
    ("which one", "which one"),
])
def test_english_number_words(text, expected):
    assert english_numbers_to_digits(text) == expected


def test_chinese_numerals_where_a_number_is_expected():
    assert chinese_number_at("两万人", 0) == ("2", 1)
    assert chinese_number_at("三千五百户", 0) == ("3500", 4)
    assert chinese_number_at("十五个", 0) == ("15", 2)
    assert chinese_number_at("一亿四千万人次", 0) == ("14000", 4)
    assert chinese_number_at("新增", 0) is None


def test_quantities_in_a_sentence():
    found = quantities_in("新建6公里绿道、9处公园,森林抚育2000亩")
    assert [(x.value, x.unit.form) for _, _, x in found] == [(6, "公里"), (9, "处"), (2000, "亩")]


def test_years_and_numbers_inside_names_are_not_quantities():
    found = quantities_in("2023年新建5G基站1409个，PM2.5浓度下降，道路12km")
    assert [x.value for _, _, x in found] == [1409, 12]


def test_malformed_tables_are_a_config_error(tmp_path):
    bad = tmp_path / "units.json"
    bad.write_text('{"dimensions": {"mass": {"base": "吨", "forms": {"斤": 0.0005}}}}',
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="base"):
        Tables(bad)
    good = json.loads(DATA.read_text(encoding="utf-8"))
    bad.write_text(json.dumps({**good, "same_counters": [["家", "公斤"]]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="same_counters"):
        Tables(bad)


def test_a_count_that_looks_like_a_year_is_not_one():
    from rag.text.years import without_years, years_in

    assert years_in("2022年新建5G基站超过2000个") == [(0, 2022)]
    assert years_in("地区生产总值2020亿元，2019年") == [(13, 2019)]
    assert without_years("2022年超过2000个") == " 超过2000个"
