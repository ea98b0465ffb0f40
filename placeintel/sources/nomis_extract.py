"""Nomis extracts, as the Nomis query tool downloads them (e.g. Census 2021 RM121 by LSOA).

Unlike Nomis's bulk files, an extract opens with a preamble (table title,
copyright, population, units, date), puts its header part way down, labels each
area "E01004766 : Bolton 001A" in one cell, and ends with footnotes about
perturbation. Lines end in CRLF, and a name holding a comma is quoted, so the
file is read with a CSV parser rather than split on commas. The file is used as
published: the table is found by its area cells, not by fixed line numbers.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.census import measure_frame, measure_header_map, measure_specs
from placeintel.sources.formats import Format
from placeintel.sources.tables import (
    TableLayout,
    cells_within_limit,
    detect_encoding,
    limited_rows,
    open_text,
    read_csv,
    refuse_first,
)

#: "E01004766 : Bolton 001A" -> the code and the name.
AREA_CELL = re.compile(r"^\s*([EWSNK]\d{8})\s*:\s*(.*?)\s*$")


def locate(path: Path) -> TableLayout:
    """The header line and the lines to skip: blanks inside the table and the footnotes.

    Data lines are those whose first cell is an area cell; the header is the last
    non-blank line before the first of them. A line between the first and the last
    data line that is not blank stays in the table, so a damaged area cell is
    reported rather than skipped.
    """
    if not path.is_file():
        raise DataError("file not found", file=path)
    encoding = detect_encoding(path)
    first = last = header = 0
    blank: list[int] = []
    with open_text(path, encoding) as handle, cells_within_limit():
        reader = csv.reader(handle)
        for _, cells in limited_rows(reader, path, encoding):
            # The csv module counts physical lines, so a record spanning several lines
            # (an unclosed quote) is found and named, not silently swallowed.
            number = reader.line_num
            if any("\n" in c or "\r" in c for c in cells):
                raise DataError(
                    "a quote opened on this line is not closed: the lines after it read "
                    "as one cell",
                    file=path,
                    row=number - sum(c.count("\n") for c in cells),
                    hint="each quoted name needs its closing quote",
                )
            empty = not any(c.strip() for c in cells)
            if empty:
                blank.append(number)
            elif cells and AREA_CELL.match(cells[0]):
                first = first or number
                last = number
            elif not first:
                header = number
    if not first:
        raise DataError(
            'no table of areas ("E01004766 : Bolton 001A") found',
            file=path,
            hint="download the table from Nomis as CSV with the geography shown as 'code : name'",
        )
    if not header:
        raise DataError(
            "the table has no header line before its first area line",
            file=path,
            row=first,
            hint="keep Nomis's header line (geography, Total, the age bands ...)",
        )
    skip = [n for n in blank if header < n <= last] + list(range(last + 1, _line_count(path) + 1))
    return TableLayout(header, tuple(sorted(set(skip))))


def _line_count(path: Path) -> int:
    encoding = detect_encoding(path)
    with open_text(path, encoding) as handle, cells_within_limit():
        return sum(1 for _ in limited_rows(csv.reader(handle), path, encoding))


def read_nomis_extract(path: Path, role: str, options: dict) -> pd.DataFrame:
    """`area_code`, `area_name` and the counts named under `measures:` for each area line."""
    measure_specs(options)
    layout = locate(path)
    frame = read_csv(path, header_row=layout.header_row)
    frame = frame.drop(index=[r for r in layout.skip_rows if r in frame.index])
    area_column = frame.columns[0]
    parts = frame[area_column].str.extract(AREA_CELL)
    refuse_first(
        parts[0].isna(),
        lambda row: f"not an area cell: {frame[area_column][row][:80]!r}",
        file=path,
        field=area_column,
        hint='each data line starts with "CODE : Name", e.g. "E01004766 : Bolton 001A"',
    )
    out = measure_frame(frame, parts[0], options, path)
    out.insert(1, "area_name", parts[1])
    return out


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """The area column (the first) and every measure column, for validating the raw file."""
    found = {"area_cell": [columns[0]]} if columns else {}
    return found | measure_header_map(pd.DataFrame(columns=columns), options)


FORMAT = Format(
    "nomis-extract", read_nomis_extract, header_map, schema="nomis-extract", locate=locate
)
