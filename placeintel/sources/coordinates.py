"""Coordinates that cannot be places: not numbers, or outside their CRS's valid range.

A NaN, an infinity or a 1e308 in one feature used to be taken as evidence that a
whole file was in metres; each is a mistake in one row, and the row is what a
user must fix. So every coordinate is judged on its own, against its CRS's own
valid range (pyproj's area of use for a projected CRS), and the "look like
metres" diagnosis is kept for coordinates that really are plausible British
National Grid metres in a file that declares degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from placeintel.errors import DataError

#: The diagnosis of a point in degrees' clothing; `vector` names the file's CRS when every
#: bad point has it.
METRES = "coordinates look like British National Grid metres"
#: Findings listed per rule: a file wrong on every row would otherwise drown the report.
MAX_ROWS = 20
BNG = CRS.from_epsg(27700)
#: A projected CRS's area of use is where it is accurate, not where it ends; a margin
#: (this share of the area's width and height) keeps honest data near its edge valid.
_MARGIN = 0.1
#: Features whose coordinates are checked at once.
_CHUNK = 20_000


@dataclass(frozen=True)
class Axis:
    """One coordinate axis: its name in messages and its valid range."""

    name: str
    low: float
    high: float
    #: What the range is called: "longitude", "British National Grid eastings".
    range_name: str

    def problem(self, value: float) -> str:
        """Why `value` cannot be a coordinate on this axis, or "" when it can."""
        if np.isnan(value):
            return f"{self.name} is not a number (NaN)"
        if np.isinf(value):
            return f"{self.name} is not a finite number ({value})"
        if not self.low <= value <= self.high:
            return (
                f"{self.name} {value:g} is outside the valid range of {self.range_name} "
                f"({self.low:,.0f} to {self.high:,.0f})"
            )
        return ""


@cache
def axes(crs: CRS) -> tuple[Axis, Axis]:
    """The two axes of a CRS (x first, as placeintel always orders them) and their ranges."""
    if crs.is_geographic:
        return Axis("longitude", -180, 180, "longitude"), Axis("latitude", -90, 90, "latitude")
    if crs.equals(BNG):
        names = ("easting", "northing")
        ranges = ("British National Grid eastings", "British National Grid northings")
    else:
        names = ("x", "y")
        ranges = (f"{crs.name} x coordinates", f"{crs.name} y coordinates")
    bounds = _projected_area_of_use(crs)
    if bounds is None:
        return (
            Axis(names[0], -np.inf, np.inf, ranges[0]),
            Axis(names[1], -np.inf, np.inf, ranges[1]),
        )
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * _MARGIN, (maxy - miny) * _MARGIN
    # Whole kilometres, so that a message quotes a range a person can read.
    return (
        Axis(names[0], _km(minx - dx, np.floor), _km(maxx + dx, np.ceil), ranges[0]),
        Axis(names[1], _km(miny - dy, np.floor), _km(maxy + dy, np.ceil), ranges[1]),
    )


def _km(value: float, rounding) -> float:
    return float(rounding(value / 1000) * 1000)


def _projected_area_of_use(crs: CRS) -> tuple[float, float, float, float] | None:
    area = crs.area_of_use
    if area is None:
        return None
    try:
        to_crs = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
        bounds = to_crs.transform_bounds(*area.bounds, densify_pts=21)
    except ProjError:
        return None
    return bounds if np.isfinite(bounds).all() else None


def looks_like_bng(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points that are not degrees but would be in the UK as British National Grid metres.

    Both values must be out of degrees' range: one wrong longitude beside a good
    latitude is a typing error in one cell, not a file in metres.
    """
    east, north = axes(BNG)
    with np.errstate(invalid="ignore"):
        return (
            (np.abs(x) > 180)
            & (np.abs(y) > 90)
            & (x >= east.low)
            & (x <= east.high)
            & (y >= north.low)
            & (y <= north.high)
        )


#: (row, field, why): one coordinate problem, located as a finding is.
Problem = tuple[int, str, str]


def point_problems(x: pd.Series, y: pd.Series, crs: CRS, fields: tuple[str, str]) -> list[Problem]:
    """Each point (rows are the series' index) that cannot be a place, and why.

    The values come from a table, where NaN is a blank or suppressed cell: "missing".
    """
    east, north = axes(crs)
    flagged = ~(x.between(east.low, east.high) & y.between(north.low, north.high))
    found = []
    for row in flagged.index[flagged.to_numpy()]:
        a, b = float(x[row]), float(y[row])
        if np.isnan(a) or np.isnan(b):
            field, name = (fields[0], east.name) if np.isnan(a) else (fields[1], north.name)
            found.append((int(row), field, f"{name} is missing"))
        else:
            field = fields[0] if east.problem(a) else fields[1]
            found.append((int(row), field, _problem(east, north, a, b, crs)))
    return found


def feature_problems(geometry: gpd.GeoSeries, crs: CRS) -> list[Problem]:
    """Each feature (rows are the series' index) with a coordinate that cannot be a place.

    Coordinates are checked vectorised, a chunk of features at a time (a national
    output-area file has tens of millions of vertices); only bad ones are examined one
    by one, and each feature is named once, for its first bad coordinate.
    """
    east, north = axes(crs)
    geoms = geometry.to_numpy()
    found: dict[int, str] = {}
    for start in range(0, len(geoms), _CHUNK):
        coords, position = shapely.get_coordinates(geoms[start : start + _CHUNK], return_index=True)
        x, y = coords[:, 0], coords[:, 1]
        with np.errstate(invalid="ignore"):  # NaN fails every comparison, so it is caught too
            bad = ~((x >= east.low) & (x <= east.high) & (y >= north.low) & (y <= north.high))
        for i in np.flatnonzero(bad):
            row = int(geometry.index[start + position[i]])
            if row not in found:
                found[row] = _problem(east, north, float(x[i]), float(y[i]), crs)
    return [(row, "geometry", message) for row, message in found.items()]


def _problem(east: Axis, north: Axis, x: float, y: float, crs: CRS) -> str:
    if crs.is_geographic and looks_like_bng(np.array([x]), np.array([y]))[0]:
        return f"{METRES} ({x:g}, {y:g}), not degrees"
    return "; ".join(m for m in (east.problem(x), north.problem(y)) if m)


def refuse_problems(problems: list[Problem], file: Path | str) -> None:
    """Stop with one error per bad row (the first MAX_ROWS), each naming its row and field."""
    if not problems:
        return
    errors = [
        DataError(
            message,
            file=file,
            row=row,
            field=field,
            hint=_hint(message),
            rule="invalid-coordinate",
        )
        for row, field, message in problems[:MAX_ROWS]
    ]
    if len(problems) > MAX_ROWS:
        errors.append(
            DataError(
                f"{len(problems) - MAX_ROWS} more rows with invalid coordinates",
                file=file,
                field=problems[0][1],
                rule="invalid-coordinate",
            )
        )
    first, *more = errors
    first.more = tuple(more)
    raise first


def _hint(message: str) -> str:
    if message.startswith(METRES):
        return (
            "British National Grid coordinates need EPSG:27700 declared (in a table: "
            "easting and northing columns)"
        )
    return (
        "a coordinate must be a finite number inside its CRS's valid range; a blank, NaN, "
        "infinity or 1e308 is a typing or export error"
    )
