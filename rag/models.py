"""Typed data passed between the pipeline stages.

Offsets are always character offsets into ``LoadedDocument.text``: the file's own decoded text
(for PDF and DOCX, the text extracted from them, which the store keeps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SECTION_KINDS = ("review", "review_multi", "plan", "targets", "annex", "other")


@dataclass(frozen=True)
class LoadedDocument:
    """A file read from disk: its text, and the spans of that text that are report body."""

    source: str  # file name as ingested, e.g. "002_11fb4cd1e17529ea.txt"
    path: Path
    text: str
    encoding: str  # "utf-8", "utf-8-sig", "gb18030", ... or "pdf"/"docx" for extracted text
    fmt: str  # "txt" | "md" | "html" | "pdf" | "docx"
    content_hash: str  # sha256 of the file's bytes
    blocks: tuple[tuple[int, int], ...] = ()  # body spans [start, end), noise excluded


@dataclass(frozen=True)
class PlaceEvidence:
    """A place name in a report's text that its inferred region rests on:
    ``text[start:end] == name``."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class ReportMeta:
    """What a report is: whose, and when. Unknown stays None; what the report does not
    state but its body shows (its towns) is marked inferred, with the evidence."""

    title: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None  # district or county name, when the report is one
    level: str | None = None  # "national" | "province" | "city" | "district" | "county"
    report_date: str | None = None  # ISO date the report was delivered, when known
    report_year: int | None = None  # session year (year delivered)
    notes: tuple[str, ...] = ()  # what could not be determined, and why
    # Fields the report does not state but that were inferred from the places its body
    # names ("district", ...), and those names with their offsets.
    inferred: tuple[str, ...] = ()
    evidence: tuple[PlaceEvidence, ...] = ()

    @property
    def region(self) -> str:
        """Display name, most specific last: "天津市和平区", "山西省太原市"."""
        parts: list[str] = []
        for p in (self.province, self.city, self.district):
            if p and p not in parts:
                parts.append(p)
        if not parts:
            return "未知地区"
        # A municipality's province and city are one name; a county-level report whose
        # district is unknown still shows its city.
        return "".join(parts)

    @property
    def inferred_from(self) -> str:
        """"据正文推断：中市街道、阜阳市" when part of the region was inferred, else ""."""
        if not self.inferred:
            return ""
        names = list(dict.fromkeys(e.name for e in self.evidence))
        return "据正文推断：" + "、".join(names)


@dataclass(frozen=True)
class Section:
    """A stretch of body text with what it talks about."""

    start: int
    end: int
    kind: str  # one of SECTION_KINDS
    covered_from: int | None  # first year the text talks about
    covered_to: int | None  # last year (== covered_from for a single year)


@dataclass(frozen=True)
class Chunk:
    """A retrievable span of a report: ``text`` is what is embedded and indexed."""

    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    kind: str
    covered_from: int | None
    covered_to: int | None


@dataclass
class Citation:
    """One quoted sentence: ``doc.text[start:end] == quote``."""

    id: int
    source: str
    doc_id: str
    region: str
    report_year: int | None
    covered_year: int | None
    section: str
    quote: str
    start: int
    end: int

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "source": self.source,
            "doc_id": self.doc_id,
            "region": self.region,
            "report_year": self.report_year,
            "covered_year": self.covered_year,
            "section": self.section,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass
class Item:
    entity: str
    citations: list[int]

    def to_dict(self) -> dict:
        return {"entity": self.entity, "citations": list(self.citations)}


@dataclass
class Answer:
    """The answer contract of ``shared/eval/README.md``, plus diagnostics."""

    question: str
    answer: str
    found: bool
    mode: str  # "llm" | "extractive"
    citations: list[Citation] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    kind: str = "fact"
    notes: list[str] = field(default_factory=list)  # e.g. "dense search did not cover ..."
    retrieved: list[dict] = field(default_factory=list)  # chunks read, for retrieval metrics

    def to_dict(self, *, debug: bool = False) -> dict:
        out = {
            "question": self.question,
            "answer": self.answer,
            "found": self.found,
            "mode": self.mode,
            "kind": self.kind,
            "citations": [c.to_dict() for c in self.citations],
            "items": [i.to_dict() for i in self.items],
            "notes": list(self.notes),
        }
        if debug:
            out["retrieved"] = list(self.retrieved)
        return out
