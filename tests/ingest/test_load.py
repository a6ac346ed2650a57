"""load_document: formats, encodings, rejected files (fixtures: data/make_fixtures.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.errors import LoadError
from rag.ingest.load import decode_text, load_document

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples" / "reports"

REPORT_LINES = [
    "政府工作报告",
    "——2023年1月5日在某某市第十届人民代表大会第二次会议上",
    "各位代表：",
    "全年地区生产总值增长5.2%，完成投资3,566亿元。",
]


def _blocks(doc) -> list[str]:
    return [doc.text[s:e] for s, e in doc.blocks]


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("report_gbk.txt", "gb18030"),
        ("report_gb18030.txt", "gb18030"),
        ("report_utf8_bom.txt", "utf-8-sig"),
        ("report_utf16le_bom.txt", "utf-16-le"),
        ("report_utf16be_bom.txt", "utf-16-be"),
        ("report_crlf.txt", "utf-8"),
    ],
)
def test_text_encodings(name: str, encoding: str) -> None:
    doc = load_document(DATA / name)
    assert doc.encoding == encoding
    assert doc.fmt == "txt"
    assert _blocks(doc)[:4] == REPORT_LINES
    assert not doc.text.startswith("\ufeff")


def test_gb18030_four_byte_character() -> None:
    doc = load_document(DATA / "report_gb18030.txt")
    assert "𠮷" in doc.text


def test_text_is_decoded_bytes_exactly() -> None:
    # No universal-newline translation: "\r\n" stays, so offsets are those of the file.
    path = DATA / "report_crlf.txt"
    doc = load_document(path)
    assert doc.text == path.read_bytes().decode("utf-8")
    assert "\r\n" in doc.text


def test_record_fields() -> None:
    path = DATA / "report_gbk.txt"
    doc = load_document(path)
    assert doc.source == "report_gbk.txt"
    assert doc.path == path
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_document(path, source="other.txt").source == "other.txt"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("undecodable.txt", "undecodable: not UTF-8 or GB18030"),
        ("binary.txt", "binary file"),
        ("empty.txt", "empty file"),
        ("blank.txt", "only whitespace"),
        ("broken.pdf", "broken PDF"),
        ("broken.docx", "broken DOCX"),
        ("report.rtf", "unsupported format"),
        ("missing.txt", "cannot read the file"),
    ],
)
def test_rejected_files(name: str, reason: str) -> None:
    with pytest.raises(LoadError) as info:
        load_document(DATA / name)
    assert reason in info.value.reason
    assert info.value.path == DATA / name


BIG5_TEXT = "各位代表：現在，我代表市人民政府向大會報告工作，請予審議。" * 3


@pytest.mark.parametrize(
    ("label", "data", "expected"),
    [
        # Latin-1 bytes that happen to be valid GB18030: refused, not read as mojibake.
        (
            "latin-1",
            "Les résumés de la réunion générale étaient détaillés.".encode("latin-1"),
            None,
        ),
        ("cp1252", "Smart “quotes” and — dashes… in English.".encode("cp1252"), None),
        ("control chars", b"abc\x01\x02\x03\x04def", None),
        ("utf-16 with ASCII, no BOM", "2023年政府工作报告".encode("utf-16-le"), None),  # NUL bytes
        # charset-normalizer is trusted only when confident and the result reads as Chinese.
        ("big5", BIG5_TEXT.encode("big5"), "big5"),
        ("utf-16 without BOM or NUL", "政府工作报告".encode("utf-16-le"), "utf_16_le"),
    ],
)
def test_decode_never_guesses_silently(label: str, data: bytes, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(LoadError):
            decode_text(label, data)
    else:
        text, encoding = decode_text(label, data)
        assert encoding == expected
        assert text == data.decode(expected)


def test_markdown_blocks_drop_markup() -> None:
    doc = load_document(DATA / "report.md")
    assert doc.fmt == "md"
    assert _blocks(doc) == [
        "政府工作报告",
        "一、2022年工作回顾",
        "全年地区生产总值增长5.2%。",
        "新增就业2万人。",
    ]


def test_html_blocks_are_visible_body_text() -> None:
    doc = load_document(DATA / "report.html")
    assert doc.fmt == "html"
    assert doc.text == (DATA / "report.html").read_text(encoding="utf-8")  # the source itself
    assert _blocks(doc) == [
        "政府工作报告",
        "各位代表：",
        "全年地区生产总值增长5.2%，R&amp;D经费投入增长10%。",
    ]
    for s, e in doc.blocks:
        assert "<" not in doc.text[s:e]


def test_pdf_text() -> None:
    doc = load_document(DATA / "report.pdf")
    assert (doc.fmt, doc.encoding) == ("pdf", "pdf")
    assert doc.text == "政府工作报告\n各位代表：\n全年地区生产总值增长5.2%。\nAnnual GDP grew 5.2%."
    assert len(doc.blocks) == 4


def test_docx_text_with_table() -> None:
    doc = load_document(DATA / "report.docx")
    assert (doc.fmt, doc.encoding) == ("docx", "docx")
    assert _blocks(doc) == [
        "政府工作报告",
        "各位代表：",
        "全年地区生产总值增长5.2%，完成投资3,566亿元。",
        "指标\t目标",
        "地区生产总值\t增长5%左右",
    ]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.txt")), ids=lambda p: p.name[:3])
def test_sample_reports_load(path: Path) -> None:
    doc = load_document(path)
    assert doc.encoding == "utf-8"
    assert doc.text == path.read_bytes().decode("utf-8")
    assert doc.blocks
