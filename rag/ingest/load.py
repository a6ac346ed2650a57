"""Read one report file from disk into a ``LoadedDocument``.

Text files keep their decoded text exactly (bytes are decoded, never read in text mode, so
line endings and punctuation are those of the file and citation offsets index into it). The
encoding is detected without silent guessing: a byte-order mark, then strict UTF-8, then
strict GB18030 that reads as Chinese, then charset-normalizer only when it is confident and
the result reads as Chinese; anything else is a ``LoadError`` that says why.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from rag.errors import LoadError
from rag.ingest.clean import body_blocks
from rag.models import LoadedDocument

FORMATS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}

_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_CONTROL_OK = frozenset("\t\n\r\f\v\x1a")  # \x1a: DOS end-of-file mark, seen in old .txt
_MAX_CONTROL_SHARE = 0.001
_MIN_GB2312_SHARE = 0.9  # of the ideographs in a GB18030 decoding; mojibake is far lower
_MIN_CHINESE_SHARE = 0.9  # of the non-ASCII characters
_MAX_CHAOS = 0.1  # charset-normalizer's "mess" ratio accepted as confident


def load_document(path: Path, source: str | None = None) -> LoadedDocument:
    """Read a report file.

    Args:
        path: a .txt/.md/.html/.htm/.pdf/.docx file; the suffix decides the format.
        source: the name recorded for citations; defaults to the file name.

    Returns:
        The document with its text, the encoding used, a sha256 of the file's bytes and the
        spans of report body (``blocks``).

    Raises:
        LoadError: the file is missing, of an unsupported format, empty, binary, undecodable
            or a broken PDF/DOCX. ``reason`` says which.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(path, f"unsupported format {path.suffix or '(no suffix)'!r}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(path, f"cannot read the file: {e.strerror or e}") from e
    if not data:
        raise LoadError(path, "empty file")
    if fmt == "pdf":
        text, encoding = _pdf_text(path, data), "pdf"
    elif fmt == "docx":
        text, encoding = _docx_text(path, data), "docx"
    else:
        text, encoding = decode_text(path, data)
    if not text.strip():
        what = "no extractable text" if fmt in ("pdf", "docx") else "only whitespace"
        raise LoadError(path, what)
    return LoadedDocument(
        source=source or path.name,
        path=path,
        text=text,
        encoding=encoding,
        fmt=fmt,
        content_hash=hashlib.sha256(data).hexdigest(),
        blocks=body_blocks(text, "txt" if fmt in ("pdf", "docx") else fmt),
    )


def decode_text(path: object, data: bytes) -> tuple[str, str]:
    """Decode a text file's bytes; return ``(text, encoding)`` or raise ``LoadError``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding.removesuffix("-sig"))
            except UnicodeDecodeError as e:
                raise LoadError(path, f"invalid {encoding} after its byte-order mark: {e}") from e
            _reject_binary(path, text)
            return text, encoding
    if b"\x00" in data:
        raise LoadError(path, "binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _reject_binary(path, text)
        return text, "utf-8"
    why = "not UTF-8 or GB18030"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        _reject_binary(path, text)
        if _reads_as_chinese(text):
            return text, "gb18030"
        why = "not UTF-8; decodes as GB18030 but does not read as Chinese text"
    guessed = _confident_guess(data)
    if guessed:
        return guessed
    raise LoadError(path, f"undecodable: {why}")


def _reject_binary(path: object, text: str) -> None:
    controls = sum(1 for c in text if (c < " " or c == "\x7f") and c not in _CONTROL_OK)
    if "\x00" in text or controls > _MAX_CONTROL_SHARE * len(text):
        raise LoadError(path, "binary file (control characters), not text")


def _is_chinese_char(c: str) -> bool:
    o = ord(c)
    return (
        0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2000 <= o <= 0x206F  # general punctuation: “” — …
        or 0x2460 <= o <= 0x24FF  # ①②
        or 0x2160 <= o <= 0x217F  # Roman numerals
        or o in (0x00B7, 0x00D7, 0x00F7, 0x00B0, 0x2103, 0x2116, 0x25CB, 0x25A1, 0x25CF, 0x25A0)
        or 0x3200 <= o <= 0x32FF  # ㈠
        or 0xFE30 <= o <= 0xFE4F  # vertical forms
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
    )


def _reads_as_chinese(text: str) -> bool:
    """Plausible Chinese text: the non-ASCII characters are Chinese, and common ones.

    Latin-1 or Big5 bytes often decode as GB18030 without error, into rare ideographs outside
    GB2312 and odd symbols; real reports are almost entirely within GB2312.
    """
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return True
    chinese = sum(1 for c in non_ascii if _is_chinese_char(c))
    if chinese < _MIN_CHINESE_SHARE * len(non_ascii):
        return False
    ideographs = [c for c in non_ascii if 0x4E00 <= ord(c) <= 0x9FFF]
    if not ideographs:
        return True
    common = 0
    for c in ideographs:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= _MIN_GB2312_SHARE * len(ideographs)


def _confident_guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best guess when it is confident and yields Chinese (e.g. Big5)."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > _MAX_CHAOS:
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    non_space = [c for c in text if not c.isspace()]
    ideographs = sum(1 for c in non_space if 0x4E00 <= ord(c) <= 0x9FFF)
    if not non_space or ideographs < 0.3 * len(non_space):
        return None
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if sum(1 for c in non_ascii if _is_chinese_char(c)) < _MIN_CHINESE_SHARE * len(non_ascii):
        return None
    if any((c < " " or c == "\x7f") and c not in _CONTROL_OK for c in text):
        return None
    return text, best.encoding


def _pdf_text(path: Path, data: bytes) -> str:
    from pypdf import PdfReader

    # pypdf raises many exception types on damaged input; at this edge every one of them
    # means "this file cannot be read", which is what LoadError says.
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(path, "encrypted PDF (needs a password)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(path, f"broken PDF: {type(e).__name__}: {e}") from e
    return "\n".join(p.strip("\n") for p in pages)


def _docx_text(path: Path, data: bytes) -> str:
    import docx
    from docx.table import Table

    # python-docx raises zipfile, lxml and KeyError exceptions on damaged input.
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                for row in item.rows:
                    cells: list[str] = []
                    for cell in row.cells:  # a merged cell repeats across the row
                        if not cells or cell.text != cells[-1]:
                            cells.append(cell.text)
                    lines.append("\t".join(cells))
            else:
                lines.append(item.text)
    except Exception as e:
        raise LoadError(path, f"broken DOCX: {type(e).__name__}: {e}") from e
    return "\n".join(lines)
