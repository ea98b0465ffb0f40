"""The column-wise checker for national-size CSVs finds what frictionless finds.

Every broken-input case of the corpus is validated both ways (forcing the bulk
path on the demo's small files) and must give the same (rule, row, field) set,
so a user sees the same report whichever path their file size takes.
"""

from __future__ import annotations

import csv
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from frictionless import Resource, Schema
from hypothesis import given, settings
from hypothesis import strategies as st

from placeintel.errors import DataError
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.sources import FORMATS
from placeintel.sources.tables import read_header
from placeintel.validate import bulk
from placeintel.validate.bulk import UnsupportedSchema, bulk_findings, supported
from placeintel.validate.report import Report
from placeintel.validate.tables import _FLAT, SCHEMA_DIR, load_schema, validate_table
from tests.validate.test_corpus import CASES, Case, _broken_region

#: The corpus's CSV cases of the region's sources (its council datasets' CSVs go through
#: the same checker; their cases are in tests/datasets).
SOURCE_FILES = {s.path for s in load_manifest(DATASETS_DIR / "demo").sources}
CSV_CASES = [c for c in CASES if c.file.endswith(".csv") and c.file in SOURCE_FILES]


def _findings(region: Path, file: str, bulk: bool) -> set[tuple]:
    manifest = load_manifest(region)
    source = next(s for s in manifest.sources if s.path == file)
    name = FORMATS[source.reader].schema_for(source)
    if name is None:
        pytest.skip(f"{file} has no format schema")
    path = source.resolve(manifest.data_dir)
    try:
        header, _ = read_header(path)
    except DataError as error:  # an empty file: caught before either checker runs
        return {("unreadable", None, error.message)}
    options = {"source_id": source.id, **source.options}
    mapping = FORMATS[source.reader].header_map([h.strip() for h in header], source.role, options)
    report = Report("parity")
    validate_table(path, load_schema(name), mapping, report, bulk=bulk)
    return {(f.rule, f.row, f.field, f.value, f.message, f.hint) for f in report.errors}


def test_corpus_has_csv_cases() -> None:
    assert len(CSV_CASES) >= 20


@pytest.mark.parametrize("case", CSV_CASES, ids=lambda c: c.id)
def test_bulk_checker_matches_frictionless(case: Case, tmp_path: Path) -> None:
    region = _broken_region(tmp_path, case.mutate)
    row_by_row = _findings(region, case.file, bulk=False)
    column_wise = _findings(region, case.file, bulk=True)
    assert column_wise == row_by_row


def test_bulk_checker_passes_the_clean_demo(tmp_path: Path) -> None:
    region = _broken_region(tmp_path, lambda region: None)
    for source in load_manifest(region).sources:
        if source.path.endswith(".csv") and FORMATS[source.reader].schema_for(source):
            assert _findings(region, source.path, bulk=True) == set(), source.path


#: A schema using every constraint the format schemas use, and some they do not yet.
_TRICKY_SCHEMA: dict[str, Any] = {
    "missingValues": ["", "n/a"],
    "primaryKey": ["code"],
    "fields": [
        {"name": "code", "type": "string", "constraints": {"pattern": "E0[0-9]{7}|W0[0-9]{7}"}},
        {
            "name": "kind",
            "type": "string",
            "constraints": {"enum": ["library", "hub"], "minLength": 3, "unique": True},
        },
        {
            "name": "share",
            "type": "number",
            "groupChar": ",",
            "bareNumber": False,
            "constraints": {"required": True, "minimum": 0, "maximum": 100},
        },
        {"name": "count", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "opened", "type": "date"},
    ],
}
_TRICKY_ROWS = [
    ["E01000001", "library", "12.5", "3", "2024-01-31"],
    ["E01000001", "hub", ".5", "1.0", "2024-02-30"],  # key repeat; ".5" reads as 5
    ["W01000002x", "hb", "1,000", "1e3", "31/01/2024"],
    ["E01000003", "library", "99.99999999999999999", "-1", ""],
    ["", "n/a", "NaN", "1_000", "2024-03-01"],
    ["E01000004", "Library", "12%", " 7", "2024-03-02"],
    ["E01000005", "hub", "£-0.0", "١٢", "2024-03-03"],
    ["E01000006\n", "hubs", "inf", "0x10", "2024-03-04"],
    ["", "", "", "", ""],
    ["E01000007", "library", "100.0000000000000001", "+4", "2024-03-05"],
]


def _frictionless_rows(path: Path, descriptor: dict[str, Any]) -> list[list[Any]]:
    schema = Schema.from_descriptor(descriptor)
    resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
    return resource.validate(limit_errors=1000).flatten(_FLAT)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def test_bulk_checker_gives_frictionless_findings_on_awkward_values(tmp_path: Path) -> None:
    header = [f["name"] for f in _TRICKY_SCHEMA["fields"]]
    path = _write(tmp_path / "tricky.csv", header, _TRICKY_ROWS)
    expected = _frictionless_rows(path, _TRICKY_SCHEMA)
    assert len(expected) > 20  # the fixture does break every rule it names
    found = bulk_findings(path, "utf-8", header, _TRICKY_SCHEMA, limit=1000)
    assert _in_row_order(found) == _in_row_order(expected)


def _in_row_order(findings: list[list[Any]]) -> list[list[Any]]:
    """Findings in row order. Within a row frictionless's order depends on which cells its
    unique and key checks happened to read first, so that order is not held equal."""
    rows = [f[0] for f in findings]
    assert rows == sorted(rows)
    return sorted(findings, key=repr)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"-?[0-9]{1,18}(\.[0-9]{1,18})?", fullmatch=True),
            st.text(alphabet="0123456789.,-+e%£ ", max_size=12),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from([0, 1, 99.5, 100, 0.1, 1e15]),
)
def test_bulk_number_verdicts_are_frictionless_verdicts(cells: list[str], bound: float) -> None:
    """The screen may wave a value through only when frictionless would pass it."""
    descriptor = {
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "value",
                "type": "number",
                "groupChar": ",",
                "bareNumber": False,
                "constraints": {"minimum": -bound, "maximum": bound},
            },
        ]
    }
    with tempfile.TemporaryDirectory() as folder:
        rows = [[str(i), cell] for i, cell in enumerate(cells)]
        path = _write(Path(folder) / "values.csv", ["id", "value"], rows)
        expected = _frictionless_rows(path, descriptor)
        found = bulk_findings(path, "utf-8", ["id", "value"], descriptor, limit=1000)
        assert _in_row_order(found) == _in_row_order(expected)


def test_every_format_schema_is_checked_whole_by_the_bulk_checker() -> None:
    """A constraint added to a format schema that the large-file path cannot check fails
    here, not silently on a national file. (Foreign keys are checked across files by
    `validate.checks`, and are not passed to either table checker.)"""
    for schema_file in sorted(SCHEMA_DIR.glob("*.json")):
        schema = load_schema(schema_file.stem)
        fields = [{k: v for k, v in f.items() if not k.startswith("x-")} for f in schema["fields"]]
        descriptor = {"fields": fields, "missingValues": schema["missingValues"]}
        supported(descriptor)  # raises UnsupportedSchema naming what it cannot check


@pytest.mark.parametrize(
    ("descriptor", "named"),
    [
        (
            {"fields": [{"name": "a"}], "foreignKeys": [{"fields": "a"}], "uniqueKeys": []},
            "foreignKeys, uniqueKeys",
        ),
        (
            {"fields": [{"name": "n", "type": "number", "constraints": {"unique": True}}]},
            '"unique" on field "n"',
        ),
        ({"fields": [{"name": "d", "type": "date"}], "primaryKey": ["d"]}, '"primaryKey"'),
    ],
)
def test_bulk_checker_refuses_checks_it_cannot_make(
    descriptor: dict[str, Any], named: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "t.csv", [f["name"] for f in descriptor["fields"]], [["1"]])
    with pytest.raises(UnsupportedSchema, match=re.escape(named)):
        bulk_findings(path, "utf-8", [f["name"] for f in descriptor["fields"]], descriptor)


def test_a_file_of_mostly_blank_lines_is_refused_without_reading_it_whole(
    tmp_path: Path,
) -> None:
    """Ten thousand blank rows are reported one by one as frictionless does; beyond that the
    file is refused, naming the first, before pandas would hold millions of empty rows."""
    file = "lookups/OA21_LSOA21_MSOA21_LAD22_EW_LU.csv"

    def pad(region: Path) -> None:
        with (region / file).open("a", encoding="utf-8") as handle:
            handle.write("\n" * 3_000_000)

    region = _broken_region(tmp_path, pad)
    found = _findings(region, file, bulk=True)
    assert len(found) == 1, found
    rule, row, _, _, message, _ = found.pop()
    assert rule == "too-many-blank-rows" and "more than 10,000 blank rows" in message
    assert row is not None and row > 10_000


@given(st.lists(st.sampled_from(["QA1 0AA", "QA10 0AA", "QA9 9ZZ", "B", "", "é"]), max_size=10))
def test_a_key_column_told_distinct_by_order_reads_as_hashed(values: list[str]) -> None:
    """A key column `_distinct` finds distinct by its order (no hashing) gets the very
    codes and values `dictionary_encode` gives it."""
    for column in (values, sorted(set(values))):
        cells = pd.Series(pd.arrays.ArrowStringArray(pa.array(column, type=pa.large_string())))
        try:
            codes, distinct = bulk._distinct(cells, remember=True)
        finally:
            bulk._key_columns.clear()
        encoded = pc.dictionary_encode(pa.array(column, type=pa.large_string()))
        np.testing.assert_array_equal(codes, encoded.indices.to_numpy(zero_copy_only=False))
        assert distinct.equals(encoded.dictionary)
