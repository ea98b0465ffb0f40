"""`placeintel describe FILE` drafts a Table Schema a build accepts; errors are one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from click.testing import CliRunner

from placeintel.cli import main
from placeintel.region import load_manifest
from placeintel.validate import validate_sources
from tests.conftest import ROOT
from tests.datasets.helpers import DEMO, entry, region_with


def test_describe_drafts_a_schema_for_the_grants_register(tmp_path: Path) -> None:
    out = tmp_path / "grants.schema.json"
    result = CliRunner().invoke(
        main, ["describe", str(DEMO / "council/grants_register.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    fields = {f["name"]: f for f in json.loads(out.read_text(encoding="utf-8"))["fields"]}
    assert fields["amount_gbp"]["type"] == "integer"
    assert fields["award_date"]["type"] == "date"
    assert fields["grant_id"]["type"] == "string" and fields["grant_id"]["description"] == ""
    assert "choose the key column for the manifest (key:): grant_id" in result.output
    assert "schema: grants.schema.json" in result.output


def test_a_drafted_schema_validates_the_file_it_describes(tmp_path: Path) -> None:
    """Drafted for a GeoJSON, named in the manifest, and the build's validation passes."""
    region = region_with(
        tmp_path,
        [entry("halls", "halls.geojson", "hall_id", schema="halls.schema.json")],
    )
    gpd.GeoDataFrame(
        {"hall_id": ["H1", "H2"], "seats": [40, 12], "open": ["2024-01-05", ""]},
        geometry=[shapely.Point(-1.55, 52.56), shapely.Point(-1.56, 52.57)],
        crs="OGC:CRS84",
    ).to_file(region / "halls.geojson", driver="GeoJSON")
    result = CliRunner().invoke(
        main,
        ["describe", str(region / "halls.geojson"), "--output", str(region / "halls.schema.json")],
    )
    assert result.exit_code == 0, result.output
    data, report = validate_sources(load_manifest(region))
    assert report.ok, report.to_text()
    assert list(data.datasets["halls"]["hall_id"]) == ["H1", "H2"]


def test_describe_prints_the_schema_without_output(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,amount\n1,2.5\n2,3\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", "describe", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fields"][1]["type"] == "number"
    assert "Review it" in done.stderr


def test_describe_errors_are_one_line(tmp_path: Path) -> None:
    for path, words in (
        (tmp_path / "missing.csv", "file not found"),
        (tmp_path / "notes.txt", "describe reads"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "placeintel.cli", "describe", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode != 0 and words in done.stderr
        assert "Traceback" not in done.stderr


def test_the_datasets_command_for_a_region_without_datasets(tmp_path: Path) -> None:
    region = region_with(tmp_path, [])
    result = CliRunner().invoke(main, ["datasets", str(region)])
    assert result.exit_code == 0 and "has no datasets" in result.output
    result = CliRunner().invoke(main, ["datasets", "nowhere"])
    assert result.exit_code == 2 and "unknown region" in result.output
