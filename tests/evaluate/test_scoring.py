"""Evaluators over the real sample reports, with hand-made answers good and bad."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.evaluate.dataset import parse_question
from rag.evaluate.scoring import numbers, score_answer, states, strip_markers

REPORTS = Path(__file__).resolve().parents[2] / "examples" / "reports"
HEPING = "002_11fb4cd1e17529ea.txt"  # 天津市和平区, 2023 report
SHUNHE = "004_c2261995aa5722eb.txt"
LICHENG = "000_a8555e4fddf26ffc.txt"
YINGZE = "003_6c455b50551dc8b5.txt"


def texts(source: str) -> str | None:
    path = REPORTS / source
    return path.read_bytes().decode("utf-8") if path.is_file() else None


def cite(n: int, source: str, quote: str) -> dict:
    text = texts(source)
    assert text is not None
    start = text.index(quote)
    return {
        "id": n,
        "source": source,
        "doc_id": source,
        "region": "r",
        "report_year": None,
        "covered_year": None,
        "section": "review",
        "quote": quote,
        "start": start,
        "end": start + len(quote),
    }


def answer(text: str, citations: list[dict], items: list[dict] | None = None, **kw) -> dict:
    return {
        "question": "q",
        "answer": text,
        "found": True,
        "mode": "extractive",
        "citations": citations,
        "items": items or [],
        **kw,
    }


LIST_Q = parse_question(
    {
        "id": "d01",
        "question": "2022年哪些区新增了学位？",
        "kind": "list",
        "expect": {"docs": [HEPING, SHUNHE]},
        "evidence": [
            {"doc": HEPING, "quote": "新增学位6300个"},
            {"doc": SHUNHE, "quote": "增加学位3566个"},
        ],
    }
)
FACT_Q = parse_question(
    {
        "id": "d02",
        "question": "和平区2022年新增就业多少人？",
        "kind": "fact",
        "expect": {"docs": [HEPING], "facts": ["2万"]},
        "evidence": [{"doc": HEPING, "quote": "新增就业2万人"}],
    }
)
NONE_Q = parse_question(
    {
        "id": "d06",
        "question": "陵城区2021年地区生产总值增速是多少？",
        "kind": "none",
        "expect": {},
        "evidence": [],
    }
)

C_HEPING = cite(1, HEPING, "新增学位6300个")
C_SHUNHE = cite(2, SHUNHE, "增加学位3566个")
C_LICHENG = cite(3, LICHENG, "新增绿色建筑530万平方米")


def good_list() -> dict:
    return answer(
        "2022年：\n1. 和平区新增学位6300个[1]\n2. 另一区增加学位3566个[2]",
        [C_HEPING, C_SHUNHE],
        [{"entity": "和平区", "citations": [1]}, {"entity": "另一区", "citations": [2]}],
    )


def test_good_list_answer_scores_one():
    s = score_answer(LIST_Q, good_list(), texts)
    assert s.score == 1.0
    assert s.scores["precision"] == s.scores["recall"] == 1.0
    assert s.scores["citation_validity"] == 1.0
    assert s.scores["number_grounding"] == 1.0
    assert s.scores["found_correct"] == 1.0
    assert s.issues == []


def test_list_wrong_report_is_scored_down():
    a = answer(
        "和平区[1]，历城区[3]",
        [C_HEPING, C_LICHENG],
        [{"entity": "和平区", "citations": [1]}, {"entity": "历城区", "citations": [3]}],
    )
    s = score_answer(LIST_Q, a, texts)
    assert s.scores["precision"] == 0.5 and s.scores["recall"] == 0.5
    assert s.score == pytest.approx(0.5)
    assert any(SHUNHE in i for i in s.issues) and any(LICHENG in i for i in s.issues)


def test_list_missing_item_lowers_recall_only():
    a = answer("和平区[1]", [C_HEPING], [{"entity": "和平区", "citations": [1]}])
    s = score_answer(LIST_Q, a, texts)
    assert s.scores["precision"] == 1.0 and s.scores["recall"] == 0.5
    assert s.score == pytest.approx(2 / 3)


def test_list_extra_item_lowers_precision_only():
    items = [{"entity": e, "citations": [i]} for e, i in (("和平", 1), ("x", 2), ("历城", 3))]
    s = score_answer(LIST_Q, answer("…", [C_HEPING, C_SHUNHE, C_LICHENG], items), texts)
    assert s.scores["recall"] == 1.0 and s.scores["precision"] == pytest.approx(2 / 3)


def test_optional_docs_are_neither_required_nor_penalised():
    expect = {"docs": [HEPING, SHUNHE], "optional_docs": [LICHENG]}
    q = parse_question({**LIST_Q.to_dict(), "expect": expect})
    items = [{"entity": e, "citations": [i]} for e, i in (("和平", 1), ("x", 2), ("历城", 3))]
    s = score_answer(q, answer("…", [C_HEPING, C_SHUNHE, C_LICHENG], items), texts)
    assert s.score == 1.0


def test_items_decide_the_reports_not_stray_citations():
    a = answer("和平区[1]", [C_HEPING, C_SHUNHE], [{"entity": "和平区", "citations": [1]}])
    assert score_answer(LIST_Q, a, texts).scores["recall"] == 0.5
    # without items, every citation counts
    assert score_answer(LIST_Q, answer("…", [C_HEPING, C_SHUNHE]), texts).score == 1.0


def test_not_found_list_answer_scores_zero():
    a = {**good_list(), "found": False}
    s = score_answer(LIST_Q, a, texts)
    assert s.score == 0.0 and s.scores["found_correct"] == 0.0


def test_invented_offsets_are_invalid():
    shifted = {**C_SHUNHE, "start": C_SHUNHE["start"] + 3, "end": C_SHUNHE["end"] + 3}
    s = score_answer(LIST_Q, answer("…", [C_HEPING, shifted]), texts)
    assert s.scores["citation_validity"] == 0.5
    assert any("[2]" in i for i in s.issues)

    beyond = {**C_SHUNHE, "start": 10_000, "end": 10_007}
    unknown = {**C_SHUNHE, "source": "nope.txt"}
    no_offsets = {**C_SHUNHE, "start": None}
    for bad in (beyond, unknown, no_offsets):
        assert score_answer(LIST_Q, answer("…", [bad]), texts).scores["citation_validity"] == 0.0


def test_quote_not_verbatim_is_invalid():
    # full-width digits: same characters to a reader, not the file's text
    rewritten = {**C_HEPING, "quote": "新增学位６３００个"}
    assert score_answer(LIST_Q, answer("…", [rewritten]), texts).scores["citation_validity"] == 0.0


def test_none_question():
    good = {"question": "q", "answer": "未找到。", "found": False, "citations": [], "items": []}
    assert score_answer(NONE_Q, good, texts).score == 1.0
    said_found = answer("陵城区2021年增长7%[1]", [cite(1, "001_0308ac578581e688.txt", "陵城区")])
    s = score_answer(NONE_Q, said_found, texts)
    assert s.score == 0.0 and s.scores["found_correct"] == 0.0
    # found true without a single citation is still a wrong answer
    bare = {"question": "q", "answer": "增速为7%。", "found": True, "citations": [], "items": []}
    assert score_answer(NONE_Q, bare, texts).score == 0.0
    # found false but still citing something is not a clean "no answer"
    assert score_answer(NONE_Q, {**said_found, "found": False}, texts).score == 0.0


def test_fact_answer():
    good = answer("和平区2022年新增就业2万人[1]。", [cite(1, HEPING, "新增就业2万人")])
    s = score_answer(FACT_Q, good, texts)
    assert s.score == 1.0 and s.scores["fact_cited"] == 1.0 and s.issues == []


def test_fact_in_text_but_not_in_a_quote_from_an_expected_report():
    # cited the expected report, but a quote that does not hold the fact
    other = answer("新增就业2万人[1]。", [cite(1, HEPING, "新增学位6300个")])
    s = score_answer(FACT_Q, other, texts)
    assert s.scores["fact_score"] == 0.0 and s.scores["fact_cited"] == 1.0
    # a quote holding "2万", but from a report the question is not about
    wrong_doc = answer("新增就业2万人[1]。", [cite(1, YINGZE, "基本建成2万余套")])
    s = score_answer(FACT_Q, wrong_doc, texts)
    assert s.scores["fact_score"] == 0.0 and s.scores["fact_cited"] == 0.0


def test_fact_not_stated_when_number_only_occurs_inside_another():
    a = answer("新增就业12万人[1]。", [cite(1, HEPING, "新增就业2万人")])
    assert score_answer(FACT_Q, a, texts).scores["fact_score"] == 0.0


def test_fact_matching_normalises_width_and_whitespace():
    a = answer("新增就业 ２万 人[1]", [cite(1, HEPING, "新增就业2万人")])
    assert score_answer(FACT_Q, a, texts).scores["fact_score"] == 1.0


def test_number_no_quote_holds_is_ungrounded():
    a = answer("新增就业2万人，其中高校毕业生5000人[1]。", [cite(1, HEPING, "新增就业2万人")])
    s = score_answer(FACT_Q, a, texts)
    assert s.scores["number_grounding"] == pytest.approx(0.5)
    assert any("5000" in i for i in s.issues)


def test_cited_report_names_are_labels_not_numbers():
    a = answer(f"（{HEPING}）新增就业2万人[1]", [cite(1, HEPING, "新增就业2万人")])
    assert score_answer(FACT_Q, a, texts).scores["number_grounding"] == 1.0
    # a report that is not cited is not a label the answer may use
    a = answer(f"（{SHUNHE}）新增就业2万人[1]", [cite(1, HEPING, "新增就业2万人")])
    assert score_answer(FACT_Q, a, texts).scores["number_grounding"] < 1.0


def test_retrieval_recall_and_mrr():
    h, s_ = C_HEPING, C_SHUNHE
    retrieved = [
        {"source": LICHENG, "start": 0, "end": 500, "rank": 1},
        {"source": SHUNHE, "start": s_["start"] - 10, "end": s_["end"] + 10, "rank": 2},
        # same offsets as the Heping quote, but another report
        {"source": LICHENG, "start": h["start"] - 5, "end": h["end"] + 5, "rank": 3},
        # a Heping chunk that stops one character short of the quote
        {"source": HEPING, "start": h["start"] - 50, "end": h["end"] - 1, "rank": 4},
    ] + [{"source": LICHENG, "start": 0, "end": 10, "rank": r} for r in range(5, 12)]
    retrieved.append({"source": HEPING, "start": h["start"], "end": h["end"], "rank": 12})
    s = score_answer(LIST_Q, {**good_list(), "retrieved": retrieved}, texts).scores
    assert s["recall@5"] == 0.5 and s["recall@10"] == 0.5 and s["recall@20"] == 1.0
    assert s["mrr"] == 0.5  # the first gold quote is at rank 2
    # no "retrieved" key: retrieval is not scored at all
    assert "mrr" not in score_answer(LIST_Q, good_list(), texts).scores


def test_numbers_and_markers():
    assert numbers("新增学位6,300个，占98.16%，2万人，1.50倍") == ["6300", "98.16", "2", "1.5"]
    assert numbers(strip_markers("1. 和平区[12]\n2) 河西区[1, 3]")) == []
    assert states("招聘活动215场", "215") and not states("招聘活动2150场", "215")
    assert not states("增长1.8%", "8%") and states("增长8%左右", "8%")
