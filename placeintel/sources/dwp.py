"""DWP Stat-Xplore table exports (e.g. Pension Credit claimants by LSOA).

Stat-Xplore CSVs open with title lines, label each area as "E01012345 : Name",
and end with a total row and footnotes; only the area rows are data.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.tables import detect_encoding, parse_number, read_bytes

_AREA = re.compile(r"^\s*([EWSN]\d{8})\s*(?::\s*(.*))?$")


def read_stat_xplore(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Read area rows as `area_code` and the measure named by `measure:` (default `count`)."""
    if not path.is_file():
        raise DataError("file not found", file=path)
    text = read_bytes(path).decode(detect_encoding(path))
    measure = options.get("measure", "count")
    try:
        rows = _area_rows(path, text, measure)
    except csv.Error as error:  # e.g. a stray carriage return or quote in a damaged file
        raise DataError(f"not a readable CSV file: {error}", file=path) from None
    if not rows:
        raise DataError(
            'no area rows ("E01... : name") found',
            file=path,
            hint="export the table from Stat-Xplore as CSV with area codes shown",
        )
    # Rows keep their line numbers, so a later check names the line a user must fix.
    return (
        pd.DataFrame(rows, columns=["line", "area_code", measure])
        .set_index("line")
        .rename_axis(None)
    )


def _area_rows(path: Path, text: str, measure: str) -> list[tuple[int, str, float]]:
    """(record number, area code, value) for each area row; the rest is titles and notes."""
    rows = []
    for line_number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if len(cells) < 2:
            continue
        match = _AREA.match(cells[0])
        if not match:
            continue
        try:
            value = parse_number(cells[1])
        except ValueError:
            raise DataError(
                f"not a number: {cells[1]!r}", file=path, row=line_number, field=measure
            ) from None
        rows.append((line_number, match.group(1), value))
    return rows


FORMAT = Format("dwp-stat-xplore", read_stat_xplore)
