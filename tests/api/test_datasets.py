"""A release's council datasets are API collections and are listed on the home page.

The demo region's own build publishes two: `warm-spaces` (points placed by postcode,
through the demo's ONS Postcode Directory) and `grants` (no geometry). A demo copy whose
datasets carry hostile text (tests/demo_copies.py) is built for real too. A real
`placeintel serve` serves them; OWSLib and GDAL's OAPIF driver (through pyogrio) read
them as any client would.
"""

from __future__ import annotations

import json
import logging
import shutil
import urllib.request
from collections.abc import Iterator
from html import escape as html_escape
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pyogrio
import pytest
import shapely
from flask.testing import FlaskClient

import placeintel
from placeintel.api.serve import create_app
from placeintel.pipeline import Release
from tests.conftest import running_server
from tests.demo_copies import HOSTILE_DESCRIPTION, HOSTILE_TITLE, SECRET_NAME

LAYERS = ["wards", "lsoas", "services", "broadband", "deprivation"]


@pytest.fixture(scope="module")
def releases(demo_release: Release, releases_dir: Path) -> Path:
    """The demo, as built: its releases folder."""
    return releases_dir


@pytest.fixture(scope="module")
def folder(demo_release: Release) -> Path:
    return demo_release.path


@pytest.fixture(scope="module")
def warm(folder: Path) -> gpd.GeoDataFrame:
    return gpd.read_parquet(folder / "warm-spaces.parquet").to_crs("OGC:CRS84")


@pytest.fixture(scope="module")
def grants(folder: Path) -> gpd.GeoDataFrame:
    return gpd.read_parquet(folder / "grants.parquet")


@pytest.fixture(scope="module")
def url(server: str) -> str:
    return server


@pytest.fixture
def client(releases: Path) -> FlaskClient:
    return create_app("demo", releases).test_client()


@pytest.fixture(scope="module")
def hostile_url(hostile_releases: Path) -> Iterator[str]:
    with running_server(hostile_releases) as served:
        yield served


def _descriptor(folder: Path, identifier: str) -> dict:
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return next(d for d in package["placeintel"]["datasets"] if d["id"] == identifier)


def test_owslib_sees_each_dataset_as_a_collection_with_its_metadata(url: str, folder) -> None:
    from owslib.ogcapi.features import Features

    api = Features(url)
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == [*LAYERS, "warm-spaces", "grants"]
    described = _descriptor(folder, "warm-spaces")
    warm = api.collection("warm-spaces")
    assert warm["title"] == described["title"] == "Warm spaces (synthetic)"
    assert warm["description"] == described["description"]
    assert warm["keywords"] == described["keywords"]
    assert warm["extent"]["spatial"]["bbox"] == [described["bbox"]]
    links = {link["rel"]: link for link in warm["links"] if link["rel"] == "license"}
    assert links["license"]["href"] == described["licence"]["path"]
    enclosures = {
        urlsplit(link["href"]).path: link["length"]
        for link in warm["links"]
        if link["rel"] == "enclosure"
    }
    assert enclosures == {
        f"/release/warm-spaces.{kind}": (folder / f"warm-spaces.{kind}").stat().st_size
        for kind in ("parquet", "gpkg", "geojson", "csv")
    }
    grants = api.collection("grants")
    assert grants["title"] == _descriptor(folder, "grants")["title"]
    # without geometry, only the CSV is a download (its GeoParquet is the API's own)
    assert [urlsplit(x["href"]).path for x in grants["links"] if x["rel"] == "enclosure"] == [
        "/release/grants.csv"
    ]
    queryables = api.collection_queryables("warm-spaces")["properties"]
    assert {"space_id", "opening_hours_monday", "free_wifi", "venue_type"} <= set(queryables)


def test_owslib_pages_boxes_filters_and_sorts_a_dataset(url: str, warm) -> None:
    from owslib.ogcapi.features import Features

    api = Features(url)
    page = api.collection_items("warm-spaces", limit=10, offset=20)
    assert page["numberMatched"] == len(warm) == 25
    assert [f["id"] for f in page["features"]] == list(warm["space_id"][20:])
    box = shapely.box(-1.70, 52.50, -1.60, 52.56)
    inside = sorted(warm[warm.intersects(box)]["space_id"])
    assert 0 < len(inside) < len(warm)
    boxed = api.collection_items("warm-spaces", bbox=list(box.bounds), limit=100)
    assert sorted(f["id"] for f in boxed["features"]) == inside
    filtered = api.collection_items(
        "warm-spaces",
        limit=100,
        filter="venue_type = 'library' OR opening_hours_monday LIKE '09:30%'",
        **{"filter-lang": "cql2-text"},
    )
    expected = warm[
        (warm["venue_type"] == "library") | warm["opening_hours_monday"].str.startswith("09:30")
    ]
    assert 0 < len(expected) < len(warm)
    assert sorted(f["id"] for f in filtered["features"]) == sorted(expected["space_id"])
    # OWSLib sends one key; ties keep the file's order
    ordered = api.collection_items("warm-spaces", limit=100, sortby=("venue_type", "desc"))
    by_hand = warm.sort_values("venue_type", ascending=False, kind="stable")
    assert by_hand["venue_type"].nunique() > 3
    assert [f["id"] for f in ordered["features"]] == list(by_hand["space_id"])
    point = ordered["features"][0]["geometry"]
    assert point["type"] == "Point"
    # A whole-number column sorted both ways (pandas' nullable Int64 once sorted as file
    # order): tests/datasets/test_end_to_end.py sorts its download_mbps.


def test_a_dataset_without_geometry_is_features_with_null_geometry(url: str, grants) -> None:
    from owslib.ogcapi.features import Features

    api = Features(url)
    everything = api.collection_items("grants", limit=1000)
    assert everything["numberMatched"] == len(grants) == 40
    assert all(f["geometry"] is None for f in everything["features"])
    first = everything["features"][0]["properties"]
    assert first["recipient_organisation"] == grants["recipient_organisation"].iloc[0]
    # a box selects nothing (there is nothing to intersect), and is not an error
    assert api.collection_items("grants", bbox=[-180, -90, 180, 90])["numberMatched"] == 0
    big = api.collection_items(
        "grants", limit=1000, filter="amount_gbp > 15000", sortby=("amount_gbp", "desc")
    )
    expected = grants[grants["amount_gbp"] > 15000].sort_values(
        "amount_gbp", ascending=False, kind="stable"
    )
    assert 0 < len(expected) < len(grants)
    assert [f["id"] for f in big["features"]] == list(expected["grant_id"])
    one = api.collection_item("grants", "GR-2024-007")
    assert one["geometry"] is None and one["properties"]["grant_id"] == "GR-2024-007"


def test_gdal_reads_both_datasets(url: str, warm, grants) -> None:
    """QGIS and ogr2ogr see the datasets as layers: points, and a table of null shapes."""
    layers = dict(pyogrio.list_layers(f"OAPIF:{url}"))
    assert layers["warm-spaces"] == "Point" and layers["grants"] == "Unknown"
    points = pyogrio.read_dataframe(f"OAPIF:{url}", layer="warm-spaces")
    assert sorted(points["space_id"]) == sorted(warm["space_id"])
    assert set(points.geometry.geom_type) == {"Point"}
    assert (
        points.set_index("space_id").geometry.distance(warm.set_index("space_id").geometry).max()
        < 1e-6
    )
    table = pyogrio.read_dataframe(f"OAPIF:{url}", layer="grants", where="amount_gbp > 15000")
    assert sorted(table["grant_id"]) == sorted(grants[grants["amount_gbp"] > 15000]["grant_id"])
    assert len(table) > 0 and table.geometry.isna().all()  # a layer of null shapes


def test_the_home_page_lists_every_dataset_with_its_downloads(client: FlaskClient, folder) -> None:
    html = client.get("/?f=html").get_data(as_text=True)
    section = html[html.index('id="datasets"') : html.index('id="api"')]
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for identifier, formats in (
        ("warm-spaces", ("csv", "geojson", "gpkg", "parquet")),
        ("grants", ("csv",)),
    ):
        described = _descriptor(folder, identifier)
        card = section[section.index(f'id="dataset-{identifier}"') :]
        card = card[: card.index("</article>")]
        assert described["title"] in card
        assert described["description"][:60] in card
        assert described["licence"]["title"] in card
        assert described["licence"]["path"] in card
        assert f"<dd>{html_escape(described['publisher'])}</dd>" in card
        assert f"<dd>{html_escape(described['attribution'])}</dd>" in card
        assert package["created"][:10] in card  # the last release
        assert f"<dd>{described['rows']:,}</dd>" in card
        hrefs = [h for h in card.split('href="')[1:] if "/release/" in h]
        assert [h.split('"')[0].rsplit("/", 1)[-1] for h in hrefs] == [
            f"{identifier}.{kind}" for kind in formats
        ]
        for kind in formats:
            response = client.get(f"/release/{identifier}.{kind}")
            assert response.status_code == 200, (identifier, kind)
            assert response.data == (folder / f"{identifier}.{kind}").read_bytes()


def test_descriptor_text_is_escaped_on_the_home_page(hostile_releases: Path) -> None:
    client = create_app("demo", hostile_releases).test_client()
    html = client.get("/?f=html").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html and "&amp; more" in html
    for path in ("/collections/grants?f=html", "/collections/grants/items?f=html"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page, path
    assert client.get("/collections/grants?f=json").get_json()["title"] == HOSTILE_TITLE
    described = client.get("/collections/grants?f=json").get_json()["description"]
    assert described == HOSTILE_DESCRIPTION  # data, exactly as given


def test_no_script_from_a_dataset_runs_in_a_browser(hostile_url: str, tmp_path: Path) -> None:
    from tests.cdp import CHROMIUM, Browser

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with Browser(tmp_path / "chromium") as browser:
        for path in (
            "/?f=html",
            "/collections?f=html",
            "/collections/grants?f=html",
            "/collections/grants/items?f=html",
            "/collections/warm-spaces?f=html",
            "/collections/warm-spaces/items?f=html",
        ):
            for bypass in (True, False):
                visit = browser.visit(hostile_url + path, bypass_csp=bypass)
                assert visit.ready and visit.pwned is None, (path, bypass, visit)
                assert not visit.dialogs, (path, bypass, visit.dialogs)
                assert not visit.exceptions, (path, visit.exceptions)
                if not bypass:
                    assert not visit.violations, (path, visit.violations)
            if "grants" in path or path == "/?f=html":
                assert HOSTILE_TITLE in visit.text, path


def test_the_dataset_pages_are_accessible(url: str, tmp_path: Path) -> None:
    from tests.axe import AXE_JS, violations
    from tests.cdp import CHROMIUM, Browser

    if CHROMIUM is None or not AXE_JS.is_file():
        pytest.skip("Chromium or axe-core is not installed")
    found = {}
    with Browser(tmp_path / "chromium") as browser:
        for path in (
            "/?f=html",
            "/collections?f=html",
            "/collections/warm-spaces?f=html",
            "/collections/warm-spaces/items?f=html",
            "/collections/warm-spaces/items/WS001?f=html",
            "/collections/grants?f=html",
            "/collections/grants/items?f=html",
            "/collections/grants/items/GR-2024-001?f=html",
        ):
            if listed := violations(browser, url + path):
                found[path] = listed
    assert not found, found


def _tampered(release: Path, root: Path, changes: dict[str, dict]) -> Path:
    """A copy of the built `release` whose datapackage.json's dataset entries were edited
    by hand afterwards (`changes` by dataset id): what a service may be given to serve.
    Returns the releases folder."""
    folder = root / "releases" / "demo" / release.name
    shutil.copytree(release, folder, symlinks=True)
    (folder.parent / "current").symlink_to(folder.name, target_is_directory=True)
    path = folder / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    for entry in package["placeintel"]["datasets"]:
        entry.update(changes.get(entry["id"], {}))
    path.write_text(json.dumps(package, indent=1), encoding="utf-8")
    return root / "releases"


def test_a_descriptor_that_would_clash_or_escape_is_skipped_with_a_warning(
    demo_release: Release, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry naming an index layer, a file outside its own, or no key: the service
    starts, serves the layer (not the dataset) and says which entry it left out and why."""
    releases = _tampered(
        demo_release.path,
        tmp_path,
        {
            "warm-spaces": {"id": "wards"},
            "grants": {"files": {"csv": "../../secrets.csv", "parquet": "grants.parquet"}},
        },
    )
    with caplog.at_level(logging.WARNING):
        client = create_app("demo", releases).test_client()
    served = [c["id"] for c in client.get("/collections?f=json").get_json()["collections"]]
    assert served == LAYERS
    assert client.get("/collections/wards").get_json()["title"].startswith("Wards and")
    logged = caplog.text
    assert "'wards' is an index layer's or the service's own name" in logged
    assert "(grants) is not served: files.csv is '../../secrets.csv'" in logged
    assert 'id="datasets"' not in client.get("/?f=html").get_data(as_text=True)


def test_descriptor_text_is_never_expanded_from_the_environment(
    hostile_releases: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pygeoapi expands `${NAME}` in its configuration: a dataset's text must not."""
    monkeypatch.setenv(SECRET_NAME, "s3cret-value")
    client = create_app("demo", hostile_releases).test_client()
    for path in ("/collections/warm-spaces?f=json", "/?f=html", "/catalog.jsonld"):
        body = client.get(path).get_data(as_text=True)
        assert "s3cret-value" not in body, path
        assert f"${{{SECRET_NAME}}}" in body, path
    keywords = client.get("/collections/warm-spaces?f=json").get_json()["keywords"]
    assert f"${{{SECRET_NAME}}}" in keywords


def test_a_release_without_datasets_serves_as_before(plain_releases: Path) -> None:
    """A manifest without `datasets:` builds a release that serves the five index layers."""
    package = json.loads(
        (plain_releases / "demo" / "current" / "datapackage.json").read_text(encoding="utf-8")
    )
    assert not package.get("placeintel", {}).get("datasets")
    plain = create_app("demo", plain_releases).test_client()
    assert 'id="datasets"' not in plain.get("/?f=html").get_data(as_text=True)
    served = [c["id"] for c in plain.get("/collections?f=json").get_json()["collections"]]
    assert served == LAYERS
    assert plain.get("/collections/grants?f=json").status_code == 404


def test_downloads_on_the_live_server(url: str, folder: Path) -> None:
    with urllib.request.urlopen(f"{url}/release/grants.csv", timeout=30) as response:
        assert response.status == 200
        body = response.read()
    assert body == (folder / "grants.csv").read_bytes()
    assert body.decode("utf-8").startswith("grant_id,recipient_organisation,amount_gbp,award_date")


def test_the_dataset_pages_work_offline(url: str, tmp_path: Path) -> None:
    """The home page with its datasets, and a dataset without geometry (no map), load
    only the service's own files."""
    from tests.api.pages import Page
    from tests.api.test_pages_offline import OfflineBrowser, _problems
    from tests.cdp import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    problems = []
    with OfflineBrowser(tmp_path / "chromium") as browser:
        for path in ("/?f=html", "/collections/grants/items?f=html", "/collections?f=html"):
            page = Page(path)
            seen = browser.open_offline(url + path, page.ready)
            problems += _problems(page, url + path, seen)
    assert not problems, "\n".join(problems)


def test_the_api_csv_pages_neutralise_formulas(tmp_path: Path) -> None:
    """`?f=csv` is a download a planner opens in a spreadsheet: a cell that starts like a
    formula gets the apostrophe the release's own CSVs give it; numbers stay numbers."""
    import csv as csv_module
    import io

    from tests.demo_copies import demo_copy

    region = demo_copy(tmp_path)
    path = region / "council" / "grants_register.csv"
    rows = list(csv_module.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    purpose = rows[0].index("purpose")
    rows[1][purpose] = '=HYPERLINK("http://evil.example/","Click me")'
    rows[2][purpose] = "@SUM(1+1)"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv_module.writer(handle, lineterminator="\n").writerows(rows)
    placeintel.build(region, releases=tmp_path / "releases", echo=lambda line: None)
    client = create_app("demo", tmp_path / "releases").test_client()
    response = client.get("/collections/grants/items?f=csv&limit=100")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    served = list(csv_module.DictReader(io.StringIO(response.get_data(as_text=True))))
    cells = {row["grant_id"]: row for row in served}
    assert cells[rows[1][0]]["purpose"] == "'" + rows[1][purpose]
    assert cells[rows[2][0]]["purpose"] == "'@SUM(1+1)"
    assert all(not row["amount_gbp"].startswith("'") for row in served)
