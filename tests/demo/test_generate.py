"""The synthetic demo region: reproducible to the byte, big enough, and in official layouts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd

from placeintel import load_region
from placeintel.demo.generate import generate
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
