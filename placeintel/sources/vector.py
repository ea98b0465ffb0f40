"""Opening vector files (GeoJSON, GeoPackage, shapefile) with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from placeintel.errors import DataError


def read_vector(path: Path, kind: str) -> gpd.GeoDataFrame:
    """Read a vector file that must exist, have features and declare its CRS."""
    if not path.exists():
        raise DataError("file not found", file=path)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DataError(f"cannot read {kind}: {exc}", file=path) from None
    if frame.empty:
        raise DataError("no features", file=path)
    if frame.crs is None:
        raise DataError(
            f"{kind} file has no CRS",
            file=path,
            hint="GeoJSON should be CRS84; GeoPackage/shapefile should declare EPSG:27700",
        )
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_projected and minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
        raise DataError(
            f"coordinates look like degrees but the file declares {frame.crs.to_string()}",
            file=path,
            field="crs",
            hint="set the file's CRS to EPSG:4326/CRS84, or reproject it to British National Grid",
        )
    if frame.crs.is_geographic and (abs(minx) > 180 or abs(maxx) > 180 or abs(maxy) > 90):
        raise DataError(
            f"coordinates look like metres but the file declares {frame.crs.to_string()}",
            file=path,
            field="crs",
            hint="British National Grid coordinates need EPSG:27700 declared",
        )
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # feature numbers, as a GIS shows them
    return frame
