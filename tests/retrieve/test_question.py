"""Question understanding: kind, language, places, years, plan vs achieved, topic, conditions."""

import pytest

from rag.retrieve.question import Place, RegionMatcher, parse_question, short_forms

PLACES = [
    Place("山东省", "province"), Place("济南市", "city"), Place("历城区", "district"),
    Place("德州市", "city"), Place("陵城区", "district"), Place("天津市", "province"),
    Place("天津市", "city"), Place("和平区", "district"), Place("山西省", "province"),
    Place("太原市", "city"), Place("迎泽区", "district"), Place("江苏省", "province"),
    Place("南京市", "city"), Place("湖北省", "province"),
    Place("恩施土家族苗族自治州", "city"), Place("盐城市", "city"),
]


@pytest.fixture(scope="module")
def matcher() -> RegionMatcher:
    return RegionMatcher(PLACES)


@pytest.mark.parametrize(
    "question, kind, lang, names, years, plan",
    [
        ("哪些区在2023年减少了安全生产事故？", "list", "zh", [], [2023], False),
        ("和平区2022年新增就业多少人？", "fact", "zh", ["和平区"], [2022], False),
        ("迎泽区2018年地区生产总值的预期增长目标是多少？", "fact", "zh", ["迎泽区"], [2018], True),
        ("比较历城区2023年和和平区2022年办理人大代表建议的数量。", "compare", "zh",
         ["历城区", "和平区"], [2023, 2022], False),
        ("Which districts reported zero work-safety accidents in 2022?", "list", "en", [], [2022],
         False),
        ("How many days of good air quality did Heping District in Tianjin have in 2022?", "fact",
         "en", ["和平区", "天津市"], [2022], False),
        ("江苏省哪些城市2023年的地区生产总值预期增长目标高于7%？", "list", "zh", ["江苏省"], [2023],
         True),
        ("恩施州2022年生产安全事故起数下降了多少？", "fact", "zh", ["恩施土家族苗族自治州"], [2022],
         False),
        ("南京市2022年地区生产总值实际增长了多少？", "fact", "zh", ["南京市"], [2022], False),
    ],
)
def test_parse(matcher, question, kind, lang, names, years, plan):
    spec = parse_question(question, matcher)
    assert spec.kind == kind
    assert spec.lang == lang
    assert set(names) <= {m.place.name for m in spec.mentions}
    assert spec.years == years
    assert spec.wants_plan is plan


def test_years_attach_to_their_places(matcher):
    spec = parse_question("比较历城区2023年和和平区2022年办理人大代表建议的数量。", matcher)
    assert {m.place.name: m.year for m in spec.mentions} == {"历城区": 2023, "和平区": 2022}


def test_a_year_no_place_claims_applies_to_every_place(matcher):
    spec = parse_question("比较和平区2021年和2022年的地区生产总值增速", matcher)
    assert spec.years == [2021, 2022] and [m.year for m in spec.mentions] == [None]


def test_the_level_word_is_not_a_topic(matcher):
    spec = parse_question("哪些省份把2024年地区生产总值增长目标定在5%左右？", matcher)
    assert spec.terms == ["生产总值"]


@pytest.mark.parametrize(
    "question, direction, terms_in, terms_out",
    [
        ("哪些区在2023年减少了安全生产事故？", "down", ["事故"], ["减少", "哪些"]),
        ("2022年哪些区新增了学位？", "up", ["学位"], ["新增"]),
        ("Which districts reported zero work-safety accidents in 2022?", "zero",
         ["安全生产事故"], []),
        ("2022年江苏省哪些城市的地区生产总值增速达到4%及以上？", "up", ["生产总值"], ["增速", "4"]),
        ("比较常州、徐州、淮安三市2022年的地区生产总值规模。", None, ["生产总值"], ["三市"]),
    ],
)
def test_topic_and_direction(matcher, question, direction, terms_in, terms_out):
    spec = parse_question(question, matcher)
    assert spec.direction == direction
    for t in terms_in:
        assert t in spec.terms
    for t in terms_out:
        assert t not in spec.terms


@pytest.mark.parametrize(
    "question, condition",
    [
        ("2022年江苏省哪些城市的生产安全事故起数降幅超过30%？", (">", 30.0, "%")),
        ("2022年江苏省哪些城市的地区生产总值增速达到4%及以上？", (">=", 4.0, "%")),
        ("Which cities in Hubei grew fixed-asset investment by more than 15% in 2022?",
         (">", 15.0, "%")),
        ("哪些城市的失业率低于5%？", ("<", 5.0, "%")),
        ("哪些区在2023年减少了安全生产事故？", None),
        ("哪些省份把2024年地区生产总值增长目标定在5%左右？", ("~", 5.0, "%")),
        ("Which provinces planned GDP growth of around 5% for 2024?", ("~", 5.0, "%")),
    ],
)
def test_numeric_conditions(matcher, question, condition):
    assert parse_question(question, matcher).condition == condition


def test_list_levels(matcher):
    assert parse_question("江苏省哪些城市减少了事故？", matcher).target_levels == ("city",)
    assert parse_question("哪些区减少了事故？", matcher).target_levels == ("district",)
    assert parse_question("Which counties cut accidents?", matcher).target_levels == ("county",)


def test_short_forms():
    assert short_forms("恩施土家族苗族自治州") == ["恩施", "恩施州"]
    assert short_forms("和平区") == ["和平"]
    assert short_forms("北京") == []


def test_english_place_needs_known_pinyin(matcher):
    spec = parse_question("What was Yancheng's PM2.5 in 2022?", matcher)
    assert [m.place.name for m in spec.mentions] == ["盐城市"]
    assert parse_question("What about Springfield in 2022?", matcher).mentions == []


def test_mention_questions_ask_the_reports_of_that_year(matcher):
    spec = parse_question("2024年江苏省哪些城市提出发展低空经济？", matcher)
    assert spec.mention and spec.kind == "list" and "提出" not in spec.terms
    assert "低空" in "".join(spec.terms)
    en = parse_question("Which Jiangsu cities mentioned the low-altitude economy in 2024?", matcher)
    assert en.mention and en.kind == "list" and en.target_levels == ("city",)
    assert en.terms == ["低空经济"]
    plan = parse_question("江苏省哪些城市提出2024年地区生产总值增长目标？", matcher)
    assert plan.wants_plan and not plan.mention  # a plan question keeps the covered year
