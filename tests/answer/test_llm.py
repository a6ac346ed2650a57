"""The LLM steps with LangChain's fake chat models: prompts, judging, checked rewriting."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage
from langchain_openai import ChatOpenAI

from rag.answer.evidence import Evidence
from rag.answer.figures import Figure
from rag.answer.llm import (
    FALLBACK_NOTE,
    INVALID_NOTE,
    ChatLLM,
    judge_reports,
    load_prompt,
    make_chat_model,
    parse_judgement,
    render_prompt,
    rewrite_with_llm,
)
from rag.config import LLMSettings
from rag.errors import ConfigError
from rag.index.catalog import DocRecord
from rag.models import Answer, Citation, Item, ReportMeta
from rag.retrieve.search import Candidate
from rag.retrieve.spec import Form, Mode, QuestionSpec
from rag.text.quantities import Condition, read_quantity


def spec(text: str, **fields) -> QuestionSpec:
    return QuestionSpec(text=text, normalized=text, lang="zh", form=Form.LIST,
                        mode=Mode.ACHIEVED, years=[2022], terms=["学位"], **fields)


def quantity(written: str):
    return read_quantity(written, 0)[0]


SPEC = spec("2022年哪些区新增了学位？", direction="up")
NUMERIC = spec("2022年哪些区新增学位多少个？", numeric=True)


def doc(doc_id: str, district: str) -> DocRecord:
    meta = ReportMeta(province="天津市", city="天津市", district=district, level="district",
                      report_year=2023)
    return DocRecord(doc_id, f"{doc_id}.txt", None, "h", "txt", "utf-8", meta, "complete", 1,
                     (2022,))


def ev(doc_id: str, quote: str, coverage: float = 1.0, number: bool = True,
       direction: bool = True, value: str | None = None) -> Evidence:
    figure = Figure(quantity(value), 0, len(quote)) if value else None
    return Evidence(doc_id, 0, len(quote), quote, coverage, direction, number, 0.0, coverage,
                    figure, local_coverage=coverage)


def citation(i: int, quote: str, region: str = "天津市和平区") -> Citation:
    return Citation(i, f"00{i}.txt", f"d{i}", region, 2023, 2022, "review", quote, 10 * i,
                    10 * i + len(quote))


def extractive(kind: str = "list") -> Answer:
    cits = [citation(1, "新增学位6300个,"), citation(2, "增加学位3566个,", "天津市东丽区"),
            citation(3, "新增就业2万人。")]
    items = [Item("天津市和平区", [1, 3]), Item("天津市东丽区", [2])]
    return Answer(SPEC.text, "（摘录式回答）\n- 和平区：“新增学位6300个,”[1]", True, "extractive",
                  cits, items, kind=kind)


def fake(*replies: str, sleep: float | None = None) -> FakeListChatModel:
    return FakeListChatModel(responses=list(replies), sleep=sleep)


# -- prompts


def test_prompts_fill_every_placeholder() -> None:
    judge = load_prompt("judge_report", question="问", requirement="要", report="报",
                        sentences="1. 句")
    assert "问" in judge and "{{" not in judge and '{"match": true' in judge
    answer = load_prompt("answer", question="问", passages="[1] 甲", kind_name="列举",
                         language="中文")
    assert "[1] 甲" in answer and "{{" not in answer


def test_prompt_placeholders_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.md"
    path.write_text("问题：{{question}}，{{ year }}", encoding="utf-8")
    assert render_prompt(path, {"question": "q", "year": 2022}) == "问题：q，2022"
    with pytest.raises(ConfigError, match=r"no value given for \{\{year\}\}"):
        render_prompt(path, {"question": "q"})
    with pytest.raises(ConfigError, match="no placeholder for extra"):
        render_prompt(path, {"question": "q", "year": 1, "extra": 2})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_prompt("no-such-prompt")


def test_make_chat_model() -> None:
    settings = LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout=7,
                           max_concurrency=3, context_tokens=900)
    chat = make_chat_model(settings)
    assert isinstance(chat.model, ChatOpenAI)
    assert chat.model.max_retries == 1
    assert chat.model.openai_api_key is not None
    assert chat.model.openai_api_key.get_secret_value() == "none"
    assert (chat.timeout, chat.max_concurrency, chat.context_tokens) == (7, 3, 900)
    assert chat.token_limit == "max_tokens"
    openai = make_chat_model(LLMSettings(base_url="https://api.openai.com/v1", api_key="k"))
    assert openai.token_limit == "max_completion_tokens"
    with pytest.raises(ConfigError):
        make_chat_model(LLMSettings())


# -- judging list questions


@pytest.mark.parametrize(
    ("reply", "pick"),
    [
        ('{"match": true, "sentence": 2}', 2),
        ('```json\n{"match": true, "sentence": 1}\n```', 1),
        ('{"match": false, "sentence": null}', None),
        ('{"match": false}', None),
    ],
)
def test_parse_judgement(reply: str, pick: int | None) -> None:
    assert parse_judgement(reply, 3) == pick


@pytest.mark.parametrize(
    "reply",
    ["yes, sentence 2", '{"match": "yes", "sentence": 2}', '{"match": true, "sentence": 4}',
     '{"match": true, "sentence": "2"}', '{"match": true, "sentence": true}',
     '{"match": true, "sentence": 1} {"match": false}', "{not json}"],
)
def test_parse_judgement_rejects_malformed(reply: str) -> None:
    with pytest.raises(ValueError):
        parse_judgement(reply, 3)


def shortlist():
    a, b, c = doc("a", "和平区"), doc("b", "东丽区"), doc("c", "河西区")
    return [
        (Candidate(a, 2022, []),
         [ev("a", "推进学位建设。", number=False), ev("a", "新增学位6300个,", value="6300个")]),
        (Candidate(b, 2022, []), [ev("b", "增加学位3566个,", value="3566个")]),
        (Candidate(c, 2022, []), [ev("c", "学位", coverage=0.2)]),
    ]


def test_judge_reports_follows_the_model() -> None:
    model = fake('{"match": true, "sentence": 2}', '{"match": false, "sentence": null}')
    decided = judge_reports(ChatLLM(model, max_concurrency=1), SPEC, shortlist())
    assert decided[("a", 2022)].quote == "新增学位6300个,"
    assert decided[("b", 2022)] is None  # the extractive rule would have said yes
    assert decided[("c", 2022)] is None  # too weak to ask about
    assert decided.notes == []


def test_judge_reports_falls_back_to_the_rule_on_malformed_replies() -> None:
    model = fake("当然，第二句。", '{"match": true, "sentence": 9}')
    decided = judge_reports(ChatLLM(model, max_concurrency=1), SPEC, shortlist())
    # The rule: enough coverage, right direction (numbers not needed here): first sentence.
    assert decided[("a", 2022)].quote == "推进学位建设。"
    assert decided[("b", 2022)].quote == "增加学位3566个,"
    assert decided.notes == ["LLM judge unusable for 2 of 2 reports: extractive rule used"]


def test_judge_numeric_pick_must_hold_a_number() -> None:
    model = fake('{"match": true, "sentence": 1}')
    decided = judge_reports(ChatLLM(model, max_concurrency=1), NUMERIC, shortlist()[:1])
    assert decided[("a", 2022)].quote == "新增学位6300个,"  # the rule's pick, with a number


def test_judge_pick_must_meet_the_condition_asked() -> None:
    over = spec("2022年哪些区新增学位超过5000个？", numeric=True,
                condition=Condition(">", quantity("5000个")))
    model = fake('{"match": true, "sentence": 1}')
    decided = judge_reports(ChatLLM(model, max_concurrency=1), over, shortlist()[:2])
    assert decided[("a", 2022)].quote == "新增学位6300个,"  # the rule's pick: 6300 > 5000
    assert decided[("b", 2022)] is None  # the model said yes to 3566


def test_judge_reports_times_out_to_the_rule() -> None:
    model = fake('{"match": false, "sentence": null}', sleep=2.0)
    decided = judge_reports(ChatLLM(model, timeout=0.2, max_concurrency=2), SPEC, shortlist())
    assert decided[("b", 2022)].quote == "增加学位3566个,"
    assert "2 of 2" in decided.notes[0]


def test_judge_reports_survives_a_failing_model() -> None:
    model = GenericFakeChatModel(messages=iter([]))  # raises on the first call
    decided = judge_reports(ChatLLM(model), SPEC, shortlist()[1:2])
    assert decided[("b", 2022)].quote == "增加学位3566个,"


# -- rewriting the answer


def test_rewrite_keeps_checked_text_and_renumbers() -> None:
    reply = "2022年，东丽区增加学位3566个[2]，和平区新增学位6300个[1]。"
    out = rewrite_with_llm(fake(reply), SPEC, extractive())
    assert out.mode == "llm"
    assert out.answer.endswith("2022年，东丽区增加学位3566个[1]，和平区新增学位6300个[2]。")
    assert [(c.id, c.quote) for c in out.citations] == [(1, "增加学位3566个,"),
                                                        (2, "新增学位6300个,")]
    assert [(i.entity, i.citations) for i in out.items] == [("天津市和平区", [2]),
                                                            ("天津市东丽区", [1])]
    assert out.notes == []


def test_rewrite_drops_invented_numbers_and_bad_markers() -> None:
    reply = ("和平区新增学位6300个[1][7]。东丽区增加学位3566个[2]。"
             "两区合计新增学位9866个[1][2]。")
    out = rewrite_with_llm(fake(reply), SPEC, extractive())
    assert "9866" not in out.answer and "[7]" not in out.answer
    assert any("9866" in n for n in out.notes)
    assert any("[7]" in n for n in out.notes)
    assert [c.id for c in out.citations] == [1, 2]


def test_rewrite_adds_back_reports_the_model_left_out() -> None:
    out = rewrite_with_llm(fake("东丽区增加学位3566个[2]。"), SPEC, extractive())
    assert out.mode == "llm"
    assert "**天津市和平区**：“新增学位6300个,”[2]；“新增就业2万人。”[3]" in out.answer
    assert [i.entity for i in out.items] == ["天津市和平区", "天津市东丽区"]
    assert any("left out 1" in n for n in out.notes)


def test_rewrite_of_a_comparison_keeps_every_region() -> None:
    out = rewrite_with_llm(fake("和平区新增学位6300个[1]。"), SPEC, extractive("compare"))
    assert [i.entity for i in out.items] == ["天津市和平区", "天津市东丽区"]
    assert "**天津市东丽区**：“增加学位3566个,”[2]" in out.answer


def test_rewrite_that_echoes_the_prompt_falls_back() -> None:
    echo = ("你根据政府工作报告的原文摘录回答问题。\n"
            "[1] 天津市和平区｜2023年报告｜所述年份：2022年｜工作回顾\n"
            " 2023年报告｜所述年份：2022年｜工作回顾 [2]")
    out = rewrite_with_llm(fake(echo), SPEC, extractive())
    assert out.mode == "extractive"
    assert out.notes[0] == "removed 3 lines that repeat the prompt"
    assert out.notes[-1] == INVALID_NOTE


def test_rewrite_with_nothing_checkable_falls_back() -> None:
    original = extractive("fact")
    out = rewrite_with_llm(fake("学位增加了很多，约一万个。"), SPEC, original)
    assert out.mode == "extractive" and out.answer == original.answer
    assert out.citations == original.citations
    assert out.notes[-1] == INVALID_NOTE


@pytest.mark.parametrize(
    "model",
    [GenericFakeChatModel(messages=iter([])), FakeListChatModel(responses=["x"], sleep=2.0),
     GenericFakeChatModel(messages=iter([AIMessage(content="")]))],
    ids=["error", "timeout", "empty"],
)
def test_rewrite_falls_back_when_the_model_fails(model) -> None:
    original = extractive()
    out = rewrite_with_llm(ChatLLM(model, timeout=0.3), SPEC, original)
    assert out.mode == "extractive" and out.answer == original.answer
    assert out.notes[-1].startswith(FALLBACK_NOTE)


def test_rewrite_shows_only_what_fits_the_context() -> None:
    long = [citation(i, f"第{i}条：" + "新增学位建设项目扎实推进" * 20) for i in range(1, 30)]
    original = Answer(SPEC.text, "x", True, "extractive", long, [], kind="fact")
    model = fake("第1条说明学位增加[1]。第29条也是[29]。")
    out = rewrite_with_llm(ChatLLM(model, context_tokens=800), SPEC, original)
    assert [c.quote for c in out.citations] == [long[0].quote]
    assert any("did not fit" in n for n in out.notes)
