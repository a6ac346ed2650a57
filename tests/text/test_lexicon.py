"""The lexicon file: loaded once, checked, and the one source of each word list."""

import json

import pytest

from rag.errors import ConfigError
from rag.text.lexicon import DATA, SECTION_KINDS, lexicon, load_lexicon


def test_the_shipped_lexicon_loads_and_names_every_section():
    lex = lexicon()
    assert set(lex.sections) == set(SECTION_KINDS)
    assert lex.section_short("review_multi") == "五年回顾"
    assert lex.directions_en["cut"] == "down"
    assert lex.cue("list", "Which districts cut safety accidents?")
    assert lex.other_forms("gdp") == ("地区生产总值", "生产总值")


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d["cues"].pop("plan"), "cues.plan"),
    (lambda d: d["cues"].__setitem__("list", "(unclosed"), "does not compile"),
    (lambda d: d["directions"]["zh"].__setitem__("up", []), "directions.zh.up"),
    (lambda d: d["sections"].pop("annex"), "sections"),
    (lambda d: d["conditions"].__setitem__("=>", {"before": ["x"]}), "unknown operator"),
])
def test_a_broken_lexicon_says_what_is_wrong(tmp_path, break_it, message):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    break_it(data)
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_lexicon(path)
