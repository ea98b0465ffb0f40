"""Where the heavy stages run: in this process (the default) or on Dask.

The heavy work is independent per chunk of polygons or points — raster sums per
zone, the LSOA x ward overlay per source LSOA, nearest-service distances per
population point — so both engines run the same function over row chunks and
put the results back in row order. The numbers are therefore identical whichever
engine ran them; Dask only decides where and in parallel.

The Dask engine uses dask-geopandas partitions on a `distributed` cluster: a
LocalCluster on this machine when no scheduler is given, or the cluster at
`--scheduler tcp://HOST:PORT`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
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
    """dask-geopandas partitions on a distributed cluster (local unless a scheduler is given)."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, partitions: int | None = None) -> None:
        from distributed import Client, LocalCluster

        if scheduler:
            self.client = Client(scheduler)
            self._cluster = None
        else:
            self._cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self._cluster)
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.partitions = partitions or 4 * workers

    def apply(
        self, frame: pd.DataFrame, func: Chunk, meta: pd.DataFrame, *, releases_gil: bool = False
    ) -> pd.DataFrame:
        """Chunks on the cluster's workers (`releases_gil` is for the local engine)."""
        import dask.dataframe
        import dask_geopandas

        if frame.empty:
            return func(frame)
        partitions = min(self.partitions, len(frame))
        if isinstance(frame, gpd.GeoDataFrame):
            chunks = dask_geopandas.from_geopandas(frame, npartitions=partitions)
        else:  # plain columns (points as x and y): no geometry to partition
            chunks = dask.dataframe.from_pandas(frame, npartitions=partitions)
        return chunks.map_partitions(func, meta=meta).compute()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(name: str = "default", scheduler: str | None = None) -> Any:
    return DaskEngine(scheduler) if name == "dask" else LocalEngine()


LOCAL = LocalEngine()
