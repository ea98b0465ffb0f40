"""Council service locations: CSV with lon/lat or easting/northing, or GeoJSON/GeoPackage.

Some councils publish services as building polygons (OS OpenMap Local); those
are reduced to a representative point, which always lies inside the building,
and each such row says so in `location_note`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from placeintel.errors import DataError
from placeintel.sources.boundaries import BNG
from placeintel.sources.coordinates import point_problems, refuse_problems
from placeintel.sources.formats import Format
from placeintel.sources.tables import find_column, numeric, read_csv, refuse_first
from placeintel.sources.vector import read_vector

#: The categories a service may have, and what each is called.
SERVICE_CATEGORIES = {
    "library": "Library",
    "digital-support": "Digital-support venue",
    "tablet-lending": "Tablet lending",
    "free-data": "Free-data point",
    "jobcentre": "Jobcentre",
    "food-bank": "Food bank",
    "pharmacy": "Pharmacy",
    "post-office": "Post office",
    "other": "Other",
}
#: The services that help people get online; DERI's access measures count only these.
DIGITAL_SUPPORT = ("library", "digital-support", "tablet-lending", "free-data")

SERVICE_COLUMNS = [
    "service_id",
    "name",
    "category",
    "address",
    "postcode",
    "source_id",
    "location_note",
    "geometry",
]


def read_services(path: Path, role: str, options: dict) -> gpd.GeoDataFrame:
    """Read one services file into the common service layout, as points in EPSG:27700."""
    frame = _read_csv_points(path) if path.suffix.lower() == ".csv" else _read_vector(path)
    name = find_column(
        frame,
        *([options["name_field"]] if "name_field" in options else ()),
        "name",
        "Name",
        "pharmacy_name",
        "title",
        path=path,
    )
    out = gpd.GeoDataFrame(
        {"name": frame[name].astype(str).str.strip()}, geometry=frame.geometry, crs=frame.crs
    )
    out["category"] = _categories(frame, options, path)
    for field, candidates in {
        "address": ("address", "Address"),
        "postcode": ("postcode", "Postcode"),
    }.items():
        column = find_column(frame, *candidates, path=path, required=False)
        out[field] = frame[column].astype(str).str.strip() if column else ""
    if "ward_field" in options:  # the publisher's own ward assignment, checked against wards
        out["ward_code"] = frame[find_column(frame, options["ward_field"], path=path)].astype(str)
    for field in options.get("extra_fields", []):
        # Published as-is under a lower-case name; validation checks it for personal data.
        column = find_column(frame, field, path=path)
        out[field.strip().lower().replace(" ", "_")] = frame[column].astype(str).str.strip()
    polygonal = out.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    out["location_note"] = ""
    if polygonal.any():
        out.loc[polygonal, "geometry"] = out.geometry[polygonal].representative_point()
        out.loc[polygonal, "location_note"] = "representative point of the building polygon"
    out["source_id"] = options.get("source_id", path.stem)
    # The prefix looked up once, not once per service (0.7 s for 20,000 services).
    prefix = out["source_id"].iat[0] if len(out) else ""
    out["service_id"] = [f"{prefix}-{n:04d}" for n in range(1, len(out) + 1)]
    extras = [c for c in out.columns if c not in SERVICE_COLUMNS]
    return out[SERVICE_COLUMNS[:-1] + extras + ["geometry"]]


def _categories(frame: pd.DataFrame, options: dict, path: Path) -> pd.Series:
    if "category" in options:
        values = pd.Series(options["category"], index=frame.index)
    else:
        column = find_column(frame, options.get("category_field", "category"), path=path)
        mapping = options.get("category_map", {})
        values = frame[column].astype(str).str.strip().map(lambda v: mapping.get(v, v))
    refuse_first(
        ~values.isin(list(SERVICE_CATEGORIES)),
        lambda row: f"unknown service category {values[row]!r}",
        file=path,
        field=options.get("category_field", "category"),
        hint=f"one of {', '.join(SERVICE_CATEGORIES)}, or map it with category_map",
    )
    return values


def _read_csv_points(path: Path) -> gpd.GeoDataFrame:
    frame = read_csv(path)
    lon = find_column(frame, "lon", "longitude", "long", path=path, required=False)
    lat = find_column(frame, "lat", "latitude", path=path, required=False)
    if lon and lat:
        x, y = numeric(frame, lon, path), numeric(frame, lat, path)
        crs, fields = "OGC:CRS84", (lon, lat)
    else:
        east = find_column(frame, "easting", "x", "bng_e", path=path, required=False)
        north = find_column(frame, "northing", "y", "bng_n", path=path, required=False)
        if not (east and north):
            raise DataError(
                "no coordinates: expected lon/lat or easting/northing columns",
                file=path,
                field="lon",
                hint="postcode-only services need a postcode lookup source",
            )
        x, y = numeric(frame, east, path), numeric(frame, north, path)
        crs, fields = BNG, (east, north)
    refuse_problems(point_problems(x, y, CRS(crs), fields), path)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=crs)
    return points.to_crs(BNG)


def _read_vector(path: Path) -> gpd.GeoDataFrame:
    frame = read_vector(path, "services")
    refuse_first(
        frame.geometry.isna() | frame.geometry.is_empty,
        lambda row: "feature has no geometry",
        file=path,
        field="geometry",
    )
    return frame.to_crs(BNG)


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical service field -> the file's column, for validating a services CSV."""
    frame = pd.DataFrame(columns=columns)
    found: dict[str, list[str]] = {}
    names = {
        "name": ([options["name_field"]] if "name_field" in options else [])
        + ["name", "Name", "pharmacy_name", "title"],
        "address": ["address"],
        "postcode": ["postcode"],
        "lon": ["lon", "longitude", "long"],
        "lat": ["lat", "latitude"],
        "easting": ["easting", "x", "bng_e"],
        "northing": ["northing", "y", "bng_n"],
    }
    if "category" not in options:
        names["category"] = [options.get("category_field", "category")]
    if "ward_field" in options:
        names["ward_code"] = [options["ward_field"]]
    for canonical, candidates in names.items():
        column = find_column(frame, *candidates, required=False)
        if column:
            found[canonical] = [column]
    if "lon" in found and "lat" in found:
        found.pop("easting", None)
        found.pop("northing", None)
    return found


FORMAT = Format("services", read_services, header_map, schema="services", links="services")
