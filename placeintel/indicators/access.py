"""Access to help, which DERI lacks: how far people live from digital support, and how much is near.

Distances are straight lines in EPSG:27700 metres from where people live to the
nearest digital-support service (library, digital-support venue, tablet
lending, free-data point). "Where people live" is, in order of preference:
the population raster's cells, the 2021 LSOAs' Census population at a point
inside each LSOA, the 2011 LSOAs' population (IMD denominators) likewise, or an
even 250 m grid over the area. The same measures are made for wards and for
LSOAs. Services "within 1 km" of an area are those within 1 km of any part of
it, inside included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.windows import from_bounds

from placeintel.engine import LOCAL
from placeintel.sources.raster import RasterSource

RADII_M = (1_000, 2_000)
GRID_M = 250.0


@dataclass(frozen=True)
class PopulationPoints:
    """Points standing for where people live, with a weight and the ward they fall in."""

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    ward: np.ndarray  # position in the ward frame
    method: str


def from_raster(wards: gpd.GeoDataFrame, raster: RasterSource) -> PopulationPoints:
    """Cell centres weighted by the people in each cell, assigned to the ward holding the centre.

    The cells are found in the raster's own CRS (a WorldPop grid is in degrees), and
    their centres brought back to the wards' CRS for distances.
    """
    zones = wards.to_crs(raster.crs)
    with rasterio.open(raster.path) as dataset:
        window = from_bounds(*zones.total_bounds, transform=dataset.transform).round_offsets()
        window = window.round_lengths()
        people = dataset.read(1, window=window, masked=True, boundless=True, fill_value=0)
        transform = dataset.window_transform(window)
    people = np.nan_to_num(people.filled(0).astype(float))
    people[people < 0] = 0
    ward_of_cell = rasterize(
        ((g, i + 1) for i, g in enumerate(zones.geometry)),
        out_shape=people.shape,
        transform=transform,
        fill=0,
        dtype="int32",
    )
    rows, cols = np.nonzero((people > 0) & (ward_of_cell > 0))
    x, y = rasterio.transform.xy(transform, rows, cols)
    if not zones.crs.equals(wards.crs):
        x, y = Transformer.from_crs(zones.crs, wards.crs, always_xy=True).transform(x, y)
    return PopulationPoints(
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        people[rows, cols],
        ward_of_cell[rows, cols] - 1,
        "weighted by the population raster's cells",
    )


def from_areas(
    wards: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, population: pd.Series, label: str
) -> PopulationPoints:
    """One point inside each small area, weighted by its population."""
    points = gpd.GeoDataFrame(
        {"weight": population.to_numpy(dtype=float)},
        geometry=areas.geometry.representative_point().to_numpy(),
        crs=areas.crs,
    )
    joined = gpd.sjoin(points, wards[["geometry"]].reset_index(drop=True), predicate="within")
    joined = joined[joined["weight"] > 0]
    return PopulationPoints(
        joined.geometry.x.to_numpy(),
        joined.geometry.y.to_numpy(),
        joined["weight"].to_numpy(),
        joined["index_right"].to_numpy(),
        f"weighted by {label}, each at a point inside its area",
    )


def from_grid(wards: gpd.GeoDataFrame) -> PopulationPoints:
    """No population source: an even grid, so every part of a ward counts the same."""
    minx, miny, maxx, maxy = wards.total_bounds
    xs, ys = np.meshgrid(
        np.arange(minx, maxx, GRID_M) + GRID_M / 2, np.arange(miny, maxy, GRID_M) + GRID_M / 2
    )
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()), crs=wards.crs)
    joined = gpd.sjoin(points, wards[["geometry"]].reset_index(drop=True), predicate="within")
    return PopulationPoints(
        joined.geometry.x.to_numpy(),
        joined.geometry.y.to_numpy(),
        np.ones(len(joined)),
        joined["index_right"].to_numpy(),
        f"unweighted: a {GRID_M:.0f} m grid of points (no population source)",
    )


_NEAREST = pd.DataFrame({"_p": pd.Series(dtype="int64"), "distance": pd.Series(dtype="float64")})


def _nearest_chunk(points: gpd.GeoDataFrame, services: np.ndarray) -> pd.DataFrame:
    """Distance from each point to the nearest service (one chunk of points)."""
    if points.empty:
        return _NEAREST.copy()
    _, distances = shapely.STRtree(services).query_nearest(
        points.geometry.to_numpy(), return_distance=True, all_matches=False
    )
    return pd.DataFrame({"_p": points["_p"].to_numpy(dtype="int64"), "distance": distances})


def access_measures(
    wards: gpd.GeoDataFrame,
    support: gpd.GeoDataFrame,
    people: PopulationPoints,
    engine=LOCAL,
    key: str = "ward_code",
) -> tuple[pd.DataFrame, str]:
    """Per area (ward or LSOA, keyed by `key`): distance x population sums (for the weighted
    mean) and services within reach."""
    tree = shapely.STRtree(support.geometry.to_numpy())
    out = pd.DataFrame(index=pd.Index(wards[key].to_numpy(), name=key))
    for radius in RADII_M:
        ward_hits, _ = tree.query(wards.geometry.to_numpy(), predicate="dwithin", distance=radius)
        out[f"support_within_{radius // 1000}km"] = np.bincount(ward_hits, minlength=len(wards))
    points = gpd.GeoDataFrame(
        {"_p": np.arange(len(people.x))}, geometry=shapely.points(people.x, people.y), crs=wards.crs
    )
    nearest = engine.apply(
        points, partial(_nearest_chunk, services=support.geometry.to_numpy()), _NEAREST
    )
    distances = np.empty(len(points))
    distances[nearest["_p"].to_numpy()] = nearest["distance"].to_numpy()
    out["distance_x_population"] = np.bincount(
        people.ward, weights=distances * people.weight, minlength=len(wards)
    )
    out["population_for_distance"] = np.bincount(
        people.ward, weights=people.weight, minlength=len(wards)
    )
    method = (
        f"straight-line distance (EPSG:27700) from where people live to the nearest of "
        f"{len(support)} digital-support services, {people.method}; services counted "
        "within 1 km and 2 km of any part of the area"
    )
    return out, method
