"""Validation of written answers: pure functions, no model."""

from __future__ import annotations

import pytest

from rag.answer.validate import (
    citation_ids,
    numbers_in,
    renumber,
    sentences,
    strip_citations,
    validate_answer,
)
from rag.models import Citation

HEPING = Citation(1, "002_11fb4cd1e17529ea.txt", "d2", "天津市和平区", 2023, 2022, "review",
                  "新增学位6300个,", 590, 600)
OTHER = Citation(2, "004_c2261995aa5722eb.txt", "d4", "（区名未写明，004_c2261995aa5722eb.txt）",
                 2023, 2022, "review", "增加学位3566个,九年义务教育巩固率达98.8%。", 1098, 1170)
JOBS = Citation(3, "002_11fb4cd1e17529ea.txt", "d2", "天津市和平区", 2023, 2022, "review",
                "新增就业2万人。", 470, 480)
CITES = [HEPING, OTHER, JOBS]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("和平区[1]", [1]),
        ("两区[1][2]", [1, 2]),
        ("两区[1,2]、[2，3]", [1, 2, 3]),
        ("和平区【1】与［2］", [1, 2]),
        ("见[2-4]", [2, 3, 4]),
        ("先[2]后[1]再[2]", [2, 1]),
        ("no markers, 6300 and (1)", []),
    ],
)
def test_citation_ids(text: str, ids: list[int]) -> None:
    assert citation_ids(text) == ids


def test_strip_citations() -> None:
    text = "新增学位6300个[1]，增加3566个【2】[1, 3]。"
    assert strip_citations(text) == "新增学位6300个，增加3566个。"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("新增学位6300个", ["6300"]),
        ("增长1.5个百分点", ["1.5"]),
        ("巩固率98.16%", ["98.16%"]),
        ("增加学位3,566个", ["3566"]),
        ("新增就业2万人", ["20000"]),
        ("旅游总收入137.6亿元", ["13760000000"]),
        ("２０２２年", ["2022"]),
        ("增速1.50％", ["1.5%"]),
        ("新增学位6300个[1]", ["6300"]),
        ("五所学校", []),
        ("13.76 billion yuan, 98.8 percent", ["13760000000", "98.8%"]),
        ("20 thousand jobs, 12 millionaires", ["20000", "12"]),
    ],
)
def test_numbers_in(text: str, numbers: list[str]) -> None:
    assert numbers_in(text) == numbers


def test_numbers_in_ungrouped_reads_clause_commas() -> None:
    assert numbers_in("项目5,300人") == ["5300"]
    assert numbers_in("项目5,300人", grouped=False) == ["5", "300"]


def test_sentences_keep_markers_after_the_full_stop_and_rejoin() -> None:
    text = "和平区新增学位6300个。[1]另一区“增加学位3566个。”[2]\n- 1. 小结 3.5 万人[3]. Done."
    parts = sentences(text)
    assert "".join(parts) == text
    assert parts[0] == "和平区新增学位6300个。[1]"
    assert parts[1] == "另一区“增加学位3566个。”[2]"


def test_valid_answer_is_kept_as_written() -> None:
    text = "2022年，和平区新增学位6300个[1]，另一区增加学位3,566个[2]。"
    clean, kept, notes = validate_answer(text, CITES)
    assert clean == text
    assert kept == [1, 2]
    assert notes == []


def test_marker_pointing_nowhere_is_removed() -> None:
    clean, kept, notes = validate_answer("和平区新增学位6300个[1][9]。", CITES)
    assert clean == "和平区新增学位6300个[1]。"
    assert kept == [1]
    assert "[9]" in notes[0]


def test_invented_number_drops_its_sentence() -> None:
    text = "和平区新增学位6300个[1]。两区合计新增9866个[1][2]。"
    clean, kept, notes = validate_answer(text, CITES)
    assert clean == "和平区新增学位6300个[1]。"
    assert kept == [1]
    assert any("9866" in n for n in notes)


def test_number_must_be_in_the_quote_that_the_sentence_cites() -> None:
    # 3566 is in quote [2], but this sentence cites [1] only.
    clean, kept, _ = validate_answer("和平区增加学位3566个[1]。另一区增加学位3566个[2]。", CITES)
    assert clean == "另一区增加学位3566个[2]。"
    assert kept == [2]


def test_unmarked_sentence_may_use_any_kept_quote() -> None:
    text = "和平区新增学位6300个[1]。这6300个学位分布在全区。"
    clean, kept, _ = validate_answer(text, CITES)
    assert clean == text
    # ... but not a quote that only a dropped sentence cited.
    clean, kept, _ = validate_answer("新增学位7000个[1]。其中学位6300个。", CITES)
    assert clean == ""
    assert kept == []


def test_numbers_compare_by_value_and_percent() -> None:
    clean, _, _ = validate_answer("和平区新增就业20000人[3]，巩固率98.8%[2]。", CITES)
    assert "20000" in clean
    clean, _, _ = validate_answer("巩固率98.8[2]。", CITES)
    assert clean == "巩固率98.8[2]。"
    clean, _, _ = validate_answer("和平区新增学位6300%[1]。", CITES)
    assert clean == ""


def test_years_of_passage_metadata_and_names_are_not_figures() -> None:
    text = "2022年，（区名未写明，004_c2261995aa5722eb.txt）增加学位3566个[2]。"
    assert validate_answer(text, CITES)[0] == text
    # A year the passages never showed is a claim like any number.
    assert validate_answer("2019年和平区新增学位6300个[1]。", CITES)[0] == ""


def test_list_enumerators_are_not_figures() -> None:
    text = "1. 和平区：新增学位6300个[1]\n2. 另一区：增加学位3566个[2]"
    clean, kept, _ = validate_answer(text, CITES)
    assert clean == text
    assert kept == [1, 2]


def test_dropped_line_leaves_no_gap() -> None:
    text = "- 和平区：新增学位6300个[1]\n- 某区：新增学位8000个[2]\n- 另一区：增加学位3566个[2]"
    clean, kept, _ = validate_answer(text, CITES)
    assert clean == "- 和平区：新增学位6300个[1]\n- 另一区：增加学位3566个[2]"


def test_repeated_lines_are_removed() -> None:
    line = "- 和平区：新增学位6300个[1]"
    clean, kept, notes = validate_answer("\n".join([line, line, "", "", line]), CITES)
    assert clean == line
    assert notes == ["removed 2 repeated lines"]


def test_nothing_checkable_gives_no_ids() -> None:
    assert validate_answer("报告显示学位有所增加。", CITES)[1] == []
    assert validate_answer("", CITES) == ("", [], [])


def test_renumber() -> None:
    assert renumber("甲[2]，乙[1][2]，丙[3]。", {2: 1, 1: 2}) == "甲[1]，乙[2][1]，丙。"
