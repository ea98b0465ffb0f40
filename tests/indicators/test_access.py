"""The access step's rasterisation: the shapes handed to GDAL, and the collector's pause."""

from __future__ import annotations

import gc
import threading

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

from placeintel.indicators.access import _burn_shapes, _rasterize
from placeintel.indicators.collector import collector_paused

SHAPE = (40, 40)
TRANSFORM = from_origin(0, 40, 1, 1)


def _as_rasterio_burns(geometry: np.ndarray) -> np.ndarray:
    """What rasterio burns from the geometries themselves (their __geo_interface__)."""
    return rasterize(
        ((g, i + 1) for i, g in enumerate(geometry)),
        out_shape=SHAPE,
        transform=TRANSFORM,
        fill=0,
        dtype="int32",
    )


def test_burn_shapes_burn_what_the_geometries_burn() -> None:
    """Polygons with holes, multipolygons, overlaps (the later zone wins), and what goes
    through as before (nothing, empty, 3D, a collection): the same cells, the same zones."""
    holed = shapely.Polygon(
        [(2, 2), (18, 2), (18, 18), (2, 18)], holes=[[(6, 6), (10, 6), (10, 10), (6, 10)]]
    )
    multi = shapely.MultiPolygon([shapely.box(20, 20, 25, 30), shapely.box(30, 1, 38, 9.5)])
    geometry = np.array(
        [
            holed,
            None,
            multi,
            shapely.box(15, 15, 24, 24),  # overlaps both
            shapely.Polygon(),
            shapely.Polygon([(1, 30, 5), (9, 30, 5), (9, 38, 5), (1, 38, 5)]),
            shapely.GeometryCollection([shapely.box(25.5, 31, 33, 37)]),
            shapely.MultiPolygon([shapely.box(0.5, 20.2, 4.7, 26.1), shapely.Polygon()]),
            shapely.box(11.3, 25.7, 17.9, 33.1),
        ],
        dtype=object,
    )
    shapes = _burn_shapes(geometry)
    assert [zone for _, zone in shapes] == [1, 2, 3, 3, 4, 5, 6, 7, 8, 9]
    assert shapes[1][0] is None and shapes[5][0] is geometry[4]  # as before
    burnt = rasterize(shapes, out_shape=SHAPE, transform=TRANSFORM, fill=0, dtype="int32")
    np.testing.assert_array_equal(burnt, _as_rasterio_burns(geometry))
    assert set(np.unique(burnt)) >= {0, 1, 3, 4, 6, 7, 9}


def test_rasterize_of_a_frame() -> None:
    """A frame of irregular neighbouring zones (Voronoi cells, some split in two as
    multipolygons): the same zone for every cell as the geometries themselves give."""
    rng = np.random.default_rng(18)
    seeds = shapely.multipoints(rng.uniform(0, 40, size=(60, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(0, 0, 40, 40)))
    cells = shapely.intersection(cells, shapely.box(0.3, 0.2, 39.6, 39.7))
    cut = shapely.box(0, 19.9, 40, 20.4)  # a strip across: the cells it crosses become two
    cells = shapely.difference(cells, cut)
    assert (shapely.get_type_id(cells) == 6).any()
    frame = gpd.GeoDataFrame(geometry=cells, crs="EPSG:27700")
    found = _rasterize(frame, SHAPE, TRANSFORM)
    np.testing.assert_array_equal(found, _as_rasterio_burns(cells))
    assert len(np.unique(found)) > 50


def test_collector_pause_is_counted_across_threads() -> None:
    """The collector stays off until the last pause ends, and comes back on only if it
    was on when the first began."""
    assert gc.isenabled()
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with collector_paused():
        thread.start()
        inside.wait(5)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause still holds
    leave.set()
    thread.join(5)
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off: left off
    finally:
        gc.enable()
