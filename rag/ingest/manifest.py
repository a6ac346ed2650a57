"""Manifests: per-file metadata supplied alongside a corpus (CSV, TSV or JSON).

A row is keyed by its ``file`` value as written ("city/云南省_临沧市_2021.txt") and by the
bare file name ("云南省_临沧市_2021.txt"), so either form of source name finds it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rag.errors import ConfigError

_KNOWN = ("level", "province", "city", "district", "year", "title", "qc_flag")


@dataclass(frozen=True)
class ManifestRow:
    """One file's metadata; empty cells are None. Unknown columns are kept in ``extra``."""

    file: str
    level: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    year: int | None = None
    title: str | None = None
    qc_flag: str | None = None
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _row(record: dict, where: str) -> ManifestRow:
    file = _clean(record.get("file") or record.get("source"))
    if not file:
        raise ConfigError(f"manifest {where}: no 'file' value")
    values = {k: _clean(record.get(k)) for k in _KNOWN}
    year_text = values.pop("year")
    year: int | None = None
    if year_text:
        try:
            year = int(float(year_text))
        except ValueError:
            raise ConfigError(f"manifest {where}: year {year_text!r} is not a number") from None
    extra = {str(k): str(v) for k, v in record.items()
             if k not in _KNOWN and k not in ("file", "source") and _clean(v) is not None}
    return ManifestRow(file=file, year=year, extra=extra, **values)


def _read_table(path: Path, text: str, delimiter: str) -> list[ManifestRow]:
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    if not reader.fieldnames or "file" not in [f.strip() for f in reader.fieldnames]:
        raise ConfigError(f"manifest {path} line 1: header has no 'file' column")
    rows = []
    for record in reader:
        line = reader.line_num
        if None in record:  # more cells than header columns
            raise ConfigError(f"manifest {path} line {line}: more cells than header columns")
        record = {k.strip(): v for k, v in record.items() if k is not None}
        if not any(_clean(v) for v in record.values()):
            continue
        rows.append(_row(record, f"{path} line {line}"))
    return rows


def _read_json(path: Path, text: str) -> list[ManifestRow]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"manifest {path} line {e.lineno}: invalid JSON ({e.msg})") from None
    if isinstance(data, dict):
        items = [{"file": k, **v} if isinstance(v, dict) else v for k, v in data.items()]
    elif isinstance(data, list):
        items = data
    else:
        raise ConfigError(f"manifest {path}: expected a list of objects or {{file: object}}")
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(f"manifest {path} entry {i}: expected an object")
        rows.append(_row(item, f"{path} entry {i}"))
    return rows


def load_manifest(path: str | Path) -> dict[str, ManifestRow]:
    """Read a manifest into rows keyed by file (relative path and bare name).

    Args:
        path: a ``.csv``, ``.tsv`` or ``.json`` file with a ``file`` column or key.

    Returns:
        ``{"city/云南省_临沧市_2021.txt": row, "云南省_临沧市_2021.txt": row, ...}``.

    Raises:
        ConfigError: the file is missing, undecodable or malformed; the message names the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"manifest {path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise ConfigError(f"manifest {path} line {line}: not UTF-8") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        rows = _read_json(path, text)
    elif suffix in (".tsv", ".tab"):
        rows = _read_table(path, text, "\t")
    elif suffix == ".csv":
        rows = _read_table(path, text, ",")
    else:
        raise ConfigError(f"manifest {path}: unknown format (use .csv, .tsv or .json)")
    out: dict[str, ManifestRow] = {}
    for row in rows:
        out[row.file] = row
        out.setdefault(PurePosixPath(row.file.replace("\\", "/")).name, row)
    return out
