"""Census-style tables in the Nomis bulk layout (`date, geography, geography code, ...`).

Each measure the indicators need is named in the manifest as one column or a
list of columns to add up (e.g. the 5-year age bands that make up 65+), because
councils bring tables with different band splits. The same measure mapping
serves every census layout (`nomis_extract`, `census_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.tables import find_column, read_csv, sum_columns

#: How a manifest names a measure: one column, or a list of columns to add up.
MeasureSpec = str | list[str]


def measure_specs(options: dict) -> dict[str, list[str]]:
    """The source's `measures:` as {measure: [column, ...]}, or an error saying what is wanted."""
    measures = options.get("measures")
    if not isinstance(measures, dict) or not measures:
        raise DataError(
            "a census source needs a 'measures' mapping",
            field="measures",
            hint="e.g. measures: {population: 'Age: Total'}",
        )
    specs = {}
    for measure, spec in measures.items():
        columns = [spec] if isinstance(spec, str) else spec
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise DataError(
                "a measure is one column name or a list of column names",
                field=f"measures.{measure}",
            )
        specs[str(measure)] = columns
    return specs


def measure_frame(
    frame: pd.DataFrame,
    codes: pd.Series,
    options: dict,
    path: Path,
    column_of: Callable[[str], str | None] | None = None,
) -> pd.DataFrame:
    """`area_code` and one count per measure, summing the columns each measure lists.

    `column_of` turns a manifest's name for a column into the file's column (a coded
    table lets a measure be named by its code or by its label); by default the name
    is matched to a header ignoring case and spacing. An empty or suppressed cell
    stays missing: a sum with a missing part is missing, never a smaller number.
    """
    out = pd.DataFrame({"area_code": codes.str.strip()}, index=frame.index)
    missing: dict[str, int] = {}
    for measure, columns in measure_specs(options).items():
        resolved = []
        for name in columns:
            column = column_of(name) if column_of else find_column(frame, name, required=False)
            if column is None or column not in frame:
                raise DataError(
                    "column named in the manifest is missing",
                    file=path,
                    field=name,
                    hint=f"measures.{measure}; columns present: {', '.join(frame.columns[:12])}",
                )
            if column in resolved:
                raise DataError(
                    f"measure {measure!r} names the column {column!r} twice",
                    file=path,
                    field=f"measures.{measure}",
                    hint="each column is added once; a code and its label are the same column",
                )
            resolved.append(column)
        out[measure] = sum_columns(frame, resolved, path)
        if out[measure].isna().any():
            missing[measure] = int(out[measure].isna().sum())
    out.attrs.update(frame.attrs)
    out.attrs["missing_cells"] = missing
    out.attrs["measure_columns"] = {
        measure: [column_of(c) if column_of else find_column(frame, c) for c in columns]
        for measure, columns in measure_specs(options).items()
    }
    return out


def read_census(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Read the measures listed under the source's `measures:` as counts per area code."""
    measure_specs(options)
    frame = read_csv(path)
    key = find_column(frame, "geography code", "GEOGRAPHY_CODE", path=path)
    return measure_frame(frame, frame[key], options, path)


def measure_header_map(
    frame: pd.DataFrame, options: dict, column_of: Callable[[str], str | None] | None = None
) -> dict[str, list[str]]:
    """Every measure column (as `*`), and the names the manifest gives that are missing."""
    wanted = [c for columns in measure_specs(options).values() for c in columns]
    find = column_of or (lambda name: find_column(frame, name, required=False))
    present = [find(c) for c in wanted]
    found = {"*": [c for c in dict.fromkeys(present) if c]}
    missing = [c for c, hit in zip(wanted, present, strict=True) if hit is None]
    if missing:
        found["*missing"] = missing
    return found


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """`area_code` and every measure column (as `*`), for validating the raw file."""
    frame = pd.DataFrame(columns=columns)
    found: dict[str, list[str]] = {}
    key = find_column(frame, "geography code", "GEOGRAPHY_CODE", required=False)
    if key:
        found["area_code"] = [key]
    return found | measure_header_map(frame, options)


FORMAT = Format("nomis-census", read_census, header_map, schema="nomis-census")
