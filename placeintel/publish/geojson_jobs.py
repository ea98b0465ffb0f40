"""GeoJSON written from the release's GeoParquet in worker processes, beside the rest.

GDAL's GeoJSON writer is most of publishing (15 of 24 CPU seconds for national-sized
layers) and pyogrio holds the GIL while GDAL writes (a thread counting in Python gets
3% of its usual speed during a write), so threads cannot overlap it with anything.
Large layers' GeoJSON is made by worker processes instead: fresh interpreters (no fork of
a large build; no re-import of the caller's script, as multiprocessing's spawn does) that
import `placeintel.publish.geojson` from the same folder as this build's package (importing
`placeintel` is light: its API is imported on first use), read the GeoParquet the build
has just written and write the GeoJSON with the same function, so the same bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from placeintel.publish import geojson

#: At most this many worker processes at once (the build's own process keeps writing).
MAX_WORKERS = 2
#: The worker imports this very package (the folder it is in goes first on its path, whatever
#: the current directory holds), then runs geojson.main on the (GeoParquet, GeoJSON) pairs.
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from placeintel.publish.geojson import main; sys.exit(main(sys.argv[2:]))"
)
_ROOT = str(Path(geojson.__file__).resolve().parents[2])


def workers() -> int:
    """Worker processes for this machine: one per core, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def _run(jobs: Sequence[tuple[Path, Path, int]]) -> None:
    pairs = [str(p) for parquet, target, _ in jobs for p in (parquet, target)]
    done = subprocess.run(  # noqa: S603 - this interpreter, our own module, paths as arguments
        [sys.executable, "-c", _BOOT, _ROOT, *pairs],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        names = ", ".join(target.name for _, target, _ in jobs)
        raise RuntimeError(f"writing {names} failed: {detail}")


def start(pool: ThreadPoolExecutor, jobs: Sequence[tuple[Path, Path, int]]) -> list[Future]:
    """(GeoParquet, GeoJSON, rows) jobs shared among `workers()` processes, largest first to
    the least loaded; a thread of `pool` waits for each (waiting releases the GIL)."""
    shares: list[list[tuple[Path, Path, int]]] = [[] for _ in range(workers())]
    for job in sorted(jobs, key=lambda job: -job[2]):
        min(shares, key=lambda share: sum(rows for _, _, rows in share)).append(job)
    return [pool.submit(_run, share) for share in shares if share]
