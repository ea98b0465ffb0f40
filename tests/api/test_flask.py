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


COLLECTIONS = ("wards", "services", "lsoas", "broadband", "deprivation")


def test_five_collections_with_metadata(client) -> None:
    body = client.get("/collections?f=json").get_json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(COLLECTIONS) <= set(by_id)
    for name in COLLECTIONS:
        collection = by_id[name]
        assert collection["title"] and collection["description"] and collection["keywords"]
        west, south, east, north = collection["extent"]["spatial"]["bbox"][0]
        assert -1.8 < west < east < -1.4 and 52.4 < south < north < 52.7  # the demo region
        rels = {link["rel"] for link in collection["links"]}
        assert {"license", "describedby", "enclosure"} <= rels
    counts = {
        name: client.get(f"/collections/{name}/items?f=json&limit=1").get_json()["numberMatched"]
        for name in COLLECTIONS
    }
    assert counts == {
        "wards": 40,
        "services": 60,
        "lsoas": 160,
        "broadband": 640,
        "deprivation": 148,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter=deri_score > 5", lambda w: w["deri_score"] > 5),
        ("filter=ward_name LIKE 'C%'", lambda w: w["ward_name"].str.startswith("C")),
        (
            "filter=lad_name IN ('Eastwick','Riverside')",
            lambda w: w["lad_name"].isin(["Eastwick", "Riverside"]),
        ),
        ("filter=deri_score BETWEEN 2 AND 3", lambda w: w["deri_score"].between(2, 3)),
        (
            "filter=support_within_1km >= 4 AND NOT lad_name = 'Northmoor'",
            lambda w: (w["support_within_1km"] >= 4) & (w["lad_name"] != "Northmoor"),
        ),
        ("filter=hotspot IS NULL", lambda w: w["hotspot"].isna()),
    ],
)
def test_cql2_text(client, demo_release: Release, query: str, expected) -> None:
    body = client.get(f"/collections/wards/items?f=json&limit=100&{query}").get_json()
    wards = demo_release.wards
    assert sorted(f["id"] for f in body["features"]) == sorted(wards[expected(wards)]["ward_code"])


def test_cql2_spatial_text_and_json(client, demo_release: Release) -> None:
    import shapely

    wards = demo_release.wards.to_crs("OGC:CRS84")
    point = wards.geometry.iloc[7].representative_point()
    text = client.get(
        f"/collections/wards/items?f=json&filter=S_INTERSECTS(geometry,POINT({point.x} {point.y}))"
    ).get_json()
    assert [f["id"] for f in text["features"]] == [wards["ward_code"].iloc[7]]
    box = shapely.box(-1.70, 52.50, -1.60, 52.61)
    within = client.get(
        "/collections/wards/items?f=json&limit=100&filter=S_WITHIN(geometry,"
        "POLYGON((-1.70 52.50,-1.60 52.50,-1.60 52.61,-1.70 52.61,-1.70 52.50)))"
    ).get_json()
    assert {f["id"] for f in within["features"]} == set(wards[wards.within(box)]["ward_code"])
    posted = client.post(
        "/collections/wards/items?f=json&limit=100",
        json={
            "op": "and",
            "args": [
                {"op": ">", "args": [{"property": "deri_score"}, 3]},
                {
                    "op": "s_intersects",
                    "args": [
                        {"property": "geometry"},
                        {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [-1.70, 52.50],
                                    [-1.60, 52.50],
                                    [-1.60, 52.61],
                                    [-1.70, 52.61],
                                    [-1.70, 52.50],
                                ]
                            ],
                        },
                    ],
                },
            ],
        },
        headers={"Content-Type": "application/query-cql-json"},
    ).get_json()
    expected = wards[(wards["deri_score"] > 3) & wards.intersects(box)]["ward_code"]
    assert {f["id"] for f in posted["features"]} == set(expected)


def test_properties_skip_geometry_and_crs(client, demo_release: Release) -> None:
    body = client.get(
        "/collections/wards/items?f=json&properties=deri_score&skipGeometry=true&limit=2"
    ).get_json()
    assert set(body["features"][0]["properties"]) == {"ward_code", "deri_score"}
    assert body["features"][0]["geometry"] is None
    bng = client.get(
        "/collections/services/items?f=json&limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/27700"
    )
    assert "27700" in bng.headers["Content-Crs"]
    x, y = bng.get_json()["features"][0]["geometry"]["coordinates"]
    assert 400_000 < x < 450_000 and 280_000 < y < 310_000
    box = client.get(
        "/collections/wards/items?f=json&limit=100&bbox=421000,291000,423000,293000"
        "&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700"
    ).get_json()
    import shapely

    expected = demo_release.wards[
        demo_release.wards.intersects(shapely.box(421000, 291000, 423000, 293000))
    ]["ward_code"]
    assert {f["id"] for f in box["features"]} == set(expected)


def test_queryables_and_html(client) -> None:
    queryables = client.get("/collections/wards/queryables?f=json").get_json()
    assert queryables["properties"]["deri_score"]["type"] == "number"
    assert queryables["properties"]["ward_name"]["type"] == "string"
    for path in (
        "/",
        "/collections",
        "/collections/wards",
        "/collections/wards/items",
        "/collections/wards/items/E05990010",
    ):
        page = client.get(f"{path}?f=html")
        assert page.status_code == 200 and b"<html" in page.data.lower()


@pytest.mark.parametrize(
    "query",
    [
        "filter=deri_score >> 1",
        "filter=nope > 1",
        "filter=S_DWITHIN(geometry,POINT(0 0),1,meters)",
        "sortby=nope",
        "sortby=,deri_score",
        "sortby=",
        "deri_rank=abc",
        "weight_sensitive=maybe",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "limit=-1",
        "offset=-5",
        "crs=EPSG:9999",
        "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&bbox=0,0,1,1x",
        "filter-lang=sql",
    ],
)
def test_bad_queries_are_400_never_500(client, query: str) -> None:
    response = client.get(f"/collections/wards/items?f=json&{query}")
    assert response.status_code == 400, (query, response.status_code, response.data[:200])
    assert response.get_json().get("description")


def test_huge_offset_is_an_empty_page(client) -> None:
    body = client.get("/collections/wards/items?f=json&offset=99999999999999999999999").get_json()
    assert body["numberMatched"] == 40 and body["features"] == []


def test_a_new_release_is_served_without_restart(tmp_path) -> None:
    from placeintel import build

    build("demo", releases=tmp_path, echo=lambda line: None)
    client = create_app("demo", tmp_path).test_client()
    url = "/collections/wards/items?f=json&sortby=-deri_score&limit=1"
    before = client.get(url).get_json()["features"][0]["properties"]["deri_score"]
    deprivation_only = {"demography": 0, "broadband": 0, "deprivation": 3, "access": 0}
    build("demo", releases=tmp_path, weights=deprivation_only, echo=lambda line: None)
    after = client.get(url).get_json()["features"][0]["properties"]["deri_score"]
    import pandas as pd

    served = pd.read_csv(tmp_path / "demo" / "current" / "wards.csv")["deri_score"].max()
    assert after != before and after == pytest.approx(served)


def test_a_collection_without_its_key_is_a_provider_error(demo_release: Release) -> None:
    from pygeoapi.provider.base import ProviderGenericError

    from placeintel.api.provider import ReleaseProvider

    with pytest.raises(ProviderGenericError, match="needs an id_field"):
        ReleaseProvider(
            {
                "name": "placeintel.api.provider.ReleaseProvider",
                "type": "feature",
                "data": str(demo_release.path / "wards.parquet"),
            }
        )
