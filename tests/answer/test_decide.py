"""The decision rule: about the topic (by words or meaning), the change asked, the figure
asked and its condition."""

from rag.answer.decide import accepts
from rag.answer.evidence import Evidence
from rag.answer.figures import Figure
from rag.retrieve.spec import Form, Mode, QuestionSpec
from rag.text.quantities import Condition, read_quantity


def q(written):
    return read_quantity(written, 0)[0]


def spec(**fields) -> QuestionSpec:
    base = dict(text="q", normalized="q", lang="zh", form=Form.LIST, mode=Mode.ACHIEVED,
                terms=["学位"])
    base.update(fields)
    return QuestionSpec(**base)


def ev(coverage=1.0, semantic=None, direction=True, number=True, figure=None, local=1.0,
       quote="新增学位6300个") -> Evidence:
    fig = Figure(q(figure), 0, len(quote)) if figure else None
    return Evidence("d", 0, len(quote), quote, coverage, direction, number, 0.0, coverage, fig,
                    local_coverage=local, semantic=semantic)


def test_meaning_alone_may_carry_a_sentence_without_the_words():
    assert accepts(ev(coverage=0.0, semantic=0.9), spec(), 0.75)
    assert not accepts(ev(coverage=0.0, semantic=0.5), spec(), 0.75)


def test_where_the_reports_use_the_questions_words_a_sentence_must_too():
    assert not accepts(ev(coverage=0.0, semantic=0.95), spec(), 0.75, words=True)
    assert accepts(ev(coverage=1.0, semantic=0.1), spec(), 0.75, words=True)


def test_some_of_the_words_count_only_as_far_as_the_meaning_agrees():
    # "农村劳动力转移就业" has 就业 of "城镇新增就业" and means something else
    assert not accepts(ev(coverage=0.8, semantic=0.1), spec(), 0.75)
    assert accepts(ev(coverage=0.8, semantic=0.7), spec(), 0.75)


def test_the_change_asked_must_be_stated():
    assert not accepts(ev(direction=False), spec(direction="down"), 0.75)
    # "how many … were built": a count needs no word of increase
    count = spec(form=Form.FACT, direction="up", numeric=True, count=True)
    assert accepts(ev(direction=False, figure="383个"), count, 0.5)


def test_a_figure_asked_must_be_the_topics_own():
    assert not accepts(ev(figure=None), spec(numeric=True), 0.75)
    assert accepts(ev(figure="6300个"), spec(numeric=True), 0.75)
    assert not accepts(ev(number=False), spec(numeric=True), 0.75)


def test_a_condition_is_checked_on_the_figure_in_a_clause_about_the_topic():
    over = spec(numeric=True, condition=Condition(">", q("5000个")))
    assert accepts(ev(figure="6300个"), over, 0.75)
    assert not accepts(ev(figure="3566个"), over, 0.75)
    assert not accepts(ev(figure="6300个", local=0.2), over, 0.75)


def test_a_clause_short_of_the_words_is_about_the_topic_when_its_meaning_is():
    # "港口货物吞吐量6847万吨" for "ports handled … cargo": 港口 of 港口·货运, and meant
    over = spec(numeric=True, condition=Condition(">", q("5000万吨")), terms=["港口", "货运"])

    def clause(semantic=0.89, figure="6847万吨", plain=True):
        e = ev(coverage=0.46, semantic=semantic, figure=figure, local=0.46)
        e.plain_anchor = plain
        return e

    assert accepts(clause(), over, 0.75)
    assert not accepts(clause(semantic=0.4), over, 0.75)
    # the figure must still be the topic's own, bound to a whole word of it
    assert not accepts(clause(figure=None, plain=False), over, 0.75)
    assert not accepts(clause(plain=False), over, 0.75)


def test_a_mention_needs_the_topic_as_asked():
    asked = spec(mode=Mode.MENTIONED, terms=["低空", "经济"], normalized="哪些城市提到了低空经济")
    assert accepts(ev(quote="大力发展低空经济"), asked, 0.75)
    assert not accepts(ev(quote="发展经济，开辟低空航线"), asked, 0.75)


def test_things_made_are_stated_by_their_count_whatever_the_verb():
    asked = spec(direction="up", creation=True)
    built = Evidence("d", 0, 13, "筹集保障性租赁住房6036套", 1.0, False, True, 0.0, 1.0,
                     made=True)
    assert accepts(built, asked, 0.75)
    # a change asked ("增长了") still needs its word, and so does a made thing with no count
    assert not accepts(built, spec(direction="up"), 0.75)  # (made is read only if asked)
    unmade = Evidence("d", 0, 12, "“口袋公园”建设走在全市前列", 1.0, False, False, 0.0, 1.0)
    assert not accepts(unmade, asked, 0.75)


def test_a_parts_rate_is_not_the_wholes_but_its_count_bounds_the_whole_from_below():
    growth = spec(terms=["出口"], numeric=True, condition=Condition(">", q("15%")))
    part = ev(figure="98%", quote="跨境电商出口额增长98%")
    whole = ev(figure="17.8%", quote="出口总额增长17.8%")
    assert accepts(whole, growth, 0.75)
    assert accepts(part, growth, 0.75)
    part.qualifier = "跨境电商"
    assert not accepts(part, growth, 0.75)
    places = spec(numeric=True, condition=Condition(">", q("1000个")))
    public = ev(figure="2000个", quote="新增公办幼儿园学位2000个")
    public.qualifier = "公办幼儿园"
    assert accepts(public, places, 0.75)
    assert not accepts(public, spec(numeric=True, condition=Condition("<", q("3000个"))), 0.75)
