"""Sections partition the body and say which years each part talks about."""

from pathlib import Path

import pytest
from support import CITIES, line_blocks
from support import REPORTS as EXAMPLES

from rag.ingest.meta import extract_meta
from rag.ingest.sections import covered_year_for, tag_sections
from rag.models import SECTION_KINDS


def sections_of(path: Path):
    text = path.read_text(encoding="utf-8")
    blocks = line_blocks(text)
    meta = extract_meta(text, blocks, path.name)
    return text, blocks, tag_sections(text, blocks, meta.report_year)


def section_at(text, sections, phrase):
    pos = text.index(phrase)
    (sec,) = [s for s in sections if s.start <= pos < s.end]
    return sec


CASES = [
    (EXAMPLES / "003_6c455b50551dc8b5.txt", "全区旅游总收入达到137.6亿元", {"review"},
     2017, 2017),
    (EXAMPLES / "003_6c455b50551dc8b5.txt", "全区地区生产总值增长8%左右", {"targets", "plan"},
     2018, 2018),
    (EXAMPLES / "003_6c455b50551dc8b5.txt", "“嵌入式”居家养老模式:即", {"annex"}, None, None),
    (EXAMPLES / "003_6c455b50551dc8b5.txt", "现在,我代表区人民政府", {"other"}, None, None),
    (EXAMPLES / "000_a8555e4fddf26ffc.txt", "全年安全生产事故起数、死亡人数分别下降22%、33%",
     {"review"}, 2023, 2023),
    (EXAMPLES / "001_0308ac578581e688.txt", "事故起数和死亡人数实现双下降", {"review"}, 2022, 2022),
    (EXAMPLES / "001_0308ac578581e688.txt", "做好2023年政府工作", {"plan"}, 2023, 2023),
    (EXAMPLES / "002_11fb4cd1e17529ea.txt", "完成20项民心工程", {"review"}, 2022, 2022),
    (EXAMPLES / "004_c2261995aa5722eb.txt", "空气优良天数303天", {"review"}, 2022, 2022),
    (CITIES / "province/四川省_2023.txt", "过去五年，面对世所罕见", {"review_multi"}, 2018, 2022),
    (CITIES / "province/四川省_2023.txt", "全省经济社会发展主要预期目标是", {"targets"},
     2023, 2023),
    (CITIES / "city/安徽省_池州市_2021.txt", "——过去的五年，经济总量迈上新台阶",
     {"review_multi"},
     2016, 2020),
    (CITIES / "city/云南省_临沧市_2021.txt", "二、“十四五”时期的目标任务", {"plan"}, 2021, 2025),
    (CITIES / "city/云南省_临沧市_2021.txt", "“三品一标”：无公害", {"annex"}, None, None),
    (CITIES / "city/西藏自治区_那曲市_2023.txt", "2022年工作", {"review"}, 2022, 2022),
    (CITIES / "national/全国_国务院_2020.txt", "国内生产总值达到99.1万亿元", {"review"},
     2019, 2019),
]


@pytest.mark.parametrize(("path", "phrase", "kinds", "lo", "hi"), CASES,
                         ids=lambda v: v.name if isinstance(v, Path) else None)
def test_section_kind_and_years(path, phrase, kinds, lo, hi):
    if not path.exists():
        pytest.skip(f"{path} not present")
    text, _, sections = sections_of(path)
    sec = section_at(text, sections, phrase)
    assert sec.kind in kinds
    assert (sec.covered_from, sec.covered_to) == (lo, hi)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.txt")), ids=lambda p: p.name)
def test_sections_cover_every_block_in_order(path):
    text, blocks, sections = sections_of(path)
    assert all(s.kind in SECTION_KINDS for s in sections)
    assert all(a.end <= b.start for a, b in zip(sections, sections[1:], strict=False))
    for start, end in blocks:
        assert any(s.start <= start and end <= s.end for s in sections)


def test_003_has_review_plan_targets_annex_in_order():
    _, _, sections = sections_of(EXAMPLES / "003_6c455b50551dc8b5.txt")
    kinds = [s.kind for s in sections]
    assert kinds.index("review") < kinds.index("plan") < kinds.index("targets") \
        < kinds.index("annex")


def test_noise_between_blocks_splits_sections():
    text = "过去一年，我们建成了项目。\nNOISE\n过去一年，我们完成了任务。\n"
    blocks = [(0, 13), (20, 33)]
    sections = tag_sections(text, blocks, 2020)
    assert [(s.kind, s.covered_from) for s in sections] == [("review", 2019)] * 2
    assert "NOISE" not in text[sections[0].start:sections[0].end]


def test_no_blocks_means_whole_text():
    text = "各位代表：\n今年是关键之年。要加快发展。\n"
    sections = tag_sections(text, [], 2021)
    assert sections[0].start == 0 and sections[-1].end == len(text)
    assert sections[-1].kind == "plan" and covered_year_for(sections[-1]) == 2021


def test_a_review_may_open_after_a_rhetorical_sentence():
    text = ("过去五年工作回顾\n这五年，我们攻坚克难。\n"
            "各位代表。星光不负赶路人，江河眷顾奋楫者。刚刚过去的2021年，我们完成了任务。\n"
            "预计地区生产总值增长12%。\n")
    sections = tag_sections(text, [], 2022)
    last = [s for s in sections if "12%" in text[s.start:s.end]][0]
    assert (last.kind, last.covered_from, last.covered_to) == ("review", 2021, 2021)


def test_targets_announced_at_the_end_of_a_paragraph_are_the_lines_after_it():
    text = ("今后五年目标任务\n今后五年，要建设现代化城市。\n"
            "完成未来五年发展目标，今年至关重要。我们要真抓实干，全面掀起干事创业新热潮。"
            "综合各方面因素，2022年全市经济社会发展主要预期目标是：\n"
            "地区生产总值增长8.5%，规模以上工业增加值增长12%；\n")
    sections = tag_sections(text, [], 2022)
    last = [s for s in sections if "8.5%" in text[s.start:s.end]][0]
    assert (last.kind, last.covered_from, last.covered_to) == ("targets", 2022, 2022)


def test_a_heading_run_into_its_paragraph_still_opens_its_part():
    # the line break after "一、2022年工作回顾" was lost in the source
    text = ("各位代表：\n"
            "一、2022年工作回顾过去的一年，极不平凡。全市地区生产总值增长4%。\n"
            "二、2023年工作安排今年是全面贯彻落实党的二十大精神的开局之年。要加快发展。\n"
            "三、全力推进乡村振兴。今年要新建高标准农田10万亩。\n")
    sections = tag_sections(text, [], 2023)
    review = section_at(text, sections, "全市地区生产总值增长4%")
    plan = section_at(text, sections, "要加快发展")
    assert (review.kind, review.covered_from) == ("review", 2022)
    assert (plan.kind, plan.covered_from) == ("plan", 2023)
    assert section_at(text, sections, "新建高标准农田").kind == "plan"
