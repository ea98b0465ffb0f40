"""/release/: the list of the release's files, the whole release as one zip, and the method
as a page, through the service (Flask's test client) on a copy of the demo release.

The copy lets each test add what a hostile or damaged release folder could hold (a symlink
out of it, a file name with markup, a method.md with script) without touching the shared
demo build.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tracemalloc
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from placeintel.api.release import DOWNLOADS, release_files, release_zip
from placeintel.api.serve import create_app
from placeintel.pipeline import Release


def _copy(demo_release: Release, root: Path) -> Path:
    """A copy of the demo release in a releases folder of its own, as `current`."""
    folder = root / "releases" / "demo" / demo_release.path.name
    shutil.copytree(demo_release.path, folder, symlinks=True)
    (folder.parent / "current").symlink_to(folder.name, target_is_directory=True)
    return folder


@pytest.fixture
def release(demo_release: Release, tmp_path: Path) -> Path:
    """A copy for a test that changes it."""
    return _copy(demo_release, tmp_path)


@pytest.fixture(scope="module")
def shared(demo_release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy the tests below only read (building its zip is part of reading it)."""
    return _copy(demo_release, tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="module")
def shared_client(shared: Path) -> FlaskClient:
    return _client(shared)


def _client(release: Path) -> FlaskClient:
    return create_app("demo", release.parent.parent).test_client()


def _path(href: str) -> str:
    """A link the service wrote (absolute, with its configured URL) as a test-client path."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _on_disk(folder: Path) -> dict[str, int]:
    """Every regular file under the release and its size, found independently of the code
    under test (rglob, not os.walk)."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def test_the_index_lists_every_file_with_its_size_and_a_working_link(
    shared: Path, shared_client: FlaskClient
) -> None:
    client = shared_client
    listing = client.get("/release/?f=json")
    assert listing.status_code == 200 and listing.mimetype == "application/json"
    index = listing.get_json()
    assert index["version"] == shared.name and index["region"] == "demo"
    assert index["title"] == "Demo City Region (synthetic)"
    files = {f["path"]: f for f in index["files"]}
    assert {name: f["bytes"] for name, f in files.items()} == _on_disk(shared)
    assert {"wards.csv", "datapackage.json", "method.md", "map.html"} <= set(files)
    assert files["wards.gpkg"]["mediatype"] == "application/geopackage+sqlite3"
    for name in ("wards.csv", "datapackage.json", "assets/leaflet/leaflet.js"):
        response = client.get(_path(files[name]["href"]))
        assert response.status_code == 200, name
        assert response.data == (shared / name).read_bytes()

    page = client.get("/release/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1" in html and "Demo City Region (synthetic)" in html
    for name, entry in files.items():
        assert f'<a href="{entry["href"]}">{name}</a>' in html
        assert f'data-bytes="{entry["bytes"]}">{entry["size"]}</td>' in html
    assert f'href="{index["zip"]}"' in html


def test_names_in_the_index_are_text(release: Path) -> None:
    hostile = '"><img src=x onerror=alert(1)>.csv'
    (release / hostile).write_text("a,b\n1,2\n", encoding="utf-8")
    client = _client(release)
    html = client.get("/release/").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.csv" in html
    entry = next(
        f for f in client.get("/release/?f=json").get_json()["files"] if f["path"] == hostile
    )
    assert client.get(_path(entry["href"])).data == b"a,b\n1,2\n"


def test_nothing_outside_the_release_is_listed_zipped_or_served(
    release: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for publishing", encoding="utf-8")
    (release / "leak.txt").symlink_to(secret)
    (release / "leak-folder").symlink_to(tmp_path, target_is_directory=True)
    (release / ".hidden").write_text("x", encoding="utf-8")
    client = _client(release)
    names = {f["path"] for f in client.get("/release/?f=json").get_json()["files"]}
    assert not {n for n in names if n.startswith(("leak", ".hidden"))}
    for path in (
        "/release/leak.txt",
        "/release/leak-folder/secret.txt",
        "/release/../releases/demo/current/wards.csv",
        "/release/%2e%2e/%2e%2e/secret.txt",
        "/release/..%2f..%2fsecret.txt",
    ):
        assert client.get(path).status_code == 404, path
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/release/demo-{release.name}.zip").data))
    assert not [n for n in archive.namelist() if "leak" in n or "hidden" in n or "secret" in n]


def test_the_zip_is_the_release_built_once_and_kept(
    shared: Path, shared_client: FlaskClient
) -> None:
    client = shared_client
    latest = client.get("/release/demo.zip")
    assert latest.status_code == 302
    name = f"demo-{shared.name}.zip"
    assert latest.headers["Location"].endswith(f"/release/{name}")
    response = client.get(_path(latest.headers["Location"]))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"filename={name}" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None  # every member's CRC checks
    prefix = f"demo-{shared.name}/"
    assert {
        n.removeprefix(prefix): archive.getinfo(n).file_size for n in archive.namelist()
    } == _on_disk(shared)
    package = json.loads(archive.read(f"{prefix}datapackage.json"))
    assert package["version"] == shared.name
    assert archive.read(f"{prefix}wards.csv") == (shared / "wards.csv").read_bytes()

    kept = shared.parent / DOWNLOADS / name
    assert kept.is_file() and not (shared / name).exists()  # the release stays as built
    built = kept.stat().st_mtime_ns
    again = client.get(f"/release/{name}")
    assert again.data == response.data and kept.stat().st_mtime_ns == built
    assert client.get(f"/release/{name}", headers={"Range": "bytes=0-3"}).data == b"PK\x03\x04"


def test_only_the_current_releases_zip(shared: Path, shared_client: FlaskClient) -> None:
    client = shared_client
    for name in ("demo-20200101T000000Z.zip", "other.zip", "demo-.zip", "..zip"):
        assert client.get(f"/release/{name}").status_code == 404, name
    built = {p.name for p in (shared.parent / DOWNLOADS).glob("*")}
    assert built <= {f"demo-{shared.name}.zip"}  # nothing was built for them


def test_the_zip_is_served_when_the_releases_folder_cannot_be_written(release: Path) -> None:
    (release.parent / DOWNLOADS).write_text("a file where the folder would go", encoding="utf-8")
    response = _client(release).get(f"/release/demo-{release.name}.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert f"demo-{release.name}/wards.gpkg" in names


def test_building_the_zip_keeps_memory_small(release: Path) -> None:
    """A 64 MB file is zipped through a small buffer, never read whole."""
    with (release / "big.bin").open("wb") as handle:
        for _ in range(64):
            handle.write(os.urandom(1 << 20))
    tracemalloc.start()
    try:
        made = release_zip(release)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(made, Path) and made.stat().st_size > 64 << 20
    assert peak < 8 << 20, f"peak {peak:,} bytes"
    assert {i.path for i in release_files(release)} >= {"big.bin", "wards.csv"}


def test_the_method_as_a_page_and_as_its_file(shared: Path, shared_client: FlaskClient) -> None:
    client = shared_client
    raw = client.get("/release/method.md")
    assert raw.status_code == 200 and raw.data == (shared / "method.md").read_bytes()
    page = client.get("/release/method.md?f=html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1>The method</h1>" in html and "<title>The method – " in html
    assert html.count("<table>") >= 2 and "<h2>1. Indicators</h2>" in html


def test_markup_in_the_method_is_shown_as_text(release: Path) -> None:
    (release / "method.md").write_text(
        "# Method <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[a link](javascript:alert(3)) and [the source](https://example.org/)\n",
        encoding="utf-8",
    )
    html = _client(release).get("/release/method.md?f=html").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html.lower()  # markdown-it leaves the link as text
    assert "[a link](javascript:alert(3))" in html
    assert '<a href="https://example.org/">the source</a>' in html


def test_a_release_without_a_method_has_no_method_page(release: Path) -> None:
    (release / "method.md").unlink()
    assert _client(release).get("/release/method.md?f=html").status_code == 404


def test_the_index_answers_json_or_html_only(shared: Path, shared_client: FlaskClient) -> None:
    client = shared_client
    response = client.get("/release/?f=xml")
    assert (
        response.status_code == 400
        and "f must be html or json" in response.get_json()["description"]
    )
