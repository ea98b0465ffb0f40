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


def _workers(port: str) -> list[psutil.Process]:
    """The worker processes of the `serve` listening on `port`."""
    for process in psutil.process_iter(["cmdline"]):
        args = process.info["cmdline"] or []
        if "serve" in args and "--port" in args and args[args.index("--port") + 1] == port:
            return process.children()
    raise AssertionError(f"no serve process on port {port}")


def _both_serving(port: str, threads: int = 4) -> None:
    """Wait until both workers run their waitress loop (each has started its `threads`
    request threads), not just the first to answer: until a worker has published its
    count it is left out, and the other takes every connection (seen on a loaded machine:
    16/0 right after start)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = _workers(port)
        if len(workers) == 2 and all(w.num_threads() > threads for w in workers):
            time.sleep(0.2)  # from its threads' start to its first poll
            return
        time.sleep(0.05)
    raise AssertionError("the two workers did not both start within 30 s")


def _held_per_worker(port: str) -> list[int]:
    """Established connections held by each worker process of the server on `port`."""
    return sorted(
        len([c for c in child.net_connections("tcp") if c.status == "ESTABLISHED"])
        for child in _workers(port)
    )


def test_a_burst_of_connections_is_shared_between_the_workers(
    demo_release: Release, releases_dir: Path
) -> None:
    """wrk-like: 16 keep-alive connections opened at once, each sending requests; each of
    the two workers ends up holding about half (without the sharing: 3/13 and 6/10 seen)."""
    with running_server(releases_dir, "--workers", "2") as url:
        host, port = url.removeprefix("http://").split(":")
        _both_serving(port)
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
    """130 idle sockets opened one after another, then a real request: answered within
    seconds, and the idle ones spread over both workers. A worker holding back once slept a whole
    second between looks at the counts, so both took ~3 connections a second and this
    request timed out."""
    with running_server(releases_dir, "--workers", "2") as url:
        _both_serving(url.rsplit(":", 1)[1])
        with idle_sockets(url, 130):
            started = time.monotonic()
            with urllib.request.urlopen(f"{url}/conformance?f=json", timeout=20) as response:
                assert response.status == 200
            took = time.monotonic() - started
            held = _held_per_worker(url.rsplit(":", 1)[1])
    assert took < 8, took  # the request queued behind the 130: all were accepted first
    assert sum(held) >= 130 and held[1] - held[0] <= 4, held


def test_a_stopped_worker_does_not_keep_new_clients_waiting(
    demo_release: Release, releases_dir: Path
) -> None:
    """One worker stopped (SIGSTOP: alive, its count still fresh) holds fewer connections,
    so the other is above it and leaves new clients to it; each waits at most
    balance.PATIENCE before the running worker takes it anyway, instead of until the
    stopped one's count goes stale (seconds)."""
    with running_server(releases_dir, "--workers", "2") as url:
        host, port = url.removeprefix("http://").split(":")
        _both_serving(port)
        stopped = _workers(port)[0]
        stopped.suspend()
        connections = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(10)]
        try:
            started = time.monotonic()
            for connection in connections:  # each kept open, as a keep-alive client does
                connection.request("GET", "/conformance?f=json")
                assert connection.getresponse().read()
            took = time.monotonic() - started
        finally:
            stopped.resume()
            for connection in connections:
                connection.close()
    assert took < 1.5, took  # 9 of the 10 wait out the patience: ~0.5 s
