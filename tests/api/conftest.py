"""A live `placeintel serve` on a free port, shared by the tests that talk HTTP to it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from placeintel.pipeline import Release


@pytest.fixture(scope="session")
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
