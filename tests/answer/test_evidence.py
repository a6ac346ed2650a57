"""Sentence evidence: the figure bound to the topic, and numeric conditions."""

import pytest

from rag.answer.engine import accepts
from rag.answer.evidence import Term, bound_value, build_terms, meets, score_sentences
from rag.retrieve.question import Place, RegionMatcher, parse_question


def terms(*words: str) -> list[Term]:
    return [Term(w, (w,), 2.0 + i) for i, w in enumerate(words)]


@pytest.mark.parametrize(
    "sentence, topic, direction, expected",
    [
        ("生产安全事故起数和死亡人数分别下降30.7%、23.4%", ["事故", "起数"], "down", (30.7, "%")),
        ("坚持以人民为中心,制定稳就业“十项措施”,新增就业2万人", ["就业"], "up", (2.0, "万")),
        ("全区地区生产总值增长8%左右", ["地区生产总值"], "up", (8.0, "%")),
        ("全区旅游总收入达到137.6亿元", ["旅游总收入"], None, (137.6, "亿")),
        ("预计全年地区生产总值增长2%左右", ["地区生产总值"], None, None),
        ("城区环境空气质量优良天数比例提升到85.2%", ["优良天数"], None, (85.2, "%")),
        ("数字经济核心产业增加值占地区生产总值比重达8.7%", ["地区生产总值"], "up", None),
        ("全年实现地区生产总值2.4万亿元，一般公共预算收入2329.2亿元，提高1.4个百分点",
         ["地区生产总值"], "up", None),
    ],
)
def test_bound_value(sentence, topic, direction, expected):
    got = bound_value(sentence, terms(*topic), direction)
    if expected is None:
        assert got is None
    else:
        assert got is not None and got[0] == pytest.approx(expected[0]) and got[1] == expected[1]
        assert sentence[got[2]:].startswith(tuple(topic))
        assert sentence[: got[3]].endswith(f"{expected[0]:g}{expected[1]}")  # figure's end


def test_above_counts_as_strictly_more():
    value = bound_value("事故起数连续三年下降幅度超30%", terms("事故", "起数"), "down")
    assert meets(value, (">", 30.0, "%"))
    assert not meets((30.0, "%"), (">", 30.0, "%"))
    assert meets((30.0, "%"), (">=", 30.0, "%"))
    assert not meets((7000.0, "亿"), (">=", 4.0, "%"))
    assert not meets(None, (">", 1.0, ""))


def test_an_abbreviation_states_the_same_indicator():
    gdp = [Term("生产总值", ("生产", "总值"), 2.0, ("gdp",))]
    assert bound_value("预计全年gdp增长6%左右、增速保持全省前列", gdp, "up")[:2] == (6.0, "%")
    investment = [Term("固定资产投资", ("固定资产", "投资"), 2.0, ("固投",))]
    assert investment[0].found_in("预计规上工业增加值增长12%左右、固投增长17%左右")
    assert bound_value("固投增长17%左右", investment, "up")[:2] == (17.0, "%")


def evidence_for(question: str, text: str, idf: dict[str, float]):
    spec = parse_question(question, RegionMatcher([Place("湖北省", "province")]))
    terms = build_terms(spec, lambda tok: idf.get(tok, 1.0))
    evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms)
    return spec, {ev.quote[:6]: ev for ev in evs}


def test_the_figure_must_sit_in_a_clause_about_the_topic():
    text = ("深入打好污染防治攻坚战，国控断面水质优良率100%，打赢空气质量翻身仗。"
            "全年空气质量优良天数比例达到86.3%。")
    spec, evs = evidence_for(
        "Which cities had good air quality on more than 80% of days in 2022?", text,
        {"优良": 2.0, "天数": 1.5})  # 优良 rarest, as in a real store: the figure follows it
    water = next(ev for q, ev in evs.items() if "水质" in ev.quote)
    air = next(ev for q, ev in evs.items() if "86.3" in ev.quote)
    assert water.value is not None and water.value[0] == 100.0  # a figure, but for water
    assert not accepts(water, spec)
    assert accepts(air, spec) and air.value[:2] == (86.3, "%")


def test_an_english_question_keeps_wordless_sentences_only_where_dense_search_ranked_them():
    spec = parse_question("Which cities cut work-safety accidents in 2022?",
                          RegionMatcher([Place("湖北省", "province")]))
    terms = build_terms(spec, lambda tok: 1.0)
    text = "全年安全生产事故起数下降12%。新建城市公园12个。"
    cut = text.index("新")

    def quotes(dense: float) -> list[str]:
        spans = [(0, cut, 0.0, "review"), (cut, len(text), dense, "review")]
        return [ev.quote for ev in score_sentences(text, "d", spans, spec, terms)]

    assert quotes(0.0) == ["全年安全生产事故起数下降12%。"]
    assert "新建城市公园12个。" in quotes(0.8)  # ranked by dense search: kept for the judge


def test_the_quote_is_the_clause_that_states_the_change_asked():
    text = ("坚决贯彻落实国务院“15项硬措施”,将5月5日确定为安全生产集中活动日,"
            "扎实开展“一查三改月循环”活动和自建房安全整治等专项行动,深入开展专家查隐患,"
            "强化执法严管重罚,严格落实晨会制度,事故起数和死亡人数实现双下降。")
    spec = parse_question("哪些区2022年减少了安全生产事故？", RegionMatcher([]))
    terms = build_terms(spec, lambda tok: 1.0)
    (ev,) = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms)
    assert ev.quote == "事故起数和死亡人数实现双下降。"
    assert text[ev.start : ev.end] == ev.quote


@pytest.mark.parametrize("sentence", [
    "预计地区生产总值年均增长 7.9%",
    "预计2021年地区生产总值比2016年增长30.3%",
    "地区生产总值两年平均增长4.9%",
])
def test_a_figure_over_several_years_is_not_one_years(sentence):
    gdp = terms("地区生产总值")
    assert bound_value(sentence, gdp, "up") is None
    assert bound_value(sentence, gdp, "up", multi_year=True) is not None
    assert bound_value("地区生产总值3.07万亿元、增长6.7%，两年平均增长4.9%", gdp, "up")[0] == 6.7


@pytest.mark.parametrize("sentence, expected", [
    ("地区生产总值增速不低于全省平均水平，全社会固定资产投资增长7%", None),
    ("数字经济核心产业增加值占地区生产总值比重提高至14%以上", None),
    ("地区生产总值增速高于全省1个百分点，按增长7%以上安排", 7.0),
    ("地区生产总值2.4万亿元，同比增长5.2%", 5.2),
])
def test_a_change_belongs_to_its_own_indicator(sentence, expected):
    got = bound_value(sentence, terms("地区生产总值"), "up")
    assert (got and got[0]) == (expected and pytest.approx(expected, abs=1e-5))


def test_about_a_figure_means_within_a_quarter_point():
    assert meets((5.0, "%"), ("~", 5.0, "%")) and meets((5.2, "%"), ("~", 5.0, "%"))
    assert not meets((6.0, "%"), ("~", 5.0, "%")) and not meets((4.5, "%"), ("~", 5.0, "%"))
    assert meets((310.0, "天"), ("~", 300.0, ""))  # 5% of a larger figure


@pytest.mark.parametrize("sentence, expected", [
    ("全市实现地区生产总值24653亿元，按可比价计算，增长4.6%；", 4.6),
    ("预计全年实现地区生产总值9500亿元左右，按不变价格计算增长4%左右", 4.0),
    ("实现地区生产总值4550亿元、一般公共预算收入297亿元，同比分别增长10%和12.4%", 10.0),
])
def test_a_change_reached_through_links(sentence, expected):
    got = bound_value(sentence, terms("地区生产总值"), "up")
    assert got is not None and got[0] == pytest.approx(expected)


def test_the_level_may_follow_the_change():
    gdp = terms("地区生产总值")
    got = bound_value("全市地区生产总值增长4.6%，总量1.74万亿元、继续保持全国前十", gdp, None)
    assert got is not None and got[:2] == (1.74, "万亿")
    assert bound_value("地区生产总值增长4.6%，居全省第一", gdp, None) is None


def test_conditions_with_magnitudes_compare_absolute_figures():
    assert meets((38.1, "万"), (">", 10.0, "万")) and not meets((9.5, "万"), (">", 10.0, "万"))
    assert meets((2.4, "万亿"), (">", 1.0, "万亿"))
    assert not meets((2329.2, "亿"), (">", 1.0, "万亿"))
    assert not meets((12.0, "%"), (">", 10.0, "万"))
    jobs = terms("就业")
    assert bound_value("新增城镇就业17.8万人", jobs, "up")[:2] == (17.8, "万")
    assert bound_value("累计实现城镇新增就业22.2万人", jobs, "up") is None


def test_a_change_in_a_five_year_review_is_not_one_years():
    spec = parse_question("2021年山东省哪些城市的城镇新增就业超过10万人？",
                          RegionMatcher([Place("山东省", "province")]))
    terms_ = build_terms(spec, lambda tok: 1.0)

    def value(sentence: str, kind: str):
        (ev,) = score_sentences(sentence, "d", [(0, len(sentence), 0.0, kind)], spec, terms_)
        return ev.value and ev.value[:2]

    assert value("新增城镇就业31.6万人。", "review") == (31.6, "万")
    assert value("新增城镇就业31.6万人。", "review_multi") is None
    assert value("2021年新增城镇就业10.9万人。", "review_multi") == (10.9, "万")


def test_a_direction_word_naming_an_action_is_not_a_result():
    from rag.answer.evidence import _direction_ok

    assert not _direction_ok("开展“三源整治”和秋冬季空气质量改善六大行动", "up")
    assert _direction_ok("空气质量持续改善，优良天数增加17天", "up")
    assert not _direction_ok("深入开展减塑行动", "down")
    assert _direction_ok("事故起数下降22%", "down")
