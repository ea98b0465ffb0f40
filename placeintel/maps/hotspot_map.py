"""The planners' map: wards coloured by DERI score, components, districts and support services.

Leaflet is shipped with the release (from the xstatic-leaflet package) and
folium is pointed at it, because council networks often block CDNs and a map
that needs the internet to draw boundaries is a blank page for a planner.
Every text that comes from a dataset is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import shapely
import xstatic.pkg.leaflet as xstatic_leaflet

from placeintel.indicators.catalogue import COMPONENTS, INDICATORS

#: ColorBrewer YlOrRd, 5 classes: sequential and safe for colour-blind readers.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#cccccc"
CATEGORY_COLOURS = {
    "library": "#1b9e77",
    "digital-support": "#7570b3",
    "tablet-lending": "#e7298a",
    "free-data": "#66a61e",
    "jobcentre": "#a6761d",
    "food-bank": "#666666",
    "pharmacy": "#666666",
    "post-office": "#666666",
    "other": "#666666",
}
ASSETS = "assets/leaflet"
#: Simplification tolerance in metres; coverage simplification keeps shared borders shared.
SIMPLIFY_METRES = 15.0


def simplify_coverage(
    frame: gpd.GeoDataFrame, tolerance: float = SIMPLIFY_METRES
) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = shapely.coverage_simplify(out.geometry.to_numpy(), tolerance)
    return out


def classify(
    values: np.ndarray, scheme: str = "quantiles", k: int = 5
) -> tuple[np.ndarray, list[float]]:
    """Class index per value (-1 for missing) and the upper bounds of each class."""
    finite = np.isfinite(values)
    classes = np.full(values.shape, -1)
    if finite.sum() < k:
        return classes, []
    classifier = (
        mapclassify.NaturalBreaks(values[finite], k=k)
        if scheme == "natural-breaks"
        else mapclassify.Quantiles(values[finite], k=k)
    )
    classes[finite] = classifier.yb
    return classes, [float(b) for b in classifier.bins]


def _popup(row: dict) -> str:
    e = lambda v: html.escape(str(v))  # noqa: E731
    lines = [
        f"<h4 style='margin:0 0 4px'>{e(row['ward_name'])}</h4>",
        f"<div>{e(row['lad_name'])} &middot; {e(row['ward_code'])}</div>",
        f"<p><b>DERI score {_fmt(row.get('deri_score'))}</b> (rank {e(row.get('deri_rank'))})</p>",
        "<table>",
    ]
    for component in COMPONENTS:
        lines.append(
            f"<tr><td>{component.title()}</td><td>{_fmt(row.get(f'{component}_score'))}</td></tr>"
        )
    lines.append("</table><details><summary>Indicators</summary><table>")
    for indicator in INDICATORS:
        if indicator.key in row:
            lines.append(
                f"<tr><td>{e(indicator.label)}</td><td>{_fmt(row.get(indicator.key))}</td></tr>"
            )
    lines.append("</table></details>")
    return "".join(lines)


def _fmt(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not np.isfinite(number) else f"{number:.1f}"


def build_map(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    title: str,
    attribution: str,
    districts: gpd.GeoDataFrame | None = None,
    scheme: str = "quantiles",
) -> folium.Map:
    """Build the folium map object (also what `placeintel.explore` shows in a notebook)."""
    shapes = simplify_coverage(wards).to_crs("EPSG:4326")
    minx, miny, maxx, maxy = shapes.total_bounds
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    fmap.default_js = [("leaflet", f"{ASSETS}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{ASSETS}/leaflet.css")]
    folium.TileLayer(
        "OpenStreetMap",
        name="Basemap (needs internet)",
        attr=f"&copy; OpenStreetMap contributors | {html.escape(attribution)}",
    ).add_to(fmap)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    records = shapes.drop(columns="geometry").to_dict("records")
    classes, bins = classify(shapes["deri_score"].to_numpy(dtype=float), scheme)
    features = []
    for record, geometry, cls in zip(records, shapes.geometry, classes, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geometry),
                "properties": {
                    "label": html.escape(
                        f"{record['ward_name']}: {_fmt(record.get('deri_score'))}"
                    ),
                    "colour": PALETTE[cls] if cls >= 0 else NO_DATA,
                    "popup": _popup(record),
                    **{f"{c}_score": record.get(f"{c}_score") for c in COMPONENTS},
                },
            }
        )
    collection = json.loads(
        json.dumps({"type": "FeatureCollection", "features": features}, default=_json_default)
    )
    score_layer = folium.GeoJson(
        collection,
        name="DERI score (quantiles)",
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333333",
            "weight": 0.8,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
    )
    score_layer.add_to(fmap)
    for component in COMPONENTS:
        column = f"{component}_score"
        if column not in shapes:
            continue
        component_classes, _ = classify(shapes[column].to_numpy(dtype=float), scheme)
        colours = {
            f["properties"]["label"]: PALETTE[c] if c >= 0 else NO_DATA
            for f, c in zip(features, component_classes, strict=True)
        }
        folium.GeoJson(
            collection,
            name=f"{component.title()} component",
            show=False,
            style_function=lambda f, colours=colours: {
                "fillColor": colours[f["properties"]["label"]],
                "color": "#555555",
                "weight": 0.5,
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(fmap)
    if districts is not None and not districts.empty:
        folium.GeoJson(
            json.loads(
                simplify_coverage(districts[["lad_name", "geometry"]]).to_crs("EPSG:4326").to_json()
            ),
            name="District boundaries",
            style_function=lambda f: {"fill": False, "color": "#000000", "weight": 2.5},
        ).add_to(fmap)
    _services(fmap, services)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_legend(title, bins, attribution)))
    return fmap


def _services(fmap: folium.Map, services: gpd.GeoDataFrame) -> None:
    if services.empty:
        return
    points = services.to_crs("EPSG:4326")
    for category, group in points.groupby("category"):
        layer = folium.FeatureGroup(name=f"Services: {category}")
        colour = CATEGORY_COLOURS.get(str(category), "#666666")
        for name, address, point in zip(
            group["name"], group["address"], group.geometry, strict=True
        ):
            folium.CircleMarker(
                [point.y, point.x],
                radius=6,
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
                tooltip=html.escape(str(name)),
                popup=folium.Popup(
                    f"<b>{html.escape(str(name))}</b><br>{html.escape(str(category))}"
                    f"<br>{html.escape(str(address))}",
                    max_width=260,
                ),
            ).add_to(layer)
        layer.add_to(fmap)


def _legend(title: str, bins: list[float], attribution: str) -> str:
    rows, low = [], 0.0
    for colour, high in zip(PALETTE, bins, strict=False):
        rows.append(
            f"<div><span style='background:{colour}'></span>{low:.1f} &ndash; {high:.1f}</div>"
        )
        low = high
    return f"""
<style>
.placeintel-legend {{position:absolute; bottom:24px; left:10px; z-index:1000; background:#fff;
  padding:8px 10px; border:1px solid #888; font:14px/1.4 sans-serif; max-width:22em}}
.placeintel-legend span {{display:inline-block; width:1.2em; height:1em; margin-right:.4em;
  border:1px solid #555; vertical-align:middle}}
.placeintel-legend small {{display:block; margin-top:4px; color:#333}}
</style>
<div class="placeintel-legend" role="region" aria-label="Legend">
<b>{html.escape(title)}</b><br>
Digital Exclusion Risk Index (0 low &ndash; 10 high), quintiles of wards:
{"".join(rows)}<div><span style='background:{NO_DATA}'></span>no data</div>
<small>{html.escape(attribution)}</small></div>"""


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    return str(value)


def write_map(fmap: folium.Map, path: Path) -> Path:
    """Save the map and copy Leaflet next to it, so the page works from a file or a server."""
    assets = path.parent / ASSETS
    assets.mkdir(parents=True, exist_ok=True)
    source = Path(xstatic_leaflet.BASE_DIR)
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copy2(source / name, assets / name)
    shutil.copytree(source / "images", assets / "images", dirs_exist_ok=True)
    fmap.save(str(path))
    return path
