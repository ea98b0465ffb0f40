"""Raster zonal statistics, exact at cell fractions (exactextract).

Why exactextract rather than rasterio's masks: a cell-centre mask drops cells
whose centre falls just outside a zone (undercounting small or thin areas),
and an all-touched mask counts border cells in both neighbours (double
counting). exactextract weights each cell by the fraction of it the polygon
covers, so zone totals add up to the raster total. Zones are independent, so
the engine may compute them in chunks (see placeintel.engine).

The statistics are computed by `placeintel.indicators.exact`, from rasters read
once into memory and zones handed over as WKB; wards and LSOAs can be summarised in
a second process while this one carries on (`in_background`).
"""

from __future__ import annotations

import functools
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from placeintel.engine import LOCAL
from placeintel.indicators import exact
from placeintel.indicators.collector import collector_paused
from placeintel.indicators.exact import Cells, Request, column, read_cells, statistics
from placeintel.sources.raster import RasterSource


@functools.lru_cache(maxsize=2)
def _cells(path: str, mtime_ns: int) -> Cells:
    """The raster at `path` as it was at `mtime_ns`, kept while the stage sums it several
    times (population and coverage, for wards, LSOAs and interpolation pieces);
    `forget_rasters` lets it go."""
    return read_cells(path)


def forget_rasters() -> None:
    """Drop the rasters kept in memory for zonal statistics (end of the indicator stage)."""
    _cells.cache_clear()


def _in_memory(path: str) -> Cells:
    return _cells(path, os.stat(path).st_mtime_ns)


def _zonal_chunk(zones: gpd.GeoDataFrame, requests: tuple[Request, ...]) -> pd.DataFrame:
    """Every requested statistic for one chunk of zones, in one exactextract pass."""
    if zones.empty:
        return _meta([column(i, statistic) for i, (_, statistic) in enumerate(requests)])
    srs = zones.crs.to_wkt() if zones.crs is not None else None
    with collector_paused():  # a few small objects per zone (see `exact.main`)
        found = statistics(
            [_in_memory(path) for path, _ in requests],
            requests,
            shapely.to_wkb(zones.geometry.to_numpy()),
            zones["_zone"].to_numpy().tolist(),
            srs,
        )
    return pd.DataFrame(found)


def _meta(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"_zone": pd.Series(dtype="int64"), **{c: pd.Series(dtype="float64") for c in columns}}
    )


def _grid(raster: RasterSource) -> tuple:
    """What decides the cells a zone covers: rasters with the same grid share one pass."""
    return (raster.crs, tuple(raster.resolution), tuple(raster.bounds))


def zonal_many(
    requests: list[tuple[RasterSource, str]], zones: gpd.GeoDataFrame, engine=LOCAL
) -> list[np.ndarray]:
    """Several exactextract statistics per zone ("sum", or "mean" weighted by covered
    fraction), one array per (raster, statistic) request, in request order.

    Requests on rasters with the same grid are answered in one pass over the zones:
    most of exactextract's time goes into each zone's cell coverage, which depends on
    the grid only, so a population sum and a coverage mean cost little more than one
    of them (national wards and LSOAs: 6.7 s CPU for two passes, 5.2 s for one
    combined), with the same numbers as separate passes.
    """
    if zones.empty:
        return [np.zeros(0) for _ in requests]
    groups: dict[tuple, list[int]] = {}
    for i, (raster, _) in enumerate(requests):
        groups.setdefault(_grid(raster), []).append(i)
    out: list[np.ndarray] = [np.zeros(0)] * len(requests)
    for members in groups.values():
        crs = requests[members[0]][0].crs
        frame = zones[["geometry"]].reset_index(drop=True).to_crs(crs)
        frame["_zone"] = np.arange(len(frame))
        asked = tuple((str(requests[m][0].path), requests[m][1]) for m in members)
        columns = [column(i, statistic) for i, (_, statistic) in enumerate(asked)]
        result = engine.apply(frame, partial(_zonal_chunk, requests=asked), _meta(columns))
        where = result["_zone"].to_numpy()
        for member, name in zip(members, columns, strict=True):
            values = np.full(len(frame), np.nan)
            values[where] = result[name].to_numpy()
            out[member] = values
    return out


def zonal(
    raster: RasterSource, zones: gpd.GeoDataFrame, statistic: str, engine=LOCAL
) -> np.ndarray:
    """One exactextract statistic ("sum", or "mean" weighted by covered fraction) per zone."""
    return zonal_many([(raster, statistic)], zones, engine)[0]


def zonal_sums(raster: RasterSource, zones: gpd.GeoDataFrame, engine=LOCAL) -> np.ndarray:
    """The raster total inside each zone, in zone order; zones the raster misses sum to 0."""
    return np.nan_to_num(zonal(raster, zones, "sum", engine))


@dataclass(frozen=True)
class KnownSums:
    """A raster's sums over some zones that the stage computes anyway (the 2021 LSOAs'
    population, by `LevelStatistics`), offered to a step that needs the sum over exactly
    the same zones: the areal interpolation, most of whose pieces are whole 2021 LSOAs
    (national: all 35,316, an exactextract pass of 3.5 s CPU not repeated). The same
    function on the same geometry in the same CRS over the same raster: the same sums.
    """

    path: str
    crs: object
    codes: pd.Index
    geometry: np.ndarray
    #: The sums in zone order; may wait for the second process.
    sums: Callable[[], np.ndarray]

    def known(
        self, raster: RasterSource, crs, codes: pd.Series, geometry: np.ndarray
    ) -> np.ndarray:
        """For each of these zones, its position among the known ones (-1: not known):
        known when it is the same raster and CRS, the same code and exactly the same
        geometry (coordinates compared, not shapes)."""
        out = np.full(len(codes), -1)
        if (
            str(raster.path) != self.path
            or crs is None
            or self.crs is None
            or not self.codes.is_unique
            or CRS.from_user_input(crs) != CRS.from_user_input(self.crs)
        ):
            return out
        at = self.codes.get_indexer(pd.Index(codes))
        found = np.flatnonzero(at >= 0)
        same = shapely.equals_exact(geometry[found], self.geometry[at[found]], tolerance=0)
        out[found[same]] = at[found[same]]
        return out


#: Zones (all levels together) from which a second process pays: below it, its start-up
#: (half a second) costs more than it saves.
BACKGROUND_ZONES = 5_000


class _Later:
    """Zonal statistics of several levels, computed by `exact.py` in a second process
    while this one carries on: exactextract holds the GIL, so threads would not help."""

    def __init__(self, requests: tuple[Request, ...], levels: list[gpd.GeoDataFrame]) -> None:
        self._sizes = [len(level) for level in levels]
        job = {"requests": list(requests), "levels": [_wkb(level) for level in levels]}
        self._process = subprocess.Popen(
            # -I: the script's own folder and PYTHON* settings stay off its path.
            [sys.executable, "-I", exact.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._pool = ThreadPoolExecutor(1)
        #: Why the process gave no answer (its exit and the first lines it wrote to
        #: stderr), once `result` has found that it failed.
        self.failure = ""
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self._answer: Future = self._pool.submit(self._process.communicate, payload)

    def result(self) -> list[list[np.ndarray]] | None:
        """Per level, one array per request in zone order; None if the process failed
        (the caller then computes them here, and meets any error itself), and then
        `failure` says how."""
        try:
            out, err = self._answer.result()
        finally:
            self._pool.shutdown()
        if self._process.returncode != 0:
            self.failure = _failure(self._process.returncode, err)
            return None
        answer = pickle.loads(out)
        results = []
        for size, found in zip(self._sizes, answer, strict=True):
            names = [name for name in found if name != "_zone"]
            level = []
            for name in names:
                values = np.full(size, np.nan)
                values[found["_zone"]] = found[name]
                level.append(values)
            results.append(level)
        return results

    def close(self) -> None:
        """Stop the process if its results are no longer wanted."""
        if self._process.poll() is None:
            self._process.kill()
        self._pool.shutdown()


#: How many of a failed process's stderr lines are shown, and how much of each.
FAILURE_LINES, FAILURE_WIDTH = 3, 200


def _failure(returncode: int, stderr: bytes) -> str:
    """A failed process's exit and what it wrote to stderr, on one line: its first
    lines, or for a Python traceback (whose first lines only say where it came from)
    its first line and the last ones, which name the error."""
    how = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    lines = [
        line.strip()[:FAILURE_WIDTH] for line in stderr.decode("utf-8", "replace").splitlines()
    ]
    lines = [line for line in lines if line]
    if len(lines) > FAILURE_LINES and lines[0].startswith("Traceback"):
        said = [lines[0], "...", *lines[-(FAILURE_LINES - 1) :]]
    else:
        said = lines[:FAILURE_LINES]
    return f"{how}: {' | '.join(said)}" if said else how


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _wkb(zones: gpd.GeoDataFrame) -> tuple[list[bytes], str | None]:
    return list(shapely.to_wkb(zones.geometry.to_numpy())), (
        zones.crs.to_wkt() if zones.crs is not None else None
    )


class LevelStatistics:
    """`zonal_many` for each of several levels (wards, LSOAs), started when made and
    given by `result()`, which waits for them.

    With the default engine, enough zones and rasters on one grid, they are computed in
    a second process while this one gets on with the rest of the stage: the same
    function on the same WKB and rasters, so the same numbers (national wards and
    LSOAs: about 6 s of exactextract taken off this process). Otherwise, or if that
    process fails, they are computed here when asked for.
    """

    def __init__(
        self,
        requests: list[tuple[RasterSource, str]],
        levels: list[gpd.GeoDataFrame],
        engine=LOCAL,
        background_from: int = BACKGROUND_ZONES,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        """`echo` hears, in one progress line, that the second process failed and the
        statistics are computed here instead (default: this process's stderr)."""
        self._requests, self._levels, self._engine = requests, levels, engine
        self._echo = echo or _to_stderr
        self._later: _Later | None = None
        self._result: list[list[np.ndarray]] | None = None
        if (
            requests
            and getattr(engine, "name", "") == "default"
            and sum(len(level) for level in levels) >= background_from
            and len({_grid(raster) for raster, _ in requests}) == 1
        ):
            crs = requests[0][0].crs
            shaped = [level.to_crs(crs) for level in levels if not level.empty]
            asked = tuple((str(raster.path), statistic) for raster, statistic in requests)
            try:
                self._later = _Later(asked, shaped)
            except OSError as error:  # no interpreter to start (an embedded Python)
                self._echo(
                    "  raster summaries: no second process could start "
                    f"({error.strerror or error}); computing them in this one"
                )
                self._later = None

    def result(self) -> list[list[np.ndarray]]:
        """Per level, one array per request, in zone order (computed once, however often
        asked: the interpolation asks for the LSOAs' population before the stage does)."""
        if self._result is None:
            self._result = self._compute()
        return self._result

    def _compute(self) -> list[list[np.ndarray]]:
        found = self._later.result() if self._later is not None else None
        if found is None and self._later is not None:
            self._echo(
                f"  raster summaries: the second process failed ({self._later.failure}); "
                "computing them in this one"
            )
        if found is None:
            return [zonal_many(self._requests, level, self._engine) for level in self._levels]
        answers = iter(found)
        return [
            [np.zeros(0) for _ in self._requests] if level.empty else next(answers)
            for level in self._levels
        ]

    def close(self) -> None:
        if self._later is not None:
            self._later.close()
