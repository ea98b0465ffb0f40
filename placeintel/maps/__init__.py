"""Folium maps for planners: one for the region, one per district."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from placeintel.maps.hotspot_map import build_map, ranked, write_map

#: Services this far outside a district still show on its map: people cross borders for help.
DISTRICT_MARGIN_M = 2_000


def district_subset(
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
    lad_code: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """A district's wards, the services within reach of it, and its outline."""
    own = wards[wards["lad_code"] == lad_code]
    reach = own.union_all().buffer(DISTRICT_MARGIN_M)
    nearby = services[services.within(reach)]
    outline = districts[districts["lad_code"] == lad_code] if districts is not None else None
    return own, nearby, outline


def district_lsoas(lsoas: gpd.GeoDataFrame | None, lad_code: str) -> gpd.GeoDataFrame | None:
    """A district's LSOAs (those of its wards), or None when the release has no LSOA level."""
    if lsoas is None or "lad_code" not in lsoas:
        return None
    return lsoas[lsoas["lad_code"] == lad_code]


def write_maps(
    folder: Path,
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    title: str,
    attribution: str,
    districts: gpd.GeoDataFrame | None = None,
    scheme: str = "quantiles",
    lsoas: gpd.GeoDataFrame | None = None,
    labels: dict[str, str] | None = None,
) -> list[Path]:
    """`map.html` for the region and `map-<district code>.html` for each district."""
    totals = (ranked(wards), ranked(lsoas))
    region = build_map(
        wards, services, title, attribution, districts, scheme, lsoas, labels, totals
    )
    written = [write_map(region, folder / "map.html")]
    for lad_code, lad_name in (
        wards[["lad_code", "lad_name"]].drop_duplicates().itertuples(index=False)
    ):
        own, nearby, outline = district_subset(wards, services, districts, lad_code)
        fmap = build_map(
            own,
            nearby,
            f"{title}: {lad_name}",
            attribution,
            outline,
            scheme,
            district_lsoas(lsoas, lad_code),
            labels,
            totals,
        )
        written.append(write_map(fmap, folder / f"map-{lad_code}.html"))
    return written


__all__ = ["build_map", "district_lsoas", "district_subset", "write_map", "write_maps"]
