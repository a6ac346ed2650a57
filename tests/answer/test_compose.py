"""Extractive answer layout: compare tables."""

from __future__ import annotations

from rag.answer.compose import Finding, compare_answer
from rag.index.catalog import DocRecord
from rag.models import ReportMeta


def doc(doc_id: str, city: str, year: int) -> DocRecord:
    meta = ReportMeta(title="政府工作报告", province="湖北省", city=city, level="city",
                      report_year=year)
    return DocRecord(doc_id, f"湖北省_{city}_{year}.txt", None, doc_id, "txt", "utf-8", meta,
                     "complete", 10, (year - 1,))


def finding(d: DocRecord, year: int, quote: str) -> Finding:
    return Finding(d, year, "review", quote, 0, len(quote))


def test_one_region_in_two_years_shows_the_year_in_each_row():
    a, b = doc("a", "武汉市", 2022), doc("b", "武汉市", 2023)
    ans = compare_answer("比较武汉市2021年和2022年的地区生产总值增速", "zh",
                         [[finding(a, 2021, "增长12%以上")], [finding(b, 2022, "增长4%")]])
    assert "| 湖北省武汉市（2021年） | “增长12%以上”[1] |" in ans.answer
    assert "| 湖北省武汉市（2022年） | “增长4%”[2] |" in ans.answer
    assert [i.entity for i in ans.items] == ["湖北省武汉市", "湖北省武汉市"]


def test_a_compared_region_without_a_statement_gets_a_row_without_a_citation():
    a, b = doc("a", "武汉市", 2023), doc("b", "宜昌市", 2023)
    ans = compare_answer("Compare GDP growth of Wuhan and Yichang in 2022", "en",
                         [[finding(a, 2022, "增长4%")]], [b])
    assert "| 湖北省武汉市 | “增长4%”[1] |" in ans.answer
    assert "| 湖北省宜昌市 | not stated in its report |" in ans.answer
    assert len(ans.citations) == 1 and [i.entity for i in ans.items] == ["湖北省武汉市"]
