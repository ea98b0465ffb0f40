"""Datasets validated into the region's report with file, row and field, whatever their format;
an invalid one stops the build and leaves `current` as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook

from placeintel import build
from placeintel.errors import PlaceintelError
from placeintel.region import load_manifest
from placeintel.validate import validate_sources
from tests.datasets.helpers import entry, region_with

#: A point inside the demo's region, and one a hundred kilometres away.
INSIDE = (-1.55, 52.56)
FAR = (-3.0, 53.5)
SCHEMA = {
    "fields": [
        {"name": "hall_id", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "seats", "type": "integer", "constraints": {"minimum": 0}},
    ]
}


def _findings(region: Path, rule: str) -> list:
    _, report = validate_sources(load_manifest(region))
    return [f for f in report.findings if f.rule == rule]


def _halls(region: Path, seats: list, points: list, name: str = "halls.geojson") -> None:
    gpd.GeoDataFrame(
        {
            "hall_id": [f"H{n}" for n in range(len(seats))],
            "name": ["Hall"] * len(seats),
            "seats": seats,
        },
        geometry=[shapely.Point(p) for p in points],
        crs="OGC:CRS84",
    ).to_file(region / name, driver="GeoJSON")
    (region / "halls.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")


def _region(tmp_path: Path, **more) -> Path:
    spec = entry(
        "halls", "halls.geojson", "hall_id", schema="halls.schema.json", title_field="name", **more
    )
    return region_with(tmp_path, [spec])


def test_a_geojson_cell_against_its_schema_names_the_feature(tmp_path: Path) -> None:
    region = _region(tmp_path)
    _halls(region, ["40", "many", "-3"], [INSIDE] * 3)
    errors = _findings(region, "type-error") + _findings(region, "constraint-error")
    assert {(Path(f.file).name, f.row, f.field) for f in errors} == {
        ("halls.geojson", 2, "seats"),
        ("halls.geojson", 3, "seats"),
    }


def test_a_point_far_outside_the_region_is_a_warning_naming_the_row(tmp_path: Path) -> None:
    region = _region(tmp_path)
    _halls(region, [1, 2], [INSIDE, FAR])
    (found,) = _findings(region, "outside-region")
    assert (found.severity, found.row, found.field, found.value) == (
        "warning",
        2,
        "geometry",
        "Hall",
    )


def test_a_duplicate_key_and_a_missing_column_in_a_layer(tmp_path: Path) -> None:
    region = _region(tmp_path)
    _halls(region, [1, 2], [INSIDE, INSIDE])
    halls = gpd.read_file(region / "halls.geojson")
    halls["hall_id"] = ["H1", "H1"]
    halls.to_file(region / "halls.geojson", driver="GeoJSON")
    (found,) = _findings(region, "duplicate-key")
    assert (found.row, found.field, found.value) == (2, "hall_id", "H1")
    halls.drop(columns="seats").to_file(region / "halls.geojson", driver="GeoJSON")
    (missing,) = _findings(region, "missing-column")
    assert missing.field == "seats"


def test_an_xlsx_finding_names_the_sheet_row(tmp_path: Path) -> None:
    region = region_with(
        tmp_path,
        [entry("grants", "grants.xlsx", "grant_id", geometry="none", schema="g.schema.json")],
    )
    book = Workbook()
    book.active.append(["grant_id", "amount"])
    book.active.append(["G1", 100])
    book.active.append(["G2", "lots"])
    book.save(region / "grants.xlsx")
    (region / "g.schema.json").write_text(
        json.dumps(
            {
                "fields": [
                    {"name": "grant_id", "type": "string"},
                    {"name": "amount", "type": "number"},
                ]
            }
        ),
        encoding="utf-8",
    )
    (found,) = _findings(region, "type-error")
    assert (Path(found.file).name, found.row, found.field, found.value) == (
        "grants.xlsx",
        3,
        "amount",
        "lots",
    )


def test_a_personal_value_listed_as_public_passes(tmp_path: Path) -> None:
    region = region_with(
        tmp_path,
        [entry("halls", "halls.csv", "hall_id", geometry="none", public_values=["07700 900123"])],
    )
    (region / "halls.csv").write_text(
        "hall_id,phone\nH1,07700 900123\nH2,07700 900456\n", encoding="utf-8"
    )
    (found,) = _findings(region, "personal-data")
    assert (found.row, found.field) == (3, "phone")


def test_an_absent_optional_dataset_is_a_warning_and_a_required_one_an_error(
    tmp_path: Path,
) -> None:
    region = region_with(
        tmp_path,
        [
            entry("a", "absent.csv", "id", geometry="none", optional=True),
            entry("b", "../../outside.csv", "id", geometry="none"),
        ],
    )
    _, report = validate_sources(load_manifest(region))
    rules = {(f.severity, f.rule) for f in report.findings}
    assert ("warning", "dataset-absent") in rules
    assert ("error", "path-outside-data") in rules


def test_a_broken_schema_is_an_error_naming_it(tmp_path: Path) -> None:
    region = region_with(
        tmp_path, [entry("a", "a.csv", "id", geometry="none", schema="a.schema.json")]
    )
    (region / "a.csv").write_text("id\n1\n", encoding="utf-8")
    (region / "a.schema.json").write_text('{"fields": [{"type": "integer"}]}', encoding="utf-8")
    (found,) = _findings(region, "schema-invalid")
    assert Path(found.file).name == "a.schema.json" and found.field == "datasets[0].schema"


def _snapshot(out: Path) -> tuple[Path, str]:
    current = (out / "demo" / "current").resolve()
    return current, hashlib.sha256((current / "datapackage.json").read_bytes()).hexdigest()


def test_a_broken_dataset_stops_the_build_and_current_stays(tmp_path: Path) -> None:
    out = tmp_path / "releases"
    build("demo", releases=out, echo=lambda line: None)
    before = _snapshot(out)
    region = region_with(
        tmp_path,
        [entry("halls", "halls.csv", "hall_id", geometry={"lon": "lon", "lat": "lat"})],
        name="demo",
    )
    (region / "halls.csv").write_text(
        "hall_id,lon,lat\nH1,-1.55,52.56\nH2,nan,52.56\n", encoding="utf-8"
    )
    lines: list[str] = []
    with pytest.raises(PlaceintelError, match="validation error"):
        build(region, releases=out, echo=lines.append)
    assert any("halls.csv, row 3, field 'lon'" in line for line in lines), lines
    assert _snapshot(out) == before
    assert not [p for p in (out / "demo").iterdir() if p.name.startswith(".staging")]


def _table(region: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    (region / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_formula_in_a_workbook_is_refused_by_row_and_column(tmp_path: Path) -> None:
    """Its published value would be the display text or nothing, whatever the sheet shows."""
    region = region_with(tmp_path, [entry("grants", "grants.xlsx", "grant_id", geometry="none")])
    book = Workbook()
    sheet = book.active
    sheet.append(["grant_id", "organisation", "amount"])
    sheet.append(["G1", "Age Concern", 500])
    sheet.append(["G2", '=HYPERLINK("http://evil.example/","Click me")', 800])
    book.save(region / "grants.xlsx")
    (found,) = _findings(region, "formula-cell")
    assert (found.severity, found.row, found.field) == ("error", 3, "organisation")
    assert found.file.endswith("grants.xlsx")


@pytest.mark.parametrize(
    ("header", "rule", "field"),
    [
        (["cid", "Name", "name"], "duplicate-column", "name"),
        (["cid", "geometry", "name"], "reserved-column", "geometry"),
    ],
)
def test_column_names_no_published_format_can_hold(
    tmp_path: Path, header: list[str], rule: str, field: str
) -> None:
    """GeoPackage and PostGIS fold case, and `geometry` is the files' own column: refused at
    validate time (a build used to end in a GDAL traceback, or drop the column)."""
    spec = entry("places", "places.csv", "cid", geometry="none", licence="OGL-UK-3.0")
    region = region_with(tmp_path, [spec])
    _table(region, "places.csv", header, [["C1", "a", "b"], ["C2", "c", "d"]])
    (found,) = _findings(region, rule)
    assert (found.severity, found.field) == ("error", field)
    with pytest.raises(PlaceintelError):
        build(region, releases=tmp_path / "releases", echo=lambda line: None)


def test_an_empty_table_and_an_unstated_licence_are_said(tmp_path: Path) -> None:
    named = entry("named", "named.csv", "cid", geometry="none", licence="Council terms")
    bare = entry("bare", "bare.csv", "cid", geometry="none")
    region = region_with(tmp_path, [named, bare])
    _table(region, "named.csv", ["cid", "name"], [])
    _table(region, "bare.csv", ["cid", "name"], [["C1", "x"]])
    empty = _findings(region, "no-rows")
    assert [f.file.rsplit("/", 1)[-1] for f in empty] == ["named.csv"]
    (unknown,) = _findings(region, "unknown-licence")
    (missing,) = _findings(region, "no-licence")
    assert unknown.field.endswith(".licence") and "Council terms" in unknown.message
    assert "bare" in missing.message and missing.severity == "warning"
