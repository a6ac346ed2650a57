"""Sentence-aware chunks with a tiktoken budget, never crossing a section boundary.

A chunk is a span ``[start, end)`` of the document's text made of whole sentences; its
``text`` is that span as written, except that text excluded from the body between two of
its sentences (page furniture, noise) is replaced by a line break.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from rag.ingest.clean import iter_sentences, split_clauses
from rag.models import Chunk, Section
from rag.tokens import count_tokens


def _pieces(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """Sentences of a span as (start, end, tokens); an over-long sentence is cut at clauses."""
    out: list[tuple[int, int, int]] = []
    for s, e in iter_sentences(text, start, end):
        n = count_tokens(text[s:e])
        if n <= max_tokens:
            out.append((s, e, n))
            continue
        for cs, ce in split_clauses(text, s, e):
            cn = count_tokens(text[cs:ce])
            if cn <= max_tokens:
                out.append((cs, ce, cn))
                continue
            # A clause without punctuation longer than a chunk: cut by characters.
            step = max(1, (ce - cs) * max_tokens // cn)
            for p in range(cs, ce, step):
                q = min(ce, p + step)
                out.append((p, q, count_tokens(text[p:q])))
    return out


def _join(text: str, group: Sequence[tuple[int, int, int]]) -> str:
    """The pieces' text, keeping what lies between two pieces when it is blank.

    Clauses of one sentence and sentences of one line stay as written; pieces separated
    by excluded text (noise between blocks) are joined by a line break.
    """
    parts = [text[group[0][0] : group[0][1]]]
    for (_, prev_end, _), (s, e, _) in zip(group, group[1:], strict=False):
        gap = text[prev_end:s]
        parts.append(gap if not gap.strip() else "\n")
        parts.append(text[s:e])
    return "".join(parts)


def chunk_id(doc_id: str, ordinal: int) -> str:
    return f"{doc_id}:{ordinal:05d}"


def chunk_sections(
    text: str,
    doc_id: str,
    sections: Sequence[Section],
    blocks: Sequence[tuple[int, int]],
    max_tokens: int = 320,
    overlap_tokens: int = 40,
) -> list[Chunk]:
    """Chunks of every section, in document order."""
    chunks: list[Chunk] = []
    for sec in sections:
        pieces: list[tuple[int, int, int]] = []
        for bs, be in blocks:
            s, e = max(bs, sec.start), min(be, sec.end)
            if s < e:
                pieces.extend(_pieces(text, s, e, max_tokens))
        i = 0
        while i < len(pieces):
            j, total = i, 0
            while j < len(pieces) and (j == i or total + pieces[j][2] <= max_tokens):
                total += pieces[j][2]
                j += 1
            joined = _join(text, pieces[i:j])
            # Tokens of the joined text can exceed the sum of its pieces' by a few.
            while j - i > 1 and count_tokens(joined) > max_tokens:
                j -= 1
                joined = _join(text, pieces[i:j])
            group = pieces[i:j]
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc_id, len(chunks)),
                    doc_id=doc_id,
                    ordinal=len(chunks),
                    start=group[0][0],
                    end=group[-1][1],
                    text=joined,
                    kind=sec.kind,
                    covered_from=sec.covered_from,
                    covered_to=sec.covered_to,
                )
            )
            if j >= len(pieces):
                break
            # Step back over whole sentences worth at most overlap_tokens.
            back, k = 0, j
            while k - 1 > i and back + pieces[k - 1][2] <= overlap_tokens:
                k -= 1
                back += pieces[k][2]
            i = k
    return chunks


def doc_id_for(content_hash: str) -> str:
    return hashlib.sha256(content_hash.encode()).hexdigest()[:16]
