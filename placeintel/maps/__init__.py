"""Folium maps for planners: one for the region, one per district, all assembled one way.

`assemble` is the only place that decides what a map shows: its title, attribution,
district outlines, the services within reach and the LSOAs. The build's maps, the
`placeintel map` command and `placeintel.explore` in a notebook all call it, so a
map of the same release looks the same wherever it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd

from placeintel.index.deri import IndexSettings
from placeintel.maps.attribution import compact_attribution
from placeintel.maps.risk_map import build_map, ranked, write_map
from placeintel.maps.weights import weighting
from placeintel.publish.release import release_file

#: Services this far outside a district still show on its map: people cross borders for help.
DISTRICT_MARGIN_M = 2_000


def districts_of(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """District outlines, as the union of their wards: every release can draw them."""
    return wards.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]


@dataclass(frozen=True)
class MapContent:
    """What a map of a release shows, whoever draws it."""

    wards: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    title: str
    attributions: list[str]
    lsoas: gpd.GeoDataFrame | None = None
    labels: dict[str, str] | None = None
    #: The settings the index was built with: the page re-weights from them (maps/weights.py).
    index: IndexSettings | None = None
    #: The release's version (its date is printed on the map).
    version: str = ""
    #: False when `index` is known only approximately (a release scaled to the nation).
    exact_index: bool = True


def assemble(
    content: MapContent, district: str | None = None, scheme: str = "quantiles"
) -> folium.Map:
    """The map of a region, or of one district (`district` is its code) with the services
    within reach of it; ranks are always the region's, out of the region's counts."""
    wards, services, title, lsoas = content.wards, content.services, content.title, content.lsoas
    has_lsoas = lsoas is not None and "deri_score" in lsoas
    totals = (ranked(wards), ranked(lsoas) if has_lsoas else 0)
    districts = districts_of(wards)
    # The region's whole tables, whichever areas this page draws: ranks are the region's.
    weights = weighting(
        {"ward": wards, **({"lsoa": lsoas} if has_lsoas else {})},
        content.index,
        content.labels,
        content.version,
        content.exact_index,
    )
    if district is not None:
        own = wards[wards["lad_code"] == district]
        reach = own.union_all().buffer(DISTRICT_MARGIN_M)
        services = services[services.within(reach)]
        lsoas = lsoas[lsoas["lad_code"] == district] if has_lsoas else None
        districts = districts[districts["lad_code"] == district]
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
        weights=weights,
    )


def write_maps(folder: Path, content: MapContent, scheme: str = "quantiles") -> list[Path]:
    """`map.html` for the region and `map-<district code>.html` for each district."""
    written = [write_map(assemble(content, scheme=scheme), folder / "map.html")]
    for lad_code in content.wards["lad_code"].drop_duplicates():
        fmap = assemble(content, lad_code, scheme)
        written.append(write_map(fmap, release_file(folder, f"map-{lad_code}.html")))
    return written


__all__ = ["MapContent", "assemble", "build_map", "districts_of", "write_map", "write_maps"]
