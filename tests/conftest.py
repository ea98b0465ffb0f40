"""Shared fixtures: one demo build per test session, and the real-data location."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from placeintel import Release, build

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
#: What every published ward row carries, in the files and through the API.
WARD_FIELDS = (
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "demography_score",
    "broadband_score",
    "deprivation_score",
    "deri_score",
    "deri_rank",
)
#: Roles of the demo's small-area files: what a nation made of the demo itself reads.
DEMO_SMALL_AREA_ROLES = frozenset(
    {
        "lsoa21",
        "lsoa11",
        "lookup-oa-lsoa",
        "imd",
        "census",
        "pension-credit",
        "broadband-coverage",
        "broadband-performance",
    }
)


@pytest.fixture(scope="session")
def releases_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("releases")


@pytest.fixture(scope="session")
def demo_release(releases_dir: Path) -> Release:
    """The demo region built once, as `make run` builds it."""
    return build("demo", releases=releases_dir, echo=lambda line: None)


@pytest.fixture(scope="session")
def plain_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy whose manifest has no `datasets:` section, built: the releases folder."""
    from tests.demo_copies import build_demo_copy, without_datasets

    root = tmp_path_factory.mktemp("no-datasets")
    build_demo_copy(root, without_datasets)
    return root / "releases"


@pytest.fixture(scope="session")
def hostile_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy whose datasets' titles, descriptions and keywords are hostile
    (tests/demo_copies.py), built: the releases folder."""
    from tests.demo_copies import build_demo_copy, hostile_datasets

    root = tmp_path_factory.mktemp("hostile-datasets")
    build_demo_copy(root, hostile_datasets)
    return root / "releases"


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not (REALDATA / "gm_wards_2023_generalised.geojson").is_file():
        pytest.skip(f"real Greater Manchester data not present at {REALDATA} (see its SOURCES.md)")
    return REALDATA


@contextmanager
def running_server(releases_dir: Path, *extra: str, region: str = "demo") -> Iterator[str]:
    """`placeintel serve` (the demo, or `region`) on a free port for the duration of a
    block; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "serve",
            region,
            "--releases",
            str(releases_dir),
            "--port",
            str(port),
            "--threads",
            "4",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/conformance?f=json", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"serve exited: {process.stdout.read()}")
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("server did not start within 60 s")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(demo_release: Release, releases_dir: Path) -> Iterator[str]:
    """The demo release served from its files."""
    with running_server(releases_dir) as url:
        yield url
