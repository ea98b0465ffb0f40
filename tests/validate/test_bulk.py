"""The column-wise checker for national-size CSVs finds what frictionless finds.

Every broken-input case of the corpus is validated both ways (forcing the bulk
path on the demo's small files) and must give the same (rule, row, field) set,
so a user sees the same report whichever path their file size takes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.errors import DataError
from placeintel.region import load_manifest
from placeintel.sources import FORMATS
from placeintel.sources.tables import read_header
from placeintel.validate.report import Report
from placeintel.validate.tables import load_schema, validate_table
from tests.validate.test_corpus import CASES, Case, _broken_region

CSV_CASES = [c for c in CASES if c.file.endswith(".csv")]


def _findings(region: Path, file: str, bulk: bool) -> set[tuple[str, int | None, str]]:
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
    return {(f.rule, f.row, f.field) for f in report.errors}


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
