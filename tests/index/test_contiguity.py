"""Queen contiguity from sorted vertex arrays is libpysal's `Queen.from_dataframe`, to the
matrix: on an LSOA-sized Voronoi map, on awkward shapes (islands, corners, holes,
multipolygons, repeated vertices) and on Greater Manchester's real LSOAs."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from libpysal.weights import Queen
from scipy import sparse

from placeintel.index.contiguity import queen_adjacency


def _libpysal(areas: gpd.GeoDataFrame) -> sparse.csr_matrix:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Queen.from_dataframe(areas, use_index=False).sparse.tocsr()


def _assert_same(areas: gpd.GeoDataFrame) -> sparse.csr_array:
    expected = _libpysal(areas)
    found = queen_adjacency(areas.geometry.to_numpy())
    assert found.shape == expected.shape
    assert np.array_equal(found.indptr, expected.indptr)
    assert np.array_equal(found.indices, expected.indices)  # sorted columns, as libpysal's
    assert np.array_equal(found.data, expected.data) and found.data.dtype == expected.data.dtype
    return found


def test_an_lsoa_sized_map_with_an_island() -> None:
    rng = np.random.default_rng(3)
    side = 1_000 * np.sqrt(1_700)
    points = shapely.multipoints(rng.uniform(0, side, size=(1_700, 2)))
    frame = shapely.box(0, 0, side, side)
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame)), frame
    )
    island = shapely.box(10 * side, 10 * side, 10 * side + 500, 10 * side + 500)
    found = _assert_same(gpd.GeoDataFrame(geometry=[*cells, island], crs=27700))
    assert np.diff(found.indptr)[-1] == 0 and np.diff(found.indptr)[:-1].min() > 0


def test_corners_holes_multipolygons_and_repeated_vertices() -> None:
    square = shapely.box(0, 0, 1, 1)
    shapes = [
        square,
        shapely.box(1, 1, 2, 2),  # meets the first at one corner only
        shapely.box(1, 0, 2, 1),  # shares an edge with the first, a corner's edge with the second
        shapely.Polygon(  # a square with a hole; the hole's ring holds the next area
            [(5, 5), (9, 5), (9, 9), (5, 9)], [[(6, 6), (8, 6), (8, 8), (6, 8)]]
        ),
        shapely.box(6, 6, 8, 8),  # fills the hole: shares the interior ring's vertices
        shapely.MultiPolygon([shapely.box(20, 20, 21, 21), shapely.box(2, 2, 3, 3)]),
        shapely.Polygon([(30, 30), (31, 30), (31, 30), (31, 31), (30, 31)]),  # repeated vertex
        shapely.box(40, 40, 41, 41),  # an island
        shapely.box(0.5, 1, 1.5, 2),  # touches the first along an edge, at no shared vertex
        shapely.Polygon([(-0.0, 0.0), (-1, 0), (-1, -1)]),  # -0.0 is the first's 0.0
    ]
    found = _assert_same(gpd.GeoDataFrame(geometry=shapes, crs=27700))
    assert found[[0], :].indices.tolist() == [1, 2, 9]
    assert found[[5], :].indices.tolist() == [1]  # the far part's corner meets the second box
    assert found[[3], :].indices.tolist() == [4]


def test_real_greater_manchester_lsoas(realdata: Path) -> None:
    areas = gpd.read_file(realdata / "gm_lsoa2021_generalised.geojson")
    assert len(areas) > 1_600
    _assert_same(areas)
