"""Chunks: whole verbatim sentences of one section, within the token budget, overlapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.ingest.chunk import chunk_sections, doc_id_for
from rag.ingest.clean import iter_sentences
from rag.ingest.load import load_document
from rag.ingest.meta import extract_meta
from rag.ingest.sections import tag_sections
from rag.models import Chunk, LoadedDocument, Section
from rag.tokens import count_tokens

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "reports"
SAMPLES = sorted(EXAMPLES.glob("*.txt"))


@dataclass
class Parsed:
    doc: LoadedDocument
    doc_id: str
    sections: list[Section]
    chunks: list[Chunk]


def parse(path: Path, max_tokens: int = 320, overlap: int = 40) -> Parsed:
    """What Ingestor.parse does up to chunking (without its word tokens)."""
    doc = load_document(path)
    meta = extract_meta(doc.text, doc.blocks, doc.source)
    sections = tag_sections(doc.text, doc.blocks, meta.report_year)
    doc_id = doc_id_for(doc.content_hash)
    chunks = chunk_sections(doc.text, doc_id, sections, doc.blocks, max_tokens, overlap)
    return Parsed(doc, doc_id, sections, chunks)


@pytest.fixture(scope="module", params=[(320, 40), (64, 20)], ids=["320", "64"])
def parsed(request):
    max_tokens, overlap = request.param
    return max_tokens, overlap, [parse(p, max_tokens, overlap) for p in SAMPLES]


def test_chunks_never_cross_a_section(parsed):
    _, _, reports = parsed
    for r in reports:
        assert r.chunks
        for c in r.chunks:
            (sec,) = [s for s in r.sections if s.start <= c.start < s.end]
            assert c.end <= sec.end, (r.doc.source, c.ordinal)
            assert (c.kind, c.covered_from, c.covered_to) == (
                sec.kind, sec.covered_from, sec.covered_to
            )


def test_chunk_text_is_the_span_as_written(parsed):
    _, _, reports = parsed
    for r in reports:
        for c in r.chunks:
            # Plain-text body blocks are whole lines: nothing is excluded inside a span.
            assert c.text == r.doc.text[c.start : c.end]
            first = next(iter_sentences(r.doc.text, c.start, c.end))
            assert first[0] == c.start


def test_ids_and_ordinals_follow_document_order(parsed):
    _, _, reports = parsed
    for r in reports:
        assert [c.ordinal for c in r.chunks] == list(range(len(r.chunks)))
        assert len({c.chunk_id for c in r.chunks}) == len(r.chunks)
        assert all(c.chunk_id.startswith(r.doc_id + ":") for c in r.chunks)
        starts = [c.start for c in r.chunks]
        assert starts == sorted(starts)


def test_token_budget_is_respected(parsed):
    max_tokens, _, reports = parsed
    for r in reports:
        for c in r.chunks:
            assert count_tokens(c.text) <= max_tokens, (r.doc.source, c.ordinal, c.text)


def test_consecutive_chunks_of_a_section_overlap(parsed):
    max_tokens, overlap, reports = parsed
    pairs = overlapping = 0
    for r in reports:
        for a, b in zip(r.chunks, r.chunks[1:], strict=False):
            if not any(s.start <= a.start and b.end <= s.end for s in r.sections):
                continue  # the next chunk starts a new section
            pairs += 1
            assert b.start > a.start  # always progresses
            *_, (last_start, last_end) = iter_sentences(r.doc.text, a.start, a.end)
            fits = count_tokens(r.doc.text[last_start:last_end]) <= overlap
            if fits and last_start > a.start:
                # The overlap is whole sentences: it exists whenever the last one fits.
                assert b.start <= last_start < a.end, (r.doc.source, a.ordinal)
            if b.start < a.end:
                overlapping += 1
                shared = r.doc.text[b.start : a.end]
                assert a.text.endswith(shared) and b.text.startswith(shared)
                assert count_tokens(shared) <= overlap + 2
    assert pairs > 0 and overlapping > 0


def test_no_overlap_when_none_is_asked():
    r = parse(SAMPLES[3], 64, 0)
    for a, b in zip(r.chunks, r.chunks[1:], strict=False):
        assert b.start >= a.end


def synthetic(text: str) -> tuple[list[Section], list[tuple[int, int]]]:
    return [Section(0, len(text), "review", 2023, 2023)], [(0, len(text))]


def test_numbers_are_never_split():
    sentence = (
        "全年完成固定资产投资1.5亿元，其中工业投资3,566万元，增长12.5%，"
        "新增就业岗位10,234个，城镇居民人均可支配收入达到45,678.9元，"
    ) * 6 + "各项工作取得新进展。"
    text = sentence + "\n" + sentence
    sections, blocks = synthetic(text)
    chunks = chunk_sections(text, "d", sections, blocks, max_tokens=40, overlap_tokens=10)
    assert len(chunks) > 4
    numbers = [m.span() for m in re.finditer(r"\d[\d,.]*\d%?|\d", text)]
    for c in chunks:
        assert count_tokens(c.text) <= 40
        for s, e in numbers:
            assert not (s < c.start < e) and not (s < c.end < e), (c.text, text[s:e])
    for n in ("1.5亿元", "3,566万元", "45,678.9元"):
        assert any(n in c.text for c in chunks)


def test_an_unsplittable_piece_is_cut_but_kept_whole_in_sequence():
    text = "甲" * 600  # no sentence or clause mark at all
    sections, blocks = synthetic(text)
    chunks = chunk_sections(text, "d", sections, blocks, max_tokens=50, overlap_tokens=0)
    assert "".join(c.text for c in chunks) == text
    assert all(count_tokens(c.text) <= 60 for c in chunks)


def test_text_excluded_between_blocks_is_replaced_by_a_line_break():
    text = "第一句话。第二句话。\n第 3 页\n第三句话。"
    noise = text.index("第 3 页")
    blocks = [(0, noise - 1), (noise + len("第 3 页") + 1, len(text))]
    sections = [Section(0, len(text), "review", 2023, 2023)]
    (chunk,) = chunk_sections(text, "d", sections, blocks, max_tokens=100, overlap_tokens=0)
    assert chunk.text == "第一句话。第二句话。\n第三句话。"
    assert "页" not in chunk.text


def test_sections_split_chunks_even_when_both_are_short():
    text = "去年经济增长5%。今年预期增长6%左右。"
    cut = text.index("今年")
    sections = [
        Section(0, cut, "review", 2023, 2023), Section(cut, len(text), "targets", 2024, 2024)
    ]
    chunks = chunk_sections(text, "d", sections, [(0, len(text))], 320, 40)
    assert [(c.text, c.kind) for c in chunks] == [
        ("去年经济增长5%。", "review"), ("今年预期增长6%左右。", "targets")
    ]
