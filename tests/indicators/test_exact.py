"""Rasters read for exactextract: the same cells and mask as rasterio's masked read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from placeintel.indicators.exact import read_cells


def _write(path: Path, cells: np.ndarray, nodata: float | None) -> str:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cells.shape[1],
        height=cells.shape[0],
        count=1,
        dtype=cells.dtype,
        crs="EPSG:27700",
        transform=from_origin(0, 100, 10, 10),
        nodata=nodata,
    ) as out:
        out.write(cells, 1)
    return str(path)


def _as_masked_read(path: str) -> np.ndarray:
    """What `read_cells` gave before: the masked read, plain when nothing is masked."""
    with rasterio.open(path) as dataset:
        cells = dataset.read(1, masked=True)
    return cells if np.ma.is_masked(cells) else cells.data


CASES = {
    "no nodata": (np.arange(100, dtype="float32").reshape(10, 10), None),
    "nodata, none present": (np.arange(100, dtype="float32").reshape(10, 10) + 5, -1.0),
    "nodata present": (np.where(np.eye(10) > 0, -1, 3).astype("float32"), -1.0),
    "a cell an ulp from nodata": (
        np.full((10, 10), np.nextafter(np.float32(-1), np.float32(0)), dtype="float32"),
        -1.0,
    ),
    "NaN nodata with NaN cells": (np.where(np.eye(10) > 0, np.nan, 2).astype("float32"), np.nan),
    "NaN nodata without": (np.ones((10, 10), dtype="float32"), np.nan),
    "integers": (np.where(np.eye(10) > 0, 255, 7).astype("uint8"), 255),
    "integers, none present": (np.full((10, 10), 7, dtype="uint8"), 255),
}


@pytest.mark.parametrize("case", list(CASES))
def test_read_cells_as_the_masked_read(tmp_path: Path, case: str) -> None:
    cells, nodata = CASES[case]
    path = _write(tmp_path / "r.tif", cells, nodata)
    found, expected = read_cells(path).cells, _as_masked_read(path)
    assert type(found) is type(expected)
    if np.ma.isMaskedArray(expected):
        np.testing.assert_array_equal(np.ma.getmaskarray(found), np.ma.getmaskarray(expected))
        np.testing.assert_array_equal(found.compressed(), expected.compressed())
    else:
        np.testing.assert_array_equal(found, expected)


def test_statistics_as_the_pandas_writer_gives_them(tmp_path: Path) -> None:
    """Zones inside, across and outside the raster, one raster and two: the same numbers
    (NaN where a zone has none) as exactextract's own pandas output."""
    import shapely
    from exactextract import exact_extract

    from placeintel.indicators.exact import Zones, statistics

    rng = np.random.default_rng(6)
    first = _write(tmp_path / "a.tif", rng.uniform(0, 9, (10, 10)).astype("float32"), -1.0)
    second = _write(tmp_path / "b.tif", rng.uniform(0, 1, (10, 10)).astype("float32"), -1.0)
    zones = [
        shapely.box(12, 13, 47.5, 61),
        shapely.box(-30, -30, -10, -10),  # outside
        shapely.box(85, 85, 130, 130),  # across the edge
        shapely.box(0, 0, 100, 100),
    ]
    wkb = list(shapely.to_wkb(zones))
    cells = [read_cells(first), read_cells(second)]
    for requests in ([(first, "sum")], [(first, "sum"), (second, "mean")]):
        rasters = cells[: len(requests)]
        found = statistics(rasters, requests, wkb, range(len(zones)), None)
        sources = [c.source(f"r{i}") for i, c in enumerate(rasters)]
        asked = list(dict.fromkeys(s for _, s in requests))
        expected = exact_extract(
            sources,
            Zones(wkb, range(len(zones)), None),
            asked,
            include_cols=["_zone"],
            output="pandas",
        )
        np.testing.assert_array_equal(found["_zone"], np.arange(len(zones)))
        for i, (_, statistic) in enumerate(requests):
            name = statistic if len(requests) == 1 else f"r{i}_{statistic}"
            np.testing.assert_array_equal(
                found[f"r{i}_{statistic}"], expected[name].to_numpy(dtype="float64")
            )
