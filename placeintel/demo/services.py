"""Synthetic digital-inclusion services for the demo region.

Services follow people but thin out in the former mill town, so that the
highest-risk wards are also furthest from help, the pattern planners look for.
The CSV mirrors the columns of councils' library lists (name, address, postcode,
type, website, area_name, area_code, lon, lat); the GeoJSON holds tablet lending
and free-data points, some drawn as building polygons as OS OpenMap Local does.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from placeintel.demo.geography import BNG, Geography
from placeintel.demo.population import Landscape

_CSV_KINDS = (  # (count, type as published, name pattern)
    (12, "Local authority run library", "{ward} Library"),
    (18, "Digital support venue", "{ward} Community Centre Digital Drop-in"),
    (6, "Jobcentre Plus", "{ward} Jobcentre"),
)
_GEOJSON_KINDS = (
    (10, "Tablet lending library", "{ward} Tablet Lending"),
    (14, "Databank free-data point", "{ward} Databank Free-Data Point"),
)
_STREETS = (
    "High Street",
    "Market Street",
    "Church Road",
    "Station Road",
    "Mill Lane",
    "Union Street",
    "Victoria Road",
    "Albert Street",
)
_TO_CRS84 = Transformer.from_crs(BNG, "OGC:CRS84", always_xy=True)


def demo_services(
    geo: Geography, people: pd.DataFrame, rng: np.random.Generator, landscape: Landscape
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Return the services CSV table and the GeoJSON features (in EPSG:27700)."""
    districts, factor = geo.district_names, geo.layout.service_factor
    oas = geo.oas.merge(people[["oa21_code", "population"]], on="oa21_code")
    oas = oas.merge(geo.wards[["ward_code", "ward_name"]], on="ward_code")
    centroid = oas.geometry.centroid
    mill = landscape.bump(centroid.x.to_numpy(), centroid.y.to_numpy(), "mill", 0.12)
    appeal = oas["population"].to_numpy() * (1 - 0.9 * np.minimum(mill, 1))
    appeal = appeal / appeal.sum()

    def place(count: int) -> list[tuple[shapely.Point, pd.Series]]:
        chosen = rng.choice(len(oas), size=count, replace=False, p=appeal)
        placed = []
        for i in chosen:
            polygon = oas.geometry.iat[i]
            anchor = polygon.representative_point()
            for _ in range(20):
                candidate = shapely.Point(
                    anchor.x + rng.normal(0, 60), anchor.y + rng.normal(0, 60)
                )
                if polygon.contains(candidate):
                    anchor = candidate
                    break
            placed.append((anchor, oas.iloc[i]))
        return placed

    rows = []
    for count, kind, pattern in _CSV_KINDS:
        for point, oa in place(count * factor):
            lon, lat = _TO_CRS84.transform(point.x, point.y)
            lad_code, lad_name = districts[int(oa["district"])]
            rows.append(
                {
                    "name": pattern.format(ward=oa["ward_name"]),
                    "address": f"{rng.integers(1, 240)} {rng.choice(_STREETS)}, "
                    f"{oa['ward_name']}, {lad_name}",
                    "postcode": _postcode(int(oa["district"]), rng),
                    "type": kind,
                    "website": f"https://www.{lad_name.lower()}.example/digital-inclusion",
                    "area_name": lad_name,
                    "area_code": lad_code,
                    "lon": f"{lon:.6f}",
                    "lat": f"{lat:.6f}",
                }
            )
    # One real-world awkward name: apostrophes and ampersands must survive every format.
    rows[13]["name"] = "St Mary's & All Saints Digital Hub"
    features = []
    for count, kind, pattern in _GEOJSON_KINDS:
        for n, (point, oa) in enumerate(place(count * factor)):
            lad_code, lad_name = districts[int(oa["district"])]
            shape = (
                shapely.box(point.x - 9, point.y - 6, point.x + 9, point.y + 6)
                if n % 4 == 0
                else point
            )
            features.append(
                {
                    "Name": pattern.format(ward=oa["ward_name"]),
                    "Service type": kind,
                    "Postcode": _postcode(int(oa["district"]), rng),
                    "Area name": lad_name,
                    "Area code": lad_code,
                    "geometry": shape,
                }
            )
    return pd.DataFrame(rows), gpd.GeoDataFrame(features, geometry="geometry", crs=BNG)


def _postcode(district: int, rng: np.random.Generator) -> str:
    """Postcodes in the format of the real thing, in an area (ZZ) Royal Mail does not use."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    first, second = rng.choice(list(letters)), rng.choice(list(letters))
    return f"ZZ{district % 99 + 1} {rng.integers(1, 10)}{first}{second}"
