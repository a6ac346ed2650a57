"""English words to the corpus's Chinese words through CC-CEDICT."""

from rag.text.bilingual import render


def corpus(*words):
    """A corpus that writes ``words``, the earlier ones more often (lower idf)."""
    table = {w: 2.0 + i for i, w in enumerate(words)}
    return table.get


def forms(out):
    return {r.english: r.forms for r in out}


def test_a_phrase_glossed_whole_comes_before_its_words():
    got = forms(render(["raw", "coal"], corpus("原煤", "煤炭")))
    assert got == {"raw coal": ("原煤",)}


def test_only_words_the_corpus_writes_are_kept():
    assert forms(render(["jellyfish"], corpus("海蜇"))) == {"jellyfish": ("海蜇",)}
    assert render(["jellyfish"], corpus("生产总值")) == []


def test_of_equal_glosses_the_corpus_commoner_word_comes_first():
    assert forms(render(["airport"], corpus("机场", "空港")))["airport"][:2] == ("机场", "空港")
    assert forms(render(["airport"], corpus("空港", "机场")))["airport"][:2] == ("空港", "机场")


def test_a_word_glossed_only_as_a_verb_is_how_the_question_asks():
    assert render(["sell"], corpus("出售", "出卖", "销售")) == []


def test_plurals_possessives_and_hyphens():
    assert forms(render(["teahouses"], corpus("茶楼")))["teahouse"] == ("茶楼",)
    assert "lithium battery" in forms(render(["lithium-battery"], corpus("锂电池")))


def test_the_measure_words_a_noun_is_counted_in():
    from rag.text.bilingual import measure_words

    assert measure_words("households")[0] == "户"
    assert measure_words("beds") == ("张",)
    assert "头" in measure_words("pigs")
    assert measure_words("greenways") == ()
