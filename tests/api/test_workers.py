"""`serve`'s worker processes stop when asked, whenever the signal comes."""

from __future__ import annotations

import http.client
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from placeintel.api import workers
from placeintel.pipeline import Release
from tests.conftest import running_server

SCRIPT = textwrap.dedent(
    """
    import os, signal, time
    from placeintel.api import workers

    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:  # the stop arrives just after a fork, before the parent records the pid
            os.kill(os.getpid(), signal.SIGTERM)
        return pid

    os.fork = fork
    started = time.monotonic()
    workers.run_workers(2, lambda slot: time.sleep(60), echo=print)
    print(f"stopped after {time.monotonic() - started:.1f} s")
    """
)


def test_a_stop_arriving_during_a_fork_stops_every_worker() -> None:
    """Once a SIGTERM landing between fork() and the pid's record left that worker
    unsignalled, and the parent waiting for it (a test server that never exited)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "stopped after" in done.stdout
    assert float(done.stdout.split("stopped after ")[1].split()[0]) < 10


def test_a_worker_above_the_least_loaded_leaves_new_connections_to_the_others() -> None:
    shares = workers.ConnectionShares(3)
    shares.take(0)
    shares.counts[1], shares.counts[2] = 4, 6
    assert shares.may_accept(5)  # one above the least loaded
    assert not shares.may_accept(6)
    assert shares.counts[0] == 6  # what it holds is published for the others
    single = workers.ConnectionShares(1)
    assert single.may_accept(1_000)


def test_a_burst_of_connections_is_shared_between_the_workers(
    demo_release: Release, releases_dir: Path
) -> None:
    """wrk-like: 16 keep-alive connections opened at once, each sending requests; each of
    the two workers ends up holding about half."""
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
            server = next(
                p
                for p in psutil.process_iter(["cmdline"])
                if f"--port {port}" in " ".join(p.info["cmdline"] or [])
                and "serve" in " ".join(p.info["cmdline"] or [])
                and p.children()
            )
            held = sorted(
                len([c for c in child.net_connections("tcp") if c.status == "ESTABLISHED"])
                for child in server.children()
            )
        finally:
            for connection in connections:
                connection.close()
    assert len(held) == 2 and sum(held) == 16
    assert held[1] - held[0] <= 2, held
