"""Security headers on every kind of response: pages, data, errors, maps, downloads, assets."""

from __future__ import annotations

import urllib.request

import pytest

from placeintel.api.serve import create_app
from placeintel.maps.csp import page_sources
from placeintel.pipeline import Release


@pytest.fixture(scope="module")
def client(demo_release: Release, releases_dir):
    return create_app("demo", releases_dir).test_client()


#: (method, path, status): one of each kind of answer the service gives.
RESPONSES = [
    ("GET", "/?f=json", 200),
    ("GET", "/?f=html", 200),
    ("GET", "/collections?f=html", 200),
    ("GET", "/collections/wards/items?f=json", 200),
    ("GET", "/collections/wards/items?f=html", 200),
    ("GET", "/collections/wards/items/E05990010?f=html", 200),
    ("GET", "/collections/wards/queryables?f=html", 200),
    ("GET", "/openapi?f=json", 200),
    ("GET", "/openapi?f=html", 200),
    ("GET", "/collections/wards/items?sortby=", 400),  # the query guard's own answer
    ("GET", "/collections/wards/items?f=json&limit=-1", 400),  # pygeoapi's
    ("GET", "/collections/wards/items?f=html&limit=-1", 400),
    ("GET", "/collections/nope?f=json", 404),
    ("GET", "/no/such/page", 404),  # Flask's
    ("DELETE", "/collections", 405),
    ("GET", "/map/", 200),
    ("GET", "/map/map-E08000991.html", 200),
    ("GET", "/map/assets/leaflet/leaflet.js", 200),
    ("GET", "/release/datapackage.json", 200),
    ("GET", "/release/wards.csv", 200),
    ("GET", "/release/wards.gpkg", 200),
    ("GET", "/release/nope.csv", 404),
    ("GET", "/static/css/placeintel-api.css", 200),
    ("GET", "/static/js/items.js", 200),
    ("GET", "/vendor/leaflet/leaflet.js", 200),
    ("GET", "/vendor/markercluster/leaflet.markercluster.js", 200),
]


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in policy.split(";") if d.strip())}


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES, ids=[r[1] for r in RESPONSES])
def test_every_response_has_the_security_headers(client, method, path, status) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status, response.data[:300]
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    policy = _directives(headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in policy[directive]
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:"} & set(policy[directive])
        # Nothing but the service itself and, on a map page, its own hashes.
        assert all(v == "'self'" or v.startswith("'sha256-") for v in policy[directive])
    if headers["Content-Type"].startswith("text/html"):
        assert headers["Content-Type"].lower().endswith("charset=utf-8")


def test_a_map_page_allows_its_own_inline_scripts_by_hash(client, demo_release: Release) -> None:
    response = client.get("/map/")
    policy = _directives(response.headers["Content-Security-Policy"])
    own = page_sources((demo_release.path / "map.html").read_text(encoding="utf-8"))
    assert own["script-src"] and set(own["script-src"]) <= set(policy["script-src"])
    assert own["style-src"] and set(own["style-src"]) <= set(policy["style-src"])
    assert "https://tile.openstreetmap.org" in policy["img-src"]
    # The API's pages run nothing inline: no hash at all.
    api = _directives(client.get("/collections?f=html").headers["Content-Security-Policy"])
    assert api["script-src"] == ["'self'"] and api["style-src"] == ["'self'"]


def test_the_headers_reach_a_client_through_waitress(server: str) -> None:
    """`placeintel serve` as a user runs it: the headers survive the real server."""
    with urllib.request.urlopen(f"{server}/collections/wards/items?f=html") as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
