"""Frictionless validation of source CSVs against the Table Schema of their format.

The schemas in `schemas/` use placeintel's canonical field names, because the
official headers drift between releases and mirrors. Each file's own header
is mapped onto the schema with the same header recognition its reader uses,
and frictionless then checks every cell of the raw file, so one run reports
every bad value with its row instead of stopping at the first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from frictionless import Dialect, FrictionlessException, Resource, Schema

from placeintel.errors import DataError
from placeintel.sources.arrow_csv import Wanted
from placeintel.sources.tables import PLAIN, TableLayout, read_bytes, read_header, scan_cells
from placeintel.validate.bulk import BULK_BYTES, bulk_findings
from placeintel.validate.report import Report

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
#: Findings kept per file; a wholly wrong file would otherwise drown the report.
MAX_FINDINGS_PER_FILE = 100

_HINTS = {
    "type-error": "expected {type}; numbers may use thousands separators, and a missing value "
    "may be blank or n/a",
    "constraint-error": "{note}",
    "primary-key": "the same code appears on an earlier row",
    "unique-error": "the same value appears on an earlier row",
    "missing-cell": "the row has fewer cells than the header: the file may be truncated",
    "extra-cell": "the row has more cells than the header: check for an unquoted comma",
    "blank-row": "remove the empty row",
    "duplicate-label": "two columns have the same header",
    "blank-label": "a column has no header",
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def validate_table(
    path: Path,
    schema: dict[str, Any],
    mapping: dict[str, list[str]],
    report: Report,
    bulk: bool | None = None,
    layout: TableLayout = PLAIN,
    hand_on: bool = False,
    reads: Wanted = None,
) -> bool:
    """Check one CSV against its format's schema; return whether it had no errors.

    `bulk` picks the column-wise checker (`validate.bulk`); by default it is used for
    files too large for frictionless's row-by-row pass. `layout` says where the header
    is and which lines are notes rather than data (a Nomis extract's preamble, footnotes).
    `hand_on` leaves the column-wise pass's parse of the file for its reader, which reads
    the columns `reads` (by trimmed header; None for all): see `validate.well_formed`.
    """
    header, encoding = read_header(path, layout.header_row)
    before = len(report.errors)
    if encoding == "cp1252":
        report.add(
            "warning",
            "encoding",
            "file is not UTF-8; read it as Windows-1252 (cp1252)",
            file=str(path),
            hint="save it as UTF-8 to be sure accented names are right",
        )
    specs = {field["name"]: field for field in schema["fields"]}
    column_spec: dict[str, dict[str, Any]] = {}
    for canonical, columns in mapping.items():
        spec = specs.get(canonical)
        for column in columns if spec else []:
            column_spec[column] = spec
    for spec in schema["fields"]:
        if spec.get("x-requiredColumn") and spec["name"] != "*" and spec["name"] not in mapping:
            report.add(
                "error",
                "missing-column",
                "required column is missing",
                file=str(path),
                field=spec.get("title", spec["name"]),
                hint=f"columns present: {', '.join(h.strip() for h in header[:10])}",
            )
    for column in mapping.get("*missing", []):
        report.add(
            "error",
            "missing-column",
            "column named in the manifest is missing",
            file=str(path),
            field=column,
            hint="check the source's `measures` mapping",
        )
    labels = [h.strip() for h in header]
    repeated = sorted({label for label in labels if labels.count(label) > 1 and label})
    for label in repeated:
        report.add(
            "error",
            "duplicate-label",
            "two columns have the same header",
            file=str(path),
            field=label,
            hint="each column needs its own name; check the header line",
        )
    if "" in labels:
        report.add(
            "error",
            "blank-label",
            f"column {labels.index('') + 1} has no header",
            file=str(path),
            hint="name every column, or remove the empty one (often a trailing comma)",
        )
    keys = [k for k in schema.get("primaryKey", []) if k != "*"]
    if repeated or "" in labels or any(k not in mapping for k in keys):
        # Columns cannot be told apart, or rows cannot be identified: checking cells would
        # only pile up noise behind the finding that matters.
        return False
    primary = [mapping[key][0] for key in schema.get("primaryKey", []) if key in mapping]
    fields = []
    for label in (h.strip() for h in header):  # frictionless strips labels as it reads
        spec = column_spec.get(label)
        if spec is None:
            fields.append({"name": label, "type": "any"})
            continue
        field = {k: v for k, v in spec.items() if not k.startswith("x-") and k != "title"}
        field["name"] = label
        if label in primary and "constraints" in field:
            field["constraints"] = {k: v for k, v in field["constraints"].items() if k != "unique"}
        fields.append(field)
    descriptor: dict[str, Any] = {"fields": fields, "missingValues": schema["missingValues"]}
    if primary and len(primary) == len(schema.get("primaryKey", [])):
        descriptor["primaryKey"] = primary
    if bulk is None:
        bulk = path.stat().st_size > BULK_BYTES
    try:
        if bulk:  # the column-wise pass refuses over-long cells and rows as it reads
            rows = bulk_findings(
                path,
                encoding,
                header,
                descriptor,
                layout,
                MAX_FINDINGS_PER_FILE,
                hand_on=hand_on,
                reads=reads,
            )
        else:
            scan_cells(path, encoding, labels)
            resource = Resource(
                path=path.name,
                basepath=str(path.parent),
                encoding=encoding,
                schema=Schema.from_descriptor(descriptor),
                dialect=Dialect(
                    header_rows=[layout.header_row], comment_rows=list(layout.skip_rows)
                ),
            )
            rows = resource.validate(limit_errors=MAX_FINDINGS_PER_FILE).flatten(_FLAT)
    except DataError as error:  # a limit (placeintel.limits) the file breaks
        report.add_error(error, file=str(path))
        return False
    _report_findings(
        rows,
        path,
        report,
        lambda field: f"a {column_spec.get(field, {}).get('type', 'value')}",
        range_hint=lambda field: column_spec.get(field, {}).get("x-rangeHint"),
    )
    return len(report.errors) == before


#: How a cell spells NaN or infinity; frictionless's number type reads every one of them.
_NON_FINITE = re.compile(r"^\s*[+-]?(nan|inf|infinity)\s*$", re.IGNORECASE)
#: frictionless's note for a value out of a field's range.
_RANGE = re.compile(r'constraint "(minimum|maximum)"')
_FLAT = ["rowNumber", "fieldName", "cell", "type", "message", "note"]


def _report_findings(
    rows: list[list[Any]],
    path: Path,
    report: Report,
    expected: Callable[[str], str],
    suffix: str = "",
    range_hint: Callable[[str], str | None] = lambda field: None,
) -> None:
    """Turn each schema error into a finding naming file, row, field and value.

    Table Schema's number type admits NaN and infinity, which then fail `minimum` and
    `maximum` both; placeintel's readers refuse them as not numbers, so they are
    reported once, as what they are. `range_hint` gives a field's own words for a
    value out of its range ("outside the valid range of longitude").
    """
    seen: set[tuple[Any, str]] = set()
    for row, field, cell, kind, message, note in rows:
        name = (field or "").strip()
        hint = _HINTS.get(kind, "").format(type=expected(name), note=note or "") + suffix
        if kind == "constraint-error" and _NON_FINITE.match(str(cell or "")):
            if (row, name) in seen:
                continue
            seen.add((row, name))
            kind, message = "type-error", "not a number"
            hint = "NaN and infinity are not values; leave a missing value blank" + suffix
        elif kind == "constraint-error" and range_hint(name) and 'imum"' in (note or ""):
            hint = str(range_hint(name)) + suffix
        report.add(
            "error",
            kind,
            message.split(": ", 1)[0] if kind == "type-error" else message,
            file=str(path),
            row=row,
            field=name,
            value="" if cell is None else str(cell),  # the report shows its first characters
            hint=hint,
        )


def validate_with_own_schema(path: Path, schema_path: Path, report: Report) -> bool:
    """A council's own Table Schema for a file (field names as in the file's header)."""
    if not schema_path.is_file():
        report.add(
            "error",
            "schema-missing",
            "the Table Schema named in the manifest is missing",
            file=str(schema_path),
            field="schema",
        )
        return False
    before = len(report.errors)
    try:
        _, encoding = read_header(path)
        scan_cells(path, encoding)
    except DataError as error:  # empty, unreadable, or over a limit (placeintel.limits)
        report.add_error(error, file=str(path))
        return False
    try:
        schema = Schema.from_descriptor(json.loads(read_bytes(schema_path).decode("utf-8")))
    except (DataError, ValueError, FrictionlessException) as error:
        report.add(
            "error",
            "schema-invalid",
            f"the Table Schema named in the manifest cannot be used: {error}",
            file=str(schema_path),
            field="schema",
        )
        return False
    resource = Resource(path=path.name, basepath=str(path.parent), encoding=encoding, schema=schema)
    _report_findings(
        resource.validate(limit_errors=MAX_FINDINGS_PER_FILE).flatten(_FLAT),
        path,
        report,
        lambda field: "the schema's type",
        f" (schema: {schema_path.name})",
    )
    return len(report.errors) == before
