"""The chat model's reading of a question: parsed strictly, merged only where the rules
read nothing, every part checked by the project's own code."""

import pytest

from rag.answer.llm_reading import merge_reading, parse_reading
from rag.ingest.regions import get_gazetteer
from rag.retrieve.places import Place, PlaceMatcher
from rag.retrieve.understand import understand

PLACES = PlaceMatcher([Place("和平区", "district"), Place("天津市", "city"),
                       Place("天津市", "province")], get_gazetteer())


def test_a_reading_is_parsed_with_its_condition_as_a_quantity():
    r = parse_reading('好的：{"places": ["和平区"], "years": [2022], "topic": "新增就业", '
                      '"condition": {"op": ">", "value": 2, "unit": "万人"}}')
    assert r.places == ["和平区"] and r.years == [2022] and r.topic == "新增就业"
    assert r.condition.op == ">" and r.condition.quantity.value == 20000


@pytest.mark.parametrize("reply", [
    "没有", '{"places": "和平区"}', '{"years": [22]}', '{"topic": 3}', "[1, 2]",
])
def test_malformed_readings_are_refused(reply):
    with pytest.raises(ValueError):
        parse_reading(reply)


def test_a_condition_with_an_unknown_operator_is_dropped():
    r = parse_reading('{"places": [], "years": [], "topic": "x", '
                      '"condition": {"op": "between", "value": 2, "unit": "%"}}')
    assert r.condition is None


def test_the_reading_fills_only_what_the_rules_lack():
    spec = understand("What did they do about ageing gas pipes?", PLACES)
    reading = parse_reading('{"places": ["和平区"], "years": [2022], "topic": "燃气管网改造", '
                            '"condition": null}')
    corpus = {"燃气", "改造", "管网"}  # the reports' words: not 气管, not 燃气管
    taken = merge_reading(spec, reading, PLACES, corpus.__contains__)
    assert [m.place.name for m in spec.mentions] == ["和平区"] and spec.years == [2022]
    assert spec.terms == ["燃气", "改造"] == spec.translated
    assert len(taken) == 3


def test_a_reading_never_overrides_the_rules():
    spec = understand("和平区2021年新增就业多少人？", PLACES)
    reading = parse_reading('{"places": ["历城区"], "years": [2019], "topic": "学位", '
                            '"condition": null}')
    assert merge_reading(spec, reading, PLACES, lambda word: True) == []
    assert spec.years == [2021] and [m.place.name for m in spec.mentions] == ["和平区"]
    assert "学位" not in spec.terms
