"""`placeintel serve` keeps answering when clients hold connections open, drops idle
ones, caps request bodies and writes its public URL into links: real servers, real sockets."""

from __future__ import annotations

import http.client
import json
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from placeintel.pipeline import Release
from tests.conftest import running_server

PUBLIC = "https://data.example.org/placeintel"


@contextmanager
def idle_sockets(url: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that never send a byte, like a slowloris client's."""
    host, port = url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        sockets = []
        for _ in range(count):
            connection = stack.enter_context(socket.create_connection((host, int(port)), 5))
            sockets.append(connection)
        yield sockets


def _timed_get(url: str, timeout: float = 20) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        return response.status, time.monotonic() - started


@pytest.fixture(scope="module")
def tight(demo_release: Release, releases_dir: Path) -> Iterator[str]:
    """A server with small limits, so that reaching them is quick."""
    options = ("--connection-limit", "20", "--channel-timeout", "2")
    options += ("--max-request-body", "1000", "--url", PUBLIC, "--trusted-proxy", "127.0.0.1")
    with running_server(releases_dir, *options) as url:
        yield url


def test_answers_with_130_idle_connections_open(server: str) -> None:
    """With waitress's defaults (100 connections, 120 s idle) this request never came back."""
    with idle_sockets(server, 130):
        status, took = _timed_get(f"{server}/collections/wards/items?f=json&limit=1", 10)
    assert status == 200 and took < 5


def test_more_idle_connections_than_the_open_file_limit(demo_release, releases_dir) -> None:
    """`serve` raises its own soft limit on open files to fit --connection-limit: started
    with a soft limit of 256, it still holds 300 idle connections and answers."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2000:
        pytest.skip(f"hard open-file limit {hard} is below the default connection limit")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # inherited by the server
    try:
        context = running_server(releases_dir)
        url = context.__enter__()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with idle_sockets(url, 300):
            status, took = _timed_get(f"{url}/collections/wards/items?f=json&limit=1", 10)
        assert status == 200 and took < 5
    finally:
        context.__exit__(None, None, None)


def test_idle_connections_are_closed(tight: str) -> None:
    with idle_sockets(tight, 1) as (idle,):
        idle.settimeout(10)
        started = time.monotonic()
        assert idle.recv(1) == b""  # the server closed it
        assert time.monotonic() - started < 6  # channel timeout 2 s, checked every 1 s


def test_beyond_the_connection_limit_clients_wait_for_idle_ones_to_go(tight: str) -> None:
    """25 idle sockets against a limit of 20: a real request waits until the idle ones
    time out, then is answered, instead of hanging for good."""
    with idle_sockets(tight, 25):
        status, took = _timed_get(f"{tight}/conformance?f=json", 20)
    assert status == 200
    assert 1 < took < 10


def test_request_bodies_are_capped(tight: str) -> None:
    host, port = tight.removeprefix("http://").split(":")
    small = {"op": ">", "args": [{"property": "deri_score"}, 5]}
    big = {"op": "in", "args": [{"property": "ward_name"}, ["x" * 50] * 40]}
    answers = {}
    for name, body in (("small", small), ("big", big)):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request(
            "POST",
            "/collections/wards/items?f=json",
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/query-cql-json"},
        )
        answers[name] = connection.getresponse().status
        connection.close()
    assert len(json.dumps(big)) > 1000 > len(json.dumps(small))
    assert answers == {"small": 200, "big": 413}


def test_links_use_the_public_url(tight: str) -> None:
    with urllib.request.urlopen(f"{tight}/collections/wards/items?f=json&limit=1") as response:
        links = [link["href"] for link in json.load(response)["links"]]
    assert links and all(href.startswith(PUBLIC + "/") for href in links)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--url", "ftp://example.org"], "--url must start with http"),
        (["--connection-limit", "0"], "--connection-limit"),
        (["--channel-timeout", "-1"], "--channel-timeout"),
        (["--trusted-proxy", "not an address!"], "trusted"),
    ],
)
def test_bad_server_options_are_usage_errors(tmp_path: Path, options, says: str) -> None:
    """A release is not needed to be told the options are wrong; exit code 2, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "placeintel.cli", "serve", "demo", "--releases", str(tmp_path)]
        + options,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_connection_limit_the_system_cannot_hold_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        f"ulimit -n 512 && exec {sys.executable} -m placeintel.cli serve demo "
        f"--releases {tmp_path} --connection-limit 1000",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "1064 open files" in done.stderr and "Traceback" not in done.stderr
