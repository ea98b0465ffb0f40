"""The API over HTTP under concurrency: placeintel's `serve` against tipg, with wrk.

Issue 18's table. The national synthetic release (reused from
PLACEINTEL_BENCH_RELEASES, e.g. /tmp/base/national, or built into
benchmarks/out/api_http/) is loaded into PostGIS with `placeintel publish --to`;
tipg (developmentseed's FastAPI + asyncpg OGC API - Features server, installed
from the package index into its own venv under benchmarks/out/tipg-venv, since it
needs its own dependency set) serves those tables, placeintel `serve` the files.
wrk drives each with the same ten queries at 16 and 64 connections; tipg's figure
is the best of 1 and 2 uvicorn workers. The table gives req/s, p99 and the ratio.

Environment: PLACEINTEL_BENCH_POSTGRES (a PostGIS URL, e.g. the one
scripts/start-postgis.sh prints), API_HTTP_SECONDS (per run, default 20),
API_HTTP_SCALE (national or gm; default national), PLACEINTEL_BENCH_RELEASES,
API_HTTP_QUERIES (only the queries whose label holds one of these comma-separated
words, e.g. "by id", to re-run a row).
National runs belong under the shared lock: flock /tmp/placeintel-national.lock ...

The server's memory is measured on a fresh `serve`, after warm-up requests to every
collection: PSS summed over its processes (what the machine really gives it; each
forked worker shares the parent's loaded release), USS, RSS summed and the parent's
RSS. API_HTTP_MEMORY_ONLY=1 measures only that (no wrk, no PostGIS, no lock needed).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil

from benchmarks.scale import region

OUT = Path(__file__).resolve().parent / "out"
TIPG_VENV = OUT / "tipg-venv"
SCHEMA = "placeintel_bench"  # its own schema: the PostGIS tests use "placeintel"
CONNECTIONS = (16, 64)
#: label -> (collection, query); None as the query means "one item by its id".
QUERIES: dict[str, tuple[str, str | None]] = {
    "wards, 100-item page": ("wards", "limit=100"),
    "wards, bbox page": ("wards", "limit=100&bbox=-1.6,52.5,-1.4,52.7"),
    "ward by id": ("wards", None),
    "wards, CQL2 filter": ("wards", "limit=100&filter-lang=cql2-text&filter=deri_score%20%3E%208"),
    "wards, sorted page": ("wards", "limit=100&sortby=-deri_score"),
    "output areas, 100-item page": ("broadband", "limit=100"),
    "output areas, bbox": ("broadband", "limit=100&bbox=-1.6,52.5,-1.55,52.55"),
    "output area by id": ("broadband", None),
    "output areas, CQL2 filter": (
        "broadband",
        "limit=100&filter-lang=cql2-text&filter=pct_premises_below_30mbit%20%3E%2020",
    ),
    "output areas, sorted page": ("broadband", "limit=100&sortby=-avg_download_mbit"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=30).read()
            return
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before answering {url}")
        time.sleep(0.5)
    raise RuntimeError(f"no answer from {url} in {seconds:.0f} s")


@contextlib.contextmanager
def started(command: list[str], probe: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """A server process (in its own process group) until the block ends; yields its pid."""
    log = open(OUT / "api_http-server.log", "a")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        wait_for(probe, process)
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def memory(pid: int) -> dict[str, float]:
    """The server's memory (MB): PSS and USS summed over the process and its descendants
    (PSS counts a page shared by n processes as 1/n in each, so the sum is what the tree
    really costs; RSS summed counts every shared page once per process), the RSS summed
    the same way, and the parent's own RSS (the loaded release before any fork), from
    psutil's memory_full_info (/proc/PID/smaps); and the parent's peak RSS (VmHWM)."""
    parent = psutil.Process(pid)
    tree = [parent, *parent.children(recursive=True)]
    totals = {"pss": 0.0, "uss": 0.0, "rss": 0.0}
    for process in tree:
        with contextlib.suppress(psutil.Error):
            info = process.memory_full_info()
            totals["pss"] += info.pss
            totals["uss"] += info.uss
            totals["rss"] += info.rss
    with contextlib.suppress(psutil.Error):
        totals["parent_rss"] = parent.memory_info().rss
    with contextlib.suppress(OSError, StopIteration):  # the parent's peak: while loading
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        totals["parent_peak"] = 1024 * int(
            next(x for x in status if x.startswith("VmHWM:")).split()[1]
        )
    totals["processes"] = len(tree)
    return {k: v / 2**20 if k != "processes" else v for k, v in totals.items()}


def warm_every_collection(base: str, rounds: int = 4) -> int:
    """Ask every collection for what a client asks (a JSON and an HTML page, a feature by
    id, a sorted page, a bbox page, a CQL2 filter, its queryables), `rounds` times so
    that every worker process sees each; plus the benchmark's own queries. Returns the
    number of requests made. Memory measured after this is what a server in use holds
    (sort orders, CQL2 masks, response caches), not just what it loaded."""
    listing = json.loads(urllib.request.urlopen(f"{base}/collections?f=json", timeout=60).read())
    targets = []
    for collection in listing["collections"]:
        items = f"{base}/collections/{collection['id']}/items"
        first = json.loads(urllib.request.urlopen(f"{items}?f=json&limit=1", timeout=60).read())
        targets += [f"{items}?f=json&limit=100", f"{items}?f=html&limit=10"]
        targets.append(f"{base}/collections/{collection['id']}/queryables?f=json")
        if not first.get("features"):
            continue
        feature = first["features"][0]
        targets.append(f"{items}/{urllib.parse.quote(str(feature['id']))}?f=json")
        numeric = [k for k, v in feature["properties"].items() if isinstance(v, int | float)]
        if numeric:
            targets.append(f"{items}?f=json&limit=100&sortby=-{numeric[0]}")
            cql = urllib.parse.quote(f"{numeric[0]} > 0")
            targets.append(f"{items}?f=json&limit=100&filter-lang=cql2-text&filter={cql}")
        if feature.get("geometry"):
            targets.append(f"{items}?f=json&limit=100&bbox=-1.6,52.5,-1.4,52.7")
    targets += [
        f"{base}/collections/{c}/items?{q}&f=json" for c, q in QUERIES.values() if q is not None
    ]
    for _ in range(rounds):
        for url in targets:
            urllib.request.urlopen(url, timeout=120).read()
    return rounds * len(targets)


def serve_memory(releases: Path, name: str) -> dict[str, float]:
    """`placeintel serve` on the release, warmed on every collection, then measured."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "placeintel.cli", "serve", name]
    command += ["--releases", str(releases), "--port", str(port)]
    with started(command, f"{base}/conformance?f=json") as pid:
        requests = warm_every_collection(base)
        result = memory(pid)
    result["requests"] = requests
    return result


def memory_line(figures: dict[str, float]) -> str:
    return (
        f"placeintel serve memory after {figures['requests']:,.0f} warm-up requests to every "
        f"collection, {figures['processes']:.0f} processes: PSS {figures['pss']:,.0f} MB "
        f"(USS {figures['uss']:,.0f} MB), RSS summed {figures['rss']:,.0f} MB, parent RSS "
        f"{figures['parent_rss']:,.0f} MB, its peak while loading "
        f"{figures.get('parent_peak', float('nan')):,.0f} MB (target: PSS under 1,500 MB)"
    )


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) from one wrk run."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in done.stdout:
        raise RuntimeError(f"wrk saw errors from {url}:\n{done.stdout}")
    return rate, p99


def selected() -> dict[str, tuple[str, str | None]]:
    """The queries to run: all, or those API_HTTP_QUERIES names (see the docstring)."""
    words = [w.strip() for w in os.environ.get("API_HTTP_QUERIES", "").split(",") if w.strip()]
    return {k: v for k, v in QUERIES.items() if not words or any(w in k for w in words)}


def urls(base: str, collections: dict[str, str], suffix: str) -> dict[str, str]:
    """Each query's URL on one server; `collections` maps placeintel's names to its own."""
    out = {}
    for label, (collection, query) in selected().items():
        name = collections[collection]
        if query is None:
            first = f"{base}/collections/{name}/items?limit=1{suffix}"
            body = json.loads(urllib.request.urlopen(first, timeout=60).read())
            out[label] = f"{base}/collections/{name}/items/{body['features'][0]['id']}?{suffix[1:]}"
        else:
            out[label] = f"{base}/collections/{name}/items?{query}{suffix}"
    return out


def tipg_python() -> Path:
    """tipg's own interpreter, installed on first use."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
    probe = [str(python), "-c", "import tipg, uvicorn"]
    if subprocess.run(probe, capture_output=True).returncode:  # not installed yet
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn[standard]"],
            check=True,
        )
    return python


def releases_dir(scale: str) -> tuple[Path, str]:
    name = f"synthetic-{scale}"
    given = os.environ.get("PLACEINTEL_BENCH_RELEASES")
    if given and (Path(given) / name / "current").exists():
        return Path(given), name
    releases = OUT / "api_http" / "releases"
    if not (releases / name / "current").exists():
        manifest = region(scale) / "region.yml"
        subprocess.run(
            [sys.executable, "-m", "placeintel.cli", "build", str(manifest)]
            + ["--releases", str(releases)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return releases, name


def measure(targets: dict[str, str], seconds: int) -> dict[tuple[str, int], tuple[float, float]]:
    results = {}
    for label, url in targets.items():
        urllib.request.urlopen(url, timeout=60).read()  # warm-up (a sort order, a plan)
        for connections in CONNECTIONS:
            results[label, connections] = wrk(url, connections, seconds)
    return results


def main() -> None:
    seconds = int(os.environ.get("API_HTTP_SECONDS", "20"))
    scale = os.environ.get("API_HTTP_SCALE", "national")
    database = os.environ.get("PLACEINTEL_BENCH_POSTGRES") or os.environ.get(
        "PLACEINTEL_TEST_POSTGRES"
    )
    print(
        f"API over HTTP ({scale}): placeintel serve against tipg, wrk {seconds} s per run - "
        f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    if os.environ.get("API_HTTP_MEMORY_ONLY"):
        releases, name = releases_dir(scale)
        print(memory_line(serve_memory(releases, name)))
        return
    if not shutil.which("wrk"):
        print("(skipped: wrk is not installed; apt-get install -y wrk, or brew install wrk)")
        return
    if not database:
        print("(skipped: set PLACEINTEL_BENCH_POSTGRES to a PostGIS database URL)")
        return
    releases, name = releases_dir(scale)
    subprocess.run(
        [sys.executable, "-m", "placeintel.cli", "publish", name, "--releases", str(releases)]
        + ["--to", database, "--schema", SCHEMA, "--config-out", str(OUT / "api_http.yml")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "placeintel.cli", "serve", name]
    command += ["--releases", str(releases), "--port", str(port)]
    with started(command, f"{base}/conformance?f=json") as pid:
        ours = measure(urls(base, {c: c for c, _ in QUERIES.values()}, "&f=json"), seconds)
        after_wrk = memory(pid)
    figures = serve_memory(releases, name)  # a fresh server, warmed on every collection
    theirs: dict[tuple[str, int], tuple[float, float]] = {}
    python = tipg_python()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "TIPG_DB_SCHEMAS": json.dumps([SCHEMA]),
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    for workers in (1, 2):
        port = free_port()
        tipg = f"http://127.0.0.1:{port}"
        command = [str(python), "-m", "uvicorn", "tipg.main:app", "--port", str(port)]
        command += ["--workers", str(workers), "--log-level", "warning"]
        with started(command, f"{tipg}/conformance", env):
            names = {c: f"{SCHEMA}.{c}" for c, _ in QUERIES.values()}
            for key, value in measure(urls(tipg, names, ""), seconds).items():
                if key not in theirs or value[0] > theirs[key][0]:
                    theirs[key] = value
    report(ours, theirs)
    print("\n" + memory_line(figures))
    print(
        f"the same after the wrk runs above: PSS {after_wrk['pss']:,.0f} MB, RSS summed "
        f"{after_wrk['rss']:,.0f} MB, parent RSS {after_wrk['parent_rss']:,.0f} MB"
    )


def report(ours: dict, theirs: dict) -> None:
    head = "| query | conns | placeintel req/s | p99 ms | tipg req/s | p99 ms | ratio |"
    print(head)
    print("|" + "---|" * 7)
    for label in selected():
        for connections in CONNECTIONS:
            (rate, p99), (other, other_p99) = ours[label, connections], theirs[label, connections]
            print(
                f"| {label} | {connections} | {rate:,.0f} | {p99:,.0f} | {other:,.0f} | "
                f"{other_p99:,.0f} | {rate / other:.2f}x |"
            )
    ratios = [ours[k][0] / theirs[k][0] for k in ours]
    print(f"\nsmallest ratio {min(ratios):.2f}x (target: 2x on every query)")


if __name__ == "__main__":
    main()
