"""Sentence evidence: words and meaning fused, the figure bound to the topic, the quote
narrowed to what states it."""

import numpy as np
import pytest

from rag.answer.evidence import build_terms, direction_ok, score_sentences
from rag.config import AnswerSettings
from rag.index.store import Units
from rag.ingest.regions import get_gazetteer
from rag.ingest.units import units_of
from rag.retrieve.places import Place, PlaceMatcher
from rag.retrieve.semantic import SemanticScores
from rag.retrieve.understand import understand

CFG = AnswerSettings()
PLACES = PlaceMatcher([Place("湖北省", "province"), Place("山东省", "province"),
                       Place("历城区", "district")], get_gazetteer())


def evidence(question, text, idf=None, kind="review", semantic=None, grounded=True):
    spec = understand(question, PLACES)
    terms = build_terms(spec, lambda tok: (idf or {}).get(tok, 1.0))
    evs = score_sentences(text, "d", [(0, len(text), 0.0, kind)], spec, terms, CFG, semantic,
                          grounded)
    return spec, evs


def meaning(text: str, close: dict[str, float], rest: float = 0.80) -> SemanticScores:
    """Units of ``text`` whose cosine to the question is ``close[unit text]``, else ``rest``."""
    spans = units_of(text, [(0, len(text))])
    cos = np.array([close.get(text[s:e], rest) for s, e in spans])
    vecs = np.stack([cos, np.sqrt(1 - cos**2), *np.zeros((6, len(cos)))], axis=1)
    units = Units("m", np.array(spans, dtype=np.int32), vecs.astype(np.float16))
    return SemanticScores({"d": units}, [np.eye(8)[0]], CFG)


def test_meaning_finds_the_sentence_an_english_question_has_no_words_for():
    text = "扎实推进文明城市创建。新建6公里绿道、9处公园。开展群众性文体活动800多场。"
    sem = meaning(text, {"新建6公里绿道、9处公园。": 0.86})
    spec, evs = evidence("How many kilometres of greenways did Licheng build in 2023?", text,
                         semantic=sem, grounded=False)
    assert spec.terms == [] and evs[0].quote == "新建6公里绿道、9处公园。"
    assert evs[0].coverage == 0 and evs[0].semantic == pytest.approx(1.0)
    # the figure of the unit the question is closest to, in the unit asked (kilometres)
    assert evs[0].value.value == 6 and evs[0].value.unit.form == "公里"


def test_without_vectors_an_english_question_keeps_wordless_sentences_only_if_dense_ranked():
    spec = understand("Which cities cut work-safety accidents in 2022?", PLACES)
    terms = build_terms(spec, lambda tok: 1.0)
    text = "全年安全生产事故起数下降12%。新建城市公园12个。"
    cut = text.index("新")

    def quotes(dense: float) -> list[str]:
        spans = [(0, cut, 0.0, "review"), (cut, len(text), dense, "review")]
        return [ev.quote for ev in score_sentences(text, "d", spans, spec, terms, CFG)]

    assert quotes(0.0) == ["全年安全生产事故起数下降12%。"]
    assert "新建城市公园12个。" in quotes(0.8)


def test_the_figure_must_sit_in_a_clause_about_the_topic():
    from rag.answer.decide import accepts

    text = ("深入打好污染防治攻坚战，国控断面水质优良率100%，打赢空气质量翻身仗。"
            "全年空气质量优良天数比例达到86.3%。")
    spec, evs = evidence(
        "Which cities had good air quality on more than 80% of days in 2022?", text,
        {"优良": 2.0, "天数": 1.5})  # 优良 rarest, as in a real store: the figure follows it
    water = next(ev for ev in evs if "水质" in ev.quote)
    air = next(ev for ev in evs if "86.3" in ev.quote)
    assert water.value is not None and water.value.value == 100.0  # a figure, but for water
    assert not accepts(water, spec, CFG.list_min_support)
    assert accepts(air, spec, CFG.list_min_support) and air.value.value == 86.3


def test_the_quote_is_the_clause_that_states_the_change_asked():
    text = ("坚决贯彻落实国务院“15项硬措施”,将5月5日确定为安全生产集中活动日,"
            "扎实开展“一查三改月循环”活动和自建房安全整治等专项行动,深入开展专家查隐患,"
            "强化执法严管重罚,严格落实晨会制度,事故起数和死亡人数实现双下降。")
    _, (ev,) = evidence("哪些区2022年减少了安全生产事故？", text)
    assert ev.quote == "事故起数和死亡人数实现双下降。"
    assert text[ev.start : ev.end] == ev.quote


def test_without_the_topics_words_the_quote_is_the_closest_unit():
    text = ("坚持以人民为中心,完成20项民心工程,制定稳就业“十项措施”,新增就业2万人,"
            "新建改扩建学校12所,新增学位6300个,城镇调查失业率控制在5.5%以内,"
            "新创“标杆示范楼门”162个,“嵌入式”养老机构实现街域全覆盖。")
    sem = meaning(text, {"新增学位6300个,城镇调查失业率控制在5.5%以内。": 0.9})
    _, evs = evidence("How many school seats were added?", text, semantic=sem, grounded=False)
    assert "学位6300个" in evs[0].quote and len(evs[0].quote) < len(text)


def test_a_change_in_a_five_year_review_is_not_one_years():
    question = "2021年山东省哪些城市的城镇新增就业超过10万人？"

    def value(sentence: str, kind: str):
        _, (ev,) = evidence(question, sentence, kind=kind)
        return ev.value and ev.value.value

    assert value("新增城镇就业31.6万人。", "review") == pytest.approx(316000)
    assert value("新增城镇就业31.6万人。", "review_multi") is None
    assert value("2021年新增城镇就业10.9万人。", "review_multi") == pytest.approx(109000)


def test_a_figure_of_several_years_named_in_the_sentence_is_not_one_years():
    spec, evs = evidence("哪些城市2021年新增城镇就业超过5万人？", "五年新增城镇就业9万人。")
    assert not evs[0].bound
    # a programme named for its years is not a span ("三年大灶" mid-clause)
    spec, evs = evidence("2022年哪些城市的生产安全事故起数降幅超过30%？",
                         "安全生产专项整治“三年大灶”圆满收官，生产安全事故起数下降46.7%。")
    assert [ev.value.value for ev in evs if ev.bound] == [46.7]
    # a year's running total is the year's
    spec, evs = evidence("哪些区2022年发放的救助资金超过1亿元？", "累计发放救助资金1.75亿元。")
    assert evs[0].bound and evs[0].value.value == 1.75e8


def test_a_direction_word_naming_an_action_is_not_a_result():
    assert not direction_ok("开展“三源整治”和秋冬季空气质量改善六大行动", "up")
    assert direction_ok("空气质量持续改善，优良天数增加17天", "up")
    assert not direction_ok("深入开展减塑行动", "down")
    assert direction_ok("事故起数下降22%", "down")


def test_a_count_of_things_made_is_their_figure_whatever_the_verb():
    text = "投运电网项目373个，建成5G基站3700个、新能源汽车充电桩650个。"
    spec, evs = evidence("哪些城市2022年新建了超过2000个5G基站？", text)
    assert spec.creation and evs[0].made and evs[0].value.value == 3700
    # how many there are is not how many were made: a stock, or a stock with its growth
    spec, evs = evidence("哪些城市2022年新增了超过100家高新技术企业？",
                         "国家高新技术企业达到124家。")
    assert spec.creation and not evs[0].made
    spec, evs = evidence("哪些城市2022年新增科技型中小企业超过200家？",
                         "科技型中小企业466家、增长84%。")
    assert not evs[0].bound
    # a stock beside things made in the same sentence: 新增 is the 企业's, 700家 the total's
    spec, evs = evidence("Which cities added more than 100 new high-tech enterprises in 2022?",
                         "新增新上“四上”企业1497家，国家高新技术企业总数突破700家。")
    assert not evs[0].bound
    spec, evs = evidence("哪些城市2022年新增科技型企业超过200家？", "全市科技型企业突破1.5万家。")
    assert not evs[0].bound
    # a direction word at the topic still makes it a change: 新增 … 突破
    spec, evs = evidence("哪些城市2022年新增科技型企业超过200家？", "新增科技型企业突破1500家。")
    assert evs[0].bound and evs[0].value.value == 1500
    # an indicator's change is not a thing made: its direction word is still needed
    spec, evs = evidence("哪些城市2022年地区生产总值增长超过5%？", "地区生产总值达到5000亿元。")
    assert not spec.creation and not evs[0].made


def test_a_sentence_surely_meant_gives_its_count_though_the_words_differ():
    text = "扎实推进文明城市创建。全国首个配售型保障性住房顺利开工，新增保障性租赁住房2.35万套。" \
           "开展群众性文体活动800多场。"
    unit = "全国首个配售型保障性住房顺利开工，新增保障性租赁住房2.35万套。"
    question = "福州2023年新增了多少套保租房？"  # 租房 is the question's word, not the report's
    sure = meaning(text, {unit: 0.86})
    _, evs = evidence(question, text, semantic=sure)
    assert evs[0].value.value == 23500 and evs[0].value.unit.form == "套"
    # a rate is not taken so: it may be another indicator's
    _, evs = evidence("福州2023年保租房增长了百分之多少？", text.replace("2.35万套", "增长12%"),
                      semantic=meaning(text.replace("2.35万套", "增长12%"),
                                       {unit.replace("2.35万套", "增长12%"): 0.86}))
    assert evs[0].value is None


def test_translated_words_anchoring_no_figure_leave_the_count_to_a_sentence_surely_meant():
    unit = ("开展燃气安全专项整治，紧盯问题管网等关键环节，"
            "推进31.9万户居民户内燃气设施安全更新改造。")
    text = "扎实推进文明城市创建。" + unit + "开展群众性文体活动800多场。"
    question = "How many households were covered by Licheng's 2023 upgrade of indoor gas equipment?"
    spec = understand(question, PLACES)
    spec.terms, spec.translated = ["燃气"], ["燃气"]  # as the dictionary or feedback give
    terms = build_terms(spec, lambda tok: 1.0)
    evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                          meaning(text, {unit: 0.86}), False)
    assert evs[0].value is not None and evs[0].value.unit.form == "户"
    assert evs[0].value.value == 319000


def test_a_translated_word_the_meaning_does_not_back_is_no_evidence():
    text = "扎实推进文明城市创建。空气质量优良率达到85%。开展群众性文体活动800多场。"
    unit = "空气质量优良率达到85%。"
    spec = understand("What was the divorce rate in Licheng in 2023?", PLACES)
    spec.terms, spec.translated = ["率"], ["率"]  # "rate", as a dictionary gives it
    terms = build_terms(spec, lambda tok: 1.0)

    def support(cos: float) -> float:
        evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                              meaning(text, {unit: cos}, rest=0.70), False)
        (ev,) = [ev for ev in evs if ev.quote == unit]
        return ev.support

    # near in meaning, the word counts with it; far, the word adds nothing to the meaning
    assert support(0.76) > 0.75
    assert support(0.72) < CFG.semantic_floor


def test_the_reports_rare_word_for_a_phrase_needs_less_of_the_meaning_than_a_guess():
    text = "扎实推进文明城市创建。原煤产量7409万吨。开展群众性文体活动800多场。"
    unit = "原煤产量7409万吨。"

    def support(question: str, cos: float) -> float:
        spec = understand(question, PLACES)
        spec.terms, spec.translated = ["原煤"], ["原煤"]
        spec.term_forms = {"原煤": ()}  # the dictionary's rendering, not the glossary's
        terms = build_terms(spec, lambda tok: 5.0)  # rare in the reports
        evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                              meaning(text, {unit: cos}, rest=0.70), False)
        (ev,) = [ev for ev in evs if ev.quote == unit]
        return ev.support

    # "raw coal" rendered whole: the word stands where the meaning is faint ...
    assert support("How much raw coal did Licheng produce in 2023?", 0.72) > 0.5
    # ... not where it is nil
    assert support("How much raw coal did Licheng produce in 2023?", 0.70) < CFG.semantic_floor
    # beside a word no report writes, the meaning must back it as any guess
    spec = understand("How much lignite raw coal did Licheng produce in 2023?", PLACES)
    spec.unwritten = ["lignite"]
    spec.terms, spec.translated = ["原煤"], ["原煤"]
    terms = build_terms(spec, lambda tok: 5.0)
    evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                          meaning(text, {unit: 0.72}, rest=0.70), False)
    assert [ev.support for ev in evs if ev.quote == unit][0] < CFG.semantic_floor


def test_a_sentence_writing_none_of_the_unheard_words_must_be_surely_meant():
    text = "扎实推进文明城市创建。新增市场主体企业1200家。开展群众性文体活动800多场。"
    unit = "新增市场主体企业1200家。"
    spec = understand("历城区2023年比特币挖矿企业有多少家？", PLACES)
    terms = build_terms(spec, lambda tok: 1.0)

    def quotes(cos: float) -> list[str]:
        evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                              meaning(text, {unit: cos}), True, unheard=("比特币挖矿",))
        return [ev.quote for ev in evs]

    assert unit not in quotes(0.84)
    assert unit in quotes(0.95)  # surely meant, whatever it writes


def test_a_word_read_off_the_closest_sentences_is_no_evidence_beside_their_meaning():
    from rag.answer.evidence import Term

    text = "神头墓群入选考古遗址公园名单。新建口袋公园12个。植树造林3万亩。"
    spec = understand("Which districts planted trees in 2022?", PLACES)
    echo = [Term("公园", ("公园",), 3.0, (), own=False, read_off=True)]
    close = {"植树造林3万亩。": 0.86, "神头墓群入选考古遗址公园名单。": 0.81}
    evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, echo, CFG,
                          meaning(text, close), False)
    support = {ev.quote: ev.support for ev in evs}
    # the park sentences are only as sure as their meaning, the word adds nothing
    assert support["神头墓群入选考古遗址公园名单。"] == max(
        ev.semantic for ev in evs if ev.quote == "神头墓群入选考古遗址公园名单。")
    assert support["植树造林3万亩。"] > support["神头墓群入选考古遗址公园名单。"]


def test_the_glossarys_indicator_with_its_figure_bound_needs_no_meaning_to_back_it():
    text = "扎实推进文明城市创建。全区地区生产总值完成690.83亿元、同比增长8.1%。开展活动800多场。"
    unit = "全区地区生产总值完成690.83亿元、同比增长8.1%。"
    spec = understand("How fast did Licheng's GDP grow in 2023?", PLACES)
    spec.numeric = True
    assert spec.translated  # 生产总值, the glossary's word for GDP
    terms = build_terms(spec, lambda tok: 3.0)
    evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                          meaning(text, {unit: 0.70}, rest=0.70), False)
    (ev,) = [ev for ev in evs if ev.quote.startswith("全区地区生产总值")]
    assert ev.bound and ev.value.value == 8.1 and ev.semantic < CFG.semantic_floor
    assert ev.support == 1.0


def test_a_figure_bound_to_a_part_of_another_name_has_no_plain_anchor():
    _, evs = evidence("哪些城市2022年空气优良天数比例超过80%？",
                      "国控断面水质优良率100%，打赢空气质量翻身仗。")
    assert evs[0].bound and not evs[0].plain_anchor
    _, evs = evidence("哪些城市2022年港口货运超过5000万吨？", "港口货物吞吐量6847万吨。")
    assert evs[0].bound and evs[0].plain_anchor


def test_a_noun_the_reports_seldom_write_before_the_topic_word_narrows_it():
    text = "跨境电商出口额增长98%。全市出口增长4.9%。地区生产总值增长5.9%。"
    shares = {("跨境电商", "出口"): 0.05, ("地区", "生产总值"): 0.9}
    for question, quote, narrowing in [
        ("2022年哪些市的出口增长超过15%？", "跨境电商出口额增长98%", "跨境电商"),
        ("2022年哪些市的出口增长超过3%？", "全市出口增长4.9%", ""),
        ("2022年哪些市的生产总值增长超过5%？", "地区生产总值增长5.9%", ""),
    ]:
        spec = understand(question, PLACES)
        terms = build_terms(spec, lambda tok: 3.0)
        evs = score_sentences(text, "d", [(0, len(text), 0.0, "review")], spec, terms, CFG,
                              together=lambda a, b: shares.get((a, b), 0.0))
        got = next(e for e in evs if e.quote.startswith(quote))
        assert got.bound and got.qualifier == narrowing, (question, got)


def test_a_count_asked_in_one_counter_is_not_one_in_another_after_the_topic_word():
    text = "新建、改扩建公办幼儿园10所，新增公办优质普惠学位5093个。"
    _, evs = evidence("2022年哪些市新增幼儿园学位超过1000个？", text)
    assert evs[0].bound and evs[0].value.value == 5093
    _, evs = evidence("2022年哪些市新建幼儿园超过5所？", text)
    assert evs[0].bound and evs[0].value.value == 10


def test_a_change_the_other_way_of_the_topics_own_figure_is_not_the_direction_asked():
    text = ("预计全市地区生产总值增长3%，一般公共预算收入增长0.8%，规模以上工业增加值下降6.5%。"
            "全市地区生产总值同比下降7%左右。")
    _, evs = evidence("2022年哪些城市地区生产总值下降了？", text)
    by_quote = {ev.quote[:6]: ev.direction_ok for ev in evs}
    assert by_quote["预计全市地区"] is False
    assert by_quote["全市地区生产"] is True
