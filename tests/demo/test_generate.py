"""The synthetic demo region: reproducible to the byte, big enough, and in official layouts."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd

from placeintel import load_region
from placeintel.demo.generate import generate
from placeintel.demo.postcodes import ONSPD_HEADER
from placeintel.region import DATASETS_DIR, load_manifest

DEMO = DATASETS_DIR / "demo"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_regenerates_committed_files_byte_for_byte(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert written
    for path in written:
        committed = DEMO / path.relative_to(tmp_path)
        assert committed.is_file(), f"{committed} is generated but not committed"
        assert _digest(path) == _digest(committed), f"{committed} differs from a fresh generation"


def test_demo_is_big_enough_and_labelled_synthetic() -> None:
    manifest = load_manifest("demo")
    assert manifest.synthetic and "synthetic" in manifest.title.lower()
    frames = load_region("demo")
    assert len(frames["districts"]) >= 3
    assert len(frames["wards"]) >= 30
    assert len(frames["lsoa21"]) >= 150
    assert len(frames["oa21"]) >= 600
    services = pd.concat([frames["council-services"], frames["tablet-and-data"]])
    assert len(services) >= 60 and services["category"].nunique() >= 4
    assert (
        "SYNTHETIC"
        in (DEMO / "boundaries" / "Wards_May_2023_Boundaries_UK_BGC.geojson").read_text()
    )
    total = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024


def test_vintage_gap_is_real() -> None:
    lsoa11 = gpd.read_file(DEMO / "boundaries" / "LSOA_2011_EW_BGC.shp")
    lsoa21 = gpd.read_file(DEMO / "boundaries" / "LSOA_2021_EW_BGC.gpkg")
    assert set(lsoa11["LSOA11CD"]) != set(lsoa21["LSOA21CD"])
    # Most LSOAs kept their code, as in the real 2021 revision.
    assert len(set(lsoa11["LSOA11CD"]) & set(lsoa21["LSOA21CD"])) > 100


def test_official_quirks_present() -> None:
    imd = (DEMO / "imd").glob("*.csv").__next__().read_text(encoding="utf-8")
    assert '"' in imd and "," in imd.splitlines()[1].split('"')[1]  # quoted thousands
    performance = (DEMO / "broadband" / "202401_fixed_oa21_performance_r01.csv").read_text()
    assert performance.startswith("output_area,")


def test_postcode_directory_in_the_onspd_layout() -> None:
    """The demo's ONSPD: ONS's 52 columns, every output area with a live postcode whose
    grid reference lies inside it, and a few terminated postcodes, as in the real file."""
    path = DEMO / "lookups" / "ONSPD_MAY_2024_UK.csv"
    with path.open(newline="") as handle:
        assert next(csv.reader(handle)) == ONSPD_HEADER
    onspd = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert onspd["pcds"].str.fullmatch(r"Q[A-Z]\d{1,2} \d[A-Z]{2}").all()
    assert onspd["pcds"].is_unique and (onspd["pcd"].str.len() == 7).all()
    live = onspd[onspd["doterm"] == ""]
    assert 0 < len(onspd) - len(live) < 0.05 * len(onspd)
    oas = gpd.read_file(DEMO / "boundaries" / "OA_2021_EW_BGC.gpkg").set_index("OA21CD")
    assert set(live["oa21"]) == set(oas.index)
    east, north = live["oseast1m"].astype(float), live["osnrth1m"].astype(float)
    points = gpd.GeoSeries.from_xy(east, north, crs=oas.crs)
    assert oas.loc[live["oa21"]].geometry.contains(points, align=False).all()
    assert live["osward"].str.startswith("E0599").all()
