"""`placeintel serve` as a real server, read with OWSLib and GDAL's OAPIF driver."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from placeintel.pipeline import Release


@pytest.fixture(scope="module")
def server(demo_release: Release, releases_dir: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "serve",
            "--region",
            "demo",
            "--releases",
            str(releases_dir),
            "--port",
            str(port),
            "--threads",
            "4",
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
    yield url
    process.terminate()
    process.wait(timeout=10)


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
