"""Rasters that cannot describe the region: elsewhere, or with no valid cell over it.

A raster labelled with the wrong CRS, or one that is all nodata, opens without
complaint, and every zonal sum over it is 0: population weights vanish while the
release still says they came from the raster. So the region's extent is taken
into the raster's own CRS, and the cells under it are read, one strip of rows at
a time (never the whole raster), until one valid cell (for a population raster,
one with people) is found.
"""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.errors import CRSError, RasterioError, WindowError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from placeintel.sources import RegionData
from placeintel.sources.raster import RasterSource
from placeintel.validate.report import Report

BNG = "EPSG:27700"
#: The roles whose files are rasters, and what their cells hold.
RASTER_ROLES = ("population-raster", "coverage-raster")
#: Cells read at once (16 MB of float32), so a fine raster never fills memory.
STRIP_CELLS = 4_000_000


def check_rasters(data: RegionData, report: Report) -> None:
    """Each raster must overlap the region and hold a valid cell (people, for population)."""
    region = _region_bounds(data)
    if region is None:
        return
    for role in RASTER_ROLES:
        for source, raster in data.role(role):
            path = str(source.resolve(data.manifest.data_dir))
            try:
                _check(raster, region, role, path, report)
            except RasterioError as exc:  # a corrupt block inside a file that opened
                report.add("error", "read", f"cannot read raster: {exc}", file=path)


def _region_bounds(data: RegionData) -> tuple[float, float, float, float] | None:
    """The region's extent in British National Grid, from its finest complete outline."""
    for role in ("wards", "districts", "lsoa21"):
        frame = data.one(role)
        if frame is None:
            continue
        shaped = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty]
        bounds = shaped.total_bounds
        if len(shaped) and np.isfinite(bounds).all():
            return tuple(float(b) for b in bounds)
    return None


def _check(
    raster: RasterSource,
    region: tuple[float, float, float, float],
    role: str,
    path: str,
    report: Report,
) -> None:
    with rasterio.open(raster.path) as dataset:
        window = _window(dataset, region)
        if window is None:
            mislabelled = _mislabelled(dataset, region, raster.crs)
            report.add(
                "error",
                "raster-outside-region",
                f"the raster's extent ({_fmt(dataset.bounds)} in {raster.crs}) lies outside "
                f"the region ({_fmt(region)} in {BNG})",
                file=path,
                field="crs" if mislabelled else "extent",
                value=raster.crs,
                hint=(
                    f"the raster's coordinates are where the region is in British National "
                    f"Grid metres: its CRS label ({raster.crs}) is wrong; it should say {BNG}"
                    if mislabelled
                    else "the raster covers another area, or its CRS label is wrong"
                ),
            )
            return
        valid, people = _scan(dataset, window, stop_at_people=role == "population-raster")
    if not valid:
        report.add(
            "error",
            "raster-no-data",
            "no valid cell over the region: every cell under the region's extent is nodata"
            + (f" ({raster.nodata:g})" if raster.nodata is not None else ""),
            file=path,
            field="nodata",
            hint="the raster holds no values here, or its nodata value is set wrong",
        )
    elif role == "population-raster" and not people:
        report.add(
            "error",
            "raster-no-population",
            "no people over the region: every valid cell under the region's extent is 0 or less",
            file=path,
            field="band 1",
            hint="a population raster's cells count people; this one would weight every "
            "place by nothing",
        )


def _window(dataset: rasterio.DatasetReader, region: tuple[float, ...]) -> Window | None:
    """The raster's cells under the region's extent, or None when there are none."""
    try:
        left, bottom, right, top = transform_bounds(BNG, dataset.crs, *region, densify_pts=21)
    except (CRSError, RasterioError, ValueError):
        return None
    if not np.isfinite([left, bottom, right, top]).all():
        return None  # the region cannot be expressed in the raster's CRS at all
    raster = dataset.bounds
    if left >= raster.right or right <= raster.left or bottom >= raster.top or top <= raster.bottom:
        return None
    try:
        window = from_bounds(left, bottom, right, top, transform=dataset.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil")
        return window.intersection(Window(0, 0, dataset.width, dataset.height))
    except WindowError:
        return None


def _scan(
    dataset: rasterio.DatasetReader, window: Window, stop_at_people: bool
) -> tuple[bool, bool]:
    """(any valid cell, any cell with people) in the window, reading strip by strip."""
    valid = False
    rows = max(1, STRIP_CELLS // max(1, int(window.width)))
    start, end = int(window.row_off), int(window.row_off + window.height)
    for row in range(start, end, rows):
        strip = Window(window.col_off, row, window.width, min(rows, end - row))
        values = dataset.read(1, window=strip, masked=True).compressed()
        values = values[np.isfinite(values)]
        if values.size:
            valid = True
            if not stop_at_people or (values > 0).any():
                return True, True
    return valid, False


def _mislabelled(dataset: rasterio.DatasetReader, region: tuple[float, ...], crs: str) -> bool:
    """Whether the cells sit where the region is in British National Grid, under another label."""
    left, bottom, right, top = dataset.bounds
    overlaps = left < region[2] and right > region[0] and bottom < region[3] and top > region[1]
    return crs != BNG and overlaps


def _fmt(bounds: tuple[float, ...]) -> str:
    return ", ".join(f"{b:,.6g}" for b in bounds)
