"""The planners' map: wards coloured by DERI score, components, districts and support services.

Leaflet is shipped with the release (from the xstatic-leaflet package) and
folium is pointed at it, because council networks often block CDNs and a map
that needs the internet to draw boundaries is a blank page for a planner.
Every text that comes from a dataset is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
import xstatic.pkg.leaflet as xstatic_leaflet

from placeintel.index.classes import risk_classes
from placeintel.indicators.catalogue import COMPONENTS, INDICATORS
from placeintel.sources.services import DIGITAL_SUPPORT

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
#: Output precision: 1e-5 degrees is about a metre, finer than the 15 m simplification.
GRID_DEGREES = 1e-5


def simplify_coverage(
    frame: gpd.GeoDataFrame, tolerance: float = SIMPLIFY_METRES
) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = shapely.coverage_simplify(out.geometry.to_numpy(), tolerance)
    return out


def _popup(row: dict) -> str:
    e = lambda v: html.escape(str(v))  # noqa: E731
    lines = [
        f"<h4 style='margin:0 0 4px'>{e(row['ward_name'])}</h4>",
        f"<div>{e(row['lad_name'])} &middot; {e(row['ward_code'])}</div>",
        f"<p><b>DERI score {_fmt(row.get('deri_score'))}</b> (rank {e(row.get('deri_rank'))}"
        f"; {e(row.get('deri_rank_low'))}&ndash;{e(row.get('deri_rank_high'))} across "
        f"weightings)<br>Hotspot (Gi*): {e(row.get('hotspot', 'n/a'))}</p>",
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
    number = _number(value)
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
    geometries = [
        shapely.geometry.mapping(g)
        for g in shapely.set_precision(shapes.geometry.to_numpy(), GRID_DEGREES)
    ]
    bins = _choropleth(
        fmap,
        records,
        geometries,
        "deri_score",
        "DERI score (quantiles)",
        scheme,
        show=True,
        with_popup=True,
    )
    for component in COMPONENTS:
        if f"{component}_score" in shapes:
            _choropleth(
                fmap,
                records,
                geometries,
                f"{component}_score",
                f"{component.title()} component",
                scheme,
                show=False,
                with_popup=False,
            )
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
    fmap.get_root().html.add_child(folium.Element(_legend(title, bins)))
    return fmap


def _choropleth(
    fmap: folium.Map,
    records: list[dict],
    geometries: list[dict],
    column: str,
    name: str,
    scheme: str,
    show: bool,
    with_popup: bool,
) -> list[float]:
    """Add one classed ward layer; each layer carries only the properties it uses,
    because folium embeds every layer's data in the page."""
    classes, bins = risk_classes(np.array([_number(r.get(column)) for r in records]), scheme)
    features = []
    for record, geometry, cls in zip(records, geometries, classes, strict=True):
        properties = {
            "label": html.escape(f"{record['ward_name']}: {_fmt(record.get(column))}"),
            "colour": PALETTE[cls] if cls >= 0 else NO_DATA,
        }
        if with_popup:
            properties["popup"] = _popup(record)
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        show=show,
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333333",
            "weight": 0.8,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if with_popup else None,
    ).add_to(fmap)
    return bins


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _services(fmap: folium.Map, services: gpd.GeoDataFrame) -> None:
    """One toggleable layer per category. GeoJson popups and tooltips need only Leaflet;
    folium's Popup would need jQuery, which the release does not ship."""
    if services.empty:
        return
    points = services.to_crs("EPSG:4326")
    for category, group in points.groupby("category"):
        colour = CATEGORY_COLOURS.get(str(category), "#666666")
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
                "properties": {
                    "label": html.escape(str(name)),
                    "popup": f"<b>{html.escape(str(name))}</b><br>{html.escape(str(category))}"
                    f"<br>{html.escape(str(address))}",
                },
            }
            for name, address, p in zip(
                group["name"], group["address"], group.geometry, strict=True
            )
        ]
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=f"Services: {category}",
            # Digital-support services are what planners place; others start hidden.
            show=category in DIGITAL_SUPPORT,
            marker=folium.CircleMarker(
                radius=6,
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
            ),
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
        ).add_to(fmap)


def compact_attribution(attributions: list[str]) -> str:
    """One line from many sources: repeated sentences once, OS copyright years merged."""
    sentences: list[str] = []
    years: set[str] = set()
    for text in attributions:
        for sentence in re.split(r"(?<=\.)\s+|;\s*", text):
            sentence = sentence.strip().rstrip(".")
            match = re.match(
                r"Contains OS data © Crown copyright and database right (\d{4})", sentence
            )
            if match:
                years.add(match.group(1))
            elif sentence and sentence not in sentences:
                sentences.append(sentence)
    if years:
        span = min(years) if len(years) == 1 else f"{min(years)}-{max(years)}"
        sentences.append(f"Contains OS data © Crown copyright and database right {span}")
    return ". ".join(sentences) + ("." if sentences else "")


def _legend(title: str, bins: list[float]) -> str:
    rows, low = [], 0.0
    for colour, high in zip(PALETTE, bins, strict=False):
        rows.append(
            f"<div><span style='background:{colour}'></span>{low:.1f} &ndash; {high:.1f}</div>"
        )
        low = high
    return f"""
<style>
.placeintel-legend {{position:absolute; top:80px; left:10px; z-index:1000; background:#fff;
  padding:8px 10px; border:1px solid #888; font:14px/1.4 sans-serif; max-width:22em}}
.placeintel-legend span {{display:inline-block; width:1.2em; height:1em; margin-right:.4em;
  border:1px solid #555; vertical-align:middle}}
.leaflet-control-attribution {{font-size:11px}}
</style>
<div class="placeintel-legend" role="region" aria-label="Legend">
<b>{html.escape(title)}</b><br>
Digital Exclusion Risk Index (0 low &ndash; 10 high), quintiles of wards:
{"".join(rows)}<div><span style='background:{NO_DATA}'></span>no data</div></div>"""


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
