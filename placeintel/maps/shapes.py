"""The map's geometry: what depends on the areas' shapes and district codes only.

A map's areas (simplified along shared borders, in CRS84, snapped to the page's precision
and written as GeoJSON), its districts (the union of their wards), the districts' outline
and the points their names may go at are the same whatever the index says. Nationally
they are a third of the map's work (GEOS and PROJ: 7,047 wards, 35,316 LSOAs, 324
districts), so the build makes them (`prepare`) in a thread while it computes the index
and the hot spots, whose cores are not all busy, instead of on its critical path beside
publishing (`placeintel.pipeline`).

`MapShapes` records the very geometry objects (and district codes and names) it was made
from: `map_data` uses a part only for the same objects in the same order, and makes it
itself otherwise, so a map drawn from other frames (a district's page, a release read
back, a notebook) can never get another area's shapes.
"""

from __future__ import annotations

import json
import operator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Threads for the map's GEOS work (shapely lets go of Python's lock while GEOS works).
_THREADS = 2


def simplify_coverage(frame: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    """Simplify shared borders once, so neighbours still meet exactly (shapely coverage)."""
    out = frame.copy()
    out["geometry"] = shapely.coverage_simplify(out.geometry.to_numpy(), tolerance)
    return out


def tolerance_for(wards: gpd.GeoDataFrame) -> float:
    """Metres of simplification: fine for a borough, coarser for a national map."""
    return 15.0 if len(wards) <= 500 else 40.0 if len(wards) <= 3000 else 80.0


def districts_of(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """District outlines, as the union of their wards: every release can draw them."""
    return wards.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]


def area_shapes(
    frame: gpd.GeoDataFrame, tolerance: float, label_points: bool = False
) -> tuple[np.ndarray | None, list[str | None]]:
    """Areas' shapes simplified and in CRS84: each one's GeoJSON at the page's precision
    and, if asked for, a point on it (where the page writes a ward's name).

    Only GEOS and PROJ work, which lets go of Python's lock: `map_data` runs it in threads
    beside its Python work on the areas' numbers, and snaps the shapes to the precision in
    parts, one per core (each shape is snapped on its own, so the result is the same)."""
    shapes = simplify_coverage(frame, tolerance).to_crs("OGC:CRS84")
    parts = np.array_split(shapes.geometry.to_numpy(), _THREADS) if len(shapes) else []
    with ThreadPoolExecutor(_THREADS) as pool:
        snapped = list(pool.map(lambda part: shapely.set_precision(part, 1e-5), parts))
    geometry = np.concatenate(snapped) if snapped else shapes.geometry.to_numpy()
    # geopandas' representative_point, without a GeoSeries around it.
    points = shapely.point_on_surface(shapes.geometry.to_numpy()) if label_points else None
    return points, shapely.to_geojson(geometry).tolist()


def district_outline(districts: gpd.GeoDataFrame, tolerance: float) -> dict[str, Any]:
    """The districts' outlines as the page draws them: simplified, CRS84, GeoJSON."""
    simple = simplify_coverage(districts[["lad_name", "geometry"]], tolerance)
    return json.loads(simple.to_crs("OGC:CRS84").to_json(drop_id=True))


def same_geometry(made_from: np.ndarray, frame: gpd.GeoDataFrame) -> bool:
    """Whether `frame`'s geometry is the very objects `made_from` holds, in the same order
    (identity, not equality: a test of each object's coordinates would cost what it saves)."""
    geometry = frame.geometry.to_numpy()
    return len(geometry) == len(made_from) and all(
        map(operator.is_, np.asarray(geometry, dtype=object), made_from)
    )


@dataclass(frozen=True)
class AreaShapes:
    """`area_shapes` of a frame, with the geometry objects and tolerance it was made from
    (only the GeoJSON text and label points are kept: the simplified shapes themselves
    would add their size to the build's peak, when publishing)."""

    made_from: np.ndarray
    tolerance: float
    points: np.ndarray | None
    geojson: list[str | None]

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame, tolerance: float, label_points: bool) -> AreaShapes:
        # Geometry only: the page takes names and numbers from the frame it draws, never
        # from one made earlier.
        points, geojson = area_shapes(
            gpd.GeoDataFrame(geometry=frame.geometry.array, index=frame.index),
            tolerance,
            label_points,
        )
        return cls(
            np.asarray(frame.geometry.to_numpy(), dtype=object).copy(), tolerance, points, geojson
        )

    def fits(self, frame: gpd.GeoDataFrame, tolerance: float) -> bool:
        return tolerance == self.tolerance and same_geometry(self.made_from, frame)


@dataclass(frozen=True)
class DistrictShapes:
    """`districts_of` some wards, their outline on the page, and the geometry-only parts of
    where their names may go (`risk_map._label_candidates`), with what they were made from."""

    made_from: np.ndarray
    codes: pd.Series
    names: pd.Series
    outline_tolerance: float
    districts: gpd.GeoDataFrame
    outline: dict[str, Any]
    #: A point on each ward's surface; a point on each district's, and each one's centroid.
    ward_points: np.ndarray
    own_points: np.ndarray
    middles: np.ndarray

    @classmethod
    def of(cls, wards: gpd.GeoDataFrame, outline_tolerance: float) -> DistrictShapes:
        districts = districts_of(wards)
        shapes = districts.geometry.to_numpy()
        return cls(
            np.asarray(wards.geometry.to_numpy(), dtype=object).copy(),
            wards["lad_code"].reset_index(drop=True).copy(),
            wards["lad_name"].reset_index(drop=True).copy(),
            outline_tolerance,
            districts,
            district_outline(districts, outline_tolerance),
            shapely.point_on_surface(wards.geometry.to_numpy()),
            shapely.point_on_surface(shapes),
            shapely.centroid(shapes),
        )

    def fits(self, wards: gpd.GeoDataFrame) -> bool:
        return (
            same_geometry(self.made_from, wards)
            and self.codes.equals(wards["lad_code"].reset_index(drop=True))
            and self.names.equals(wards["lad_name"].reset_index(drop=True))
        )


@dataclass(frozen=True)
class MapShapes:
    """The geometry-only parts of a region's map (see the module's docstring)."""

    wards: AreaShapes
    lsoas: AreaShapes | None
    districts: DistrictShapes

    def ward_shapes(self, wards: gpd.GeoDataFrame) -> AreaShapes | None:
        """The wards' shapes, if made from `wards`' own geometry."""
        return self.wards if self.wards.fits(wards, tolerance_for(wards)) else None

    def lsoa_shapes(self, lsoas: gpd.GeoDataFrame) -> AreaShapes | None:
        """The LSOAs' shapes, if made from `lsoas`' own geometry."""
        fits = self.lsoas is not None and self.lsoas.fits(lsoas, tolerance_for(lsoas) / 2)
        return self.lsoas if fits else None

    def district_shapes(self, wards: gpd.GeoDataFrame) -> DistrictShapes | None:
        """The districts of `wards`, if made from their geometry, codes and names."""
        fits = self.districts.fits(wards)
        return self.districts if fits else None


def prepare(wards: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame | None = None) -> MapShapes:
    """The geometry-only parts of the map of `wards` (and `lsoas`), as `map_data` makes them."""
    tolerance = tolerance_for(wards)
    return MapShapes(
        AreaShapes.of(wards, tolerance, label_points=True),
        AreaShapes.of(lsoas, tolerance_for(lsoas) / 2, label_points=False)
        if lsoas is not None
        else None,
        DistrictShapes.of(wards, 2 * tolerance),
    )
