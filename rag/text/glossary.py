"""The English seed glossary (``data/glossary.json``): phrases → the Chinese words reports use.

A seed for lexical search and figure anchoring of English questions; what an English
question is about is otherwise read by meaning (:mod:`rag.retrieve.semantic`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

DATA = Path(__file__).with_name("data") / "glossary.json"


@lru_cache(maxsize=1)
def _phrases() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    try:
        raw = json.loads(DATA.read_text(encoding="utf-8"))["phrases"]
        if not isinstance(raw, dict) or not all(
                isinstance(k, str) and isinstance(v, list) for k, v in raw.items()):
            raise ValueError("phrases must map English phrases to lists of Chinese words")
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(f"glossary {DATA} is not usable: {exc}") from exc
    return tuple(
        (re.compile(r"(?<![a-z])" + re.escape(p.lower()) + r"(?![a-z])"), tuple(v))
        for p, v in sorted(raw.items(), key=lambda kv: -len(kv[0]))
    )


def translate(text: str) -> tuple[list[str], str]:
    """Chinese words for the glossary's phrases in ``text``, and the text without them."""
    q = text.lower()
    terms: list[str] = []
    for pattern, words in _phrases():
        if pattern.search(q):
            terms += words
            q = pattern.sub(" ", q)
    return list(dict.fromkeys(terms)), q
