"""The OpenAPI document describes Part 3's filter parameters on every items listing."""

from __future__ import annotations

import pytest

from placeintel.api.serve import create_app
from placeintel.pipeline import Release


@pytest.fixture(scope="module")
def document(demo_release: Release, releases_dir) -> dict:
    client = create_app("demo", releases_dir).test_client()
    return client.get("/openapi?f=json").get_json()


def _parameters(document: dict, path: str) -> dict[str, dict]:
    out = {}
    for parameter in document["paths"][path]["get"]["parameters"]:
        ref = parameter.get("$ref", "")
        if ref.startswith("#/components/parameters/"):
            parameter = document["components"]["parameters"][ref.rsplit("/", 1)[-1]]
        if "name" in parameter:
            out[parameter["name"]] = parameter
    return out


def test_every_items_listing_takes_filter_and_filter_lang(document: dict) -> None:
    listings = [
        p for p in document["paths"] if p.startswith("/collections/") and p.endswith("/items")
    ]
    assert {"/collections/wards/items", "/collections/services/items"} <= set(listings)
    for path in listings:
        parameters = _parameters(document, path)
        assert {"filter", "filter-lang", "filter-crs", "datetime", "bbox"} <= set(parameters), path
        languages = parameters["filter-lang"]["schema"]
        assert {"cql2-text", "cql2-json"} <= set(languages["enum"])
        assert languages["default"] == "cql2-text"


def test_other_operations_are_unchanged(document: dict) -> None:
    assert "filter" not in _parameters(document, "/collections/wards/items/{featureId}")
