"""Where the heavy stages run: in this process (the default) or on Dask.

The heavy work is independent per chunk of polygons or points — raster sums per
zone, the LSOA x ward overlay per source LSOA, nearest-service distances per
population point — so both engines run the same function over row chunks and
put the results back in row order. The numbers are therefore identical whichever
engine ran them; Dask only decides where and in parallel.

The Dask engine sends the chunks to the workers of a `distributed` cluster: a
LocalCluster on this machine when no scheduler is given, or the cluster at
`--scheduler tcp://HOST:PORT`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

#: A chunk is rows of a GeoDataFrame, or of a plain DataFrame when no geometry is needed.
Chunk = Callable[[pd.DataFrame], pd.DataFrame]


class LocalEngine:
    """Everything in this process: in one chunk, or in one chunk per core on threads when
    the chunk's work releases the GIL (shapely's set operations do)."""

    name = "default"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 1

    def apply(
        self, frame: pd.DataFrame, func: Chunk, meta: pd.DataFrame, *, releases_gil: bool = False
    ) -> pd.DataFrame:
        if not releases_gil or self.threads < 2 or len(frame) < 2 * self.threads:
            return func(frame)
        cuts = np.linspace(0, len(frame), self.threads + 1).astype(int)
        chunks = [frame.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        with ThreadPoolExecutor(self.threads) as pool:
            return pd.concat(list(pool.map(func, chunks)))  # rows stay in order

    def close(self) -> None:
        return None


class DaskEngine:
    """Row chunks on a distributed cluster (local unless a scheduler is given)."""

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        partitions: int | None = None,
        workers: int | None = None,
    ) -> None:
        """`workers` sizes the local cluster (one single-threaded process each; default one
        per core); a scheduler's cluster keeps the workers it has."""
        from distributed import Client, LocalCluster

        if scheduler:
            self.client = Client(scheduler)
            self._cluster = None
        else:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.partitions = partitions or 4 * self.workers
        # Each worker imports the chunk functions' modules (geopandas, exactextract, ...)
        # now, all at once, rather than inside the first stage that reaches it: measured
        # as start-up, not as that stage's work.
        self.client.run(importlib.import_module, "placeintel.indicators")

    def apply(
        self, frame: pd.DataFrame, func: Chunk, meta: pd.DataFrame, *, releases_gil: bool = False
    ) -> pd.DataFrame:
        """Chunks on the cluster's workers, results in row order (`releases_gil` is for the
        local engine).

        The function goes to each worker once (`scatter(broadcast=True)`) and the row
        chunks once each, then one task per chunk. Through dask-geopandas' `map_partitions`
        the function, and the whole frame bound into it (the overlay's 35,316 target
        LSOAs), was serialised into every task and unpickled by each, so the overlay's
        spatial index was rebuilt per chunk: at GM's size the overlay took 5.6 s on one
        worker against 0.5 s in-process. Held once per worker, the bound objects keep
        what they cache (a GeoDataFrame's `sindex`) from one chunk to the next.
        """
        if frame.empty:
            return func(frame)
        parts = min(self.partitions, len(frame))
        cuts = np.linspace(0, len(frame), parts + 1).astype(int)
        chunks = [frame.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        shared = self.client.scatter(func, broadcast=True, hash=False)
        placed = self.client.scatter(chunks, hash=False)
        futures = self.client.map(_call, [shared] * len(placed), placed, pure=False)
        try:
            return pd.concat(self.client.gather(futures))  # rows stay in order
        finally:
            self.client.cancel([*futures, *placed, shared])

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _call(func: Chunk, chunk: pd.DataFrame) -> pd.DataFrame:
    """One chunk's work on a worker (a module-level function, so that it pickles by name)."""
    return func(chunk)


def make_engine(
    name: str = "default",
    scheduler: str | None = None,
    data: Any = None,
    echo: Callable[[str], None] | None = None,
) -> Any:
    """The engine `name` asks for; `auto` picks one for the region in `data` (its LSOA
    count against the measured break-even, see `placeintel.engine_choice`) and tells
    `echo` which and why."""
    if name == "dask":
        return DaskEngine(scheduler)
    if name != "auto":
        return LocalEngine()
    from placeintel.engine_choice import choose, region_lsoas

    lsoas = region_lsoas(data) if data is not None else 0
    cores = os.cpu_count() or 1
    cluster = DaskEngine(scheduler) if scheduler else None  # a running cluster: count it
    choice = choose(lsoas, cores, cluster.workers if cluster else None, remote=cluster is not None)
    if echo is not None:
        echo(f"  engine: {choice.engine} ({choice.reason})")
    if choice.engine == "dask":
        return cluster or DaskEngine()
    if cluster is not None:
        cluster.close()
    return LocalEngine()


LOCAL = LocalEngine()
