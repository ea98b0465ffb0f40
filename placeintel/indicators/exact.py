"""exactextract fed from memory: the zonal statistics themselves, importable on their own.

This module imports numpy, rasterio and exactextract only (pandas when a pass runs,
for exactextract's output), never the rest of placeintel, so that it can also run
as a small script in a second process (`python exact.py`, see `zonal.in_background`)
that starts in half a second rather than the several that importing
`placeintel.indicators` (geopandas, shapely, pandas, scipy) takes.
Both ways run the same functions on the same inputs, so the numbers are the same.

What exactextract is fed, and why: its stock inputs cost more in Python than its
C++ spends summing. A GeoDataFrame goes through `iterfeatures` and a GeoJSON
string per zone, and a file path through a rasterio read (a masked array) per
zone's window. Here the raster is read once into memory, with the same extent,
values and nodata mask, and served by exactextract's own NumPyRasterSource; the
zones are handed over as WKB, which carries the same doubles GeoJSON would (both
are exact), so the statistics are the same, computed the same way.
"""

from __future__ import annotations

import gc
import pickle
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource
from exactextract.writer import Writer
from rasterio.enums import MaskFlags

#: One statistic of one raster: (the raster's path, "sum" or "mean").
Request = tuple[str, str]


class _Zone(Feature):
    """One zone for exactextract: its WKB and its position in the zone frame."""

    def __init__(self, wkb: bytes, zone: int) -> None:
        Feature.__init__(self)
        self._wkb = wkb
        self._zone = zone

    def geometry(self) -> bytes:
        return self._wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def get(self, name: str) -> int:
        if name != "_zone":
            raise KeyError(name)
        return self._zone

    def fields(self) -> list[str]:
        return ["_zone"]


class Zones(FeatureSource):
    """Zones as WKB (converted by the caller in one vectorised call, not per zone as
    GeoJSON), each with its position."""

    def __init__(self, wkb: Sequence[bytes], zones: Sequence[int], srs_wkt: str | None) -> None:
        super().__init__()
        self._wkb = wkb
        self._zones = list(zones)
        self._srs_wkt = srs_wkt

    def count(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[_Zone]:
        for wkb, zone in zip(self._wkb, self._zones, strict=True):
            yield _Zone(wkb, zone)

    def srs_wkt(self) -> str | None:
        return self._srs_wkt


class _Row(Feature):
    """One zone's results as exactextract's writers are handed them (`copy_to`)."""

    def __init__(self) -> None:
        Feature.__init__(self)
        self.values: dict[str, object] = {}

    def set(self, name: str, value: object) -> None:
        self.values[name] = value

    def set_geometry(self, geometry: object) -> None:
        """No geometry is asked for; exactextract calls this all the same."""

    def get(self, name: str) -> object:
        return self.values[name]

    def fields(self) -> list[str]:
        return list(self.values)


class _Columns(Writer):
    """exactextract's results as one list per field, in zone order.

    Its PandasWriter builds a GeoJSON-like dict (a JSONFeature) for every zone, then a
    frame: at national scale that Python work was about 1.1 s of the second process's
    6-7 s CPU. Here each zone's values go straight into lists, through one reused row;
    a field a zone lacks is None (NaN in a float array), as the PandasWriter leaves it.
    """

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.columns: dict[str, list] = {name: [] for name in names}
        self._row = _Row()

    def add_operation(self, op: object) -> None:
        """Fields are named by the caller."""

    def add_column(self, name: str) -> None:
        """Fields are named by the caller."""

    def add_geometry(self) -> None:
        """No geometry is asked for."""

    def write(self, feature) -> None:
        row = self._row
        row.values.clear()
        feature.copy_to(row)
        for name, values in self.columns.items():
            values.append(row.values.get(name))

    def features(self) -> dict[str, list]:
        return self.columns


@dataclass(frozen=True)
class Cells:
    """A raster's first band in memory, with what exactextract needs to place it."""

    cells: np.ndarray
    bounds: tuple[float, float, float, float]
    nodata: float | int | None
    wkt: str | None

    def source(self, name: str) -> NumPyRasterSource:
        """The cells as an exactextract raster called `name` (its results' column prefix);
        the array is shared, not copied."""
        left, bottom, right, top = self.bounds
        return NumPyRasterSource(
            self.cells, left, bottom, right, top, nodata=self.nodata, srs_wkt=self.wkt, name=name
        )


def read_cells(path: str) -> Cells:
    """The whole first band, masked where it is nodata, on the file's own extent: what
    exactextract's rasterio source reads window by window, read in one go."""
    with rasterio.open(path) as dataset:
        if dataset.scales[0] != 1.0 or dataset.offsets[0] != 0.0:
            raise ValueError(f"{path}: scaled rasters are not supported")
        cells = dataset.read(1)
        if not _none_masked(dataset, cells):
            cells = dataset.read(1, masked=True)
        bounds = tuple(dataset.bounds)
        nodata = dataset.nodata
        if nodata is not None and not dataset.dtypes[0].startswith("float"):
            nodata = int(nodata)
        wkt = dataset.crs.wkt if dataset.crs else None
    if np.ma.isMaskedArray(cells) and not np.ma.is_masked(cells):
        cells = cells.data  # nothing masked: exactextract reads a plain array the same way
    return Cells(cells, bounds, nodata, wkt)


#: How near nodata (relative) a cell may be and still be taken for a value without
#: asking GDAL: GDAL's own test for float nodata allows a few units in the last place
#: (about 5e-7 relative for float32), so a cell further than this is never masked.
NEAR_NODATA = 1e-6


def _none_masked(dataset: rasterio.DatasetReader, cells: np.ndarray) -> bool:
    """Whether GDAL would mask none of these cells, when that is plain from the cells:
    a band with no mask, or one masked by its nodata value where no cell is near it.

    A masked read (rasterio's `masked=True`) has GDAL read the band a second time to
    make its mask, which on the national synthetic rasters (no nodata cell) doubled
    the read (0.25 s to 0.55 s CPU each). Anything else (an alpha band, a mask of the
    file's own, cells at or near nodata) is read masked, exactly as before."""
    flags = set(dataset.mask_flag_enums[0])
    if flags == {MaskFlags.all_valid}:
        return True
    nodata = dataset.nodata
    if flags != {MaskFlags.nodata} or nodata is None:
        return False
    if np.isnan(nodata):
        return not np.isnan(cells).any()
    if np.isinf(nodata):
        return False
    near = NEAR_NODATA * max(1.0, abs(float(nodata)))
    # Two comparisons with bounds: no float64 copy of the band (national: 123 MB).
    return not bool(((cells >= nodata - near) & (cells <= nodata + near)).any())


def column(position: int, statistic: str) -> str:
    """The name of the `position`-th request's results."""
    return f"r{position}_{statistic}"


def statistics(
    rasters: Sequence[Cells],
    requests: Sequence[Request],
    wkb: Sequence[bytes],
    zones: Sequence[int],
    srs_wkt: str | None,
) -> dict[str, np.ndarray]:
    """Every requested statistic (`rasters[i]` is request i's raster, all on one grid)
    for these zones, in one exactextract pass: "_zone" and one column per request."""
    sources = [cells.source(f"r{i}") for i, cells in enumerate(rasters)]
    asked = list(dict.fromkeys(statistic for _, statistic in requests))
    # With several rasters, exactextract computes every statistic of every raster: the
    # ones not asked for are dropped, and cost little beside the cells' coverage, which
    # is computed once per zone for all of them.
    names = [column(i, statistic) for i, (_, statistic) in enumerate(requests)]
    # One raster's results are named by the statistic alone.
    fields = [asked[0]] if len(sources) == 1 else names
    writer = _Columns(["_zone", *fields])
    exact_extract(sources, Zones(wkb, zones, srs_wkt), asked, include_cols=["_zone"], output=writer)
    found = writer.features()
    out = {"_zone": np.array(found["_zone"], dtype="int64")}
    for name, field in zip(names, fields, strict=True):
        out[name] = np.array(found[field], dtype="float64")
    return out


def main() -> None:
    """The second process: read a pickled job from stdin, write the results to stdout.

    The job is {"requests": [(path, statistic), ...], "levels": [(wkb, srs_wkt), ...]};
    the answer is, per level, the statistics' columns (`statistics`), zone order.
    Rasters are read once for all levels.
    """
    # The collector paused for the whole (short) process: exactextract's results come
    # back as a few small Python objects per zone, 42k zones at national scale, which
    # would set off collections over everything the process holds, to free nothing.
    gc.disable()
    job = pickle.load(sys.stdin.buffer)
    requests = job["requests"]
    read = {path: read_cells(path) for path in dict.fromkeys(path for path, _ in requests)}
    rasters = [read[path] for path, _ in requests]
    answer = [
        statistics(rasters, requests, wkb, range(len(wkb)), srs) for wkb, srs in job["levels"]
    ]
    pickle.dump(answer, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
