"""Datasets in the release, per the contract between core and api (BRIEF16): files, data
package resources with their Table Schema, the `placeintel.datasets` descriptors, and diff."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from placeintel import Release, build
from placeintel.cli import main
from placeintel.publish.diff import diff_releases
from tests.datasets.helpers import DEMO

DESCRIPTOR_KEYS = {
    "id",
    "title",
    "description",
    "keywords",
    "licence",
    "attribution",
    "publisher",
    "contact",
    "update_frequency",
    "key",
    "title_field",
    "geometry",
    "rows",
    "bbox",
    "modified",
    "source",
    "files",
}


@pytest.fixture(scope="module")
def package(demo_release: Release) -> dict:
    return json.loads((demo_release.path / "datapackage.json").read_text(encoding="utf-8"))


def test_the_demo_warm_spaces_stand_at_their_postcodes(demo_release: Release) -> None:
    """Given by postcode, each space is published at the ONSPD grid reference of its
    postcode (oseast1m, osnrth1m), in every format; the columns are the file's own."""
    directory = pd.read_csv(
        DEMO / "lookups/ONSPD_MAY_2024_UK.csv",
        dtype={"pcds": str, "doterm": str},
        keep_default_na=False,
    ).set_index("pcds")
    source = pd.read_csv(DEMO / "council/warm_spaces.csv", dtype=str)
    assert "easting" not in source and "northing" not in source
    assert source["postcode"].isin(directory.index[directory["doterm"] == ""]).all()
    where = directory.loc[source["postcode"], ["oseast1m", "osnrth1m"]].to_numpy()
    root = demo_release.path
    for published, metres in (
        (gpd.read_parquet(root / "warm-spaces.parquet"), 1e-6),
        (gpd.read_file(root / "warm-spaces.gpkg", layer="warm-spaces"), 1e-6),
        # GeoJSON is lon/lat with a fixed number of decimals: back in metres, within 0.5 m.
        (gpd.read_file(root / "warm-spaces.geojson").to_crs(27700), 0.5),
    ):
        assert list(published["space_id"]) == list(source["space_id"])
        assert list(published["postcode"]) == list(source["postcode"])
        xy = published.geometry.get_coordinates().to_numpy()
        assert abs(xy - where).max() < metres
    # Each space is in the ward the file names (the directory's ward for the postcode).
    assert list(directory.loc[source["postcode"], "osward"]) == list(source["ward_code"])


def test_files_of_a_dataset_with_and_without_geometry(demo_release: Release) -> None:
    root = demo_release.path
    for suffix in ("csv", "geojson", "gpkg", "parquet"):
        assert (root / f"warm-spaces.{suffix}").is_file()
    assert (root / "grants.csv").is_file() and (root / "grants.parquet").is_file()
    assert not (root / "grants.geojson").exists() and not (root / "grants.gpkg").exists()
    assert pyogrio.list_layers(root / "warm-spaces.gpkg")[0][0] == "warm-spaces"
    warm = gpd.read_parquet(root / "warm-spaces.parquet")
    assert warm.crs.to_epsg() == 27700 and len(warm) == 25 and warm.geom_type.eq("Point").all()
    grants = gpd.read_parquet(root / "grants.parquet")
    assert grants.crs.to_epsg() == 27700 and grants.geometry.isna().all() and len(grants) == 40
    assert grants["amount_gbp"].dtype == float  # numbers as numbers, from the schema
    geojson = json.loads((root / "warm-spaces.geojson").read_text(encoding="utf-8"))
    lon, lat = geojson["features"][0]["geometry"]["coordinates"]
    assert -2 < lon < -1 and 52 < lat < 53  # RFC 7946 lon/lat


def test_resources_and_their_table_schema(package: dict) -> None:
    resources = {r["name"]: r for r in package["resources"]}
    assert {
        "warm-spaces-csv",
        "warm-spaces-geojson",
        "warm-spaces-gpkg",
        "warm-spaces-parquet",
        "grants-csv",
    } <= set(resources)
    assert not {"grants-geojson", "grants-gpkg", "grants-parquet"} & set(resources)
    schema = resources["grants-csv"]["schema"]
    fields = {f["name"]: f for f in schema["fields"]}
    assert schema["primaryKey"] == ["grant_id"]
    assert fields["amount_gbp"]["type"] == "number"
    assert fields["award_date"]["type"] == "date"
    assert fields["recipient_organisation"]["description"].startswith("The organisation")
    assert resources["grants-csv"]["licenses"][0]["name"] == "OGL-UK-3.0"
    assert "Organisations only" in resources["grants-csv"]["description"]


def test_the_datasets_descriptors_follow_the_contract(package: dict) -> None:
    warm, grants = package["placeintel"]["datasets"]
    assert set(warm) == DESCRIPTOR_KEYS == set(grants)
    assert (warm["id"], warm["geometry"], warm["rows"], warm["key"]) == (
        "warm-spaces",
        "point",
        25,
        "space_id",
    )
    west, south, east, north = warm["bbox"]
    assert -2 < west < east < -1 and 52 < south < north < 53
    assert warm["files"] == {
        "csv": "warm-spaces.csv",
        "geojson": "warm-spaces.geojson",
        "gpkg": "warm-spaces.gpkg",
        "parquet": "warm-spaces.parquet",
    }
    assert (grants["geometry"], grants["bbox"], grants["rows"]) == (None, None, 40)
    assert grants["files"] == {"csv": "grants.csv", "parquet": "grants.parquet"}
    assert grants["modified"] == "2024-12-31" and grants["source"]["path"] == "grants_register.csv"
    assert grants["licence"]["title"] == "Open Government Licence v3.0"
    assert warm["contact"]["email"] == "opendata@demo-city-region.example"


def test_frictionless_validates_the_package(demo_release: Release) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "datapackage.json"],
        cwd=demo_release.path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_datasets_command_lists_rows_once_built(demo_release: Release) -> None:
    result = CliRunner().invoke(
        main, ["datasets", "demo", "--releases", str(demo_release.path.parent.parent)]
    )
    assert result.exit_code == 0, result.output
    warm = next(line for line in result.output.splitlines() if line.startswith("warm-spaces"))
    assert warm.split()[-2:] == ["25", "OGL-UK-3.0"] and "postcode (postcode)" in warm
    grants = next(line for line in result.output.splitlines() if line.startswith("grants"))
    assert "none" in grants and " 40 " in grants


def _edit(path: Path, edit) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    edit(table)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)


def test_diff_reports_dataset_changes_and_csv_is_safe_in_a_spreadsheet(tmp_path: Path) -> None:
    out = tmp_path / "releases"
    first = build("demo", releases=out, echo=lambda line: None)
    region = tmp_path / "demo"
    shutil.copytree(DEMO, region)
    warm = region / "council/warm_spaces.csv"

    def change(table: list[list[str]]) -> None:
        name = table[0].index("name")
        table[3][name] = '=HYPERLINK("http://evil.example")'  # WS003
        del table[5]  # WS005

    _edit(warm, change)
    second = build(region, releases=out, echo=lambda line: None)
    published = (second.path / "warm-spaces.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in published and "\n=HYPERLINK" not in published
    changes = diff_releases(first.path, second.path)
    (warm_change, grants_change) = sorted(changes.datasets, key=lambda c: c.id != "warm-spaces")
    assert (warm_change.rows_before, warm_change.rows_after) == (25, 24)
    assert (warm_change.removed, warm_change.changed, warm_change.added) == (1, 1, 0)
    assert (grants_change.rows_before, grants_change.changed) == (40, 0)
    resource = next(r for r in changes.resources if r.name == "warm-spaces")
    assert resource.removed == ["WS005"] and resource.changed == ["WS003"]
    text = changes.to_text()
    assert "warm-spaces: 25 -> 24 rows (0 added, 1 removed, 1 changed)" in text


def test_the_rows_are_the_files_rows(demo_release: Release) -> None:
    source = pd.read_csv(DEMO / "council/grants_register.csv", dtype=str)
    published = pd.read_csv(demo_release.path / "grants.csv", dtype=str)
    assert list(published["grant_id"]) == list(source["grant_id"])
    assert list(published["purpose"]) == list(source["purpose"])
