"""A map with its assets inside the page (what `placeintel.explore` shows in a notebook)."""

from __future__ import annotations

import base64
import re

import folium
import pytest

from placeintel.maps import MapContent, assemble
from placeintel.maps.inline import inline_assets


def _decoded(url: str) -> str:
    return base64.b64decode(url.split(",", 1)[1]).decode("utf-8")


def test_every_shipped_asset_and_its_images_are_in_the_page(demo_release) -> None:
    content = MapContent(demo_release.wards, demo_release.services, "Demo", [])
    fmap = inline_assets(assemble(content))
    links = dict(fmap.default_js + fmap.default_css)
    assert links and all(u.startswith("data:") for u in links.values()), links
    assert "L.Map" in _decoded(links["leaflet"]) or "Leaflet" in _decoded(links["leaflet"])
    leaflet_css = _decoded(links["leaflet_css"])
    # Leaflet's layer-control icon, named by its stylesheet, travels inside it.
    assert re.search(r'\.leaflet-control-layers-toggle\s*\{[^}]*url\("data:image/png', leaflet_css)
    assert "url(images/" not in leaflet_css
    html = fmap.get_root().render()
    assert 'src="assets/' not in html and 'href="assets/' not in html
    once = list(fmap.default_js)
    assert inline_assets(fmap).default_js == once  # inlining twice changes nothing


def test_absolute_links_are_kept_and_an_unshipped_one_is_an_error() -> None:
    fmap = folium.Map(tiles=None)
    cdn = dict(fmap.default_js)
    assert inline_assets(fmap).default_js == list(cdn.items())  # https: left for the browser
    fmap.default_js = [("ghost", "assets/nowhere/ghost.js")]
    with pytest.raises(FileNotFoundError, match="ghost.js"):
        inline_assets(fmap)
    fmap.default_js = [("escape", "../../../etc/passwd")]
    with pytest.raises(FileNotFoundError, match="passwd"):
        inline_assets(fmap)
