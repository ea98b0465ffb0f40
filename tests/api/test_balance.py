"""New connections are shared out evenly between `serve`'s workers, and a worker holding
back never stops the server taking connections: unit checks of the shared counts, then a
real two-worker server under a wrk-like burst and a slowloris-like crowd."""

from __future__ import annotations

import http.client
import time
import urllib.request
from pathlib import Path

import psutil

from placeintel.api import balance
from placeintel.pipeline import Release
from tests.api.test_server_limits import idle_sockets
from tests.conftest import running_server


def test_a_worker_above_the_least_loaded_leaves_new_connections_to_the_others() -> None:
    shares = balance.ConnectionShares(3)
    shares.take(0)
    for slot, count in ((1, 4), (2, 6)):
        shares.counts[slot], shares.stamps[slot] = count, time.monotonic()
    assert shares.may_accept(5)  # one above the least loaded
    assert not shares.may_accept(6)
    assert shares.counts[0] == 6  # what it holds is published for the others
    assert balance.ConnectionShares(1).may_accept(1_000)


def test_a_sibling_silent_for_seconds_does_not_hold_the_others_back() -> None:
    """A hung worker, or a dead one not yet replaced, publishes nothing: its last count
    (here none at all) must not cap the living."""
    shares = balance.ConnectionShares(2)
    shares.take(0)
    shares.counts[1], shares.stamps[1] = 0, time.monotonic() - balance.STALE_AFTER - 1
    assert shares.may_accept(50)
    shares.stamps[1] = time.monotonic()
    assert not shares.may_accept(50)


def _held_per_worker(port: str) -> list[int]:
    """Established connections held by each worker process of the server on `port`."""
    server = next(
        p
        for p in psutil.process_iter(["cmdline"])
        if f"--port {port}" in " ".join(p.info["cmdline"] or [])
        and "serve" in " ".join(p.info["cmdline"] or [])
        and p.children()
    )
    return sorted(
        len([c for c in child.net_connections("tcp") if c.status == "ESTABLISHED"])
        for child in server.children()
    )


def test_a_burst_of_connections_is_shared_between_the_workers(
    demo_release: Release, releases_dir: Path
) -> None:
    """wrk-like: 16 keep-alive connections opened at once, each sending requests; each of
    the two workers ends up holding about half (without the sharing: 3/13 and 6/10 seen)."""
    with running_server(releases_dir, "--workers", "2") as url:
        host, port = url.removeprefix("http://").split(":")
        connections = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(16)]
        try:
            for connection in connections:
                connection.connect()
            for _ in range(3):
                for connection in connections:
                    connection.request("GET", "/collections/wards/items?f=json&limit=1")
                for connection in connections:
                    assert connection.getresponse().read()
            held = _held_per_worker(port)
        finally:
            for connection in connections:
                connection.close()
    assert len(held) == 2 and sum(held) == 16
    assert held[1] - held[0] <= 2, held


def test_idle_connections_do_not_stall_the_sharing(
    demo_release: Release, releases_dir: Path
) -> None:
    """130 idle sockets opened one after another, then a real request: answered at once,
    and the idle ones spread over both workers. A worker holding back once slept a whole
    second between looks at the counts, so both took ~3 connections a second and this
    request timed out."""
    with running_server(releases_dir, "--workers", "2") as url:
        started = time.monotonic()
        with idle_sockets(url, 130):
            opened = time.monotonic() - started
            with urllib.request.urlopen(f"{url}/conformance?f=json", timeout=10) as response:
                assert response.status == 200
            took = time.monotonic() - started
            held = _held_per_worker(url.rsplit(":", 1)[1])
    assert opened < 5 and took < 6, (opened, took)
    assert sum(held) >= 130 and held[1] - held[0] <= 4, held
