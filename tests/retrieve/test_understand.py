"""Reading a question: form, mode, places and years, conditions, topic, normalisation."""

import pytest

from rag.ingest.regions import get_gazetteer
from rag.retrieve.places import Place, PlaceMatcher
from rag.retrieve.spec import Form, Mode
from rag.retrieve.understand import understand

PLACES = [
    Place("山东省", "province"), Place("济南市", "city"), Place("历城区", "district"),
    Place("德州市", "city"), Place("陵城区", "district"), Place("天津市", "province"),
    Place("天津市", "city"), Place("和平区", "district"), Place("山西省", "province"),
    Place("太原市", "city"), Place("迎泽区", "district"), Place("江苏省", "province"),
    Place("南京市", "city"), Place("湖北省", "province"),
    Place("恩施土家族苗族自治州", "city"), Place("盐城市", "city"),
]


@pytest.fixture(scope="module")
def places() -> PlaceMatcher:
    return PlaceMatcher(PLACES, get_gazetteer())


def cond(spec):
    c = spec.condition
    return None if c is None else (c.op, c.quantity.value, c.quantity.unit and c.quantity.unit.form)


@pytest.mark.parametrize(
    "question, form, lang, names, years, plan",
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
        # a modal of intent before a verb asks what is planned; 主要, 需要 are other words
        ("2024年哪些城市要发展低空经济？", "list", "zh", [], [2024], True),
        ("南京市2024年将开工多少个重大项目？", "fact", "zh", ["南京市"], [2024], True),
        ("Which cities will build pumped-storage power stations in 2024?", "list", "en", [],
         [2024], True),
        ("南京市2022年主要经济指标怎么样？", "fact", "zh", ["南京市"], [2022], False),
        ("哪些区2022年需要加强安全生产？", "list", "zh", [], [2022], False),
    ],
)
def test_form_language_places_years_mode(places, question, form, lang, names, years, plan):
    spec = understand(question, places)
    assert spec.form is Form(form)
    assert spec.lang == lang
    assert set(names) <= {m.place.name for m in spec.mentions}
    assert spec.years == years
    assert spec.wants_plan is plan


def test_years_attach_to_their_places(places):
    spec = understand("比较历城区2023年和和平区2022年办理人大代表建议的数量。", places)
    assert {m.place.name: m.year for m in spec.mentions} == {"历城区": 2023, "和平区": 2022}


def test_a_year_no_place_claims_applies_to_every_place(places):
    spec = understand("比较和平区2021年和2022年的地区生产总值增速", places)
    assert spec.years == [2021, 2022] and [m.year for m in spec.mentions] == [None]


def test_the_level_word_is_not_a_topic(places):
    spec = understand("哪些省份把2024年地区生产总值增长目标定在5%左右？", places)
    assert spec.terms == ["生产总值"]


@pytest.mark.parametrize("question", [
    "2022年贵州哪些地方的旅游收入超过了500亿元？",
    "2022年贵州哪些市州的旅游收入超过了500亿元？",
    "2022年贵州哪几个市县的旅游收入超过了500亿元？",
])
def test_the_kind_of_place_asked_for_is_not_a_topic(places, question):
    # whatever noun follows the question word: the segmenter's words, no list of them
    assert understand(question, places).terms == ["旅游", "收入"]


def test_function_words_of_an_english_question_get_no_dictionary_rendering(places):
    from rag.retrieve.understand import dictionary_terms

    spec = understand("Which cities' economies did not grow at all in 2022?", places)
    dictionary_terms(spec, lambda w: 5.0, 2.0)
    assert not {"好不", "并不", "毫不", "没有"} & set(spec.terms)


def test_a_word_asked_twice_gets_one_rendering_not_its_next_sense(places):
    from rag.retrieve.understand import dictionary_terms

    spec = understand("Which cities grew battery and battery-materials output in 2022?", places)
    dictionary_terms(spec, lambda w: 5.0, 2.0)
    note = next(n for n in spec.notes if n.startswith("the dictionary's words"))
    assert note.count("battery →") == 1
    senses = {"殴打", "炮台", "电池", "电瓶", "蓄电池"}
    assert len(senses & set(spec.terms)) == 1


@pytest.mark.parametrize(
    "question, direction, terms_in, terms_out",
    [
        ("哪些区在2023年减少了安全生产事故？", "down", ["事故"], ["减少", "哪些"]),
        ("2022年哪些区新增了学位？", "up", ["学位"], ["新增"]),
        ("Which districts reported zero work-safety accidents in 2022?", "zero",
         ["安全生产事故"], []),
        ("2022年江苏省哪些城市的地区生产总值增速达到4%及以上？", "up", ["生产总值"], ["增速", "4"]),
        ("比较常州、徐州、淮安三市2022年的地区生产总值规模。", None, ["生产总值"], ["三市"]),
        # longest direction word first: 负增长 is a fall, 零增长 no change
        ("哪些城市2022年社会消费品零售总额负增长？", "down", ["零售总额"], ["负"]),
        ("哪些城市2022年工业投资零增长？", "zero", ["投资"], ["零"]),
        # a one-character time word is as often a part of the topic's word: 夜 of 夜经济
        ("哪些城市2023年打算发展夜经济？", None, ["夜", "经济"], ["打算"]),
        # words that only hold the question together are no topic; asked which way, it
        # asks for neither
        ("毕节2022年的工业投资是增长还是下降？", None, ["工业", "投资"], ["还是"]),
        ("Did Bijie's industrial investment go up or down in 2022?", None, [], []),
        # a direction negated is the other way; a thing not made is no fall
        ("Which cities' economies shrank or did not grow at all in 2022?", "down", [], []),
        ("Which cities didn't cut coal use in 2022?", "up", [], []),
        ("Which cities have not yet built new parks?", None, ["公园"], []),
        # a word that is by itself how the question asks: the form, not the topic
        ("历城区和和平区2022年的经济增速比一比", "up", ["经济"], ["比一比", "一比"]),
        ("和平区和历城区2022年新增就业有什么差别？", "up", ["就业"], ["差别"]),
    ],
)
def test_topic_and_direction(places, question, direction, terms_in, terms_out):
    spec = understand(question, places)
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
        # numbers as people write them
        ("Which cities added more than 40,000 urban jobs in 2022?", (">", 40000.0, "个")),
        ("Which cities added more than forty thousand urban jobs in 2022?", (">", 40000.0, "个")),
        ("哪些城市2022年新增城镇就业超过4万人？", (">", 40000.0, "人")),
        ("哪些城市2022年新增城镇就业超过两万人？", (">", 20000.0, "人")),
        ("哪些城市粮食总产量超过8亿斤？", (">", 8e8, "斤")),
        ("哪些城市新增就业1万人以上？", (">=", 10000.0, "人")),
        # an aspect particle between the verb and its figure
        ("2021年哪些城市GDP增速超过了8%？", (">", 8.0, "%")),
        ("哪些城市把GDP增长目标定在5.8%或者更高？", (">=", 5.8, "%")),
        ("哪些城市的优良天数比例达到了90%？", (">=", 90.0, "%")),
    ],
)
def test_numeric_conditions(places, question, condition):
    assert cond(understand(question, places)) == condition


def test_a_bare_number_before_a_noun_counts_things(places):
    from rag.text.quantities import Quantity, tables

    spec = understand("Which cities renovated more than 100 old residential compounds in 2022?",
                      places)
    area = Quantity(1.42e6, tables().unit_at("平方米", 0)[0])
    count = Quantity(142.0, tables().unit_at("个", 0)[0])
    assert not spec.condition.holds(area) and spec.condition.holds(count)
    assert spec.condition.holds(Quantity(142.0, None))  # "142" with no counter written


def test_a_word_of_scaffold_characters_alone_is_not_the_topic(places):
    spec = understand("2022年福建有哪些城市有县入选了国家乡村振兴示范县？", places)
    assert "有县" not in spec.terms and "示范县" in spec.terms


def test_the_glossed_share_of_an_english_topic():
    from rag.retrieve.understand import glossed_share

    assert glossed_share("high-tech enterprises") == 1.0
    # one generic word of many ("services" → 服务业) does not stand for the topic
    assert glossed_share("meal services older residents elderly canteens meal points") < 0.3
    assert glossed_share("") == 0.0


@pytest.mark.parametrize("question, direction", [
    ("2022年福建哪几个市的出口涨了15%以上？", "up"),
    ("哪些城市的粮食产量下滑了？", "down"),
    ("哪些城市经济缩水了？", "down"),
    ("数字经济发展得怎么样？", None),  # 发展 is first "to develop", no change asked
])
def test_a_verb_no_direction_word_lists_is_read_by_its_dictionary_sense(places, question,
                                                                         direction):
    spec = understand(question, places)
    assert spec.direction == direction
    assert not {"涨", "下滑", "缩水"} & set(spec.terms)


def test_time_words_are_not_the_topic(places):
    spec = understand("2022年年初，贵州哪些市州把当年GDP增长目标定在9%及以上？", places)
    assert spec.terms == ["gdp"]


def test_plural_scaffold_words_are_not_the_topic(places):
    spec = understand("Which prefectures cut accidents in 2022?", places)
    assert "prefectures" not in spec.topic.split()


def test_a_condition_operator_is_not_a_figure_above_it(places):
    spec = understand("2022年江苏省哪些城市的生产安全事故起数降幅超过30%？", places)
    assert not spec.condition.quantity.above


def test_list_levels(places):
    assert understand("江苏省哪些城市减少了事故？", places).target_levels == ("city",)
    assert understand("哪些区减少了事故？", places).target_levels == ("district",)
    assert understand("Which counties cut accidents?", places).target_levels == ("county",)


def test_traditional_and_full_width_questions_read_as_simplified(places):
    spec = understand("歷城區２０２３年新增綠化面積多少？", places)
    assert [m.place.name for m in spec.mentions] == ["历城区"] and spec.years == [2023]
    assert "绿化" in spec.terms and spec.text == "歷城區２０２３年新增綠化面積多少？"


@pytest.mark.parametrize("question, offset, plan", [
    ("历城区去年发了多少就业补贴？", -1, False),
    ("How many jobs did Licheng add last year?", -1, False),
    ("和平区今年的目标是什么？", 0, True),
    ("What is Licheng's target for this year?", 0, True),
])
def test_relative_years(places, question, offset, plan):
    spec = understand(question, places)
    assert spec.relative is not None and spec.relative.offset == offset
    assert spec.years == [] and spec.wants_plan is plan


def test_chinese_written_inside_an_english_question_is_used_as_it_is(places):
    spec = understand("How many new 'little giant' (专精特新) firms did Licheng add?", places)
    assert spec.lang == "en" and any("专精" in t for t in spec.terms)


def test_statement_questions(places):
    assert understand("历城区2023年数字政府建设做得怎么样？", places).statement
    assert understand("What did Heping District do about elderly care in 2022?", places).statement
    assert not understand("和平区2022年新增就业多少人？", places).statement


def test_count_questions_and_the_unit_asked(places):
    spec = understand("How many kilometres of greenways did Licheng build in 2023?", places)
    assert spec.count and spec.unit.dimension == "length"
    spec = understand("历城区2023年新建了多少处健身点？", places)
    assert spec.count and spec.unit.form == "处"
    assert not understand("南京市2022年地区生产总值增长了多少？", places).count


def test_english_place_needs_known_pinyin(places):
    spec = understand("What was Yancheng's PM2.5 in 2022?", places)
    assert [m.place.name for m in spec.mentions] == ["盐城市"]
    assert understand("What about Springfield in 2022?", places).mentions == []


def test_mention_questions_ask_the_reports_of_that_year(places):
    spec = understand("2024年江苏省哪些城市提出发展低空经济？", places)
    assert spec.mode is Mode.MENTIONED and spec.form is Form.LIST and "提出" not in spec.terms
    assert "低空" in "".join(spec.terms)
    en = understand("Which Jiangsu cities mentioned the low-altitude economy in 2024?", places)
    assert en.mode is Mode.MENTIONED and en.form is Form.LIST and en.target_levels == ("city",)
    assert en.terms == ["低空经济"]
    plan = understand("江苏省哪些城市提出2024年地区生产总值增长目标？", places)
    assert plan.wants_plan and plan.mode is Mode.PLANNED


@pytest.mark.parametrize("question", ["迎泽区2018年的主要预期目标是什么？",
                                      "What were Yingze District's main targets for 2018?"])
def test_questions_about_the_targets_as_a_whole(places, question):
    assert understand(question, places).overview


def test_a_threshold_asks_for_one_targets_figure_not_all_of_them(places):
    spec = understand("哪些城市把2022年经济增长目标定在7%及以上？", places)
    assert spec.wants_plan and not spec.overview
    assert cond(spec) == (">=", 7.0, "%")


@pytest.mark.parametrize("question, unit", [
    ("大连2023年获得了几块金牌？", "块"),
    ("泉州2023年拿了几枚金牌？", "枚"),
])
def test_how_many_of_any_measure_word_asks_a_figure(places, question, unit):
    spec = understand(question, places)
    assert spec.numeric and spec.unit is not None and spec.unit.form == unit
    assert not any(unit in t for t in spec.terms)  # the measure word is not a topic word


@pytest.mark.parametrize("question, counter", [
    ("How many households were covered by the gas upgrade in 2023?", "户"),
    ("How many new elderly-care beds did Licheng add in 2023?", "张"),
    ("How many schools did Licheng build?", "所"),
])
def test_how_many_of_a_thing_hints_the_counter_it_is_counted_in(places, question, counter):
    spec = understand(question, places)
    assert spec.unit is None and spec.unit_hint is not None and spec.unit_hint.form == counter
