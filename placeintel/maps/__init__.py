"""Folium maps for planners: one map of the region with a district filter, assembled one way.

`assemble` is the only place that decides what a map shows: its title block, attribution,
district outlines, the services within reach and the LSOAs. The build's maps, the
`placeintel map` command and `placeintel.explore` in a notebook all call it, so a
map of the same release looks the same wherever it is drawn.

A release holds one map, `map.html`; its district filter zooms to a district and ranks
and classes the wards within it. `map-<district code>.html` opens that map filtered to
the district (`map.html?district=<code>`), so old links keep working without a second
copy of the data for every district.
"""

from __future__ import annotations

import html
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from placeintel.index.deri import IndexSettings
from placeintel.maps.about import describe
from placeintel.maps.attribution import compact_attribution
from placeintel.maps.risk_map import build_map, ranked, write_map
from placeintel.maps.shapes import MapShapes, districts_of, prepare
from placeintel.maps.weights import weighting
from placeintel.publish.release import release_file

#: Services this far outside a district still show on its map: people cross borders for help.
DISTRICT_MARGIN_M = 2_000


@dataclass(frozen=True)
class MapContent:
    """What a map of a release shows, whoever draws it."""

    wards: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    title: str
    attributions: list[str]
    lsoas: gpd.GeoDataFrame | None = None
    labels: dict[str, str] | None = None
    #: The release's `placeintel` metadata (its `index` says what the score is made of),
    #: its version and the data package's sources (title and version of each edition).
    metadata: dict[str, Any] | None = None
    version: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    #: (text, relative URL) of files beside the map: the method, the data package.
    links: tuple[tuple[str, str], ...] = ()
    #: The settings the index was built with: the page re-weights from them (maps/weights.py).
    index: IndexSettings | None = None
    #: False when `index` is known only approximately (a release scaled to the nation).
    exact_index: bool = True
    #: The map's geometry made ahead (`placeintel.maps.shapes.prepare`), or a future of it:
    #: the build makes it while the index is computed. Used where it fits the areas drawn.
    shapes: MapShapes | Future[MapShapes] | None = None


def assemble(
    content: MapContent, district: str | None = None, scheme: str = "quantiles"
) -> folium.Map:
    """The map of a region, or of one district (`district` is its code) with the services
    within reach of it. A district's map ranks and classes its wards within the district
    and keeps each ward's regional rank beside, out of the region's counts."""
    wards, services, title, lsoas = content.wards, content.services, content.title, content.lsoas
    has_lsoas = lsoas is not None and "deri_score" in lsoas
    totals = (ranked(wards), ranked(lsoas) if has_lsoas else 0)
    shapes = content.shapes.result() if isinstance(content.shapes, Future) else content.shapes
    made = shapes.district_shapes(wards) if shapes is not None else None
    with ThreadPoolExecutor(1) as pool:
        # GEOS's union (national: 324 districts, 2-4 s) lets go of Python's lock, so the
        # region's districts are dissolved in a thread while the map's numbers are made,
        # unless they were made ahead from these wards.
        districts: gpd.GeoDataFrame | Future[gpd.GeoDataFrame] = (
            made.districts if made is not None else pool.submit(districts_of, wards)
        )
        # The region's whole tables, whichever areas this page draws: ranks are the region's.
        weights = weighting(
            {"ward": wards, **({"lsoa": lsoas} if has_lsoas else {})},
            content.index,
            content.labels,
            content.version,
            content.exact_index,
        )
        about = describe(title, content.version, content.metadata, content.sources, content.links)
        if district is not None:
            own = wards[wards["lad_code"] == district]
            reach = own.union_all().buffer(DISTRICT_MARGIN_M)
            services = services[services.within(reach)]
            lsoas = lsoas[lsoas["lad_code"] == district] if has_lsoas else None
            region = districts.result() if isinstance(districts, Future) else districts
            districts = region[region["lad_code"] == district]
            title = f"{title}: {own['lad_name'].iloc[0]}"
            wards = own
        return build_map(
            gpd.GeoDataFrame(wards),
            services,
            title,
            compact_attribution(content.attributions),
            districts,
            scheme,
            lsoas if has_lsoas else None,
            content.labels,
            totals,
            about=about,
            district=district,
            published=(content.metadata or {}).get("index"),
            weights=weights,
            shapes=shapes,
        )


#: Opens the one map filtered to a district: a link that works from a file and a server.
_DISTRICT_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url={href}">
<title>{title}</title>
</head>
<body>
<main>
<h1>{title}</h1>
<p><a href="{href}">Open the map of {name}</a> (the region's map, filtered to {name}).</p>
</main>
</body>
</html>
"""


def district_page(folder: Path, code: str, name: str, title: str) -> Path:
    """`map-<code>.html`: a page that opens `map.html` filtered to one district."""
    href = html.escape(f"map.html?district={code}")
    page = _DISTRICT_PAGE.format(
        href=href, name=html.escape(name), title=html.escape(f"{title}: {name}")
    )
    path = release_file(folder, f"map-{code}.html")
    path.write_text(page, encoding="utf-8")
    return path


def write_maps(folder: Path, content: MapContent, scheme: str = "quantiles") -> list[Path]:
    """`map.html` for the region (with its district filter) and, for each district,
    `map-<district code>.html` opening it filtered to that district."""
    written = [write_map(assemble(content, scheme=scheme), folder / "map.html")]
    districts = content.wards[["lad_code", "lad_name"]].drop_duplicates("lad_code")
    for code, name in districts.itertuples(index=False):
        written.append(district_page(folder, str(code), str(name), content.title))
    return written


__all__ = [
    "MapContent",
    "MapShapes",
    "assemble",
    "build_map",
    "district_page",
    "districts_of",
    "prepare",
    "write_map",
    "write_maps",
]
