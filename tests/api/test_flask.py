"""OGC API - Features over the demo release through Flask's test client."""

from __future__ import annotations

import pytest

from placeintel.api.serve import create_app
from placeintel.pipeline import Release
from tests.conftest import WARD_FIELDS


@pytest.fixture(scope="module")
def client(demo_release: Release, releases_dir):
    return create_app("demo", releases_dir).test_client()


def test_wards_items_count_and_properties(client, demo_release: Release) -> None:
    response = client.get("/collections/wards/items?f=json&limit=100")
    assert response.status_code == 200
    body = response.get_json()
    assert body["numberMatched"] == 40 and body["numberReturned"] == 40
    properties = body["features"][0]["properties"]
    for name in WARD_FIELDS:
        assert name in properties
    expected = demo_release.wards.set_index("ward_code")["deri_score"]
    for feature in body["features"]:
        assert feature["properties"]["deri_score"] == pytest.approx(expected[feature["id"]])


def test_paging_links(client) -> None:
    body = client.get("/collections/wards/items?f=json&limit=15&offset=30").get_json()
    assert body["numberReturned"] == 10
    assert any(link["rel"] == "prev" for link in body["links"])


def test_services_filter_sort_and_get(client) -> None:
    body = client.get("/collections/services/items?f=json&category=library&limit=100").get_json()
    assert body["numberMatched"] == 12
    assert {f["properties"]["category"] for f in body["features"]} == {"library"}
    ranked = client.get("/collections/wards/items?f=json&sortby=-deri_score&limit=3").get_json()
    scores = [f["properties"]["deri_score"] for f in ranked["features"]]
    assert scores == sorted(scores, reverse=True)
    one = client.get(f"/collections/wards/items/{ranked['features'][0]['id']}?f=json")
    assert one.status_code == 200 and one.get_json()["properties"]["deri_rank"] == 1


def test_bbox_intersects(client, demo_release: Release) -> None:
    wards = demo_release.wards.to_crs("OGC:CRS84")
    minx, miny, maxx, maxy = wards.geometry.iloc[0].bounds
    body = client.get(
        f"/collections/wards/items?f=json&limit=100&bbox={minx},{miny},{maxx},{maxy}"
    ).get_json()
    import shapely

    expected = set(wards[wards.intersects(shapely.box(minx, miny, maxx, maxy))]["ward_code"])
    assert {f["id"] for f in body["features"]} == expected


def test_bad_queries_are_400_with_reason(client) -> None:
    response = client.get("/collections/wards/items?f=json&deri_rank=high")
    assert response.status_code == 400
    assert "deri_rank" in response.get_json()["description"]
    assert client.get("/collections/wards/items/E00000000?f=json").status_code == 404


def test_map_and_downloads_are_served(client) -> None:
    page = client.get("/map/")
    assert page.status_code == 200 and b"assets/leaflet/leaflet.js" in page.data
    assert client.get("/map/assets/leaflet/leaflet.js").status_code == 200
    assert client.get("/release/datapackage.json").status_code == 200
    assert client.get("/release/../../etc/passwd").status_code == 404
    assert client.get("/collections?f=html").status_code == 200
