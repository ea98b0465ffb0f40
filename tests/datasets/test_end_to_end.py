"""A dataset added by manifest alone appears in the package, the API (OWSLib, GDAL OAPIF),
the catalogue and the DCAT file.

A council's way, step by step, on a copy of the demo region: a CSV of public Wi-Fi points
with lon/lat columns, a schema drafted by `placeintel describe` and reviewed, a few lines
of YAML in region.yml, then `placeintel build` and `placeintel serve` (both through the
CLI). No code knows the dataset's name.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pyogrio
import pytest
import rdflib
import shapely
from rdflib.namespace import DCAT, DCTERMS, RDF

from tests.conftest import running_server
from tests.demo_copies import demo_copy

ID = "public-wifi"
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
#: 12 Wi-Fi points across the demo region, in lon/lat (WGS84).
POINTS = [
    (f"WF{n:02d}", f"Public Wi-Fi point {n}", provider, lon, lat, mbps)
    for n, (provider, lon, lat, mbps) in enumerate(
        [
            ("Council", -1.6512, 52.5401, 100),
            ("Council", -1.6034, 52.5688, 50),
            ("Library service", -1.5521, 52.5512, 300),
            ("Council", -1.5107, 52.5833, 100),
            ("Leisure trust", -1.6288, 52.5915, 30),
            ("Council", -1.4911, 52.5377, 100),
            ("Library service", -1.5790, 52.5298, 300),
            ("Council", -1.6650, 52.5570, 50),
            ("Leisure trust", -1.5305, 52.5702, 30),
            ("Council", -1.5902, 52.5880, 100),
            ("Library service", -1.6170, 52.5455, 300),
            ("Council", -1.4805, 52.5640, 50),
        ],
        start=1,
    )
]
ENTRY = {
    "id": ID,
    "title": "Public Wi-Fi points",
    "description": "Free public Wi-Fi in council buildings, libraries and leisure centres.",
    "keywords": ["wi-fi", "digital inclusion"],
    "licence": "OGL-UK-3.0",
    "attribution": "Demo City Region (synthetic), licensed under the Open Government Licence.",
    "update_frequency": "when the committee meets",
    "vintage": "2025-01-15",
    "path": "council/public_wifi.csv",
    "schema": "council/public-wifi.schema.json",
    "key": "point_id",
    "title_field": "name",
    "geometry": {"lon": "lon", "lat": "lat"},
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo copy with the Wi-Fi points added by a council's steps, built by the CLI."""
    root = tmp_path_factory.mktemp("manifest-alone")
    region = demo_copy(root, lambda manifest: manifest["datasets"].append(ENTRY))
    with (region / ENTRY["path"]).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["point_id", "name", "provider", "lon", "lat", "download_mbps"])
        writer.writerows(POINTS)
    schema = region / ENTRY["schema"]
    _cli("describe", str(region / ENTRY["path"]), "--out", str(schema))
    # the review: a description for each column, and the key's constraints
    drafted = json.loads(schema.read_text(encoding="utf-8"))
    for field in drafted["fields"]:
        field["description"] = f"The point's {field['title'].lower()}."
        if field["name"] == "point_id":
            field["constraints"] = {"required": True, "unique": True}
    schema.write_text(json.dumps(drafted, indent=2), encoding="utf-8")
    _cli("build", str(region), "--releases", str(root / "releases"))
    return root / "releases"


@pytest.fixture(scope="module")
def folder(releases: Path) -> Path:
    return (releases / "demo" / "current").resolve()


@pytest.fixture(scope="module")
def url(releases: Path) -> Iterator[str]:
    with running_server(releases) as served:
        yield served


@pytest.fixture(scope="module")
def points() -> gpd.GeoDataFrame:
    """The CSV's points, as the council wrote them."""
    return gpd.GeoDataFrame(
        {"point_id": [p[0] for p in POINTS], "download_mbps": [p[5] for p in POINTS]},
        geometry=gpd.points_from_xy([p[3] for p in POINTS], [p[4] for p in POINTS]),
        crs="OGC:CRS84",
    )


def test_it_is_in_the_data_package_and_frictionless_validates_it(folder: Path) -> None:
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    for kind in ("csv", "geojson", "gpkg", "parquet"):
        assert resources[f"{ID}-{kind}"]["path"] == f"{ID}.{kind}"
        assert (folder / f"{ID}.{kind}").is_file()
    fields = [f["name"] for f in resources[f"{ID}-csv"]["schema"]["fields"]]
    assert fields == ["point_id", "name", "provider", "lon", "lat", "download_mbps"]
    [entry] = [d for d in package["placeintel"]["datasets"] if d["id"] == ID]
    assert entry["rows"] == len(POINTS) and entry["geometry"] == "point"
    assert entry["modified"] == "2025-01-15"
    assert [d["id"] for d in package["placeintel"]["datasets"]] == ["warm-spaces", "grants", ID]
    gpkg = gpd.read_file(folder / f"{ID}.gpkg", layer=ID)
    assert gpkg.crs.to_epsg() == 27700 and len(gpkg) == len(POINTS)
    result = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", str(folder / "datapackage.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_terminal_lists_it(releases: Path) -> None:
    region = releases.parent / "demo"
    listed = _cli("datasets", str(region), "--releases", str(releases)).stdout
    line = next(line for line in listed.splitlines() if ID in line)
    assert "Public Wi-Fi points" in line and "12" in line


def test_owslib_reads_it_as_a_collection(url: str, points: gpd.GeoDataFrame) -> None:
    from owslib.ogcapi.features import Features

    api = Features(url)
    assert ID in [c["id"] for c in api.collections()["collections"]]
    collection = api.collection(ID)
    assert collection["title"] == ENTRY["title"]
    assert collection["keywords"] == ENTRY["keywords"]
    # the box holds every point, and is their own (the projected box, turned back to
    # lon/lat, is a little wider than the points' lon/lat extent)
    box = collection["extent"]["spatial"]["bbox"][0]
    assert shapely.box(*box).contains(points.union_all())
    assert box == pytest.approx(list(points.total_bounds), abs=1e-3)
    assert "download_mbps" in api.collection_queryables(ID)["properties"]
    items = api.collection_items(ID, limit=5, offset=10)
    assert items["numberMatched"] == len(POINTS)
    assert [f["id"] for f in items["features"]] == ["WF11", "WF12"]
    served = {f["id"]: f for f in api.collection_items(ID, limit=100)["features"]}
    for row in points.itertuples():
        x, y = served[row.point_id]["geometry"]["coordinates"]
        assert (x, y) == pytest.approx((row.geometry.x, row.geometry.y), abs=1e-6)
    box = shapely.box(-1.60, 52.52, -1.50, 52.60)
    boxed = api.collection_items(ID, bbox=list(box.bounds), limit=100)
    expected = sorted(points[points.within(box)]["point_id"])
    assert 0 < len(expected) < len(POINTS)
    assert sorted(f["id"] for f in boxed["features"]) == expected
    fast = api.collection_items(
        ID, limit=100, filter="download_mbps >= 100", sortby=("download_mbps", "desc")
    )
    by_hand = points[points["download_mbps"] >= 100].sort_values(
        "download_mbps", ascending=False, kind="stable"
    )
    assert [f["id"] for f in fast["features"]] == list(by_hand["point_id"])


def test_gdal_reads_it_as_a_point_layer(url: str, points: gpd.GeoDataFrame) -> None:
    assert dict(pyogrio.list_layers(f"OAPIF:{url}"))[ID] == "Point"
    layer = pyogrio.read_dataframe(f"OAPIF:{url}", layer=ID)
    assert sorted(layer["point_id"]) == sorted(points["point_id"])
    moved = (
        layer.set_index("point_id")
        .geometry.to_crs(27700)
        .distance(points.set_index("point_id").geometry.to_crs(27700))
    )
    assert moved.max() < 0.01  # metres


def test_the_home_page_catalogue_lists_it_with_its_downloads(url: str, folder: Path) -> None:
    with urllib.request.urlopen(f"{url}/?f=html", timeout=30) as response:
        html = response.read().decode("utf-8")
    card = html[html.index(f'id="dataset-{ID}"') :]
    card = card[: card.index("</article>")]
    assert ENTRY["title"] in card and ENTRY["description"] in card
    assert "Open Government Licence v3.0" in card
    assert "<dd>12</dd>" in card
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["created"][:10] in card
    links = [h.split('"')[0] for h in card.split('href="')[1:] if "/release/" in h]
    assert [urlsplit(link).path.rsplit("/", 1)[-1] for link in links] == [
        f"{ID}.{kind}" for kind in ("csv", "geojson", "gpkg", "parquet")
    ]
    for link in links:
        with urllib.request.urlopen(urllib.request.urljoin(url, link), timeout=30) as download:
            assert download.status == 200
            assert download.read() == (folder / link.rsplit("/", 1)[-1]).read_bytes()


def test_the_dcat_file_has_its_dataset_and_distributions(url: str, folder: Path) -> None:
    with urllib.request.urlopen(f"{url}/catalog.jsonld", timeout=30) as response:
        graph = rdflib.Graph().parse(data=response.read(), format="json-ld")
    [dataset] = list(graph.subjects(DCTERMS.identifier, rdflib.Literal(ID)))
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    [catalog] = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert (catalog, DCAT.dataset, dataset) in graph
    assert str(next(graph.objects(dataset, DCTERMS.title))) == ENTRY["title"]
    assert {str(k) for k in graph.objects(dataset, DCAT.keyword)} == set(ENTRY["keywords"])
    assert str(next(graph.objects(dataset, SKOS.note))) == "Updated: when the committee meets"
    assert not list(graph.objects(dataset, DCTERMS.accrualPeriodicity))  # not an EU term
    box = str(next(graph.objects(next(graph.objects(dataset, DCTERMS.spatial)), DCAT.bbox)))
    assert box.startswith("POLYGON((-1.")
    downloads = {}
    for distribution in graph.objects(dataset, DCAT.distribution):
        assert (distribution, RDF.type, DCAT.Distribution) in graph
        for link in graph.objects(distribution, DCAT.downloadURL):
            downloads[str(link).rsplit("/", 1)[-1]] = int(
                next(graph.objects(distribution, DCAT.byteSize))
            )
    assert downloads == {
        f"{ID}.{kind}": (folder / f"{ID}.{kind}").stat().st_size
        for kind in ("csv", "geojson", "gpkg", "parquet")
    }
    links = [
        str(x)
        for d in graph.objects(dataset, DCAT.distribution)
        for x in graph.objects(d, DCAT.downloadURL)
    ]
    links += [
        str(x)
        for d in graph.objects(dataset, DCAT.distribution)
        for x in graph.objects(d, DCAT.accessURL)
    ]
    assert any(link.endswith(f"/collections/{ID}") for link in links)
    for link in links:
        request = urllib.request.Request(link, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200, link
