"""A question in the form the rest of the code reads: simplified characters, half-width
digits and Latin letters, numbers in digits.

Traditional characters are converted by OpenCC (``opencc``'s t2s), a maintained library, not
a table of our own; full-width forms fold to ASCII; "forty thousand" becomes "40 thousand".
Chinese punctuation stays (it ends clauses). The original question is kept for display.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.text.quantities import english_numbers_to_digits

# Full-width digits, Latin letters and %, .,: fold to ASCII; other full-width punctuation
# (，。？：) stays, it is how Chinese writes clause boundaries.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}  # ０-９
_FOLD.update({cp: cp - 0xFEE0 for cp in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FOLD.update({cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FOLD.update({0xFF05: ord("%"), 0xFF0E: ord("."), 0x3000: ord(" "), 0xFF0B: ord("+")})
# A parenthetical aside: "同比（下同）增长", "(for children under 3)".
ASIDE = re.compile(r"（[^（）]*）|\([^()]*\)")
_SPACES = re.compile(r"[ \t\u00a0]+")
# A comma between digit groups ("40，000") is a thousands separator, not a clause mark.
_GROUP_COMMA = re.compile(r"(?<=\d)[，,](?=\d{3}(?!\d))")


@lru_cache(maxsize=1)
def _t2s():
    try:
        import opencc
    except ImportError:  # pragma: no cover - a dependency; without it text stays as it is
        return None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (OpenCC t2s); simplified text is unchanged."""
    conv = _t2s()
    return conv.convert(text) if conv is not None else text


def fold_width(text: str) -> str:
    return text.translate(_FOLD)


def normalize_question(text: str) -> str:
    """The question as the parser reads it (offsets are not kept: nothing quotes it)."""
    text = unicodedata.normalize("NFC", text)
    text = to_simplified(fold_width(text))
    text = _GROUP_COMMA.sub(",", text)
    text = english_numbers_to_digits(text)
    return _SPACES.sub(" ", text).strip()
