"""Question normalisation: traditional characters (OpenCC), full-width forms, numbers."""

import pytest

from rag.text.normalize import normalize_question, to_simplified


@pytest.mark.parametrize("asked, read", [
    ("歷城區2023年新增綠化面積多少？", "历城区2023年新增绿化面积多少？"),
    ("和平区２０２２年新增就业多少人？", "和平区2022年新增就业多少人？"),
    ("新增就业超过４０，０００人", "新增就业超过40,000人"),
    ("more than forty thousand new jobs", "more than 40 thousand new jobs"),
    ("  Which   cities  ", "Which cities"),
])
def test_normalize_question(asked, read):
    assert normalize_question(asked) == read


def test_simplified_text_is_left_as_it_is():
    text = "全年安全生产事故起数、死亡人数分别下降22%、33%。"
    assert to_simplified(text) == text
