"""`placeintel fetch` as a user runs it, against local servers on 127.0.0.1 only."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from placeintel.cli import main
from placeintel.digest import sha256
from placeintel.fetch.lock import LOCK_NAME
from placeintel.region import DATASETS_DIR
from tests.fetch.server import DROP_CSV, NATIONAL_CSV, NATIONAL_ROWS, WARDS, Server, serving

LADS = ["E08000001", "E08000002"]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("PLACEINTEL_FETCH_BACKOFF", "0.01")
    with serving() as running:
        assert running.url.startswith("http://127.0.0.1:")
        yield running


def region(tmp_path: Path, sources: list[dict[str, Any]], **top: Any) -> Path:
    """A manifest whose every download address is on 127.0.0.1 (never a real host)."""
    for source in sources:
        block = source["download"]
        for key in ("url", "portal"):
            if key in block:
                assert block[key].startswith("http://127.0.0.1:"), block[key]
        source.setdefault("role", "services")
        source.setdefault("reader", "services")
    manifest = {"name": "testregion", "lad_codes": LADS, "sources": sources, **top}
    folder = tmp_path / "testregion"
    folder.mkdir()
    path = folder / "region.yml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def lock(data: Path) -> dict[str, Any]:
    return json.loads((data / LOCK_NAME).read_text(encoding="utf-8"))["sources"]


def test_arcgis_pages_until_exceeded_transfer_limit_is_false(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "wards",
                "path": "boundaries/wards.geojson",
                "download": {
                    "kind": "arcgis",
                    "url": f"{server.url}/arcgis/wards/FeatureServer/0",
                    "where": "lad",
                    "lad_field": "LAD23CD",
                    "out_fields": ["WD23CD", "WD23NM", "LAD23CD"],
                    "rename": {"WD23CD": "area_code", "WD23NM": "area_name"},
                    "page_size": 2,
                },
            }
        ],
    )
    data = tmp_path / "data"
    result = run("fetch", manifest, "--data-dir", data)
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output
    collection = json.loads((data / "boundaries/wards.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["area_code"] for f in collection["features"]]
    assert codes == [w["WD23CD"] for w in WARDS if w["LAD23CD"] in LADS]
    assert all(f["geometry"]["type"] == "Point" for f in collection["features"])
    pages = [q for p, q, _ in server.requests if p.endswith("/query")]
    assert [q["resultOffset"] for q in pages] == ["0", "2", "4"]
    assert pages[0]["where"] == "LAD23CD IN ('E08000001', 'E08000002')"
    assert pages[0]["f"] == "geojson"
    entry = lock(data)["wards"]
    assert entry["sha256"] == sha256(data / "boundaries/wards.geojson")
    assert entry["url"].startswith(f"{server.url}/arcgis/wards/FeatureServer/0/query?where=")


def test_arcgis_table_as_csv_and_arcgis_error_page(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "lookup",
                "path": "lookup.csv",
                "download": {
                    "kind": "arcgis",
                    "url": f"{server.url}/arcgis/wards/FeatureServer/0",
                    "out_fields": ["WD23CD", "LAD23CD"],
                    "rename": {"WD23CD": "wd23cd"},
                    "page_size": 3,
                },
            }
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 0, result.output
    table = rows(tmp_path / "d" / "lookup.csv")
    assert [r["wd23cd"] for r in table] == [w["WD23CD"] for w in WARDS]
    assert set(table[0]) == {"wd23cd", "LAD23CD"}


def test_503_twice_then_success_is_retried(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "flaky",
                "path": "flaky.csv",
                "download": {"kind": "file", "url": f"{server.url}/flaky.csv"},
            }
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 0, result.output
    assert server.counts["flaky"] == 3
    assert (tmp_path / "d/flaky.csv").read_text(encoding="utf-8") == NATIONAL_CSV
    assert f"{len(NATIONAL_ROWS)} rows" in result.output


def test_dropped_connection_resumes_with_range(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "drop",
                "path": "drop.csv",
                "download": {"kind": "file", "url": f"{server.url}/drop.csv"},
            }
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d/drop.csv").read_bytes() == DROP_CSV
    ranges = [h.get("Range") for p, _, h in server.requests if p == "/drop.csv"]
    assert ranges[0] is None and len(ranges) == 2
    start = int(ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= len(DROP_CSV) // 2  # resumed, not started again
    retry = [h for p, _, h in server.requests if p == "/drop.csv"][1]
    assert retry["If-Range"] == '"drop1"'
    assert lock(tmp_path / "d")["drop"]["etag"] == '"drop1"'
    assert not list((tmp_path / "d").glob(".*part*"))


def test_zip_member_subset_to_region_lads_and_check(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "census",
                "role": "census",
                "reader": "census-table",
                "path": "census/ts000_gm.csv",
                "download": {
                    "kind": "file",
                    "url": f"{server.url}/national.zip",
                    "member": "census2021-ts000-oa.csv",
                    "subset": {"column": "lad22cd", "codes": "lad"},
                    "rename": {"oa21cd": "OA"},
                },
            },
            {
                "id": "census-by-lsoa",
                "path": "census/by_lsoa.csv",
                "download": {
                    "kind": "file",
                    "url": f"{server.url}/national.zip",
                    "member": "census2021-ts000-oa.csv",
                    "subset": {
                        "column": "lsoa21cd",
                        "codes": {"source": "census", "column": "lsoa21cd"},
                    },
                },
            },
        ],
    )
    data = tmp_path / "d"
    result = run("fetch", manifest, "--data-dir", data)
    assert result.exit_code == 0, result.output
    kept = rows(data / "census/ts000_gm.csv")
    assert [r["OA"] for r in kept] == [oa for oa, _, lad, _ in NATIONAL_ROWS if lad in LADS]
    assert [r["oa21cd"] for r in rows(data / "census/by_lsoa.csv")] == [r["OA"] for r in kept]
    entry = lock(data)["census"]
    assert entry["etag"] == '"zip1"' and entry["download_bytes"] > 0
    assert entry["bytes"] == (data / "census/ts000_gm.csv").stat().st_size
    assert entry["retrieved"].endswith("Z")

    # A second run downloads nothing; --check finds a changed file; --refresh restores it.
    before = len(server.requests)
    again = run("fetch", manifest, "--data-dir", data)
    assert again.exit_code == 0 and "up to date" in again.output
    assert len(server.requests) == before
    assert run("fetch", manifest, "--data-dir", data, "--check").exit_code == 0
    with (data / "census/ts000_gm.csv").open("a", encoding="utf-8") as handle:
        handle.write("E00009999,E01000001,E08000001,1\n")
    (data / "census/by_lsoa.csv").unlink()
    check = run("fetch", manifest, "--data-dir", data, "--check")
    assert check.exit_code == 1
    assert "census: " in check.output and "size" in check.output
    assert "census-by-lsoa" in check.output and "missing" in check.output
    fixed = run("fetch", manifest, "--data-dir", data, "--only", "census", "--refresh")
    assert fixed.exit_code == 0, fixed.output
    assert "census-by-lsoa" not in fixed.output
    assert len(rows(data / "census/ts000_gm.csv")) == len(kept)


def test_nomis_csv_for_the_regions_geographies(server: Server, tmp_path: Path):
    codes = ["E01000001", "E01000002", "E01000005", "E01000006"]
    manifest = region(
        tmp_path,
        [
            {
                "id": "rm121",
                "path": "rm121.csv",
                "download": {
                    "kind": "nomis",
                    "url": f"{server.url}/nomis",
                    "dataset": "NM_2132_1",
                    "geography": codes,
                    "params": {"c2021_age_102": "0,66", "measures": 20100},
                    "page_size": 3,
                },
            }
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 0, result.output
    got = rows(tmp_path / "d/rm121.csv")
    assert [r["GEOGRAPHY_CODE"] for r in got] == codes
    calls = [q for p, q, _ in server.requests if p.startswith("/nomis/")]
    assert [q["recordoffset"] for q in calls] == ["0", "3"]
    assert calls[0]["geography"] == ",".join(codes) and calls[0]["measures"] == "20100"


def test_ckan_package_show_finds_the_resource(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "libraries",
                "path": "libraries.csv",
                "download": {
                    "kind": "ckan",
                    "portal": f"{server.url}/ckan",
                    "package": "library-locations",
                    "resource": "libraries",
                    "format": "csv",
                    "member": "census2021-ts000-oa.csv",
                },
            },
            {
                "id": "gone",
                "path": "gone.csv",
                "download": {"kind": "ckan", "portal": f"{server.url}/ckan", "package": "nope"},
            },
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 1
    assert (tmp_path / "d/libraries.csv").read_text(encoding="utf-8") == NATIONAL_CSV
    entry = lock(tmp_path / "d")["libraries"]
    assert entry["resource_url"] == f"{server.url}/national.zip"
    assert "gone: FAILED" in result.output and "HTTP 404" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "path", "said"),
    [
        ("/error-page.csv", "x.csv", "sent an HTML page titled 'Page not found' where CSV"),
        ("/truncated.zip", "x.zip", "truncated or corrupt zip"),
        ("/missing.csv", "x.csv", "answered HTTP 404"),
    ],
)
def test_refused_downloads_leave_nothing(
    server: Server, tmp_path: Path, url: str, path: str, said: str
):
    manifest = region(
        tmp_path,
        [{"id": "bad", "path": path, "download": {"kind": "file", "url": server.url + url}}],
    )
    data = tmp_path / "d"
    data.mkdir()
    (data / path).write_bytes(b"old")
    result = run("fetch", manifest, "--data-dir", data, "--refresh")
    assert result.exit_code == 1
    assert said in result.output, result.output
    assert server.url + url in result.output and "sources[0].download" in result.output
    assert "Traceback" not in result.output
    assert (data / path).read_bytes() == b"old"  # never replaced by what was refused
    assert sorted(p.name for p in data.iterdir()) == [path]


def test_truncated_zip_member_is_refused(server: Server, tmp_path: Path):
    manifest = region(
        tmp_path,
        [
            {
                "id": "z",
                "path": "z.csv",
                "download": {
                    "kind": "file",
                    "url": f"{server.url}/truncated.zip",
                    "member": "a.csv",
                },
            }
        ],
    )
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 1 and "truncated or corrupt zip" in result.output
    assert not (tmp_path / "d/z.csv").exists()


def test_manifest_download_blocks_are_checked(tmp_path: Path):
    manifest = region(
        tmp_path,
        [{"id": "a", "path": "a.csv", "download": {"kind": "file", "url": "http://127.0.0.1:1/"}}],
    )
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    raw["sources"][0]["download"]["url"] = "file:///etc/passwd"
    manifest.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = run("fetch", manifest)
    assert result.exit_code == 2
    assert "sources[0].download.url" in result.output and "web address" in result.output
    path = tmp_path / "two" / "region.yml"
    path.parent.mkdir()
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    raw["sources"][0]["download"] = {"kind": "arcgis", "url": "http://127.0.0.1:1/x", "page": 3}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = run("fetch", path)
    assert result.exit_code == 2 and "sources[0].download.page" in result.output
    raw["sources"][0]["path"] = "../outside.csv"
    raw["sources"][0]["download"] = {"kind": "file", "url": "http://127.0.0.1:1/x.csv"}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = run("fetch", path)
    assert result.exit_code != 0 and "leads outside the folder" in result.output
    assert not (tmp_path / "outside.csv").exists()
    raw["sources"][0]["path"] = "a.csv"
    for save_as in ("../outside.csv", "/etc/passwd"):
        raw["sources"][0]["download"]["save_as"] = save_as
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        for command in ("fetch", "validate"):
            result = run(command, path)
            assert result.exit_code != 0, result.output
            assert "sources[0].download.save_as" in result.output, result.output
            assert "Traceback" not in result.output
    assert not (tmp_path / "outside.csv").exists()
    raw["sources"][0]["download"]["save_as"] = "b.csv"
    raw["sources"][0]["download"]["read"] = {"reader": "services", "path": "c.csv"}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 2 and "sources[0].download.read" in result.output, result.output


def test_lad_subset_without_lad_codes_is_explained(server: Server, tmp_path: Path):
    source = {
        "id": "c",
        "path": "c.csv",
        "download": {
            "kind": "file",
            "url": f"{server.url}/national.zip",
            "member": "census2021-ts000-oa.csv",
            "subset": {"column": "lad22cd", "codes": "lad"},
        },
    }
    manifest = region(tmp_path, [source])
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    del raw["lad_codes"]
    manifest.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = run("fetch", manifest, "--data-dir", tmp_path / "d")
    assert result.exit_code == 1 and "lad_codes" in result.output


def test_fetch_then_build_records_the_lock_in_the_data_package(server: Server, tmp_path: Path):
    """The demo region, copied, with two sources served from 127.0.0.1: fetched, built,
    and the release's datapackage.json says which bytes it was built from."""
    folder = tmp_path / "demo-copy"
    shutil.copytree(DATASETS_DIR / "demo", folder)
    raw = yaml.safe_load((folder / "region.yml").read_text(encoding="utf-8"))
    served = {"council-services": "/council/services.csv", "lookup-lsoa21-ward23": "/ons/lu.csv"}
    originals = {}
    for source in raw["sources"]:
        if source["id"] in served:
            file = folder / source["path"]
            originals[source["id"]] = file.read_bytes()
            server.routes[served[source["id"]]] = ("text/csv", file.read_bytes())
            file.unlink()
            source["download"] = {"kind": "file", "url": server.url + served[source["id"]]}
            assert source["download"]["url"].startswith("http://127.0.0.1:")
    (folder / "region.yml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")

    fetched = run("fetch", folder / "region.yml")
    assert fetched.exit_code == 0, fetched.output
    locked = lock(folder)
    for source_id, data in originals.items():
        assert locked[source_id]["sha256"] == hashlib.sha256(data).hexdigest()

    built = run("build", folder / "region.yml", "--releases", tmp_path / "releases")
    assert built.exit_code == 0, built.output
    package = json.loads(
        (tmp_path / "releases/demo/current/datapackage.json").read_text(encoding="utf-8")
    )
    by_url = {s.get("url"): s for s in package["sources"] if "sha256" in s}
    assert set(by_url) == {server.url + path for path in served.values()}
    for source_id, path in served.items():
        entry = by_url[server.url + path]
        assert entry["sha256"] == locked[source_id]["sha256"]
        assert entry["bytes"] == len(originals[source_id])
        assert entry["retrieved"] == locked[source_id]["retrieved"]
    unlocked = [s for s in package["sources"] if "sha256" not in s]
    assert unlocked, "sources placed by hand are listed without a lock's claims"
