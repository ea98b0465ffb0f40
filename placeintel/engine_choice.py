"""Which engine a build runs its heavy work on when it chooses for itself (`--engine auto`).

The choice is a prediction from measurements, not a guess: `python -m benchmarks
dask_scaling` timed stage 2's engine operations (zonal statistics, the LSOA 2011x2021
overlay, nearest-service distances) on both engines at three sizes, and the costs grow
in proportion to the region's LSOAs. Per LSOA, in CPU seconds (which, unlike wall time,
a shared machine does not inflate):

- in-process, the part that holds the GIL (exactextract) runs on one core and the rest
  (GEOS intersections on threads, the KD-tree query) on every core;
- on Dask, the build's own process still splits, sends and gathers every chunk, while the
  workers share the chunks' work; and a cluster costs seconds to start (and its workers to
  import the libraries) before any of that.

So for L LSOAs, C local cores and N workers:

    in-process   L * (held + spread / C)
    Dask         start + L * (client + work / N)

and Dask is chosen only where it is predicted to be faster. The constants are in
`benchmarks/README.md` (dask_scaling) with the runs they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Measured at national size (35,316 LSOAs) on 2026-11-22 by `benchmarks dask_scaling`, in
# CPU seconds (benchmarks/README.md, "dask_scaling"); gm and gm-x4 agree within ~2x.

#: In-process CPU seconds per LSOA of stage 2's engine operations that hold the GIL
#: (exactextract's zonal statistics: 15.2 s) and that spread over every core (the
#: overlay's GEOS intersections on threads, 8.1 s, and the KD-tree query, 6.5 s).
HELD_PER_LSOA = 4.3e-4
SPREAD_PER_LSOA = 4.1e-4
#: Dask: CPU seconds per LSOA in the build's own process (splitting, pickling, sending and
#: gathering the chunks: 5.1-5.9 s) and in the workers (the chunks' work, 29.2 s), which
#: the workers share.
CLIENT_PER_LSOA = 1.5e-4
WORK_PER_LSOA = 8.3e-4
#: CPU seconds each worker spends whatever its share (its own copy of the rasters, its
#: own spatial indexes): one worker used 34.0 s, two 38.8 s, four 49.4 s.
WORKER_SETUP_CPU_S = 4.8
#: Seconds to start a LocalCluster's processes, and CPU seconds for a worker to import
#: the chunk modules (placeintel pulls in geopandas, exactextract, scipy, ...): workers
#: import side by side, as many at once as there are cores.
CLUSTER_START_S = 1.5
WORKER_IMPORT_CPU_S = 4.6
#: Seconds to connect to a running scheduler.
CONNECT_S = 0.5


def start_seconds(cores: int, workers: int, *, remote: bool) -> float:
    """Seconds of Dask's fixed costs: processes, every worker's imports and set-up (side
    by side, as many at once as there are cores)."""
    rounds = 1 if remote else workers / max(1, min(workers, cores))
    return (CONNECT_S if remote else CLUSTER_START_S) + rounds * (
        WORKER_IMPORT_CPU_S + WORKER_SETUP_CPU_S
    )


@dataclass(frozen=True)
class Choice:
    """The engine picked, and why, in words the build prints."""

    engine: str
    reason: str


def region_lsoas(data: Any) -> int:
    """The 2021 LSOAs the heavy work runs over (the region's and the nation base's); a
    region without LSOA boundaries counts its wards."""
    total = 0
    for part in (data, getattr(data, "nation", None)):
        if part is None:
            continue
        areas = part.one("lsoa21")
        if areas is None:
            areas = part.one("wards")
        total += len(areas) if areas is not None else 0
    return total


def predicted(lsoas: int, cores: int, workers: int, *, remote: bool) -> tuple[float, float]:
    """Seconds of the engine operations in-process and on Dask (`workers` workers)."""
    here = lsoas * (HELD_PER_LSOA + SPREAD_PER_LSOA / max(1, cores))
    start = start_seconds(cores, workers, remote=remote)
    dask = start + lsoas * (CLIENT_PER_LSOA + WORK_PER_LSOA / _sharing(cores, workers, remote))
    return here, dask


def _sharing(cores: int, workers: int, remote: bool) -> int:
    """How many workers' work runs at once: a local cluster has no more than its cores."""
    return max(1, workers if remote else min(workers, cores))


def break_even(cores: int, workers: int, *, remote: bool) -> float | None:
    """The LSOA count from which Dask is predicted to win, or None where it never does."""
    saved = (HELD_PER_LSOA + SPREAD_PER_LSOA / max(1, cores)) - (
        CLIENT_PER_LSOA + WORK_PER_LSOA / _sharing(cores, workers, remote)
    )
    if saved <= 0:
        return None
    return start_seconds(cores, workers, remote=remote) / saved


def choose(lsoas: int, cores: int, workers: int | None = None, *, remote: bool = False) -> Choice:
    """Dask where it is predicted to finish the heavy work sooner, else in-process.

    `workers` is a running cluster's (`remote`) or, by default, one per local core.
    """
    workers = workers or cores
    here, dask = predicted(lsoas, cores, workers, remote=remote)
    plural = "s" if (workers if remote else cores) != 1 else ""
    where = f"a cluster of {workers} worker{plural}" if remote else f"{cores} local core{plural}"
    threshold = break_even(cores, workers, remote=remote)
    from_ = (
        f"Dask pays off from about {threshold:,.0f} LSOAs"
        if threshold is not None
        else "Dask never pays off here"
    )
    engine = "dask" if dask < here else "default"
    return Choice(
        engine,
        f"auto: {lsoas:,} LSOAs on {where}: predicted {here:.1f}s in-process, "
        f"{dask:.1f}s on Dask; {from_}",
    )
