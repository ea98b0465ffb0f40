"""Clients that discover filtering the standard way: OWSLib, a client that reads
`/conformance` before it filters, and GDAL's OAPIF driver, each against a real server."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import geopandas as gpd
import pytest
import shapely

from placeintel.pipeline import Release

FEATURES_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter"
CQL2_TEXT = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"
CQL2_JSON = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json"


@pytest.fixture(scope="module")
def wards(demo_release: Release) -> gpd.GeoDataFrame:
    return gpd.read_parquet(demo_release.path / "wards.parquet").to_crs("OGC:CRS84")


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


class GenericClient:
    """How a generic OGC API - Features client filters: it reads /conformance and the
    queryables first, filters on the server only if both allow it, and otherwise
    fetches everything and filters itself. Counts its requests to show which it did."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.requests = 0
        conforms = set(self.get("/conformance", f="json")["conformsTo"])
        self.server_side = {FEATURES_FILTER, CQL2_TEXT} <= conforms

    def get(self, path: str, **params: str | int) -> dict:
        self.requests += 1
        query = urllib.parse.urlencode(params)
        return _get_json(f"{self.base}{path}?{query}" if query else f"{self.base}{path}")

    def features(self, collection: str, **params: str | int) -> list[dict]:
        page = self.get(f"/collections/{collection}/items", f="json", limit=10, **params)
        out = list(page["features"])
        while nxt := next((link["href"] for link in page["links"] if link["rel"] == "next"), None):
            self.requests += 1
            page = _get_json(nxt)
            out += page["features"]
        return out

    def where(self, collection: str, name: str, op: str, value: float) -> list[str]:
        queryables = self.get(f"/collections/{collection}/queryables", f="json")["properties"]
        assert queryables[name]["type"] in ("number", "integer")
        if self.server_side:
            text = f"{name} {op} {value}"
            found = self.features(collection, **{"filter-lang": "cql2-text", "filter": text})
        else:
            compare = {">": float.__gt__, "<": float.__lt__}[op]
            found = [
                f for f in self.features(collection) if compare(float(f["properties"][name]), value)
            ]
        return sorted(f["id"] for f in found)


def test_a_client_that_reads_conformance_first_filters_on_the_server(server: str, wards) -> None:
    client = GenericClient(server)
    assert client.server_side
    got = client.where("wards", "deri_score", ">", 5.0)
    expected = sorted(wards[wards["deri_score"] > 5]["ward_code"])
    assert got == expected and len(wards) - len(expected) > 10
    # conformance + queryables + the filtered pages only (10 a page; a full last page
    # still has a next link, to an empty page)
    assert client.requests == 2 + len(expected) // 10 + 1


def test_owslib_reads_conformance_and_filters_in_both_encodings(server: str, wards) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server)
    assert {FEATURES_FILTER, CQL2_TEXT, CQL2_JSON} <= set(api.conformance()["conformsTo"])
    box = shapely.box(-1.70, 52.50, -1.60, 52.56)
    expected = sorted(wards[(wards["deri_score"] > 2) & wards.intersects(box)]["ward_code"])
    assert 0 < len(expected) < len(wards)
    text = "deri_score > 2 AND S_INTERSECTS(geometry, BBOX(-1.70, 52.50, -1.60, 52.56))"
    as_text = api.collection_items("wards", limit=100, filter=text, **{"filter-lang": "cql2-text"})
    document = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "deri_score"}, 2]},
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": list(box.bounds)}]},
        ],
    }
    as_json = api.collection_items(
        "wards", limit=100, filter=json.dumps(document), **{"filter-lang": "cql2-json"}
    )
    posted = api.collection_items("wards", limit=100, cql=document)
    for result in (as_text, as_json, posted):
        assert sorted(f["id"] for f in result["features"]) == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"datetime_": "notadate"}, "datetime"),
        ({"bbox": [math.nan, math.nan, math.nan, math.nan]}, "bbox"),
        ({"skipGeometry": "maybe"}, "skipGeometry"),
        ({"filter": "deri_score >", "filter-lang": "cql2-text"}, "filter"),
        ({"filter": "deri_score > 1", "filter-lang": "cql3"}, "filter-lang"),
    ],
)
def test_owslib_is_told_which_parameter_is_wrong(server: str, params: dict, parameter) -> None:
    from owslib.ogcapi.features import Features

    with pytest.raises(RuntimeError) as raised:
        Features(server).collection_items("wards", **params)
    error = json.loads(str(raised.value))
    assert error["locator"] == parameter and parameter in error["description"]


@pytest.fixture(scope="module")
def recorded(demo_release: Release, releases_dir) -> Iterator[tuple[str, list[str]]]:
    """The app under waitress in this process, recording each request's query string."""
    import waitress

    from placeintel.api.serve import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = create_app("demo", releases_dir, url)
    queries: list[str] = []
    inner = app.wsgi_app

    def record(environ, start_response):
        queries.append(environ.get("QUERY_STRING", ""))
        return inner(environ, start_response)

    app.wsgi_app = record
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield url, queries
    finally:
        server.close()


def test_gdal_sends_attribute_filters_to_the_server(recorded, wards) -> None:
    """GDAL reads the API description, sees `filter`, and sends OGR's WHERE to the server.

    GDAL runs in a subprocess: pyogrio holds the GIL while it reads, which would stop
    the server thread in this process from answering."""
    url, queries = recorded
    where = "deri_score > 5 AND lad_name = 'Northmoor'"
    code = (
        "import sys, pyogrio; "
        "frame = pyogrio.read_dataframe(sys.argv[1], layer='wards', where=sys.argv[2]); "
        "print(' '.join(sorted(frame['ward_code'])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, f"OAPIF:{url}", where],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    expected = wards[(wards["deri_score"] > 5) & (wards["lad_name"] == "Northmoor")]["ward_code"]
    assert done.stdout.split() == sorted(expected)
    filtered = [urllib.parse.parse_qs(q) for q in queries if "filter=" in q]
    assert filtered, queries
    assert "Northmoor" in filtered[-1]["filter"][0]
