"""The topic's own figure in a sentence: its indicator's, of one year, after its change."""

import pytest

from rag.answer.figures import Anchor, acted_figure, asked_acts, bound_figure, counted_figure
from rag.text.quantities import Unit


def terms(*words: str) -> list[Anchor]:
    return [Anchor(w, (w,), 2.0 + i) for i, w in enumerate(words)]


def value(sentence, topic, direction, multi_year=False):
    got = bound_figure(sentence, topic, direction, multi_year)
    return None if got is None else (got.quantity.value, got.quantity.unit and
                                     got.quantity.unit.form)


@pytest.mark.parametrize(
    "sentence, topic, direction, expected",
    [
        ("生产安全事故起数和死亡人数分别下降30.7%、23.4%", ["事故", "起数"], "down", (30.7, "%")),
        ("坚持以人民为中心,制定稳就业“十项措施”,新增就业2万人", ["就业"], "up", (20000, "人")),
        ("全区地区生产总值增长8%左右", ["地区生产总值"], "up", (8.0, "%")),
        ("全区旅游总收入达到137.6亿元", ["旅游总收入"], None, (1.376e10, "元")),
        ("预计全年地区生产总值增长2%左右", ["地区生产总值"], None, None),
        ("城区环境空气质量优良天数比例提升到85.2%", ["优良天数"], None, (85.2, "%")),
        ("数字经济核心产业增加值占地区生产总值比重达8.7%", ["地区生产总值"], "up", None),
        ("全年实现地区生产总值2.4万亿元，一般公共预算收入2329.2亿元，提高1.4个百分点",
         ["地区生产总值"], "up", None),
    ],
)
def test_bound_figure(sentence, topic, direction, expected):
    got = bound_figure(sentence, terms(*topic), direction)
    if expected is None:
        assert got is None
        return
    assert value(sentence, terms(*topic), direction) == (pytest.approx(expected[0]), expected[1])
    assert sentence[got.anchor:].startswith(tuple(topic))
    assert sentence[: got.end].rstrip("元人").endswith(("%", "万", "亿"))


def test_above_counts_as_just_above():
    got = bound_figure("事故起数连续三年下降幅度超30%", terms("事故", "起数"), "down")
    assert got.quantity.above and got.quantity.base > 30


def test_an_abbreviation_states_the_same_indicator():
    gdp = [Anchor("生产总值", ("生产", "总值"), 2.0, ("gdp",))]
    assert value("预计全年gdp增长6%左右、增速保持全省前列", gdp, "up") == (6.0, "%")
    investment = [Anchor("固定资产投资", ("固定资产", "投资"), 2.0, ("固投",))]
    assert investment[0].found_in("预计规上工业增加值增长12%左右、固投增长17%左右")
    assert value("固投增长17%左右", investment, "up") == (17.0, "%")


@pytest.mark.parametrize("sentence", [
    "预计地区生产总值年均增长 7.9%",
    "预计2021年地区生产总值比2016年增长30.3%",
    "地区生产总值两年平均增长4.9%",
])
def test_a_figure_over_several_years_is_not_one_years(sentence):
    gdp = terms("地区生产总值")
    assert bound_figure(sentence, gdp, "up") is None
    assert bound_figure(sentence, gdp, "up", multi_year=True) is not None
    assert value("地区生产总值3.07万亿元、增长6.7%，两年平均增长4.9%", gdp, "up")[0] == 6.7


@pytest.mark.parametrize("sentence, expected", [
    ("地区生产总值增速不低于全省平均水平，全社会固定资产投资增长7%", None),
    ("数字经济核心产业增加值占地区生产总值比重提高至14%以上", None),
    ("地区生产总值增速高于全省1个百分点，按增长7%以上安排", 7.0),
    ("地区生产总值2.4万亿元，同比增长5.2%", 5.2),
])
def test_a_change_belongs_to_its_own_indicator(sentence, expected):
    got = value(sentence, terms("地区生产总值"), "up")
    assert (got and got[0]) == (expected and pytest.approx(expected, abs=1e-5))


@pytest.mark.parametrize("sentence, expected", [
    ("全市实现地区生产总值24653亿元，按可比价计算，增长4.6%；", 4.6),
    ("预计全年实现地区生产总值9500亿元左右，按不变价格计算增长4%左右", 4.0),
    ("实现地区生产总值4550亿元、一般公共预算收入297亿元，同比分别增长10%和12.4%", 10.0),
])
def test_a_change_reached_through_links(sentence, expected):
    assert value(sentence, terms("地区生产总值"), "up")[0] == pytest.approx(expected)


def test_an_aside_between_an_indicator_and_its_change_is_not_another_indicator():
    gdp = terms("地区生产总值")
    got = value("2021年全市地区生产总值4977亿元，同比（下同）增长10.1%；", gdp, "up")
    assert got[0] == pytest.approx(10.1)


def test_the_level_may_follow_the_change():
    gdp = terms("地区生产总值")
    got = value("全市地区生产总值增长4.6%，总量1.74万亿元、继续保持全国前十", gdp, None)
    assert got == (pytest.approx(1.74e12), "元")
    assert bound_figure("地区生产总值增长4.6%，居全省第一", gdp, None) is None


def test_a_count_over_five_years_is_not_one_years():
    jobs = terms("就业")
    assert value("新增城镇就业17.8万人", jobs, "up") == (pytest.approx(178000), "人")
    assert bound_figure("累计实现城镇新增就业22.2万人", jobs, "up") is None


def test_a_direction_word_opening_an_enumeration_binds_each_item():
    seats = terms("婴幼儿", "托位")
    got = value("新增卫技人员3500人、医疗床位1200张、普惠性婴幼儿托位3000个", seats, "up")
    assert got == (3000, "个")
    assert bound_figure("普惠性婴幼儿托位3000个，全市托育机构120家", seats, "up") is None


def test_the_one_count_in_the_counter_asked_binds_however_far():
    cars = terms("新能源汽车")
    vehicles = Unit("辆", "counter:辆", 1.0)
    sentence = ("新能源汽车整车制造、动力电池、光伏行业新增产值对规上工业产值增长贡献率超九成，"
                "全年整车产销超34万辆")
    got = counted_figure(sentence, cars, vehicles)
    assert (got.quantity.value, got.anchor) == (pytest.approx(340000), 0)
    assert sentence[: got.end].endswith("34万辆")
    # two counts in that counter: which one is the topic's is open
    two = "新能源汽车产量增长20%，整车产量30万辆、客车2000辆"
    assert counted_figure(two, cars, vehicles) is None
    # a count over several years, a count before the topic, a count in another counter
    assert counted_figure("新能源汽车产业链加快成链，累计产销超34万辆", cars, vehicles) is None
    assert counted_figure("新增公交车300辆，其中新能源汽车占九成", cars, vehicles) is None
    assert counted_figure("新能源汽车企业达到120家", cars, vehicles) is None


@pytest.mark.parametrize(
    "question, lang, expected",
    [
        ("How many households did Guiyang finish renovating in 2023?", "en", 127000),
        ("How many households did Guiyang start renovating in 2023?", "en", 130000),
        ("2023年贵阳老旧小区改造完成了多少户？", "zh", 127000),
        ("2023年贵阳改造了多少户老旧小区？", "zh", 130000),  # no stage asked: the first
    ],
)
def test_of_several_figures_the_one_after_the_verb_asked(question, lang, expected):
    topic = frozenset({"老旧小区", "改造", "完成"})
    sentence = "新开工老旧小区改造13万户、完工12.7万户，完成背街小巷改造1141条"
    bound = bound_figure(sentence, terms("老旧小区"), None)
    assert bound.quantity.value == pytest.approx(130000)
    got = acted_figure(sentence, bound, asked_acts(question, lang), topic)
    assert got.quantity.value == pytest.approx(expected)
    assert got.anchor == bound.anchor


def test_a_verb_of_every_figure_or_of_none_leaves_the_bound_one():
    sentence = "完工保障房3000套、完工安置房2000套"
    bound = bound_figure(sentence, terms("保障房"), None)
    asked = asked_acts("How many homes were completed?", "en")
    assert acted_figure(sentence, bound, asked) is bound
    assert acted_figure(sentence, bound, ()) is bound


def test_the_year_a_change_is_of_may_stand_between_the_topic_and_it():
    growth = terms("经济")
    sentence = "前三季度经济增速均保持全省“第一方阵”，全年增长0.7％，继续保持全省前列"
    assert value(sentence, growth, "up") == (pytest.approx(0.7), "％")
    other = "经济增速不低于全省平均水平，全社会固定资产投资增长7%"
    assert bound_figure(other, growth, "up") is None
