"""The map page: local assets only, the right layers, escaped text."""

from __future__ import annotations

import re

import geopandas as gpd
import shapely

from placeintel.maps.hotspot_map import build_map
from placeintel.pipeline import Release


def test_map_uses_only_shipped_assets(demo_release: Release) -> None:
    html = demo_release.map_path.read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts == ["assets/leaflet/leaflet.js"]
    assert styles == ["assets/leaflet/leaflet.css"]
    for name in ("DERI score", "Demography component", "District boundaries", "Services: library"):
        assert name in html
    assert "Contains OS data" in html


def test_dataset_text_is_escaped(demo_release: Release) -> None:
    wards = demo_release.wards.copy()
    wards.loc[wards.index[0], "ward_name"] = "<script>alert(1)</script>"
    services = gpd.GeoDataFrame(
        {"name": ['<img src=x onerror="alert(2)">'], "category": ["library"], "address": ["x"]},
        geometry=[shapely.Point(wards.geometry.iloc[0].representative_point())],
        crs="EPSG:27700",
    )
    html = build_map(wards, services, "Test", "attribution").get_root().render()
    assert "<script>alert(1)</script>" not in html
    assert '<img src=x onerror="alert(2)">' not in html
    # Shown as text: HTML-escaped, then JSON-encoded inside the page's script (& -> \u0026).
    shown = html.replace("\\u0026", "&")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in shown
