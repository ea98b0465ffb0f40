"""Coordinates that cannot be places are named row by row, with what is wrong with each.

A NaN, an infinity or a 1e308 was once read as "the file is in metres", with no
row; each is now its own finding, and "metres" is said only of points that are
plausible British National Grid metres.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from placeintel.errors import DataError
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.sources.services import read_services
from placeintel.sources.vector import read_vector
from placeintel.validate import validate_sources

GOOD = (-1.55, 52.55)
BIRCHFIELD_BNG = (431_000.0, 296_000.0)


def _geojson(tmp_path: Path, points: list[tuple[float, float]]) -> Path:
    path = tmp_path / "points.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"p{n}"},
            "geometry": {"type": "Point", "coordinates": list(p)},
        }
        for n, p in enumerate(points, start=1)
    ]
    # json.dumps writes NaN and Infinity as JavaScript does, as exporters do; GDAL reads them.
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ((float("nan"), 52.55), "longitude is not a number (NaN)"),
        ((-1.55, float("nan")), "latitude is not a number (NaN)"),
        ((float("inf"), 52.55), "longitude is not a finite number (inf)"),
        ((-1.55, float("-inf")), "latitude is not a finite number (-inf)"),
        ((1e308, 52.55), "longitude 1e+308 is outside the valid range of longitude (-180 to 180)"),
        ((-1.55, 1e308), "latitude 1e+308 is outside the valid range of latitude (-90 to 90)"),
        ((-1.55, 95.0), "latitude 95 is outside the valid range of latitude (-90 to 90)"),
        # One metre-sized value beside a good latitude is a typing error, not a file in metres.
        ((431_000.0, 52.55), "longitude 431000 is outside the valid range of longitude"),
    ],
)
def test_each_bad_point_is_named_with_its_row(tmp_path: Path, point, message: str) -> None:
    path = _geojson(tmp_path, [GOOD, point, GOOD])
    with pytest.raises(DataError) as caught:
        read_vector(path, "services")
    error = caught.value
    assert (error.rule, error.row, error.field) == ("invalid-coordinate", 2, "geometry")
    assert error.message.startswith(message)
    assert "metres" not in error.message


def test_every_bad_row_is_reported_not_just_the_first(tmp_path: Path) -> None:
    points = [GOOD, (float("nan"), 52.5), GOOD, (1e308, 52.5), (-1.5, float("inf")), GOOD]
    with pytest.raises(DataError) as caught:
        read_vector(_geojson(tmp_path, points), "services")
    rows = [caught.value.row, *(e.row for e in caught.value.more)]
    assert rows == [2, 4, 5]


def test_metres_labelled_as_degrees_is_still_said_of_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        read_vector(_geojson(tmp_path, [GOOD, BIRCHFIELD_BNG]), "services")
    assert (caught.value.rule, caught.value.field, caught.value.row) == ("read", "crs", 2)
    assert "coordinates look like metres but the file declares EPSG:4326" in caught.value.message


def test_metres_beside_a_broken_value_is_named_per_row(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        read_vector(_geojson(tmp_path, [BIRCHFIELD_BNG, (1e308, 52.5)]), "services")
    errors = [caught.value, *caught.value.more]
    assert [e.row for e in errors] == [1, 2]
    assert errors[0].message.startswith("coordinates look like British National Grid metres")
    assert errors[1].message.startswith("longitude 1e+308 is outside the valid range")


def test_british_national_grid_file_has_its_own_range(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]},
        geometry=[
            shapely.Point(431_000, 296_000),
            shapely.Point(1e308, 296_000),
            shapely.Point(431_000, -9e6),
        ],
        crs="EPSG:27700",
    )
    path = tmp_path / "points.gpkg"
    frame.to_file(path)
    with pytest.raises(DataError) as caught:
        read_vector(path, "services")
    errors = [caught.value, *caught.value.more]
    assert [e.row for e in errors] == [2, 3]
    assert errors[0].message.startswith(
        "easting 1e+308 is outside the valid range of British National Grid eastings"
    )
    assert errors[1].message.startswith("northing -9e+06 is outside the valid range of British")


def test_northern_ireland_in_british_national_grid_is_valid(tmp_path: Path) -> None:
    """ONS's UK-wide files in EPSG:27700 put Fermanagh just west of easting 0."""
    frame = gpd.GeoDataFrame(
        {"name": ["Belleek"]}, geometry=[shapely.Point(-376, 523_669)], crs="EPSG:27700"
    )
    frame.to_file(tmp_path / "ni.gpkg")
    assert len(read_vector(tmp_path / "ni.gpkg", "boundaries")) == 1


@pytest.mark.parametrize(
    ("header", "cells", "field", "message"),
    [
        (
            "lon,lat",
            ("200", "52.5"),
            "lon",
            "longitude 200 is outside the valid range of longitude",
        ),
        ("lon,lat", ("-1.5", ""), "lat", "latitude is missing"),
        (
            "lon,lat",
            ("431000", "296000"),
            "lon",
            "coordinates look like British National Grid metres",
        ),
        (
            "easting,northing",
            ("1e308", "296000"),
            "easting",
            "easting 1e+308 is outside the valid range of British National Grid eastings",
        ),
        ("easting,northing", ("431000", "-2e7"), "northing", "northing -2e+07 is outside"),
    ],
)
def test_services_csv_reader_names_row_and_column(
    tmp_path: Path, header: str, cells: tuple[str, str], field: str, message: str
) -> None:
    """The reader's own check, behind the Table Schema (which a council's schema may replace)."""
    good = "431000,296000" if header.startswith("easting") else "-1.55,52.55"
    path = tmp_path / "services.csv"
    path.write_text(
        f"name,category,{header}\nA,library,{good}\nB,library,{','.join(cells)}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        read_services(path, "services", {})
    assert (caught.value.rule, caught.value.row, caught.value.field) == (
        "invalid-coordinate",
        3,
        field,
    )
    assert caught.value.message.startswith(message)


def test_validation_report_lists_every_bad_feature(tmp_path: Path) -> None:
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    tablets = region / "services/tablet_lending_and_free_data_points.geojson"
    document = json.loads(tablets.read_text(encoding="utf-8"))
    for n, coordinates in ((2, [float("nan"), 52.5]), (5, [-1.5, 1e308]), (7, [float("inf"), 1.0])):
        document["features"][n - 1]["geometry"] = {"type": "Point", "coordinates": coordinates}
    tablets.write_text(json.dumps(document), encoding="utf-8")
    _, report = validate_sources(load_manifest(region))
    found = {
        (f.row, f.message.split(" (")[0]) for f in report.errors if f.rule == "invalid-coordinate"
    }
    assert found == {
        (2, "longitude is not a number"),
        (5, "latitude 1e+308 is outside the valid range of latitude"),
        (7, "longitude is not a finite number"),
    }
    assert not [f for f in report.findings if "look like metres" in f.message]
