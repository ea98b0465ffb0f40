"""The DCAT catalogue: written with each release, served at a stable URL, read by rdflib.

A harvester (data.gov.uk's, CKAN's ckanext-dcat) parses catalog.jsonld as RDF and follows
each distribution's download URL; these tests do the same against a live server.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from placeintel.api.serve import create_app
from placeintel.pipeline import Release
from placeintel.publish.catalog import FREQUENCY, frequency
from tests.demo_copies import JSON_BREAKOUT

LAYERS = ("wards", "lsoas", "services", "broadband", "deprivation")
VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")


@pytest.fixture(scope="module")
def releases(demo_release: Release, releases_dir: Path) -> Path:
    """The demo, as built (with its warm spaces and grants register): its releases folder."""
    return releases_dir


@pytest.fixture(scope="module")
def url(server: str) -> str:
    return server


def _described(releases: Path, identifier: str) -> dict:
    path = releases / "demo" / "current" / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    return next(d for d in package["placeintel"]["datasets"] if d["id"] == identifier)


@pytest.fixture(scope="module")
def graph(url: str) -> rdflib.Graph:
    with urllib.request.urlopen(f"{url}/catalog.jsonld", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/ld+json")
        body = response.read()
    return rdflib.Graph().parse(data=body, format="json-ld")


def _one(graph: rdflib.Graph, subject, predicate):
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def _stored_identifiers(release: Path) -> set[str]:
    """The datasets of a release's stored catalog.jsonld; each of its links, relative to
    the release folder, must be one of its files when opened from there."""
    graph = rdflib.Graph().parse((release / "catalog.jsonld").as_uri(), format="json-ld")
    for download in graph.objects(None, DCAT.downloadURL):
        assert Path(urllib.request.url2pathname(str(download).removeprefix("file://"))).is_file()
    return {str(_one(graph, d, DCTERMS.identifier)) for d in graph.subjects(RDF.type, DCAT.Dataset)}


def test_the_demo_build_writes_catalog_jsonld(demo_release: Release) -> None:
    assert _stored_identifiers(demo_release.path) == {*LAYERS, "warm-spaces", "grants"}


def test_a_build_without_datasets_catalogues_the_index_layers(plain_releases: Path) -> None:
    assert _stored_identifiers((plain_releases / "demo" / "current").resolve()) == set(LAYERS)


def test_the_catalogue_holds_a_catalog_its_datasets_and_distributions(
    graph: rdflib.Graph, url: str, releases: Path
) -> None:
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert catalogs == [rdflib.URIRef(f"{url}/catalog.jsonld")]
    catalog = catalogs[0]
    assert str(_one(graph, catalog, DCTERMS.title)) == "Demo City Region (synthetic)"
    assert str(_one(graph, _one(graph, catalog, DCTERMS.publisher), FOAF.name)) == (
        "placeintel demo (synthetic)"
    )
    card = _one(graph, catalog, DCAT.contactPoint)
    assert str(_one(graph, card, VCARD.hasEmail)) == "mailto:opendata@demo-city-region.example"
    assert _one(graph, catalog, DCTERMS.issued).datatype == rdflib.XSD.dateTime
    datasets = {
        str(_one(graph, d, DCTERMS.identifier)): d for d in graph.objects(catalog, DCAT.dataset)
    }
    assert set(datasets) == {*LAYERS, "warm-spaces", "grants"}
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == set(datasets.values())

    warm = datasets["warm-spaces"]
    described = _described(releases, "warm-spaces")
    assert str(_one(graph, warm, DCTERMS.title)) == described["title"]
    assert str(_one(graph, warm, DCTERMS.description)) == described["description"]
    assert {str(k) for k in graph.objects(warm, DCAT.keyword)} == set(described["keywords"])
    assert str(_one(graph, warm, DCTERMS.license)).startswith("https://www.nationalarchives")
    assert _one(graph, warm, DCTERMS.accrualPeriodicity) == rdflib.URIRef(FREQUENCY + "WEEKLY")
    assert str(_one(graph, _one(graph, warm, DCTERMS.publisher), FOAF.name)) == (
        "Demo City Region (synthetic)"
    )
    assert str(_one(graph, warm, DCTERMS.modified)) == "2024-11-01"
    box = str(_one(graph, _one(graph, warm, DCTERMS.spatial), DCAT.bbox))
    assert box.startswith("POLYGON((-1.") and box.endswith("))")
    grants = datasets["grants"]
    assert str(_one(graph, grants, DCTERMS.title)) == "Grants register (synthetic)"
    assert not list(graph.objects(grants, DCTERMS.spatial))  # no geometry, no box
    assert _one(graph, grants, DCTERMS.accrualPeriodicity) == rdflib.URIRef(FREQUENCY + "QUARTERLY")
    assert str(_one(graph, grants, DCTERMS.modified)) == "2024-12-31"

    folder = (releases / "demo" / "current").resolve()
    downloads = {}
    for identifier, dataset in datasets.items():
        for distribution in graph.objects(dataset, DCAT.distribution):
            assert (distribution, RDF.type, DCAT.Distribution) in graph
            for link in graph.objects(distribution, DCAT.downloadURL):
                size = int(_one(graph, distribution, DCAT.byteSize))
                media = str(_one(graph, distribution, DCAT.mediaType))
                downloads[str(link)] = (identifier, size, media)
    assert {u.rsplit("/", 1)[-1] for u, v in downloads.items() if v[0] == "grants"} == {
        "grants.csv"
    }
    assert {u.rsplit("/", 1)[-1] for u, v in downloads.items() if v[0] == "warm-spaces"} == {
        f"warm-spaces.{kind}" for kind in ("csv", "geojson", "gpkg", "parquet")
    }
    assert len([v for v in downloads.values() if v[0] == "wards"]) == 4
    for link, (_, size, media) in downloads.items():
        assert link.startswith(f"{url}/release/")
        assert size == (folder / link.rsplit("/", 1)[-1]).stat().st_size
        assert media.startswith("https://www.iana.org/assignments/media-types/")


def test_every_download_url_answers(graph: rdflib.Graph) -> None:
    """What a harvester follows: every download, and every API access URL, is a 200."""
    links = {str(x) for x in graph.objects(None, DCAT.downloadURL)}
    links |= {str(x) for x in graph.objects(None, DCAT.accessURL)}
    links |= {str(x) for x in graph.objects(None, DCAT.landingPage)}
    # 25 files (4 a layer or dataset with geometry, the CSV without), 7 collections and
    # 7 collection pages
    assert len(links) == 25 + 7 + 7
    for link in sorted(links):
        request = urllib.request.Request(link, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200, link


def test_the_api_is_a_data_service_serving_every_dataset(graph: rdflib.Graph, url: str) -> None:
    services = list(graph.subjects(RDF.type, DCAT.DataService))
    assert len(services) == 1
    service = services[0]
    assert str(_one(graph, service, DCAT.endpointURL)) == f"{url}/"
    served = set(graph.objects(service, DCAT.servesDataset))
    assert served == set(graph.subjects(RDF.type, DCAT.Dataset))
    api = [d for d in graph.subjects(DCAT.accessService, service)]
    assert len(api) == len(served)  # one OGC API distribution per dataset


def test_the_catalogue_follows_the_served_address(releases: Path) -> None:
    """Behind a proxy (`--url`), every link is the public one; the stored file and
    /release/catalog.jsonld say the same."""
    client = create_app("demo", releases, "https://data.example.gov.uk/placeintel").test_client()
    stable = client.get("/catalog.jsonld")
    assert stable.status_code == 200 and stable.mimetype == "application/ld+json"
    in_release = client.get("/release/catalog.jsonld")
    assert stable.get_json() == in_release.get_json()
    graph = rdflib.Graph().parse(data=stable.data, format="json-ld")
    links = [str(o) for o in graph.objects(None, DCAT.downloadURL)]
    assert links and all(
        link.startswith("https://data.example.gov.uk/placeintel/release/") for link in links
    )


def test_a_release_built_before_catalogues_gets_one_made_on_the_fly(
    releases: Path, tmp_path: Path
) -> None:
    import shutil

    older = tmp_path / "releases" / "demo"
    folder = (releases / "demo" / "current").resolve()
    shutil.copytree(folder, older / folder.name, symlinks=True)
    (older / "current").symlink_to(folder.name, target_is_directory=True)
    (older / folder.name / "catalog.jsonld").unlink()
    client = create_app("demo", tmp_path / "releases").test_client()
    response = client.get("/catalog.jsonld")
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.data, format="json-ld")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == len(LAYERS) + 2
    (older / folder.name / "datapackage.json").write_text("not json", encoding="utf-8")
    broken = client.get("/catalog.jsonld")
    assert broken.status_code == 404
    assert "no readable datapackage.json" in broken.get_json()["description"]


@pytest.mark.parametrize(
    ("words", "code"),
    [
        ("monthly", "MONTHLY"),
        ("Weekly", "WEEKLY"),
        ("annually", "ANNUAL"),
        ("twice-a-year", "ANNUAL_2"),
        ("quarterly ", "QUARTERLY"),
        ("when funds allow", None),
    ],
)
def test_common_frequencies_use_the_eu_vocabulary(words: str, code: str | None) -> None:
    coded = frequency(words)
    assert (coded == {"@id": FREQUENCY + code}) if code else coded is None


def test_hostile_text_stays_text_in_the_catalogue(hostile_releases: Path) -> None:
    """A demo copy built with a warm-spaces title that would close the JSON-LD object."""
    title = JSON_BREAKOUT
    folder = (hostile_releases / "demo" / "current").resolve()
    document = json.loads((folder / "catalog.jsonld").read_text(encoding="utf-8"))
    graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld", base="http://h/")
    titles = {str(t) for t in graph.objects(None, DCTERMS.title)}
    assert title in titles
    assert not any("evil.example" in str(s) for s in graph.subjects())
