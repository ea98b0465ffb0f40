"""GeoTIFF rasters (population per cell), opened lazily.

Rasters are not loaded into memory here; the indicator stage reads only the
window it needs. This reader checks the file is usable and records its grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import rasterio
from rasterio.errors import RasterioIOError

from placeintel.errors import DataError
from placeintel.sources.formats import Format


@dataclass(frozen=True)
class RasterSource:
    """A raster file with the facts later stages need to trust it."""

    path: Path
    crs: str
    resolution: tuple[float, float]
    bounds: tuple[float, float, float, float]
    nodata: float | None


def read_raster(path: Path, role: str, options: dict) -> RasterSource:
    """Open a GeoTIFF to check it, without reading its cells."""
    try:
        with rasterio.open(path) as dataset:
            if dataset.crs is None:
                raise DataError("raster has no CRS", file=path)
            return RasterSource(
                path=path,
                crs=dataset.crs.to_string(),
                resolution=dataset.res,
                bounds=tuple(dataset.bounds),
                nodata=dataset.nodata,
            )
    except RasterioIOError as exc:
        raise DataError(f"cannot open raster: {exc}", file=path) from None


FORMAT = Format("geotiff", read_raster)
