"""`placeintel serve` as a real server, read with OWSLib and GDAL's OAPIF driver, and
checked against geopandas on the same release file."""

from __future__ import annotations

import os

import geopandas as gpd
import pytest
import shapely

from placeintel.pipeline import Release


def test_owslib_reads_collections_and_items(server: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server)
    assert {"wards", "services"} <= {c["id"] for c in api.collections()["collections"]}
    items = api.collection_items("wards", limit=50)
    assert items["numberMatched"] == 40


def test_gdal_oapif_reads_every_ward(server: str, demo_release: Release) -> None:
    import pyogrio

    os.environ.setdefault("GDAL_HTTP_TIMEOUT", "20")
    frame = pyogrio.read_dataframe(f"OAPIF:{server}", layer="wards")
    assert len(frame) == 40
    assert set(frame["ward_code"]) == set(demo_release.wards["ward_code"])
    assert {"ward_name", "lad_name", "deri_score", "deri_rank"} <= set(frame.columns)


def _all(server: str, collection: str, **query: str) -> list[dict]:
    """Every feature of a query, following next links as a client would."""
    import json
    import urllib.parse
    import urllib.request

    params = urllib.parse.urlencode({"f": "json", "limit": 500, **query})
    url = f"{server}/collections/{collection}/items?{params}"
    features = []
    while url:
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.load(response)
        features += page["features"]
        url = next((link["href"] for link in page.get("links", []) if link["rel"] == "next"), None)
    return features


def test_owslib_bbox_and_filter(server: str, demo_release: Release) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server)
    wards = demo_release.wards.to_crs("OGC:CRS84")
    minx, miny, maxx, maxy = wards.geometry.iloc[5].bounds
    items = api.collection_items("wards", bbox=[minx, miny, maxx, maxy], limit=100)
    expected = wards[wards.intersects(shapely.box(minx, miny, maxx, maxy))]["ward_code"]
    assert {f["id"] for f in items["features"]} == set(expected)
    filtered = api.collection_items(
        "wards", filter="deri_score > 3 AND lad_name = 'Northmoor'", limit=100
    )
    expected = wards[(wards["deri_score"] > 3) & (wards["lad_name"] == "Northmoor")]["ward_code"]
    assert {f["id"] for f in filtered["features"]} == set(expected)


def test_results_match_geopandas_on_the_same_file(server: str, demo_release: Release) -> None:
    """bbox, CQL2 filter and sort through the API give the same ids, in the same order,
    as geopandas on the release's own GeoParquet file."""
    services = gpd.read_parquet(demo_release.path / "services.parquet").to_crs("OGC:CRS84")
    box = shapely.box(-1.65, 52.52, -1.55, 52.58)
    got = _all(server, "services", bbox="-1.65,52.52,-1.55,52.58")
    assert [f["id"] for f in got] == services[services.intersects(box)]["service_id"].tolist()

    wards = gpd.read_parquet(demo_release.path / "wards.parquet")
    got = _all(server, "wards", filter="support_within_1km>=3 AND ward_name LIKE '%a%'")
    mask = (wards["support_within_1km"] >= 3) & wards["ward_name"].str.contains("a")
    assert [f["id"] for f in got] == wards[mask]["ward_code"].tolist()

    got = _all(server, "wards", sortby="lad_name,-deri_score")
    expected = wards.sort_values(["lad_name", "deri_score"], ascending=[True, False], kind="stable")
    assert [f["id"] for f in got] == expected["ward_code"].tolist()


def test_british_national_grid_output(server: str, demo_release: Release) -> None:
    from owslib.ogcapi.features import Features

    items = Features(server).collection_items(
        "services", crs="http://www.opengis.net/def/crs/EPSG/0/27700", limit=5
    )
    x, y = items["features"][0]["geometry"]["coordinates"]
    expected = demo_release.services.set_index("service_id").geometry[items["features"][0]["id"]]
    assert (x, y) == pytest.approx((expected.x, expected.y), abs=0.01)


def test_the_lsoa_level_index_through_owslib_and_gdal(server: str, demo_release: Release) -> None:
    """The index at LSOA level is a collection of its own, read as any client reads it."""
    import pyogrio
    from owslib.ogcapi.features import Features

    api = Features(server)
    hot = api.collection_items("lsoas", limit=500, filter="hotspot LIKE 'hot%'")
    expected = demo_release.lsoas[demo_release.lsoas["hotspot"].str.startswith("hot")]
    assert hot["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in hot["features"]} == set(expected["lsoa21_code"])
    frame = pyogrio.read_dataframe(f"OAPIF:{server}", layer="lsoas")
    assert len(frame) == 160
    assert {"lsoa21_code", "ward_code", "deri_score", "deri_rank", "hotspot"} <= set(frame.columns)
