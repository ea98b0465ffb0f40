"""Tolerant CSV reading shared by every tabular reader.

Official CSVs arrive with a UTF-8 byte-order mark, in Windows-1252, with stray
spaces in headers and with thousands separators ("29,199") in numbers. These
helpers absorb exactly those quirks and nothing more: anything else unparseable
is an error that names the file, row and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from placeintel.errors import DataError

#: Cells that official files use for "no value" (suppressed, not applicable).
MISSING_MARKERS = frozenset({"", "n/a", "na", "-", "..", ":", "*", "x", "c"})

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV as text so that no value is guessed at, with headers trimmed.

    Row numbers in errors count the header as row 1, as a spreadsheet does.
    """
    if not path.is_file():
        raise DataError("file not found", file=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError("file is empty", file=path)
    encoding = "utf-8-sig"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        # Excel on Windows still saves "CSV" as cp1252; it is the only other
        # encoding official UK files are seen in, so it is the only fallback.
        encoding = "cp1252"
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=encoding, skipinitialspace=True
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot parse CSV: {exc}", file=path) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["encoding"] = encoding
    frame.attrs["path"] = str(path)
    return frame


def find_column(
    frame: pd.DataFrame, *candidates: str, path: Path | str | None = None, required: bool = True
) -> str | None:
    """Find a column by any of its official spellings, ignoring case and spacing."""
    by_key = {_key(c): c for c in frame.columns}
    for candidate in candidates:
        hit = by_key.get(_key(candidate))
        if hit is not None:
            return hit
    if required:
        raise DataError(
            "required column is missing",
            file=path or frame.attrs.get("path"),
            field=candidates[0],
            hint=f"columns present: {', '.join(frame.columns[:12])}",
        )
    return None


def parse_number(text: str) -> float:
    """Parse one official number cell; NaN for the missing markers.

    Raises ValueError for anything else, so the caller can name the row.
    """
    cell = text.strip()
    if cell.lower() in MISSING_MARKERS:
        return np.nan
    cell = cell.removesuffix("%").strip()
    if not _NUMBER.match(cell) or cell in {"+", "-", "."}:
        raise ValueError(text)
    return float(cell.replace(",", ""))


def numeric(frame: pd.DataFrame, column: str, path: Path | str | None = None) -> pd.Series:
    """Convert a text column to floats, naming the first bad cell precisely."""
    values = np.empty(len(frame), dtype=float)
    for position, cell in enumerate(frame[column].tolist()):
        try:
            values[position] = parse_number(cell)
        except ValueError:
            raise DataError(
                f"not a number: {cell!r}",
                file=path or frame.attrs.get("path"),
                row=position + 2,
                field=column,
            ) from None
    return pd.Series(values, index=frame.index, name=column)


def sum_columns(
    frame: pd.DataFrame, columns: Iterable[str], path: Path | str | None = None
) -> pd.Series:
    """Sum several count columns (e.g. age bands) into one; missing cells count as missing."""
    parts = [numeric(frame, c, path) for c in columns]
    return pd.concat(parts, axis=1).sum(axis=1, min_count=len(parts))


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())
