"""Rasters must lie over the region, in their own CRS, and hold a valid cell there.

A raster in another CRS that says so (WorldPop's grids are in degrees) is right and
must pass, and weight people as the British National Grid raster does; one that is
mislabelled, elsewhere or empty is an error. The check reads only the cells under
the region.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.io import DatasetReader
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

from placeintel.indicators.access import from_raster
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.sources.raster import read_raster
from placeintel.validate import validate_sources

RASTER = "raster/population_100m.tif"
RULES = ("raster-outside-region", "raster-no-data", "raster-no-population")


def _region(tmp_path: Path) -> Path:
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    return region


def _raster_findings(region: Path) -> list:
    data, report = validate_sources(load_manifest(region))
    return [f for f in report.findings if f.rule in RULES or "raster" in f.file]


def _to_wgs84(source: Path, target: Path) -> None:
    """The demo's population re-gridded in degrees, as WorldPop publishes it."""
    with rasterio.open(source) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:4326", src.width, src.height, *src.bounds
        )
        cells = np.full((height, width), -1, dtype="float32")
        reproject(
            src.read(1),
            cells,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs="EPSG:4326",
            resampling=Resampling.sum,
            src_nodata=-1,
            dst_nodata=-1,
        )
        profile = src.profile | {
            "crs": "EPSG:4326",
            "transform": transform,
            "width": width,
            "height": height,
        }
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(cells, 1)


def test_a_correctly_labelled_degrees_raster_passes_and_weights_the_same(tmp_path: Path) -> None:
    region = _region(tmp_path)
    _to_wgs84(DATASETS_DIR / "demo" / RASTER, region / RASTER)
    data, report = validate_sources(load_manifest(region))
    assert report.ok, report.to_text()
    wards = data.one("wards")
    bng = from_raster(wards, read_raster(DATASETS_DIR / "demo" / RASTER, "", {}))
    wgs84 = from_raster(wards, data.one("population-raster"))
    # Cell centres come back in British National Grid metres, inside the region...
    minx, miny, maxx, maxy = wards.total_bounds
    assert (wgs84.x > minx).all() and (wgs84.x < maxx).all()
    assert (wgs84.y > miny).all() and (wgs84.y < maxy).all()
    # ...and each ward's people agree with the British National Grid raster's.
    per_ward_bng = np.bincount(bng.ward, bng.weight, minlength=len(wards))
    per_ward_wgs84 = np.bincount(wgs84.ward, wgs84.weight, minlength=len(wards))
    assert np.corrcoef(per_ward_bng, per_ward_wgs84)[0, 1] > 0.98
    assert per_ward_wgs84.sum() == pytest.approx(per_ward_bng.sum(), rel=0.05)


def test_valid_cells_only_outside_the_region_are_no_data(tmp_path: Path) -> None:
    """A raster twice the region's width whose only values lie east of it."""
    region = _region(tmp_path)
    path = region / RASTER
    with rasterio.open(path) as src:
        profile = src.profile | {"width": src.width * 2}
        cells = np.full((src.height, src.width * 2), -1, dtype="float32")
        cells[:, src.width + 10 :] = 50
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(cells, 1)
    findings = _raster_findings(region)
    assert [(f.rule, f.field) for f in findings] == [("raster-no-data", "nodata")]


def test_only_the_cells_under_the_region_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raster 100 times the region's area: the check reads the region's window, no more."""
    region = _region(tmp_path)
    path = region / RASTER
    with rasterio.open(path) as src:
        inside = src.read(1)
        profile = src.profile | {
            "width": src.width * 10,
            "height": src.height * 10,
            "transform": from_origin(
                src.bounds.left - 45 * 1_600, src.bounds.top + 45 * 1_000, 100, 100
            ),
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
    cells = np.full((profile["height"], profile["width"]), -1, dtype="float32")
    cells[450 : 450 + inside.shape[0], 720 : 720 + inside.shape[1]] = inside
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(cells, 1)
    cells_read: list[int] = []
    original = DatasetReader.read

    def counting_read(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        if Path(self.name) == path:
            cells_read.append(out.size)
        return out

    monkeypatch.setattr(DatasetReader, "read", counting_read)
    assert _raster_findings(region) == []
    assert 0 < sum(cells_read) <= inside.size * 1.1
