"""Wrong bbox, datetime, skipGeometry, limit and offset values are a 400 naming the parameter."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from placeintel.api.serve import create_app
from placeintel.pipeline import Release


@pytest.fixture(scope="module")
def client(demo_release: Release, releases_dir):
    return create_app("demo", releases_dir).test_client()


def _get(client, query: str):
    limit = "" if query.startswith("limit=") else "limit=100&"
    name, _, value = query.partition("=")
    return client.get(f"/collections/wards/items?f=json&{limit}{name}={quote(value, safe='=&/,:')}")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bbox=nan,nan,nan,nan", "bbox"),
        ("bbox=-1.7,52.5,inf,52.6", "bbox"),
        ("bbox=-Infinity,52.5,-1.6,52.6", "bbox"),
        ("bbox=-1.7,52.5,0,-1.6,52.6,NaN", "bbox"),
        ("bbox=-1.7,52.5,-1.6,1e308", "bbox"),  # latitude beyond 90
        ("bbox=-200,52.5,-1.6,52.6", "bbox"),
        ("datetime=notadate", "datetime"),
        ("datetime=2024-13-01", "datetime"),
        ("datetime=2024-01-01T25:00:00Z", "datetime"),
        ("datetime=2024-W01", "datetime"),
        ("datetime=../..", "datetime"),
        ("datetime=2024-01-01/2023-01-01", "datetime"),
        ("datetime=2024-01-01/2024-02-01/2024-03-01", "datetime"),
        ("datetime=/", "datetime"),
        ("skipGeometry=maybe", "skipGeometry"),
        ("skipGeometry=", "skipGeometry"),
    ],
)
def test_invalid_values_are_400_with_the_parameter_named(client, query: str, parameter) -> None:
    response = _get(client, query)
    assert response.status_code == 400, (query, response.get_data(as_text=True)[:200])
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue" and body["locator"] == parameter
    assert body["description"].startswith(parameter) or f"{parameter} " in body["description"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        # pygeoapi checks these itself; they stay 400s with its own words
        ("bbox=1,2,3", "4 values"),
        ("bbox=a,b,c,d", "numbers"),
        ("bbox=-1.6,52.6,-1.7,52.5", "miny"),
        ("limit=1.5", "limit"),
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=2.5", "offset"),
        ("offset=x", "offset"),
    ],
)
def test_what_pygeoapi_checks_stays_a_400(client, query: str, says: str) -> None:
    response = _get(client, query)
    assert response.status_code == 400
    assert says in response.get_json()["description"]


@pytest.mark.parametrize(
    "query",
    [
        "bbox=-1.70,52.50,-1.60,52.55",
        "bbox=-180,-90,180,90",
        "bbox=-1.70,52.50,0,-1.60,52.55,100",
        "bbox=421000,291000,423000,293000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700",
        "datetime=2024-01-01",
        "datetime=2024-01-01T00:00:00Z",
        "datetime=2024-01-01T00:00:00.5+01:00",
        "datetime=2024-01-01T00:00:00z",
        "datetime=2024-01-01/2024-12-31",
        "datetime=../2024-12-31T23:59:59Z",
        "datetime=2024-01-01T00:00:00Z/..",
        "datetime=/2024-12-31",
        "skipGeometry=true",
        "skipGeometry=FALSE",
        "skipGeometry=1",
        "skipGeometry=no",
    ],
)
def test_valid_values_are_answered(client, query: str) -> None:
    response = _get(client, query)
    assert response.status_code == 200, (query, response.get_data(as_text=True)[:200])


def test_values_mean_what_they_say(client) -> None:
    """A valid datetime selects every ward (the layers carry no time); skipGeometry works."""
    assert _get(client, "datetime=" + quote("2024-01-01/..")).get_json()["numberMatched"] == 40
    skipped = _get(client, "skipGeometry=TRUE").get_json()["features"]
    kept = _get(client, "skipGeometry=false").get_json()["features"]
    assert all(f["geometry"] is None for f in skipped)
    assert all(f["geometry"] for f in kept)


def test_other_endpoints_ignore_item_parameters(client) -> None:
    """bbox and datetime mean nothing on /collections; pygeoapi ignores them there."""
    assert client.get("/collections?f=json&bbox=nan,nan,nan,nan").status_code == 200
    assert client.get("/conformance?f=json&datetime=x").status_code == 200
