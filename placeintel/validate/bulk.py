"""Table Schema checks for very large CSVs (national postcode files), vectorised in pandas.

frictionless validates row by row in Python: about 40,000 rows a second here,
so the 1.7-million-row Ofcom postcode files and the ONS Postcode Directory would
take minutes each. Files above `BULK_BYTES` are checked against the same schema
by whole columns instead. This covers the subset of Table Schema placeintel's
format schemas use (string pattern/maxLength, number and integer with groupChar,
bareNumber and minimum/maximum, required, unique and primary keys, and blank,
short and long rows), and reports each finding in frictionless's terms, so a user
sees the same report either way; tests hold the two to the same findings on the
broken-input corpus.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placeintel.sources.tables import PLAIN, TableLayout, open_text

#: Files larger than this are checked column-wise: above ~20,000 rows the column-wise pass
#: is the faster one (the demo's largest CSV is 0.2 MB, so tests exercise both).
BULK_BYTES = 2 * 1024 * 1024
#: frictionless's own pattern for what a non-bare number may carry around it.
_NON_NUMERIC_EDGES = re.compile(r"((^[^-\d]*)|(\D*$))")
_TYPE_FORMAT = {"number": "number/default", "integer": "integer/default"}

Finding = tuple[int, int, str, str, str, str]  # row, position, field, cell, type, note


def bulk_findings(
    path: Path,
    encoding: str,
    header: list[str],
    fields: list[dict[str, Any]],
    schema: dict,
    layout: TableLayout = PLAIN,
) -> list[dict[str, Any]]:
    """Findings (frictionless `flatten` order: row, field, cell, type, message, note)."""
    labels = [h.strip() for h in header]
    checked = [f for f in fields if f.get("type") != "any"]
    wanted = {f["name"] for f in checked}
    found, blank = _structure(path, encoding, labels, layout)
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=encoding,
        skipinitialspace=True,
        skip_blank_lines=False,
        skiprows=layout.header_row - 1,
        usecols=lambda label: str(label).strip() in wanted,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    first = layout.header_row + 1
    frame.index = pd.RangeIndex(first, len(frame) + first)
    frame = frame.drop(index=[r for r in layout.skip_rows if r in frame.index])
    # Short rows read as NaN where frictionless sees no cell: treat those as missing.
    rows = frame.drop(index=[r for r in blank if r in frame.index]).fillna("")
    missing_values = set(schema.get("missingValues", [""]))
    primary = schema.get("primaryKey", [])
    for field in checked:
        position = labels.index(field["name"]) + 1
        found += _field_findings(rows[field["name"]], field, position, missing_values, primary)
    if primary:  # frictionless also counts a blank row as a primary-key clash
        found += [(r, 0, "", "", "primary-key", "") for r in blank]
    found.sort(key=lambda f: (f[0], f[1]))
    return [_finding(f[0], f[2], f[3], f[4], f[5]) for f in found]


def _structure(
    path: Path, encoding: str, labels: list[str], layout: TableLayout
) -> tuple[list[Finding], list[int]]:
    """Blank, short and long rows, as frictionless reports them.

    A plain csv pass, because pandas quietly pads short rows and, reading only some
    columns, drops extra cells; it costs a few seconds on the largest national file.
    """
    found: list[Finding] = []
    blank: list[int] = []
    width = len(labels)
    skip = set(layout.skip_rows)
    with open_text(path, encoding) as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        for row_number, row in enumerate(reader, start=1):
            if row_number <= layout.header_row or row_number in skip or len(row) == width:
                continue
            if not any(cell.strip() for cell in row):
                found.append((row_number, 0, "", "", "blank-row", ""))
                blank.append(row_number)
            elif len(row) < width:
                found += [
                    (row_number, i + 1, labels[i], "", "missing-cell", "")
                    for i in range(len(row), width)
                ]
            else:
                found.append((row_number, width + 1, "", "", "extra-cell", ""))
    return found, blank


def _field_findings(
    cells: pd.Series,
    field: dict[str, Any],
    position: int,
    missing_values: set[str],
    primary: list[str],
) -> Iterator[Finding]:
    name, constraints = field["name"], field.get("constraints", {})
    present = ~cells.isin(missing_values)
    if constraints.get("required") or name in primary:
        for r in cells.index[~present]:
            yield (r, position, name, "", "constraint-error", 'constraint "required" is "True"')
    values = cells[present]
    kind = field.get("type", "string")
    if kind in ("number", "integer"):
        numbers = _numbers(values, field)
        bad = numbers.isna()
        for r in values.index[bad]:
            yield (r, position, name, values[r], "type-error", f'type is "{_TYPE_FORMAT[kind]}"')
        numbers, values = numbers[~bad], values[~bad]
        for bound, test in (("minimum", np.less), ("maximum", np.greater)):
            if bound in constraints:
                for r in numbers.index[test(numbers, constraints[bound])]:
                    note = f'constraint "{bound}" is "{constraints[bound]}"'
                    yield (r, position, name, values[r], "constraint-error", note)
    else:
        if "pattern" in constraints:
            wrong = ~values.str.fullmatch(constraints["pattern"])
            for r in values.index[wrong]:
                note = f'constraint "pattern" is "{constraints["pattern"]}"'
                yield (r, position, name, values[r], "constraint-error", note)
        if "maxLength" in constraints:
            for r in values.index[values.str.len() > constraints["maxLength"]]:
                note = f'constraint "maxLength" is "{constraints["maxLength"]}"'
                yield (r, position, name, values[r], "constraint-error", note)
    if name in primary or constraints.get("unique"):
        duplicated = values.index[values.duplicated()]
        for r in duplicated:
            # frictionless reports a primary-key clash against the row, not one field.
            if name in primary:
                yield (r, position, "", "", "primary-key", "")
            else:
                yield (r, position, name, values[r], "unique-error", "")


def _numbers(values: pd.Series, field: dict[str, Any]) -> pd.Series:
    """Parse as frictionless does: drop the group character, and unless `bareNumber`,
    any non-numeric characters around the number ("12%", "£5"). Plain numbers take
    pandas' C parser; only the cells it rejects get the slower string clean-up."""
    numbers = pd.to_numeric(values, errors="coerce")
    numbers = numbers.where(np.isfinite(numbers))
    retry = numbers.isna()
    if retry.any():
        text = values[retry]
        if field.get("groupChar"):
            text = text.str.replace(field["groupChar"], "", regex=False)
        if field.get("bareNumber") is False:
            text = text.str.replace(_NON_NUMERIC_EDGES, "", regex=True)
        again = pd.to_numeric(text, errors="coerce")
        numbers[retry] = again.where(np.isfinite(again))
    if field.get("type") == "integer":
        numbers = numbers.where(numbers == np.floor(numbers))
    return numbers


_MESSAGES = {
    "type-error": 'Type error in the cell "{cell}" in row "{row}" and field "{field}"',
    "constraint-error": 'The cell "{cell}" in row at position "{row}" and field "{field}" '
    "does not conform to a constraint: {note}",
    "primary-key": 'Row at position "{row}" violates the primary key: the same values are in '
    "an earlier row",
    "unique-error": 'Row at position "{row}" has unique constraint violation in field "{field}"',
    "blank-row": 'Row at position "{row}" is completely blank',
    "missing-cell": 'Row at position "{row}" has a missing cell in field "{field}"',
    "extra-cell": 'Row at position "{row}" has an extra value',
}


def _finding(row: int, field: str, cell: str, kind: str, note: str) -> dict[str, Any]:
    message = _MESSAGES[kind].format(cell=cell, row=row, field=field, note=note)
    return {
        "rowNumber": row,
        "fieldName": field,
        "cell": cell,
        "type": kind,
        "message": message,
        "note": note,
    }
