"""The optional chat model: per-report decisions for list questions, and a checked rewrite.

The model never adds a source. It decides among sentences already found, and it rewrites an
answer whose citations are already fixed; what it writes is validated
(:mod:`rag.answer.validate`) and whatever fails, times out or cannot be parsed falls back to
the extractive path, with a note.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from rag.answer.compose import entity_name
from rag.answer.decide import accepts
from rag.answer.evidence import Evidence
from rag.answer.validate import renumber, validate_answer
from rag.config import AnswerSettings, LLMSettings
from rag.errors import ConfigError, LLMError
from rag.models import Answer, Citation, Item
from rag.retrieve.search import Candidate
from rag.retrieve.spec import QuestionSpec
from rag.text.lexicon import lexicon
from rag.tokens import count_tokens

log = logging.getLogger(__name__)

PROMPT_DIR = Path(__file__).resolve().parents[2] / "prompts"
JUDGE_MAX_TOKENS = 40
ANSWER_MAX_TOKENS = 1024
# A report whose best sentence states less than this share of the topic is not worth a call.
JUDGE_MIN_COVERAGE = 0.5
FALLBACK_NOTE = "LLM unavailable: extractive answer"
INVALID_NOTE = "LLM answer failed validation: extractive answer"
LLM_LABEL = {
    "zh": "（模型依据下列引文写成的回答：引文为报告原文，文中数字均已与所引原文核对）",
    "en": "(Written by a language model from the cited quotes; every figure was checked "
          "against the quote it cites.)",
}
_KIND_NAME = {"list": "列举", "compare": "比较", "fact": "事实"}
_LANGUAGE = {"zh": "中文", "en": "英文（English）"}
_META_SEP = "｜"  # joins a passage's metadata; never part of an answer worth keeping
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


@dataclass
class ChatLLM:
    """A chat model and the limits it is called under (from :class:`LLMSettings`)."""

    model: Any  # a LangChain chat model (BaseChatModel) or any Runnable returning a message
    timeout: float = 60.0
    max_concurrency: int = 4
    context_tokens: int = 6000
    # OpenAI's API takes ``max_completion_tokens``; most compatible servers (llama.cpp,
    # llama-cpp-python, Ollama) only read the older ``max_tokens`` and ignore the other.
    token_limit: str = "max_completion_tokens"


class Decisions(dict):
    """``judge_reports``'s answer: (doc_id, year) → Evidence or None, plus notes."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []


def make_chat_model(settings: LLMSettings, *, streaming: bool = False) -> ChatLLM:
    """An OpenAI-compatible chat model at ``settings.base_url``, with its call limits."""
    from langchain_openai import ChatOpenAI

    if not settings.base_url:
        raise ConfigError("REPORTQA_LLM__BASE_URL is not set")
    model = ChatOpenAI(
        base_url=settings.base_url,
        api_key=SecretStr(settings.api_key or "none"),
        model=settings.model,
        timeout=settings.timeout,
        max_retries=1,
        temperature=settings.temperature,
        streaming=streaming,
    )
    openai = "api.openai.com" in settings.base_url
    return ChatLLM(model, settings.timeout, settings.max_concurrency, settings.context_tokens,
                   "max_completion_tokens" if openai else "max_tokens")


def load_prompt(name: str, **variables: object) -> str:
    """Fill ``prompts/<name>.md``; every ``{{placeholder}}`` must be given, and nothing else.

    Raises:
        ConfigError: the file is missing, a placeholder has no value, or a value has no
            placeholder.
    """
    return render_prompt(PROMPT_DIR / f"{name}.md", variables)


def render_prompt(path: Path, variables: Mapping[str, object]) -> str:
    """Fill the prompt file at ``path`` (see :func:`load_prompt`)."""
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"prompt file {path} cannot be read: {exc}") from exc
    wanted = set(_PLACEHOLDER.findall(template))
    missing = sorted(wanted - variables.keys())
    unknown = sorted(variables.keys() - wanted)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"no value given for {', '.join('{{' + m + '}}' for m in missing)}")
        if unknown:
            parts.append(f"no placeholder for {', '.join(unknown)}")
        raise ConfigError(f"prompt {path}: {'; '.join(parts)}")
    return _PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), template)


# -- calling the model


def as_chat(llm: Any) -> ChatLLM:
    return llm if isinstance(llm, ChatLLM) else ChatLLM(llm)


def _reply_text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        content = "".join(
            p if isinstance(p, str) else str(p.get("text", "")) for p in content
            if isinstance(p, str) or isinstance(p, dict)
        )
    text = _THINK.sub("", str(content)).strip()
    return _FENCE.sub("", text).strip()


def _invoke(llm: ChatLLM, prompt: str, max_tokens: int) -> str:
    # ChatOpenAI sends a ``max_tokens`` argument as ``max_completion_tokens``.
    limit: dict[str, Any] = (
        {"extra_body": {"max_tokens": max_tokens}} if llm.token_limit == "max_tokens"
        else {"max_tokens": max_tokens}
    )
    try:
        reply = llm.model.invoke(prompt, **limit)
    except Exception as exc:  # the model's edge: any failure becomes one typed error
        raise LLMError(f"chat model failed: {type(exc).__name__}: {exc}") from exc
    text = _reply_text(reply)
    if not text:
        raise LLMError("chat model returned an empty reply")
    return text


def call_all(llm: ChatLLM, prompts: Sequence[str], max_tokens: int) -> list[str | LLMError]:
    """Ask every prompt, ``max_concurrency`` at a time; late or failed calls give an error.

    A call is abandoned once ``timeout`` has passed for each round of concurrent calls.
    """
    n = len(prompts)
    if n == 0:
        return []
    workers = max(1, min(llm.max_concurrency, n))
    late = LLMError(f"chat model did not answer within {llm.timeout:g}s")
    results: list[str | LLMError] = [late] * n
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reportqa-llm")
    futures = {pool.submit(_invoke, llm, p, max_tokens): i for i, p in enumerate(prompts)}
    try:
        for fut in as_completed(futures, timeout=llm.timeout * math.ceil(n / workers)):
            try:
                results[futures[fut]] = fut.result()
            except LLMError as exc:
                results[futures[fut]] = exc
    except FuturesTimeout:
        pass
    finally:
        # Calls already running end with their own HTTP timeout; queued ones never start.
        pool.shutdown(wait=False, cancel_futures=True)
    return results


# -- list questions: one decision per report


def parse_judgement(text: str, n_sentences: int) -> int | None:
    """The sentence number of ``{"match": true, "sentence": 2}``, or None for no match.

    Raises:
        ValueError: the reply is not exactly one such JSON object.
    """
    objects = re.findall(r"\{[^{}]*\}", text)
    if len(set(objects)) != 1:
        raise ValueError(f"expected one JSON object, got {text[:80]!r}")
    data = json.loads(objects[0])  # a JSONDecodeError is a ValueError
    match, sentence = data.get("match"), data.get("sentence")
    if not isinstance(match, bool):
        raise ValueError(f"'match' must be true or false in {objects[0]!r}")
    if not match:
        return None
    if isinstance(sentence, bool) or not isinstance(sentence, int):
        raise ValueError(f"'sentence' must be a number in {objects[0]!r}")
    if not 1 <= sentence <= n_sentences:
        raise ValueError(f"sentence {sentence} is not one of 1..{n_sentences}")
    return sentence


def _requirement(spec: QuestionSpec, year: int | None) -> str:
    when = f"{year}年" if year is not None else "问题没有限定年份"
    what = (
        "计划或目标（不是已完成的情况）" if spec.wants_plan
        else "已经完成的情况（不是计划或目标）"
    )
    need = "；需要写出具体数字" if spec.numeric else ""
    return f"{when}；{what}{need}"


def _report_line(c: Candidate) -> str:
    year = c.doc.meta.report_year
    line = f"{entity_name(c.doc)}{f'{year}年' if year else ''}政府工作报告"
    return line + (f"（句子出自讲{c.year}年的部分）" if c.year is not None else "")


def _rule(spec: QuestionSpec, evs: Sequence[Evidence], cfg: AnswerSettings,
          words: bool) -> Evidence | None:
    """The extractive decision, used where the model's is unusable."""
    return next((ev for ev in evs if accepts(ev, spec, cfg.list_min_support, words)), None)


def _checkable(ev: Evidence, spec: QuestionSpec) -> bool:
    """What a model's pick must pass: the figure asked for, and the condition on it."""
    if spec.numeric and not ev.has_number:
        return False
    return spec.condition is None or spec.condition.holds(ev.value)


def judge_reports(
    llm: Any, spec: QuestionSpec, shortlist: Sequence[tuple[Candidate, Sequence[Evidence]]],
    cfg: AnswerSettings | None = None, words: bool = False, judge_all: bool = False,
) -> Decisions:
    """Decide, report by report, whether it states what a list question asks.

    Args:
        llm: a :class:`ChatLLM` (or a bare chat model, called with the default limits).
        spec: the parsed question.
        shortlist: each candidate report with its best few sentences, best first.
        cfg: the answer settings (the rule's floor).
        words: the question's words are the reports' wording: a report none of whose
            sentences writes them is not asked about (see :func:`accepts`).
        judge_all: ask about every report however weak its sentences (the rule found
            nothing, and the model is asked to read what is closest).

    Returns:
        (doc_id, year) → the sentence that shows it, or None. A report whose reply is
        malformed or late is decided by the extractive rule; ``notes`` counts them.
    """
    chat = as_chat(llm)
    cfg = cfg or AnswerSettings()
    decisions = Decisions()
    asked: list[tuple[tuple[str, int | None], Sequence[Evidence]]] = []
    prompts: list[str] = []
    for cand, evs in shortlist:
        key = (cand.doc.doc_id, cand.year)
        evs = [ev for ev in evs if ev.coverage > 0] if words else list(evs)
        if not evs or (not judge_all and max(ev.support for ev in evs) < JUDGE_MIN_COVERAGE):
            decisions[key] = None
            continue
        asked.append((key, evs))
        prompts.append(load_prompt(
            "judge_report",
            question=spec.text,
            requirement=_requirement(spec, cand.year),
            report=_report_line(cand),
            sentences="\n".join(f"{i}. {ev.quote}" for i, ev in enumerate(evs, start=1)),
        ))
    fallbacks = 0
    for (key, evs), reply in zip(asked, call_all(chat, prompts, JUDGE_MAX_TOKENS), strict=True):
        try:
            if isinstance(reply, LLMError):
                raise reply
            pick = parse_judgement(reply, len(evs))
            chosen = evs[pick - 1] if pick is not None else None
            if chosen is not None and not _checkable(chosen, spec):
                raise ValueError("the chosen sentence lacks the figure or condition asked")
            decisions[key] = chosen
        except (LLMError, ValueError) as exc:
            log.warning("judge reply for %s unusable (%s); extractive rule used", key[0], exc)
            fallbacks += 1
            decisions[key] = _rule(spec, evs, cfg, words)
    if fallbacks:
        decisions.notes.append(
            f"LLM judge unusable for {fallbacks} of {len(asked)} reports: extractive rule used"
        )
    return decisions


# -- the final answer


def _passage(c: Citation) -> str:
    meta = [c.region]
    if c.report_year is not None:
        meta.append(f"{c.report_year}年报告")
    if c.covered_year is not None:
        meta.append(f"所述年份：{c.covered_year}年")
    meta.append(lexicon().section_long(c.section))
    return f"[{c.id}] {_META_SEP.join(meta)}\n“{c.quote}”"


def _budgeted(citations: Sequence[Citation], budget: int, overhead: int) -> list[Citation]:
    shown: list[Citation] = []
    used = overhead
    for c in citations:
        cost = count_tokens(_passage(c)) + 1
        if shown and used + cost > budget:
            break
        shown.append(c)
        used += cost
    return shown


def _fallback(answer: Answer, note: str, extra: Sequence[str] = ()) -> Answer:
    return replace(answer, notes=[*answer.notes, *extra, note])


def rewrite_with_llm(llm: Any, spec: QuestionSpec, answer: Answer) -> Answer:
    """The extractive ``answer`` written as prose by the model, checked against its quotes.

    Citations stay the same spans (those still cited, renumbered in order of use). For a list
    or comparison, reports the model left out are added back as quotes, so none is lost.
    Falls back to ``answer`` itself, with a note, when the model fails, is late, or writes
    nothing that can be checked.
    """
    chat = as_chat(llm)
    prompt_vars = {
        "question": spec.text,
        "kind_name": _KIND_NAME.get(answer.kind, "事实"),
        "language": _LANGUAGE.get(spec.lang, "中文"),
    }
    overhead = count_tokens(load_prompt("answer", passages="", **prompt_vars))
    shown = _budgeted(answer.citations, chat.context_tokens, overhead)
    prompt = load_prompt("answer", passages="\n\n".join(map(_passage, shown)), **prompt_vars)
    reply = call_all(chat, [prompt], ANSWER_MAX_TOKENS)[0]
    if isinstance(reply, LLMError):
        log.warning("LLM rewrite failed: %s", reply)
        return _fallback(answer, f"{FALLBACK_NOTE} ({reply})")
    reply, echoed = _drop_echo(reply, prompt)
    text, kept, notes = validate_answer(reply, shown)
    if echoed:
        notes.insert(0, f"removed {echoed} lines that repeat the prompt")
    if not kept:
        return _fallback(answer, INVALID_NOTE, notes)
    if len(shown) < len(answer.citations):
        notes.append(f"{len(answer.citations) - len(shown)} citations did not fit the "
                     f"{chat.context_tokens}-token context")
    text, kept = _complete_items(answer, spec.lang, text, kept, notes)
    mapping = {old: new for new, old in enumerate(kept, start=1)}
    by_id = {c.id: c for c in answer.citations}
    citations = [replace(by_id[old], id=new) for old, new in mapping.items()]
    items = [
        Item(it.entity, [mapping[i] for i in it.citations if i in mapping])
        for it in answer.items if any(i in mapping for i in it.citations)
    ]
    body = renumber(text, mapping)
    return replace(
        answer, answer=f"{LLM_LABEL.get(spec.lang, LLM_LABEL['zh'])}\n\n{body}", mode="llm",
        citations=citations, items=items, notes=[*answer.notes, *notes],
    )


def _drop_echo(reply: str, prompt: str) -> tuple[str, int]:
    """The reply without lines copied from the prompt's instructions or passage headers.

    Small models often echo their prompt; such lines are not an answer, even when every
    number in them is in a quote. Quote lines are left to validation.
    """
    instructions = {
        ln.strip() for ln in prompt.splitlines() if ln.strip() and not ln.strip().startswith("“")
    }
    kept, dropped = [], 0
    for line in reply.splitlines():
        if line.strip() in instructions or _META_SEP in line:
            dropped += 1
        else:
            kept.append(line)
    return "\n".join(kept), dropped


def _complete_items(
    answer: Answer, lang: str, text: str, kept: list[int], notes: list[str]
) -> tuple[str, list[int]]:
    """Add back, as quotes, the reports of a list or comparison that the text left out."""
    if answer.kind not in ("list", "compare"):
        return text, kept
    by_id = {c.id: c for c in answer.citations}
    lines = []
    kept = list(kept)
    for it in answer.items:
        if any(i in kept for i in it.citations):
            continue
        quotes = "；".join(f"“{by_id[i].quote}”[{i}]" for i in it.citations if i in by_id)
        lines.append(f"- **{it.entity}**：{quotes}")
        kept += [i for i in it.citations if i in by_id and i not in kept]
    if not lines:
        return text, kept
    notes.append(f"the written answer left out {len(lines)} of {len(answer.items)} reports: "
                 "added back as quotes")
    head = "另外，以下报告原文也相关：" if lang == "zh" else "Also from the reports (verbatim):"
    return f"{text}\n\n{head}\n" + "\n".join(lines), kept

