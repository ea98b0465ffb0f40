"""Schema findings for numbers that are not numbers, and for coordinates out of range.

Table Schema's number type reads NaN and infinity, which then fail both `minimum`
and `maximum`; placeintel's readers refuse them as not numbers, so the schema pass
says the same, once per cell, on both the row-by-row and the column-wise path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.validate.report import Report
from placeintel.validate.tables import load_schema, validate_table

MAPPING = {"name": ["name"], "lon": ["lon"], "lat": ["lat"], "category": ["type"]}


def _validate(tmp_path: Path, lon: str, lat: str, bulk: bool) -> list:
    path = tmp_path / "services.csv"
    path.write_text(
        f"name,type,lon,lat\nGood,library,-1.55,52.55\nBad,library,{lon},{lat}\n",
        encoding="utf-8",
    )
    report = Report("t")
    validate_table(path, load_schema("services"), MAPPING, report, bulk=bulk)
    return report.errors


@pytest.mark.parametrize("bulk", [False, True])
@pytest.mark.parametrize("cell", ["NaN", "nan", "inf", "-Infinity", " +INF "])
def test_non_finite_number_is_one_type_error(tmp_path: Path, cell: str, bulk: bool) -> None:
    errors = _validate(tmp_path, cell, "52.5", bulk)
    assert [(e.rule, e.row, e.field, e.message) for e in errors] == [
        ("type-error", 3, "lon", "not a number")
    ]
    assert errors[0].value == cell
    assert "leave a missing value blank" in errors[0].hint


@pytest.mark.parametrize("bulk", [False, True])
def test_coordinate_out_of_range_says_which_range(tmp_path: Path, bulk: bool) -> None:
    errors = _validate(tmp_path, "-1.5", "1e308", bulk)
    assert [(e.rule, e.row, e.field) for e in errors] == [("constraint-error", 3, "lat")]
    assert errors[0].hint.startswith("outside the valid range of latitude (-90 to 90 degrees)")
