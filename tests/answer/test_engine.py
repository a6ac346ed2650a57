"""Extractive answering over the real sample reports: exhaustive lists, the right year,
verbatim citations, and "the reports do not say" when they do not."""

from __future__ import annotations

import json

import pytest
from support import REPORTS, ROOT, assert_citations_verbatim

from rag.config import Settings
from rag.errors import QuestionError
from rag.pipeline import open_assistant


@pytest.fixture(scope="module")
def assistant(e5_sample_store, e5_embeddings):
    # The default embedder: answering decides by meaning as well as words.
    a = open_assistant(Settings(), e5_sample_store, embeddings=e5_embeddings)
    yield a
    a.close()


def ask(assistant, question: str) -> dict:
    out = assistant.ask(question, debug=True).to_dict(debug=True)
    assert_citations_verbatim(out)
    assert out["mode"] == "extractive"
    return out


def sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer["citations"]}


def test_headline_list_question_names_only_the_2023_review(assistant):
    out = ask(assistant, "哪些区在2023年减少了安全生产事故？")
    assert out["found"] is True
    # 历城区's 2024 report reviews 2023; 陵城区's 2023 report describes 2022: not listed.
    assert sources(out) == {"000_a8555e4fddf26ffc.txt"}
    assert [i["entity"] for i in out["items"]] == ["山东省济南市历城区"]
    (cite,) = out["citations"]
    assert "下降22%、33%" in cite["quote"]
    assert cite["report_year"] == 2024 and cite["covered_year"] == 2023
    assert cite["section"] == "review"


def test_same_indicator_one_year_earlier_is_the_other_report(assistant):
    out = ask(assistant, "哪些区在2022年减少了安全生产事故？")
    assert "001_0308ac578581e688.txt" in sources(out)
    assert "000_a8555e4fddf26ffc.txt" not in sources(out)


def test_list_is_exhaustive_with_one_item_per_report(assistant):
    out = ask(assistant, "2022年哪些区新增了学位？")
    assert sources(out) == {"002_11fb4cd1e17529ea.txt", "004_c2261995aa5722eb.txt"}
    assert len(out["items"]) == 2
    for item in out["items"]:
        assert item["citations"]
    # A report that never names its district shows the place inferred from its body as such.
    assert any(i["entity"].startswith("安徽省阜阳市颍泉区（据正文推断：") for i in out["items"])
    (cited,) = [c for c in out["citations"] if c["source"] == "004_c2261995aa5722eb.txt"]
    assert cited["region"].startswith("安徽省阜阳市颍泉区（据正文推断：")
    assert "中市街道" in cited["region"]


@pytest.mark.parametrize(
    "question, source, fact",
    [
        ("和平区2022年新增就业多少人？", "002_11fb4cd1e17529ea.txt", "2万"),
        ("迎泽区2017年旅游总收入是多少？", "003_6c455b50551dc8b5.txt", "137.6亿"),
        ("迎泽区2018年地区生产总值的预期增长目标是多少？", "003_6c455b50551dc8b5.txt", "8%"),
        ("How many days of good air quality did Heping District in Tianjin have in 2022?",
         "002_11fb4cd1e17529ea.txt", "273"),
    ],
)
def test_facts_are_quoted_from_the_right_report(assistant, question, source, fact):
    out = ask(assistant, question)
    assert out["found"] is True
    assert sources(out) == {source}
    assert fact in out["answer"]
    assert any(fact in c["quote"] for c in out["citations"])


def test_plan_is_not_an_achievement(assistant):
    # 2018 is only planned in 迎泽区's 2018 report: asked as an achievement, there is none.
    out = ask(assistant, "迎泽区2018年地区生产总值实际增长了多少？")
    assert out["found"] is False


@pytest.mark.parametrize(
    "question",
    ["陵城区2021年地区生产总值增速是多少？", "和平区2019年新增就业多少人？",
     "Which districts built a subway line in 2022?"],
)
def test_unanswerable_questions_say_so(assistant, question):
    out = ask(assistant, question)
    assert out["found"] is False
    assert out["citations"] == [] and out["items"] == []
    assert out["answer"]


def test_compare_has_one_row_per_report(assistant):
    out = ask(assistant, "比较历城区2023年和和平区2022年办理人大代表建议和政协提案的数量。")
    assert sources(out) == {"000_a8555e4fddf26ffc.txt", "002_11fb4cd1e17529ea.txt"}
    for fact in ("127", "213", "330"):
        assert fact in out["answer"]


def test_compare_says_which_region_does_not_state_it(assistant):
    out = ask(assistant, "比较和平区和陵城区2022年的空气质量")
    assert out["found"] and sources(out) == {"002_11fb4cd1e17529ea.txt"}
    assert "| 山东省德州市陵城区 | 报告中没有找到相关内容 |" in out["answer"]
    assert [item["entity"] for item in out["items"]] == ["天津市和平区"]  # cited rows only
    assert any("陵城区" in note for note in out["notes"])


@pytest.mark.parametrize("phrase", ["营商环境", "人大代表建议"])
def test_a_mention_question_reads_every_section_of_that_years_reports(assistant, phrase):
    out = ask(assistant, f"2023年哪些区提到了{phrase}？")
    expected = {
        d.source for d in assistant.documents()
        if d.meta.report_year == 2023
        and phrase in (REPORTS / d.source).read_text(encoding="utf-8")
    }
    assert len(expected) == 2 and sources(out) == expected
    assert all(phrase in c["quote"] for c in out["citations"])


@pytest.mark.parametrize("question", ["迎泽区2018年的主要预期目标是什么？",
                                      "What were Yingze District's main targets for 2018?"])
def test_a_question_about_the_targets_quotes_the_targets_sentence_whole(assistant, question):
    out = ask(assistant, question)
    (c,) = out["citations"]
    assert c["source"] == "003_6c455b50551dc8b5.txt" and c["section"] == "targets"
    assert "主要预期目标是" in c["quote"] and "地区生产总值增长8%左右" in c["quote"]


def test_no_targets_section_is_said_plainly(assistant):
    out = ask(assistant, "陵城区2023年的主要预期目标是什么？")
    assert not out["found"] and out["citations"] == []


def test_english_answer_is_labelled_in_english(assistant):
    out = ask(assistant, "Which districts reported zero work-safety accidents in 2022?")
    assert sources(out) == {"004_c2261995aa5722eb.txt"}
    assert out["answer"].startswith("(Extractive answer")


def test_answer_text_has_no_number_outside_its_quotes(assistant):
    import re

    for q in ("哪些区在2023年减少了安全生产事故？", "2022年哪些区新增了学位？"):
        out = ask(assistant, q)
        text = out["answer"]
        for c in out["citations"]:
            text = text.replace(c["quote"], " ").replace(c["region"], " ")
        assert not re.findall(r"\d+", re.sub(r"\[\d+\]", "", text)), out["answer"]


def test_retrieved_chunks_are_reported_for_metrics(assistant):
    out = ask(assistant, "陵城区2022年放映农村公益电影多少场？")
    assert out["retrieved"] and out["retrieved"][0]["rank"] == 1
    text = (REPORTS / out["retrieved"][0]["source"]).read_text(encoding="utf-8")
    assert 0 <= out["retrieved"][0]["start"] < out["retrieved"][0]["end"] <= len(text)


def test_empty_question_is_a_typed_error(assistant):
    with pytest.raises(QuestionError):
        assistant.ask("   ")


def test_dev_set_in_extractive_mode(assistant):
    """Every development question: right reports, facts stated, none answered as none."""
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        out = ask(assistant, q["question"])
        if q["kind"] == "none":
            assert out["found"] is False, q["id"]
            continue
        assert sources(out) == set(q["expect"]["docs"]), q["id"]
        for fact in q["expect"].get("facts", []):
            assert fact in out["answer"], (q["id"], fact)


def test_a_topic_no_report_writes_is_not_answered_by_what_is_merely_near(assistant):
    out = ask(assistant, "历城区2023年的离婚率是多少？")
    assert out["found"] is False and out["citations"] == []
    assert any("离婚率" in n for n in out["notes"])
    # a colloquial question whose words the reports write in part is still answered
    near = ask(assistant, "历城区2023年新弄了多少个健身点？")
    assert near["found"] is True and "55处" in near["answer"]


@pytest.mark.parametrize("question", [
    "和平区2022年比特币挖矿企业有多少家？",  # 企业 is in every report, 比特币挖矿 in none
    "What was the divorce rate in Lingcheng District in 2022?",  # rate → 率, as in 优良率
    "How many semiconductor factories did Licheng District attract in 2023?",
])
def test_a_topic_only_partly_in_the_reports_words_is_not_answered_by_its_common_part(
        assistant, question):
    out = ask(assistant, question)
    assert out["found"] is False and out["citations"] == [], out["answer"]


def test_english_words_no_glossary_lists_reach_the_reports_wording_through_the_dictionary(
        assistant):
    out = ask(assistant, "How many sports associations were added in Licheng in 2023?")
    assert out["found"] and "体育协会6个" in out["answer"]
    (note,) = [n for n in out["notes"] if n.startswith("the dictionary's words")]
    assert "association → 协会" in note
    # Chinese written in the question is the reports' wording: no dictionary then
    own = ask(assistant, "How many 体育协会 were added in Licheng in 2023?")
    assert "体育协会6个" in own["answer"]
    assert not any(n.startswith("the dictionary's words") for n in own["notes"])
