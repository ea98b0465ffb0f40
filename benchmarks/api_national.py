"""API latency at national scale: placeintel's file provider against PostGIS.

The national synthetic region (7,000+ wards, 190,000 output areas) is built once
(reusing benchmarks/out/synthetic/national from the `scale` benchmark), published
to PostGIS with `placeintel publish --to`, and served twice by `placeintel serve`
on loopback: from the release's files, and with pygeoapi's stock PostgreSQL
provider. Both are asked the same queries over real HTTP; the figure is the
PostGIS p50 as a ratio of the file provider's p50 in the same run.

Needs a PostgreSQL with PostGIS: PLACEINTEL_BENCH_POSTGRES (or
PLACEINTEL_TEST_POSTGRES) names it, e.g. the URL scripts/start-postgis.sh prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.scale import region

REPEATS = 100
QUERIES = {
    "wards: 100-item page": ("wards", "limit=100"),
    "wards: one ward by id": ("wards", None),
    "wards: bbox page": ("wards", "limit=100&bbox=-1.6,52.5,-1.4,52.7"),
    "wards: CQL2 filter": ("wards", "limit=100&filter=deri_score%20%3E%208"),
    "wards: sorted page": ("wards", "limit=100&sortby=-deri_score"),
    "output areas: bbox page": ("broadband", "limit=100&bbox=-1.6,52.5,-1.55,52.55"),
    "output areas: deep page": ("broadband", "limit=100&offset=150000"),
}


@contextlib.contextmanager
def serve(releases: Path, name: str, *extra: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "placeintel.cli", "serve", name]
    command += ["--releases", str(releases), "--port", str(port), "--threads", "4", *extra]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/conformance?f=json", timeout=5)
                break
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def timings(url: str) -> list[float]:
    urllib.request.urlopen(url, timeout=60).read()  # warm-up
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        urllib.request.urlopen(url, timeout=60).read()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    database = os.environ.get("PLACEINTEL_BENCH_POSTGRES") or os.environ.get(
        "PLACEINTEL_TEST_POSTGRES"
    )
    print(
        f"API latency at national scale - {platform.node()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    if not database:
        print("(skipped: set PLACEINTEL_BENCH_POSTGRES to a PostGIS database URL)")
        return
    manifest = region("national") / "region.yml"
    name = "synthetic-national"
    with tempfile.TemporaryDirectory() as tmp:
        releases = Path(tmp) / "releases"
        config = Path(tmp) / "pygeoapi-postgres.yml"
        started = time.perf_counter()
        for step in (
            ["build", str(manifest), "--releases", str(releases)],
            ["publish", name, "--releases", str(releases), "--to", database]
            + ["--config-out", str(config)],
        ):
            subprocess.run(
                [sys.executable, "-m", "placeintel.cli", *step],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        print(f"built and published in {time.perf_counter() - started:.0f}s")
        rows: dict[str, dict[str, list[float]]] = {q: {} for q in QUERIES}
        for label, extra in (("files", ()), ("PostGIS", ("--config", str(config)))):
            with serve(releases, name, *extra) as base:
                for query, (collection, params) in QUERIES.items():
                    if params is None:
                        first = f"{base}/collections/{collection}/items?f=json&limit=1"
                        body = json.loads(urllib.request.urlopen(first).read())
                        feature = body["features"][0]["id"]
                        url = f"{base}/collections/{collection}/items/{feature}?f=json"
                    else:
                        url = f"{base}/collections/{collection}/items?f=json&{params}"
                    rows[query][label] = timings(url)
    report(rows)


def report(rows: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{'query':<28}{'files p50':>11}{'p95':>8}{'PostGIS p50':>13}{'p95':>8}", end="")
    print(f"{'PostGIS/files':>15}")
    for query, results in rows.items():
        files, postgis = results["files"], results["PostGIS"]
        p50, p50_pg = statistics.median(files), statistics.median(postgis)
        print(
            f"{query:<28}{p50 * 1e3:>9.1f}ms{np.percentile(files, 95) * 1e3:>7.1f}"
            f"{p50_pg * 1e3:>11.1f}ms{np.percentile(postgis, 95) * 1e3:>7.1f}{p50_pg / p50:>14.2f}x"
        )


if __name__ == "__main__":
    main()
