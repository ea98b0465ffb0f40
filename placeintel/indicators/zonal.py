"""Raster zonal statistics, exact at cell fractions (exactextract).

Why exactextract rather than rasterio's masks: a cell-centre mask drops cells
whose centre falls just outside a zone (undercounting small or thin areas),
and an all-touched mask counts border cells in both neighbours (double
counting). exactextract weights each cell by the fraction of it the polygon
covers, so zone totals add up to the raster total. Zones are independent, so
the engine may compute them in chunks (see placeintel.engine).

What exactextract is fed, and why: its stock inputs cost more in Python than its
C++ spends summing. A GeoDataFrame goes through `iterfeatures` and a GeoJSON
string per zone, and a file path through a rasterio read (a masked array) per
zone's window. Here the raster is read once into memory, with the same extent,
values and nodata mask, and served by exactextract's own NumPyRasterSource; the
zones are handed over as WKB, which carries the same doubles GeoJSON would (both
are exact), so the statistics are the same, computed the same way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource

from placeintel.engine import LOCAL
from placeintel.sources.raster import RasterSource

_META = pd.DataFrame({"_zone": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})


class _Zone(Feature):
    """One zone for exactextract: its WKB and its position in the zone frame."""

    def __init__(self, wkb: bytes, zone: int) -> None:
        Feature.__init__(self)
        self._wkb = wkb
        self._zone = zone

    def geometry(self) -> bytes:
        return self._wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> int:
        if name != "_zone":
            raise KeyError(name)
        return self._zone

    def fields(self) -> list[str]:
        return ["_zone"]


class _Zones(FeatureSource):
    """Zones as WKB, converted in one vectorised call rather than per zone as GeoJSON."""

    def __init__(self, geometries: np.ndarray, zones: np.ndarray, srs_wkt: str | None) -> None:
        super().__init__()
        self._wkb = shapely.to_wkb(geometries)
        self._zones = zones.tolist()
        self._srs_wkt = srs_wkt

    def count(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[_Zone]:
        for wkb, zone in zip(self._wkb, self._zones, strict=True):
            yield _Zone(wkb, zone)

    def srs_wkt(self) -> str | None:
        return self._srs_wkt


@functools.lru_cache(maxsize=2)
def _cells(path: str, mtime_ns: int) -> NumPyRasterSource:
    """The raster at `path` as it was at `mtime_ns`, kept while the stage sums it several
    times (population and coverage, for wards, LSOAs and interpolation pieces);
    `forget_rasters` lets it go."""
    return _read(path)


def forget_rasters() -> None:
    """Drop the rasters kept in memory for zonal statistics (end of the indicator stage)."""
    _cells.cache_clear()


def _in_memory(path: str) -> NumPyRasterSource:
    return _cells(path, os.stat(path).st_mtime_ns)


def _read(path: str) -> NumPyRasterSource:
    """The whole first band, masked where it is nodata, on the file's own extent: what
    exactextract's rasterio source reads window by window, read in one go."""
    with rasterio.open(path) as dataset:
        if dataset.scales[0] != 1.0 or dataset.offsets[0] != 0.0:
            raise ValueError(f"{path}: scaled rasters are not supported")
        cells = dataset.read(1, masked=True)
        left, bottom, right, top = dataset.bounds
        nodata = dataset.nodata
        if nodata is not None and not dataset.dtypes[0].startswith("float"):
            nodata = int(nodata)
        wkt = dataset.crs.wkt if dataset.crs else None
    if not np.ma.is_masked(cells):
        cells = cells.data  # nothing masked: exactextract reads a plain array the same way
    return NumPyRasterSource(cells, left, bottom, right, top, nodata=nodata, srs_wkt=wkt)


def _zonal_chunk(zones: gpd.GeoDataFrame, path: str, statistic: str) -> pd.DataFrame:
    if zones.empty:
        return _META.copy()
    srs = zones.crs.to_wkt() if zones.crs is not None else None
    features = _Zones(zones.geometry.to_numpy(), zones["_zone"].to_numpy(), srs)
    result = exact_extract(
        _in_memory(path), features, [statistic], include_cols=["_zone"], output="pandas"
    )
    return pd.DataFrame(
        {
            "_zone": result["_zone"].to_numpy(dtype="int64"),
            "value": result[statistic].to_numpy(dtype="float64"),
        }
    )


def zonal(
    raster: RasterSource, zones: gpd.GeoDataFrame, statistic: str, engine=LOCAL
) -> np.ndarray:
    """One exactextract statistic ("sum", or "mean" weighted by covered fraction) per zone."""
    if zones.empty:
        return np.zeros(0)
    frame = zones[["geometry"]].reset_index(drop=True).to_crs(raster.crs)
    frame["_zone"] = np.arange(len(frame))
    result = engine.apply(
        frame, partial(_zonal_chunk, path=str(raster.path), statistic=statistic), _META
    )
    values = np.full(len(frame), np.nan)
    values[result["_zone"].to_numpy()] = result["value"].to_numpy()
    return values


def zonal_sums(raster: RasterSource, zones: gpd.GeoDataFrame, engine=LOCAL) -> np.ndarray:
    """The raster total inside each zone, in zone order; zones the raster misses sum to 0."""
    return np.nan_to_num(zonal(raster, zones, "sum", engine))
