"""The chat model's reading of a question, for what the rules did not recognise.

With an LLM configured, the model reads the question once into JSON (places, years, topic
in the reports' Chinese wording, a numeric condition). The engine takes from it only what
its own reading lacks — a topic when the question's words gave none the reports use, places
or years it found none of, a condition — and checks every part the way it checks its own
(places through the place matcher, the condition through the quantities module). A reply
that is late, malformed or names nothing usable changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.answer.llm import as_chat, call_all, load_prompt
from rag.errors import LLMError
from rag.index.lexical import tokenize
from rag.retrieve.places import PlaceMatcher
from rag.retrieve.spec import QuestionSpec
from rag.text.lexicon import CONDITION_OPS, lexicon
from rag.text.quantities import Condition, read_quantity

log = logging.getLogger(__name__)

READ_MAX_TOKENS = 160


@dataclass
class QuestionReading:
    places: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    topic: str = ""
    condition: Condition | None = None


def parse_reading(text: str) -> QuestionReading:
    """The reading in a model's reply.

    Raises:
        ValueError: the reply holds no JSON object of the expected shape.
    """
    m = re.search(r"\{.*\}", text, re.S)
    if m is None:
        raise ValueError(f"no JSON object in {text[:80]!r}")
    data = json.loads(m.group())
    if not isinstance(data, dict):
        raise ValueError("the reading must be a JSON object")
    places = data.get("places") or []
    years = data.get("years") or []
    topic = data.get("topic") or ""
    if not (isinstance(places, list) and all(isinstance(p, str) for p in places)):
        raise ValueError("'places' must be a list of names")
    if not (isinstance(years, list) and all(isinstance(y, int) and 1949 <= y <= 2100
                                            for y in years)):
        raise ValueError("'years' must be a list of four-digit years")
    if not isinstance(topic, str):
        raise ValueError("'topic' must be text")
    reading = QuestionReading([p.strip() for p in places if p.strip()], years, topic.strip())
    cond = data.get("condition")
    if isinstance(cond, dict) and cond.get("op") in CONDITION_OPS:
        value = cond.get("value")
        unit = cond.get("unit") or ""
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and isinstance(unit, str):
            got = read_quantity(f"{value:g}{unit}", 0)
            if got is not None:
                reading.condition = Condition(cond["op"], got[0])
    return reading


def read_question(llm: Any, question: str) -> QuestionReading | None:
    """The model's reading of ``question``, or None (with a log line) when it has none."""
    chat = as_chat(llm)
    reply = call_all(chat, [load_prompt("read_question", question=question)],
                     READ_MAX_TOKENS)[0]
    if isinstance(reply, LLMError):
        log.warning("question reading failed: %s", reply)
        return None
    try:
        return parse_reading(reply)
    except ValueError as exc:  # a JSONDecodeError is a ValueError
        log.warning("question reading unusable: %s", exc)
        return None


def short_words(phrase: str) -> list[str]:
    """The phrase's shortest words of two characters or more, left to right and not
    overlapping ("燃气管网改造" → 燃气, 改造): search-mode segmentation also yields
    longer and straddling words (燃气管, 气管) that a report's wording need not hold."""
    toks = set(tokenize(phrase))
    out, i = [], 0
    while i < len(phrase):
        for n in range(2, 8):
            if phrase[i : i + n] in toks:
                out.append(phrase[i : i + n])
                i += n
                break
        else:
            i += 1
    return out


def merge_reading(spec: QuestionSpec, reading: QuestionReading, places: PlaceMatcher,
                  in_corpus: Callable[[str], bool]) -> list[str]:
    """Fill what ``spec`` lacks from the model's reading; returns what was taken.

    Args:
        in_corpus: whether the reports write a word. When some of the question's own terms
            are the reports' words the model's topic is not needed; otherwise its words
            that the reports write are taken (the model may word it its own way:
            "燃气管网改造" gives 燃气 and 改造, not 气管).
    """
    taken: list[str] = []
    if reading.topic and not any(in_corpus(t) for t in spec.terms):
        lex = lexicon()
        words = [t for t in short_words(reading.topic)
                 if t not in lex.scaffold_zh and in_corpus(t)]
        new = [t for t in words if t not in spec.terms]
        if new:
            spec.terms += new
            spec.translated += new
            taken.append(f"topic “{reading.topic}”")
    if not spec.mentions and not spec.missing_places and reading.places:
        found = places.read(" ".join(reading.places))
        if found.mentions or found.missing:
            spec.mentions, spec.missing_places = found.mentions, found.missing
            taken.append("places " + "、".join(reading.places))
    if not spec.years and spec.relative is None and reading.years:
        spec.years = list(dict.fromkeys(reading.years))
        taken.append("years " + "、".join(map(str, spec.years)))
    if spec.condition is None and reading.condition is not None:
        spec.condition = reading.condition
        spec.numeric = True
        taken.append(f"condition {reading.condition.describe()}")
    return taken
