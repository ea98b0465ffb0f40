"""Opening vector files (GeoJSON, GeoPackage, shapefile) with errors a user can act on."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from placeintel.errors import DataError
from placeintel.sources.coordinates import METRES, feature_problems, refuse_problems


def read_vector(
    path: Path, kind: str, layer: str | None = None, source: str | None = None
) -> gpd.GeoDataFrame:
    """Read a vector file that must exist, have features and declare its CRS.

    `layer` picks one layer of a GeoPackage; `source` is what GDAL opens when it is not
    `path` itself (a shapefile inside a zip: `/vsizip/...`), `path` still naming it.
    """
    if not path.exists():
        raise DataError("file not found", file=path)
    if path.suffix.lower() in (".geojson", ".json"):
        _refuse_nul(path)
    try:
        frame = gpd.read_file(source or path, engine="pyogrio", layer=layer)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FeatureError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
        UnicodeDecodeError,  # a field name or value GDAL hands over in another encoding
        shapely.errors.GEOSException,  # a ring that does not close, and other broken shapes
    ) as exc:
        raise DataError(f"cannot read {kind}: {exc}", file=path) from None
    if frame.empty:
        raise DataError("no features", file=path)
    if frame.crs is None:
        raise DataError(
            f"{kind} file has no CRS",
            file=path,
            hint="GeoJSON should be CRS84; GeoPackage/shapefile should declare EPSG:27700",
        )
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # feature numbers, as a GIS shows them
    _check_coordinates(frame, path)
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_projected and minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
        raise DataError(
            f"coordinates look like degrees but the file declares {frame.crs.to_string()}",
            file=path,
            field="crs",
            hint="set the file's CRS to EPSG:4326/CRS84, or reproject it to British National Grid",
        )
    return frame


def _refuse_nul(path: Path) -> None:
    """A NUL in a GeoJSON string would reach us cut short: GDAL ends strings at it.

    Other control characters arrive whole and are removed (and reported) by validation;
    a NUL-cut value cannot be mended, so the feature and property are named instead.
    """
    data = path.read_bytes()  # within the source size limit, checked before any reader
    if b"\\u0000" not in data.lower() and b"\x00" not in data:
        return
    try:
        features = json.loads(data).get("features") or []
    except (ValueError, AttributeError):
        return  # not GeoJSON at all: GDAL says so, with its own message
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for key, value in (properties or {}).items():
            if isinstance(value, str) and "\x00" in value:
                raise DataError(
                    "a NUL character in the text; GDAL would cut the value there, so it "
                    "cannot be read whole",
                    file=path,
                    row=number,
                    field=str(key)[:80],
                    rule="control-characters",
                    hint="remove the NUL (\\u0000) from the value",
                )


def _check_coordinates(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Every coordinate a number inside its CRS's valid range; else name each bad feature.

    Metres labelled as degrees is a property of the file (its CRS), so when every bad
    feature is plausible British National Grid metres the file's CRS is named instead.
    """
    problems = feature_problems(frame.geometry, CRS(frame.crs))
    if problems and all(message.startswith(METRES) for _, _, message in problems):
        raise DataError(
            f"coordinates look like metres but the file declares {frame.crs.to_string()}",
            file=path,
            row=problems[0][0],
            field="crs",
            hint="British National Grid coordinates need EPSG:27700 declared",
        )
    refuse_problems(problems, path)
