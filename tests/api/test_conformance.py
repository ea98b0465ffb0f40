"""`/conformance` declares what the service does: Part 3 filtering and CQL2, not Part 4.

Each declared CQL2 class is paired with a filter that uses it, run through the API, so
a class cannot be declared without being shown to work (the exact results are checked
against geopandas in test_filters.py).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from placeintel.api.conformance import CONFORMS_TO
from placeintel.api.serve import create_app
from placeintel.pipeline import Release

PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"

#: A filter exercising each CQL2 class, and how many of the 40 demo wards it selects (>0).
EXAMPLES = {
    "basic-cql2": "deri_score > 3 AND NOT (lad_name = 'Northmoor' OR hotspot IS NULL)",
    "advanced-comparison-operators": "ward_name LIKE 'C%' OR deri_score BETWEEN 2 AND 3 "
    "OR lad_name IN ('Eastwick')",
    "basic-spatial-functions": "S_INTERSECTS(geometry, BBOX(-1.70, 52.50, -1.60, 52.55))",
    "basic-spatial-functions-plus": "S_INTERSECTS(geometry, LINESTRING(-1.70 52.50, -1.55 52.60))",
    "spatial-functions": "S_WITHIN(geometry, "
    "POLYGON((-1.7 52.5, -1.6 52.5, -1.6 52.61, -1.7 52.61, -1.7 52.5)))",
    "property-property": "deri_score > deprivation_score",
}


@pytest.fixture(scope="module")
def client(demo_release: Release, releases_dir):
    return create_app("demo", releases_dir).test_client()


def test_part3_and_cql2_are_declared_and_part4_is_not(client) -> None:
    declared = client.get("/conformance?f=json").get_json()["conformsTo"]
    assert sorted(declared) == sorted(CONFORMS_TO)
    assert {PART3 + "filter", PART3 + "features-filter"} <= set(declared)
    assert {CQL2 + "cql2-text", CQL2 + "cql2-json", CQL2 + "basic-cql2"} <= set(declared)
    assert PART4 not in declared
    assert not [c for c in declared if "ogcapi-features-4" in c]
    assert len(declared) == len(set(declared))


def test_the_answer_does_not_grow_with_each_request(client) -> None:
    """pygeoapi 0.21 appended its classes to a module-level list on every request."""
    first = client.get("/conformance?f=json").get_data()
    for _ in range(5):
        assert client.get("/conformance?f=json").get_data() == first


def test_the_html_page_lists_the_same_classes(client) -> None:
    page = client.get("/conformance?f=html")
    assert page.status_code == 200
    for uri in (PART3 + "features-filter", CQL2 + "cql2-json"):
        assert uri.encode() in page.data
    assert PART4.encode() not in page.data


def test_every_declared_cql2_class_has_a_working_example(client) -> None:
    declared = {c.removeprefix(CQL2) for c in CONFORMS_TO if c.startswith(CQL2)}
    assert declared - {"cql2-text", "cql2-json"} == set(EXAMPLES)
    for name, text in EXAMPLES.items():
        response = client.get(
            f"/collections/wards/items?f=json&limit=100&filter-lang=cql2-text&filter={quote(text)}"
        )
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:200])
        assert 0 < response.get_json()["numberMatched"] < 40, name


def test_the_service_refuses_what_part4_would_allow(client) -> None:
    """Not declaring create-replace-delete is right: the service cannot do it."""
    feature = {"type": "Feature", "geometry": None, "properties": {"ward_code": "X"}}
    created = client.post(
        "/collections/wards/items", json=feature, content_type="application/geo+json"
    )
    deleted = client.delete("/collections/wards/items/E05990001")
    for response in (created, deleted):
        assert response.status_code == 400
        assert "not editable" in response.get_json()["description"]
    count = client.get("/collections/wards/items?f=json&limit=1").get_json()["numberMatched"]
    assert count == 40
