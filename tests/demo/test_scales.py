"""Synthetic regions beyond the demo: GM's size through the CLI, postcode-level broadband.

`placeintel demo-data --scale gm` writes a region the size of Greater Manchester
with Ofcom's postcode files and an ONSPD; the build must validate it, place every
postcode in its output area, and publish wards whose premises add up exactly.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml

from placeintel.demo.layout import NATIONAL
from placeintel.region import load_manifest
from placeintel.validate import validate_sources
from tests.test_cli import placeintel

COVERAGE = "broadband/202401_fixed_postcode_coverage_r01.csv"
PERFORMANCE = "broadband/202401_fixed_postcode_performance_r01.csv"
ONSPD = "lookups/ONSPD_MAY_2024_UK.csv"


@pytest.fixture(scope="module")
def gm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    region = tmp_path_factory.mktemp("synthetic") / "gm"
    result = placeintel("demo-data", "--scale", "gm", "--output", str(region))
    assert result.returncode == 0, result.stderr
    assert "geography:" in result.stdout and "done in" in result.stdout  # progress per step
    assert f"placeintel build {region / 'region.yml'}" in result.stdout
    return region


@pytest.fixture(scope="module")
def gm_release(gm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("releases")
    result = placeintel("build", str(gm / "region.yml"), "--releases", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "synthetic-gm" / "current"


def test_national_layout_has_the_national_counts() -> None:
    n = NATIONAL
    lsoa_cols, lsoa_rows = n.count(n.n_cols, 0, "lsoa"), n.count(n.n_rows, 1, "lsoa")
    ward_cols, ward_rows = n.count(lsoa_cols, 0, "ward"), n.count(lsoa_rows, 1, "ward")
    assert 185_000 <= n.n_cols * n.n_rows <= 195_000
    assert 33_000 <= lsoa_cols * lsoa_rows <= 37_000
    assert 7_000 <= ward_cols * ward_rows <= 8_000
    assert n.service_factor * 60 >= 20_000


def test_gm_scale_nests_like_ons_geography(gm: Path) -> None:
    wards = gpd.read_file(gm / "boundaries" / "Wards_May_2023_Boundaries_UK_BGC.geojson")
    lookup = pd.read_csv(gm / "lookups" / "OA21_LSOA21_MSOA21_LAD22_EW_LU.csv", dtype=str)
    best_fit = pd.read_csv(gm / "lookups" / "LSOA21_WD23_LAD23_EW_LU.csv", dtype=str)
    assert 200 <= len(wards) <= 240  # GM has 215 wards
    assert 1_600 <= best_fit["LSOA21CD"].nunique() <= 1_800  # and 1,702 LSOAs
    assert 8_400 <= lookup["OA21CD"].nunique() <= 9_200  # and ~8,800 OAs
    assert wards["WD23CD"].is_unique and lookup["OA21CD"].is_unique
    assert set(best_fit["WD23CD"]) == set(wards["WD23CD"])
    # Every LSOA sits in one ward and one district; every ward in one district.
    assert best_fit.groupby("LSOA21CD")["WD23CD"].nunique().max() == 1
    assert best_fit.groupby("WD23CD")["LAD23CD"].nunique().max() == 1
    assert 8 <= best_fit["LAD23CD"].nunique() <= 16
    manifest = load_manifest(gm / "region.yml")
    assert manifest.synthetic and "synthetic" in manifest.title.lower()


def test_postcode_files_are_in_the_official_layouts(gm: Path) -> None:
    with (gm / ONSPD).open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:5] == ["pcd", "pcd2", "pcds", "dointr", "doterm"]
    assert header[-3:] == ["oa21", "lsoa21", "msoa21"] and len(header) == 52
    onspd = pd.read_csv(gm / ONSPD, dtype=str, usecols=["pcd", "pcd2", "pcds", "doterm", "oa21"])
    coverage = pd.read_csv(gm / COVERAGE, dtype=str)
    assert len(coverage) > 50_000  # GM has about 80,000 postcodes
    assert onspd["pcds"].str.fullmatch(r"Q[A-Z]\d{1,2} \d[A-Z]{2}").all()
    assert (onspd["pcd"].str.len() == 7).all() and (onspd["pcd2"].str.len() == 8).all()
    terminated = onspd["doterm"].fillna("") != ""
    assert 0.01 < terminated.mean() < 0.05
    live = set(onspd.loc[~terminated, "pcds"])
    assert set(coverage["postcode_space"]) == live  # Ofcom lists every live postcode once
    assert coverage["postcode"].str.fullmatch(r"Q[A-Z]\d{1,2}\d[A-Z]{2}").all()
    assert len(coverage) / onspd["oa21"].nunique() > 5  # several postcodes per OA


def test_build_places_postcodes_in_output_areas_exactly(gm: Path, gm_release: Path) -> None:
    coverage = pd.read_csv(gm / COVERAGE)
    performance = pd.read_csv(gm / PERFORMANCE, na_values=["n/a"])
    wards = gpd.read_parquet(gm_release / "wards.parquet")
    assert wards["all_premises"].sum() == coverage["All Premises"].sum()
    below_30 = coverage[[c for c in coverage if c.startswith("Number of premises with")]]
    assert wards["premises_below_30mbit"].sum() == below_30.iloc[:, :4].to_numpy().sum()
    lines = performance[[c for c in performance if c.startswith("Number of connections")]]
    assert wards["connections_total"].sum() == lines.to_numpy().sum()
    # The region's speed is the line-weighted mean over postcodes that report one.
    speed = performance["Average download speed (Mbit/s)"]
    reported = lines.sum(axis=1).where(speed.notna(), 0)
    expected = (speed.fillna(0) * reported).sum() / reported.sum()
    weights = wards["connections_with_speed"]
    got = (wards["avg_download_mbit"] * weights).sum() / weights.sum()
    assert got == pytest.approx(expected, rel=1e-3)
    broadband = gpd.read_parquet(gm_release / "broadband.parquet")
    assert broadband["all_premises"].sum() == coverage["All Premises"].sum()
    metadata = json.loads((gm_release / "datapackage.json").read_text())
    assert "ONS Postcode Directory" in json.dumps(metadata["sources"])


def _copy(gm: Path, tmp_path: Path) -> Path:
    region = tmp_path / "gm"
    shutil.copytree(gm, region, ignore=shutil.ignore_patterns("*.tif"))
    shutil.copytree(gm / "raster", region / "raster", dirs_exist_ok=True)
    return region


def test_a_postcode_missing_from_onspd_is_named(gm: Path, tmp_path: Path) -> None:
    region = _copy(gm, tmp_path)
    lines = (region / COVERAGE).read_text().splitlines(keepends=True)
    row = 101
    fields = lines[row - 1].split(",")
    fields[0], fields[1] = "QZ999ZZ", "QZ99 9ZZ"
    lines[row - 1] = ",".join(fields)
    (region / COVERAGE).write_text("".join(lines))
    _, report = validate_sources(load_manifest(region / "region.yml"))
    found = [f for f in report.errors if f.file.endswith(COVERAGE.split("/")[1])]
    assert [(f.row, f.value) for f in found] == [(row, "QZ999ZZ")]
    assert "ONS Postcode Directory" in found[0].message


def test_postcode_file_without_onspd_is_a_clear_error(gm: Path, tmp_path: Path) -> None:
    region = _copy(gm, tmp_path)
    manifest = yaml.safe_load((region / "region.yml").read_text())
    manifest["sources"] = [s for s in manifest["sources"] if s["role"] != "lookup-postcode"]
    # The warm spaces, given by postcode, would stop the manifest first (a test of its own:
    # tests/datasets/test_manifest.py); here only the broadband files lack the directory.
    manifest["datasets"] = [d for d in manifest["datasets"] if d["id"] != "warm-spaces"]
    (region / "region.yml").write_text(yaml.safe_dump(manifest))
    result = placeintel("validate", str(region / "region.yml"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "no ONS Postcode Directory" in result.stdout + result.stderr
