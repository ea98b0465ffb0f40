"""The risk map: wards and LSOAs by risk, hot spots, rank uncertainty, and where help is.

folium builds the page (map, basemap, district outlines, layer control) and
`static/placeintel-map.js` adds the behaviour: one ward layer (and one LSOA layer)
recoloured by the chosen measure, hot-spot and weight-sensitivity outlines, service
markers by category (clustered), 1 km rings, ward search, labels and the legend. Each
area's data is embedded once, with readable keys, beside the map's style
(`maps/style.py`); popups are built in the browser.

Leaflet and Leaflet.markercluster come from the xstatic packages and are copied
next to the page, because council networks often block CDNs and a map that needs
the internet to draw boundaries is a blank page for a planner.
"""

from __future__ import annotations

import gc
import html
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
import xstatic.pkg.leaflet as xstatic_leaflet
import xstatic.pkg.leaflet_markercluster as xstatic_markercluster
from branca.element import Element, Figure, MacroElement
from scipy.spatial import cKDTree

from placeintel.index.classes import risk_classes
from placeintel.index.deri import ranks
from placeintel.indicators.catalogue import COMPONENTS, INDICATORS
from placeintel.maps.csp import CHUNK, render_parts
from placeintel.maps.rounding import rounded
from placeintel.maps.shapes import (
    DistrictShapes,
    MapShapes,
    area_shapes,
    district_outline,
    tolerance_for,
)
from placeintel.maps.style import CATEGORY_MARKS, VIEW_LABELS, marker_text, style
from placeintel.sources.services import DIGITAL_SUPPORT, SERVICE_CATEGORIES

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "assets"
#: Modules loaded after placeintel-map.js, each a .js and a .css in static/: live
#: re-weighting (maps/weights.py gives it its data), and print and export.
PLUGINS = ("placeintel-weights", "placeintel-export")
JS = [
    ("leaflet", f"{ASSETS}/leaflet/leaflet.js"),
    ("markercluster", f"{ASSETS}/markercluster/leaflet.markercluster.js"),
    ("placeintel", f"{ASSETS}/placeintel/placeintel-map.js"),
    *((name.replace("-", "_"), f"{ASSETS}/placeintel/{name}.js") for name in PLUGINS),
]
CSS = [
    ("leaflet_css", f"{ASSETS}/leaflet/leaflet.css"),
    ("markercluster_css", f"{ASSETS}/markercluster/MarkerCluster.css"),
    ("markercluster_default_css", f"{ASSETS}/markercluster/MarkerCluster.Default.css"),
    ("placeintel_css", f"{ASSETS}/placeintel/placeintel-map.css"),
    *((f"{name.replace('-', '_')}_css", f"{ASSETS}/placeintel/{name}.css") for name in PLUGINS),
]
WARD_LABEL_ZOOM = 13
#: Below this zoom services are small dots (and clusters small bubbles without a count), so
#: that at the region's zoom they do not hide the ward colours; letters appear from here.
SERVICE_LETTER_ZOOM = 12
CANVAS_FROM = 1_000


def _number(value: Any, digits: int) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, digits) if np.isfinite(number) else None


def _nearest(
    wards: gpd.GeoDataFrame, services: gpd.GeoDataFrame, k: int = 3
) -> list[list[list[Any]]]:
    """The k nearest digital-support services to a point inside each ward, with metres."""
    support = services[services["category"].isin(DIGITAL_SUPPORT)]
    if support.empty:
        return [[] for _ in range(len(wards))]
    points = support.geometry
    tree = cKDTree(np.column_stack([points.x, points.y]))
    inside = wards.geometry.representative_point()
    distances, positions = tree.query(np.column_stack([inside.x, inside.y]), k=min(k, len(support)))
    distances, positions = np.atleast_2d(distances), np.atleast_2d(positions)
    if distances.shape[0] != len(wards):
        distances, positions = distances.T, positions.T
    names, categories = support["name"].to_numpy(), support["category"].to_numpy()
    return [
        [
            {
                "name": str(names[p]),
                "category": SERVICE_CATEGORIES.get(categories[p], SERVICE_CATEGORIES["other"]),
                "metres": round(float(d)),
            }
            for d, p in zip(row_d, row_p, strict=True)
        ]
        for row_d, row_p in zip(distances, positions, strict=True)
    ]


def _by_district(codes: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """Each district code (in `pd.unique` order) with the positions of its areas, in order:
    one sort, where a comparison of every code with each district's (42,000 areas by 324
    districts nationally) and a pandas selection per district and measure were most of the
    district classes' time. A missing code keeps the comparison (`codes == code`)."""
    numbers, present = pd.factorize(codes)  # a missing code is -1, sorted first
    order = np.argsort(numbers, kind="stable")[int((numbers < 0).sum()) :]
    counts = np.bincount(numbers[numbers >= 0], minlength=len(present))
    # strict=False: np.split gives one (empty) part where there are no areas at all.
    groups = dict(zip(present, np.split(order, np.cumsum(counts)[:-1]), strict=False))
    return [
        (code, groups[code] if code in groups else np.flatnonzero(codes == code))
        for code in pd.unique(codes)
    ]


def _district_ranks(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Each area's rank within its own district (1 = highest risk), as the region's ranks
    are made (`placeintel.index.deri.ranks`): a district map says "3 of 32", not "44 of 32"."""
    out = np.full(len(frame), np.nan)
    if "deri_score" not in frame or "lad_code" not in frame:
        return out
    scores = frame["deri_score"].to_numpy(dtype=float)
    for _, inside in _by_district(frame["lad_code"].to_numpy()):
        out[inside] = ranks(scores[inside])
    return out


def _classes_by_district(
    frame: gpd.GeoDataFrame, views: list[str], scheme: str
) -> tuple[np.ndarray, dict[str, list[list[float]]]]:
    """Each area's class among its own district's areas, per view, and each district's bins:
    what the map shows when it is filtered to one district."""
    classes = np.full((len(frame), len(views)), -1)
    bins: dict[str, list[list[float]]] = {}
    codes = frame["lad_code"].to_numpy() if "lad_code" in frame else np.zeros(len(frame))
    values = [frame[view].to_numpy(dtype=float) for view in views]
    for code, inside in _by_district(codes):
        bins[str(code)] = []
        for v, column in enumerate(values):
            own, upper = risk_classes(column[inside], scheme)
            classes[inside, v] = own
            bins[str(code)].append([round(b, 6) for b in upper])
    return classes, bins


def _numbers(frame: pd.DataFrame, column: str, digits: int) -> list[float | None]:
    """`_number` over a whole column (None where it is missing): the same values, without a
    Python call per cell, which at national scale (42,000 areas, 50 numbers each) was most
    of the map's time."""
    if column not in frame:
        return [None] * len(frame)
    series = frame[column]
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        return [_number(value, digits) for value in series.tolist()]
    # Python's round, not numpy's: np.round scales by 10**digits and can land one unit
    # away in the last place, and the page must carry the numbers it always carried.
    return rounded(series.to_numpy(dtype=float, na_value=np.nan), digits)


def _records(frame: pd.DataFrame, columns: dict[str, Any]) -> dict[str, list[Any]]:
    """Each column as `frame.to_dict("records")` gives its cells (None for a missing
    Int64, NaN for a missing text), or its default where the frame has no such column."""
    present = [c for c in columns if c in frame]
    out = frame[present].to_dict("list") if present else {}
    return {c: out[c] if c in out else [default] * len(frame) for c, default in columns.items()}


def _indicator_cells(frame: pd.DataFrame, indicators: list[Any]) -> list[list[Any]]:
    """Per area, per indicator of meta.indicators: [value, 0-10 score, points], or None
    where the area has no such column (or a None cell) at all."""
    per_indicator = []
    for i in indicators:
        if i.key not in frame:
            per_indicator.append([None] * len(frame))
            continue
        cells = zip(
            _numbers(frame, i.key, 2),
            _numbers(frame, f"{i.key}_scaled", 6),
            _numbers(frame, f"{i.key}_contribution", 4),
            strict=True,
        )
        if pd.api.types.is_float_dtype(frame[i.key]):  # a float cell is never None
            per_indicator.append([list(c) for c in cells])
        else:
            given = [v is not None for v in _records(frame, {i.key: None})[i.key]]
            per_indicator.append(
                [list(c) if g else None for c, g in zip(cells, given, strict=True)]
            )
    return (
        [list(row) for row in zip(*per_indicator, strict=True)]
        if indicators
        else [[] for _ in range(len(frame))]
    )


def _area_features(
    frame: gpd.GeoDataFrame,
    views: list[str],
    scheme: str,
    indicators: list[Any],
    shaped: Future[tuple[np.ndarray | None, list[str | None]]],
    level: str,
) -> tuple[list[dict[str, Any]], dict[str, list[float]], dict[str, Any], np.ndarray | None]:
    """One compact feature per area (ward or LSOA), its classes (in the region and in its
    district), the region's and each district's bins, and its label points in CRS84 (a
    point on each simplified shape; None unless asked for, `area_shapes`).

    Scores and 0-10 indicator scores keep the release's six decimals, so a script that
    re-ranks or re-weights in the browser gets exactly the published numbers back.
    Built column by column (each column's cells once), then zipped into features."""
    classes, bins = {}, {}
    for view in views:
        classes[view], bins[view] = risk_classes(frame[view].to_numpy(dtype=float), scheme)
    own_classes, district_bins = _classes_by_district(frame, views, scheme)
    own_ranks = _district_ranks(frame)
    key, name = ("ward_code", "ward_name") if level == "ward" else ("lsoa21_code", "lsoa21_name")
    cells = _records(
        frame,
        {
            key: None,
            name: None,
            "lad_name": "",
            "lad_code": "",
            "deri_rank": None,
            "deri_rank_low": None,
            "deri_rank_high": None,
            "hotspot": "not-significant",
            "weight_sensitive": False,
            **({"ward_name": ""} if level != "ward" else {}),
        },
    )
    scores = list(zip(*(_numbers(frame, v, 6) for v in views), strict=True)) or [
        () for _ in range(len(frame))
    ]
    region_classes = (
        np.column_stack([classes[v] for v in views]).astype(int).tolist()
        if views
        else [[] for _ in range(len(frame))]
    )
    district_classes = own_classes.tolist()
    district_ranks = [None if np.isnan(r) else int(r) for r in own_ranks.tolist()]
    p_top = _numbers(frame, "p_top_decile", 3)
    per_area = _indicator_cells(frame, indicators)
    extra = (
        ("hotShare", _numbers(frame, "hot_lsoa_share", 3))
        if level == "ward"
        else ("ward", cells["ward_name"])
    )
    points, geojson = shaped.result()
    features = []
    for n in range(len(frame)):
        properties = {
            "code": cells[key][n],
            "name": cells[name][n],
            "district": cells["lad_name"][n],
            "lad": cells["lad_code"][n],
            "scores": list(scores[n]),
            "classes": region_classes[n],
            "districtClasses": district_classes[n],
            "rank": cells["deri_rank"][n],
            "districtRank": district_ranks[n],
            "rankLow": cells["deri_rank_low"][n],
            "rankHigh": cells["deri_rank_high"][n],
            "pTopDecile": p_top[n],
            "hotspot": cells["hotspot"][n],
            "weightSensitive": bool(cells["weight_sensitive"][n]),
            # Per indicator of meta.indicators: [value, 0-10 score, points], as meta.columns says.
            "indicators": per_area[n],
            extra[0]: extra[1][n],
        }
        features.append(
            {
                "type": "Feature",
                "geometry": orjson.loads(geojson[n]) if geojson[n] is not None else None,
                "properties": properties,
            }
        )
    return features, bins, district_bins, points


def _label_candidates(
    wards: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    keep: int = 6,
    made: DistrictShapes | None = None,
) -> dict[str, list[list[float]]]:
    """Where each district's name may go, best first: inside the district, clear of hot and
    cold spots (whose outlines a name must not hide), and near its middle.

    The page takes the first candidate whose drawn label covers no hot or cold spot at the
    zoom shown, so the choice here only has to order them well. Points, distances and the
    reprojection are computed for all districts at once (shapely's and pyproj's array
    functions, the same GEOS and PROJ calls as one by one); only the ordering of each
    district's few candidates is a Python sort. `made` gives the points, made ahead from
    the same wards and districts (`placeintel.maps.shapes`); only the clearance of hot and
    cold spots needs the index."""
    spots = wards[wards["hotspot"].astype(str).str.match(r"^(hot|cold)-")] if len(wards) else wards
    spot_shape = spots.union_all() if len(spots) else None
    if made is not None:
        ward_points, own_points, middles = made.ward_points, made.own_points, made.middles
    else:
        district_shapes = districts.geometry.to_numpy()
        ward_points = shapely.point_on_surface(wards.geometry.to_numpy())
        own_points = shapely.point_on_surface(district_shapes)
        middles = shapely.centroid(district_shapes)
    codes = wards["lad_code"].to_numpy()
    members = pd.Series(np.arange(len(wards))).groupby(codes, sort=False).agg(list).to_dict()

    def clearance(points: np.ndarray) -> np.ndarray:
        if spot_shape is None:
            return np.full(len(points), 1e9)
        return shapely.distance(spot_shape, points)

    ward_clear, own_clear = clearance(ward_points), clearance(own_points)
    chosen_points, chosen_district = [], []
    for d, code in enumerate(districts["lad_code"].to_numpy()):
        inside = members.get(code, [])
        points = np.concatenate([own_points[d : d + 1], ward_points[inside]])
        clear = np.concatenate([own_clear[d : d + 1], ward_clear[inside]])
        near = shapely.distance(middles[d], points)
        order = sorted(
            range(len(points)), key=lambda k: (-min(float(clear[k]), 1_500.0), float(near[k]))
        )
        chosen_points.extend(points[order[:keep]])
        chosen_district.extend([str(code)] * min(keep, len(order)))
    chosen = gpd.GeoSeries(chosen_points, crs=wards.crs).to_crs("OGC:CRS84")
    out: dict[str, list[list[float]]] = {str(c): [] for c in districts["lad_code"]}
    for code, p in zip(chosen_district, chosen, strict=True):
        out[code].append([round(p.y, 5), round(p.x, 5)])
    return out


def map_data(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    title: str,
    districts: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] | None,
    scheme: str,
    lsoas: gpd.GeoDataFrame | None = None,
    labels: dict[str, str] | None = None,
    totals: tuple[int, int] | None = None,
    about: dict[str, Any] | None = None,
    district: str | None = None,
    published: dict[str, Any] | None = None,
    shapes: MapShapes | None = None,
) -> dict[str, Any]:
    """Everything the page needs: one feature per ward (and per LSOA), and the map's style.

    `totals` are the region's numbers of ranked wards and LSOAs: a district's map keeps the
    regional rank beside the rank within the district, so both need their own "of N".
    `districts` may be a future of them, made in another thread while this one works.
    `district` is the district the page opens filtered to; `published` the release's
    published indicator and component weights (`placeintel.index` in the data package).
    `shapes` are geometry-only parts made ahead (`placeintel.maps.shapes.prepare`): each is
    used only if made from these very areas (and `districts` only if it is their
    `districts`), and made here otherwise.
    """
    labels = labels or {}
    published = published or {}
    has_lsoas = lsoas is not None and not lsoas.empty and "deri_score" in lsoas
    # The shapes (GEOS and PROJ, in threads) are made while this thread does the numbers.
    made_wards = shapes.ward_shapes(wards) if shapes is not None else None
    made_lsoas = shapes.lsoa_shapes(lsoas) if shapes is not None and has_lsoas else None
    made_districts = shapes.district_shapes(wards) if shapes is not None else None
    if made_districts is not None and districts is not made_districts.districts:
        made_districts = None
    with ThreadPoolExecutor(3) as pool:
        ward_shapes = (
            _done((made_wards.points, made_wards.geojson))
            if made_wards is not None
            else pool.submit(area_shapes, wards, tolerance_for(wards), True)
        )
        lsoa_shapes = (
            _done((made_lsoas.points, made_lsoas.geojson))
            if made_lsoas is not None
            else pool.submit(area_shapes, lsoas, tolerance_for(lsoas) / 2)
            if has_lsoas
            else None
        )
        # The districts (a caller may still be dissolving them in a thread), their outline
        # and where their names may go: mostly GEOS too (a union of the spots, distances).
        outlines = pool.submit(_districts_and_labels, wards, districts, made_districts)
        return _map_data(
            wards,
            services,
            title,
            districts,
            scheme,
            lsoas if has_lsoas else None,
            labels,
            totals,
            about,
            district,
            published,
            ward_shapes,
            lsoa_shapes,
            outlines,
        )


def _done(value: Any) -> Future[Any]:
    """A future already holding `value` (a part made ahead, where one is awaited)."""
    future: Future[Any] = Future()
    future.set_result(value)
    return future


def _districts_and_labels(
    wards: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] | None,
    made: DistrictShapes | None = None,
) -> tuple[gpd.GeoDataFrame | None, dict[str, list[list[float]]], dict[str, Any] | None]:
    """The districts (once a future of them is done), `_label_candidates` for them and
    their outline on the page (`made`: its geometry-only parts, made ahead)."""
    if isinstance(districts, Future):
        districts = districts.result()
    if districts is None or districts.empty:
        return districts, {}, None
    outline = (
        made.outline if made is not None else district_outline(districts, 2 * tolerance_for(wards))
    )
    return districts, _label_candidates(wards, districts, made=made), outline


def _map_data(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    title: str,
    districts: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] | None,
    scheme: str,
    lsoas: gpd.GeoDataFrame | None,
    labels: dict[str, str],
    totals: tuple[int, int] | None,
    about: dict[str, Any] | None,
    district: str | None,
    published: dict[str, Any],
    ward_shapes: Future[tuple[np.ndarray | None, list[str | None]]],
    lsoa_shapes: Future[tuple[np.ndarray | None, list[str | None]]] | None,
    outlines: Future[
        tuple[gpd.GeoDataFrame | None, dict[str, list[list[float]]], dict[str, Any] | None]
    ],
) -> dict[str, Any]:
    """`map_data` once its shapes are on their way."""
    views = [c for c in VIEW_LABELS if c in wards]
    indicators = [i for i in INDICATORS if i.key in wards]
    features, bins, district_bins, ward_points = _area_features(
        wards, views, scheme, indicators, ward_shapes, "ward"
    )
    nearest = _nearest(wards, services)
    for feature, near in zip(features, nearest, strict=True):
        feature["properties"]["nearest"] = near
    small, lsoa_district_bins = None, {}
    if lsoas is not None and lsoa_shapes is not None:
        lsoa_features, lsoa_bins, lsoa_district_bins, _ = _area_features(
            lsoas, views, scheme, indicators, lsoa_shapes, "lsoa"
        )
        small = {
            "areas": {"type": "FeatureCollection", "features": lsoa_features},
            "count": totals[1] if totals else ranked(lsoas),
            "bins": [[round(b, 6) for b in lsoa_bins[v]] for v in views],
        }
    present = [c for c in CATEGORY_MARKS if c in set(services["category"])]
    points = services.to_crs("OGC:CRS84")
    service_rows = [
        {
            "lat": round(p.y, 6),
            "lon": round(p.x, 6),
            "category": c,
            "name": str(name),
            "address": str(address or ""),
        }
        for p, c, name, address in zip(
            points.geometry, points["category"], points["name"], points["address"], strict=True
        )
    ]
    labels_on_map = [
        {"lat": round(p.y, 5), "lon": round(p.x, 5), "text": str(name), "kind": "ward"}
        for p, name in zip(ward_points, wards["ward_name"], strict=True)
    ]
    district_rows = []
    districts, candidates, outline = outlines.result()
    if districts is not None and not districts.empty:
        ward_counts = _ranked_by_district(wards)
        lsoa_counts = _ranked_by_district(lsoas) if small is not None else {}
        for row in districts.itertuples():
            code = str(row.lad_code)
            district_rows.append(
                {
                    "code": code,
                    "name": str(row.lad_name),
                    "wards": ward_counts.get(row.lad_code, 0),
                    "lsoas": lsoa_counts.get(row.lad_code, 0),
                    "bins": district_bins.get(code, []),
                    "lsoaBins": lsoa_district_bins.get(code, []),
                    "labelAt": candidates[code],
                }
            )
    catalogue_weights = published.get("indicator_weights") or {}
    component_weights = published.get("component_weights") or {}
    return {
        "wards": {"type": "FeatureCollection", "features": features},
        "lsoas": small,
        "services": service_rows,
        "labels": labels_on_map,
        "districts": outline,
        "meta": {
            "title": title,
            "region": (about or {}).get("region") or title,
            "scheme": "quintiles" if scheme == "quantiles" else "natural breaks",
            "wards": totals[0] if totals else ranked(wards),
            # A page holding only some of the region's wards (one district's map) cannot
            # rank them in the region itself: it shows the published regional ranks.
            "partial": bool(totals) and totals[0] != ranked(wards),
            "district": district,
            "districts": district_rows,
            "views": [
                {"key": v, "label": VIEW_LABELS[v], "bins": [round(b, 6) for b in bins[v]]}
                for v in views
            ],
            "indicators": [
                {
                    "key": i.key,
                    "label": labels.get(i.key, i.label),
                    "unit": i.unit,
                    "component": i.component,
                    "weight": catalogue_weights.get(i.key, i.default_weight),
                    "higherIsWorse": i.higher_is_worse,
                }
                for i in indicators
            ],
            "components": [
                {"key": c, "label": VIEW_LABELS.get(f"{c}_score", c), "weight": w}
                for c, w in component_weights.items()
            ],
            "columns": ["value", "scaled", "points"],
            "categories": [
                {
                    "key": c,
                    "label": SERVICE_CATEGORIES[c],
                    "letter": CATEGORY_MARKS[c][0],
                    "colour": CATEGORY_MARKS[c][1],
                    "text": marker_text(CATEGORY_MARKS[c][1]),
                    "support": c in DIGITAL_SUPPORT,
                    "show": c in DIGITAL_SUPPORT,
                }
                for c in present
            ],
            "wardLabelZoom": WARD_LABEL_ZOOM,
            "letterZoom": SERVICE_LETTER_ZOOM,
            # Canvas draws thousands of polygons far faster than SVG; SVG keeps one element
            # per ward, which the keyboard can reach and a focus ring can outline.
            "canvas": {
                "wards": len(wards) > CANVAS_FROM,
                "lsoas": small is not None and len(lsoas) > CANVAS_FROM,
            },
            "about": about,
        },
        "style": style(),
    }


def _ranked_by_district(areas: pd.DataFrame | None) -> dict[Any, int]:
    """`ranked` of each district's areas (by `lad_code`), from one group-by: selecting each
    district's rows in turn was most of the national map's district list."""
    if areas is None or areas.empty:
        return {}
    counted = areas["deri_rank"].notna() if "deri_rank" in areas else pd.Series(True, areas.index)
    return {k: int(v) for k, v in counted.groupby(areas["lad_code"]).sum().items()}


def ranked(areas: gpd.GeoDataFrame | None) -> int:
    """How many areas have a rank (the "of N" of every rank shown)."""
    if areas is None:
        return 0
    return int(areas["deri_rank"].notna().sum()) if "deri_rank" in areas else len(areas)


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element whatever the data says.

    Written by orjson (areas' geometry is pre-serialised, `orjson.Fragment`): the same text
    as `json.dumps(separators=(",", ":"), ensure_ascii=False)` for this data, in a tenth
    of the time (national map: 1.7 s, and 2.1 s of parsing geometry only to write it)."""
    text = orjson.dumps(value, default=_plain, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return (
        None
        if value is None or (isinstance(value, float) and not np.isfinite(value))
        else str(value)
    )


class _Verbatim(Element):
    """Text put into the page as it is.

    branca adds each element's rendered script to the page as a new Jinja *template*
    (`Element(script(...))`), so the map's data (60 MB at national scale) was lexed and
    compiled as a template (11 s), and any `{{` or `{%` in a ward's name or a service's
    address would have been run as template code. This element is rendered as its text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Init(MacroElement):
    """Calls placeintelMap() once folium has created the map and the layer control."""

    def __init__(self, map_name: str, control_name: str, data: str) -> None:
        super().__init__()
        self._name = "PlaceintelInit"
        self.map_name, self.control_name, self.data = map_name, control_name, data

    def render(self, **kwargs: Any) -> None:
        """The script as folium's macro wrote it (less the newline Jinja drops at the end of
        a template), but as text (`_Verbatim`)."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("the map's start script can only be rendered in a page")
        script = (
            f"\nplaceintelMap({{map: {self.map_name}, control: {self.control_name}, "
            f"data: {self.data}}});"
        )
        figure.script.add_child(_Verbatim(script), name=self.get_name())


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector off while the page's data is made, then as it was.

    The data is millions of small lists and dicts (national map: 42,000 areas, each with
    its numbers), which set off the collector again and again, and each full collection
    walks every object of the build (the whole national build's heap, not only the map's):
    a fifth to a third of the stage's CPU. The data holds no reference cycles, so reference
    counting frees it all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_map(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    title: str,
    attribution: str,
    districts: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] | None = None,
    scheme: str = "quantiles",
    lsoas: gpd.GeoDataFrame | None = None,
    labels: dict[str, str] | None = None,
    totals: tuple[int, int] | None = None,
    *,
    about: dict[str, Any] | None = None,
    district: str | None = None,
    published: dict[str, Any] | None = None,
    weights: dict[str, Any] | None = None,
    shapes: MapShapes | None = None,
) -> folium.Map:
    """The folium map object (also what a notebook shows inline).

    `published` is the release's recorded index settings (`placeintel.index`: the weights
    the title block and popups describe); `weights` is maps/weights.py's payload for live
    re-weighting (static/placeintel-weights.js); `shapes` its geometry made ahead (`map_data`)."""
    with _no_cycle_collection():
        data = map_data(
            wards,
            services,
            title,
            districts,
            scheme,
            lsoas,
            labels,
            totals,
            about,
            district,
            published,
            shapes,
        )
        if weights is not None:
            data["weights"] = weights  # for static/placeintel-weights.js
        text = script_json(data)
        del data
    minx, miny, maxx, maxy = wards.to_crs("OGC:CRS84").total_bounds
    # Each layer picks SVG or canvas in the page (meta.canvas), so the map's default is SVG.
    # Quarter zoom steps let the region fill the space its controls leave on any screen.
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    fmap.default_js, fmap.default_css = list(JS), list(CSS)
    # branca writes the title into <title> as it is: a district called "</title><script>"
    # would end the title and run. The title block shows the same title as text.
    fmap.get_root().title = html.escape(title)
    folium.TileLayer(
        "OpenStreetMap",
        name="Basemap (needs internet)",
        # Leaflet shows the attribution as HTML, so the sources' own text is escaped.
        attr=f"&copy; OpenStreetMap contributors | {html.escape(attribution)}",
    ).add_to(fmap)
    # No folium fit_bounds: its animated zoom would end after the page has fitted the map
    # to the space its controls leave free, and undo it. The page fits the map itself.
    control = folium.LayerControl(collapsed=True)
    control.add_to(fmap)
    fmap.add_child(_Init(fmap.get_name(), control.get_name(), text))
    return fmap


#: folium's viewport forbids pinch zoom (maximum-scale=1, user-scalable=no), which people
#: with low vision rely on (WCAG 1.4.4); the page is written with this one instead.
FOLIUM_VIEWPORT = re.compile(
    r'<meta name="viewport" content="width=device-width,\s*'
    r'initial-scale=1.0, maximum-scale=1.0, user-scalable=no" />'
)
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1" />'


def accessible_page(page: str) -> str:
    """The page with a language (screen readers pick their voice by it) and pinch zoom."""
    page, found = FOLIUM_VIEWPORT.subn(VIEWPORT, page, count=1)
    if not found:
        raise RuntimeError("folium's page layout changed: its viewport meta is not where expected")
    return re.sub(r"\A<!DOCTYPE html>\s*<html>", '<!DOCTYPE html>\n<html lang="en-GB">', page)


def write_map(fmap: folium.Map, path: Path) -> Path:
    """Save the map with its assets beside it, so it works from a file or from a server,
    naming its inline scripts' hashes for the server's Content-Security-Policy (maps/csp.py)."""
    assets = path.parent / ASSETS
    for source, target, names in (
        (Path(xstatic_leaflet.BASE_DIR), assets / "leaflet", ("leaflet.js", "leaflet.css")),
        (
            Path(xstatic_markercluster.BASE_DIR),
            assets / "markercluster",
            ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"),
        ),
        (
            STATIC,
            assets / "placeintel",
            ("placeintel-map.js", "placeintel-map.css")
            + tuple(f"{name}.{kind}" for name in PLUGINS for kind in ("js", "css")),
        ),
    ):
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy2(source / name, target / name)
    shutil.copytree(
        Path(xstatic_leaflet.BASE_DIR) / "images", assets / "leaflet" / "images", dirs_exist_ok=True
    )
    tiles = [
        layer.tiles for layer in fmap._children.values() if isinstance(layer, folium.TileLayer)
    ]
    page, cut, meta = render_parts(fmap.get_root(), tiles)
    # The head (doctype, viewport; no data) is made accessible and written, then the rest of
    # the page a piece at a time: whole-page copies were the stage's peak memory (+570 MB
    # for the national map), when it runs beside publishing's worker processes.
    end = page.find("</head>", cut)
    end = len(page) if end < 0 else end
    with path.open("wb") as out:
        out.write(accessible_page(page[:cut] + meta + page[cut:end]).encode("utf-8"))
        for at in range(end, len(page), CHUNK):
            out.write(page[at : at + CHUNK].encode("utf-8"))
    return path


__all__ = ["COMPONENTS", "build_map", "map_data", "write_map"]
