"""Sentence evidence: the figure bound to the topic, and numeric conditions."""

import pytest

from rag.answer.evidence import Term, bound_value, meets


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


def test_above_counts_as_strictly_more():
    value = bound_value("事故起数连续三年下降幅度超30%", terms("事故", "起数"), "down")
    assert meets(value, (">", 30.0, "%"))
    assert not meets((30.0, "%"), (">", 30.0, "%"))
    assert meets((30.0, "%"), (">=", 30.0, "%"))
    assert not meets((7000.0, "亿"), (">=", 4.0, "%"))
    assert not meets(None, (">", 1.0, ""))
