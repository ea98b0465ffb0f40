"""The API belongs to the council: its home page leads to the map and the downloads, and the
publisher and contact on every page are the region manifest's, carried by the release.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from flask.testing import FlaskClient
from pygeoapi.util import yaml_load

from placeintel.api.serve import create_app, runtime_config
from placeintel.pipeline import Release
from placeintel.region import load_manifest

PLACEHOLDER = "opendata@example.org"


@pytest.fixture(scope="module")
def client(demo_release: Release, releases_dir: Path) -> FlaskClient:
    return create_app("demo", releases_dir).test_client()


def _copy(demo_release: Release, root: Path, edit) -> Path:
    """A copy of the demo release whose datapackage.json is changed by `edit`."""
    folder = root / "releases" / "demo" / demo_release.path.name
    shutil.copytree(demo_release.path, folder, symlinks=True)
    (folder.parent / "current").symlink_to(folder.name, target_is_directory=True)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    edit(package)
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    return folder


def _links(html: str) -> dict[str, str]:
    """Each link's text (tags and spacing removed) to its href."""
    found = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, flags=re.S)
    return {" ".join(re.sub("<[^>]+>", "", text).split()): href for href, text in found}


def _get(client: FlaskClient, href: str):
    """GET a link the service wrote (absolute, with its configured address), following
    its redirects the same way."""
    for _ in range(5):
        parts = urlsplit(href)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        href = response.headers["Location"]
    raise AssertionError(f"too many redirects from {href}")


def test_the_release_records_the_manifests_publisher_and_contact(
    demo_release: Release,
) -> None:
    manifest = load_manifest("demo")
    package = json.loads((demo_release.path / "datapackage.json").read_text(encoding="utf-8"))
    by_role = {role: c for c in package["contributors"] for role in c["roles"]}
    assert by_role["publisher"]["title"] == manifest.publisher == "placeintel demo (synthetic)"
    assert by_role["contact"]["email"] == manifest.contact["email"]
    assert by_role["contact"]["title"] == manifest.contact["name"]
    assert by_role["author"]["title"] == "placeintel"  # the manifest's contributors stay


def test_the_home_page_leads_to_the_map_the_downloads_the_method_and_the_licence(
    client: FlaskClient, demo_release: Release
) -> None:
    html = client.get("/?f=html").get_data(as_text=True)
    links = _links(html)
    expected = {
        "Open the map": "/map/",
        "The data package": "/release/datapackage.json",
        "The whole release as one zip file": "/release/demo.zip",
        "Every file of the release": "/release/",
        "The method": "/release/method.md?f=html",
    }
    for text, path in expected.items():
        assert (
            urlsplit(links[text]).path
            + (f"?{urlsplit(links[text]).query}" if urlsplit(links[text]).query else "")
            == path
        ), text
        response = _get(client, links[text])
        assert response.status_code == 200, (text, response.status_code)
    assert _get(client, links["Open the map"]).data == (demo_release.path / "map.html").read_bytes()
    zipped = _get(client, links["The whole release as one zip file"])
    assert zipped.mimetype == "application/zip" and zipped.data[:4] == b"PK\x03\x04"
    assert "<h1>The method</h1>" in _get(client, links["The method"]).get_data(as_text=True)
    licence = json.loads((demo_release.path / "datapackage.json").read_bytes())["licenses"][0]
    assert links[licence["title"]] == licence["path"]


def test_every_page_names_the_manifests_publisher_and_contact(client: FlaskClient) -> None:
    manifest = load_manifest("demo")
    email = manifest.contact["email"]
    for path in (
        "/?f=html",
        "/collections?f=html",
        "/collections/wards/items?f=html",
        "/conformance?f=html",
        "/release/",
        "/collections/nope?f=html",
    ):
        html = client.get(path).get_data(as_text=True)
        assert f'href="mailto:{email}"' in html, path
        assert f"Published by {manifest.publisher}." in html, path
        assert PLACEHOLDER not in html and "n/a" not in html, path
    home = client.get("/?f=html").get_data(as_text=True)
    assert manifest.contact["name"] in home
    assert '<h1 id="service-title">Demo City Region (synthetic): open data</h1>' in home


def test_the_api_description_names_them_too(client: FlaskClient) -> None:
    manifest = load_manifest("demo")
    info = client.get("/openapi?f=json").get_json()["info"]
    assert info["title"] == "Demo City Region (synthetic): open data"
    assert info["contact"]["name"] == manifest.publisher
    service = info["contact"]["x-ogc-serviceContact"]
    assert service["name"] == manifest.contact["name"]
    assert service["emails"] == [{"value": manifest.contact["email"]}]
    assert PLACEHOLDER not in json.dumps(info)
    landing = client.get("/?f=jsonld").get_json()
    assert landing["provider"]["contactPoint"]["email"] == manifest.contact["email"]


def test_a_release_naming_no_contact_shows_none(demo_release: Release, tmp_path: Path) -> None:
    """An older release, or a manifest without `contact`: no made-up address."""
    folder = _copy(
        demo_release,
        tmp_path,
        lambda p: p.update(contributors=[{"title": "placeintel", "roles": ["author"]}]),
    )
    html = create_app("demo", folder.parent.parent).test_client().get("/?f=html")
    text = html.get_data(as_text=True)
    assert "mailto:" not in text and PLACEHOLDER not in text
    assert "Published by placeintel." in text


def test_text_from_the_release_is_never_expanded_from_the_environment(
    demo_release: Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pygeoapi expands `${NAME}` in its configuration: a title must not publish a secret,
    and a name that is not set must not stop the server."""
    monkeypatch.setenv("PLACEINTEL_TEST_SECRET", "s3cret-value")

    def hostile(package: dict) -> None:
        package["title"] = "${PLACEINTEL_TEST_SECRET} region"
        package["description"] = "${NO_SUCH_VARIABLE_AT_ALL}"
        package["contributors"] = [
            {"title": "${PLACEINTEL_TEST_SECRET:-x} council", "roles": ["publisher"]},
            {
                "title": "Team",
                "email": "a@b.org",
                "path": "javascript:alert(1)",
                "roles": ["contact"],
            },
        ]

    folder = _copy(demo_release, tmp_path, hostile)
    monkeypatch.setenv("PLACEINTEL_RELEASE", str(folder))  # as `placeintel serve` sets it
    settings = yaml_load(io.StringIO(runtime_config(folder)))  # as pygeoapi reads it
    assert settings["metadata"]["identification"]["title"] == (
        "${PLACEINTEL_TEST_SECRET} region: open data"
    )
    assert settings["metadata"]["provider"]["name"] == "${PLACEINTEL_TEST_SECRET:-x} council"
    assert "url" not in settings["metadata"]["contact"]  # not a web address: no link
    assert settings["server"]["url"].startswith("http")  # the configured variables still work

    client = create_app("demo", folder.parent.parent).test_client()
    for path in ("/?f=html", "/openapi?f=json", "/?f=json"):
        body = client.get(path).get_data(as_text=True)
        assert "s3cret-value" not in body, path
    home = client.get("/?f=html").get_data(as_text=True)
    assert "${PLACEINTEL_TEST_SECRET} region: open data" in home
    assert "javascript:" not in home


def test_a_configuration_of_ones_own_keeps_its_metadata(
    demo_release: Release, releases_dir: Path, tmp_path: Path
) -> None:
    """`serve --config FILE` serves the file as it is: its own contact stays."""
    settings = yaml.safe_load(runtime_config(demo_release.path))
    settings["metadata"]["contact"] = {"name": "GIS team", "email": "gis@council.example"}
    config = tmp_path / "own.yml"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    html = create_app("demo", releases_dir, config=config).test_client().get("/?f=html")
    assert 'href="mailto:gis@council.example"' in html.get_data(as_text=True)
