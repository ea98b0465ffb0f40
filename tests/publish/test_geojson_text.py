"""geojson_text writes the bytes GDAL's RFC 7946 writer writes, or declines."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from placeintel.publish.geojson import write_geojson
from placeintel.publish.geojson_text import geojson_text

FLOATS = [
    0.1,
    1 / 3,
    1e16,
    123456789.123456789,
    2.5e-7,
    100.0,
    -0.0,
    1e-300,
    0.30000000000000004,
    np.nan,
    1e15,
    123456789012345.6,
    5e-5,
    1.7976931348623157e308,
    2 / 3 * 1e-10,
    3.265384,
    20.013167,
    1_000_000.5,
    # Around the shortest-decimal path's edges (geojson_text._shortest).
    1.0,
    1e-05,
    1e-4,
    9.9999e-05,
    0.7,
    1.0000001,  # a run of its own after the point
    0.1234567891,  # 10 digits
    0.12345678901234566,  # 17 digits
    99999999999999.9,
    1e14,
    123456.000001,
    -2.675,
]
TEXT = [
    "a/b",
    'q"uote',
    "back\\slash",
    "tab\tnl\n",
    "é ü ☃ 😀",
    "\x01ctl\x1f",
    "<&>",
    "",
    None,
    "\u2028\u2029",
    "{{ x }}",
    "=1+2",
]


def _shapes(n: int) -> list[shapely.Geometry]:
    """Points, polygons (one with a hole, one wound clockwise), multipolygons, coordinates
    on whole degrees and next to zero (exponent form in GEOS's WKT)."""
    square = shapely.box(-2.5, 53.0, -2.4, 53.1)
    holed = shapely.Polygon(
        [(-1, 52), (-1, 52.2), (-0.8, 52.2), (-0.8, 52)],
        [[(-0.95, 52.05), (-0.9, 52.05), (-0.9, 52.1), (-0.95, 52.1)]],
    )
    near_zero = shapely.Polygon([(-0.00001234, 51.5), (0.0000001, 51.6), (0.1, 51.55)])
    whole = shapely.Polygon([(-1, 50), (0, 50), (0, 51)])
    multi = shapely.MultiPolygon([square, shapely.box(1.123456789, 52, 1.2, 52.3)])
    pool = [shapely.Point(-1.2339854, 52.6207441), square, holed, near_zero, whole, multi]
    return [pool[i % len(pool)] for i in range(n)]


def _frame() -> gpd.GeoDataFrame:
    n = len(FLOATS)
    return gpd.GeoDataFrame(
        {
            "x": FLOATS,
            "s": [TEXT[i % len(TEXT)] for i in range(n)],
            "i": pd.array([None if i % 4 == 1 else i * 1_000_003 for i in range(n)], "Int64"),
            "n": np.arange(n) - 5,
            "b": [i % 3 == 0 for i in range(n)],
            "bn": pd.array([None if i % 2 else i % 4 == 0 for i in range(n)], dtype="boolean"),
            "geometry": _shapes(n),
        },
        crs="OGC:CRS84",
    )


def _gdal(frame: gpd.GeoDataFrame, path: Path) -> bytes:
    pyogrio.write_dataframe(
        frame,
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "WRITE_BBOX": "YES"},
        use_arrow=True,
    )
    return path.read_bytes()


def test_same_bytes_as_gdal(tmp_path: Path) -> None:
    frame = _frame()
    text = geojson_text(frame, "layer")
    assert text is not None
    assert text.encode("utf-8") == _gdal(frame, tmp_path / "layer.geojson")


EDGES = [
    0.1,
    1.0,
    1e-05,
    1e16,
    1e17,
    -0.0,
    0.0,
    np.nan,
    5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2.2250738585072014e-308,
    1e-4,
    1e14,
    99999999999999.98,
    0.00010000000000000002,
    1.0000001,
    0.9999999,
    3.000000000000001,
    1 / 3,
    2 / 3,
    0.7,
]


def _values() -> np.ndarray:
    """Edge cases and a million values as the published columns hold them: rounded to a
    few decimals, computed to full precision, and any bit pattern, at every size."""
    rng = np.random.default_rng(18)
    n = 125_000
    scale = 10.0 ** rng.integers(-10, 20, n)
    decimals = 10.0 ** rng.integers(0, 12, n)
    bits = rng.integers(0, 2**63, n, dtype=np.uint64).view(np.float64)
    return np.concatenate(
        [
            EDGES,
            rng.random(n),
            rng.random(n) * scale,
            np.round(rng.random(n) * 1000 * decimals) / decimals,
            np.round(rng.normal(size=n) * scale * decimals) / decimals,
            np.round(rng.random(n) * 100, 6),
            1 - rng.random(n) * 1e-10,
            rng.integers(-(10**15), 10**15, n).astype(float),
            bits[np.isfinite(bits)],
        ]
    )


def test_doubles_by_arrow_are_gdals_printf() -> None:
    """The values taken from Arrow's shortest decimals (most of them) are written as
    GDAL's "%.17g" and retries write them."""
    from placeintel.publish.geojson_text import _gdal_doubles, _gdal_doubles_printf, _shortest

    values = _values()
    taken, _ = _shortest(values)
    assert 0.2 < taken.mean() < 0.9  # both paths are exercised
    assert _gdal_doubles(values) == _gdal_doubles_printf(values.tolist())
    assert _gdal_doubles(np.array([], dtype=float)) == []


def test_write_geojson_from_british_grid_matches_gdal(tmp_path: Path) -> None:
    frame = _frame().to_crs("EPSG:27700")
    ours = write_geojson(frame, tmp_path / "ours.geojson").read_bytes()
    theirs = _gdal(frame.to_crs("OGC:CRS84"), tmp_path / "ours-gdal.geojson")
    assert ours == theirs.replace(b'"name": "ours-gdal"', b'"name": "ours"')


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(when=pd.Timestamp("2024-01-01")),  # a type it does not write
        lambda f: f.assign(x=np.where(np.arange(len(f)) == 0, np.inf, f["x"])),
        lambda f: f.assign(s="nul\x00cut"),
        lambda f: f.set_geometry([None] + list(f.geometry[1:]), crs=f.crs),
        lambda f: f.set_geometry([shapely.LineString([(0, 0), (1, 1)])] * len(f), crs=f.crs),
        lambda f: f.iloc[:0],
        lambda f: f[["geometry"]],
    ],
)
def test_declines_what_it_does_not_write(change, tmp_path: Path) -> None:
    frame = change(_frame())
    assert geojson_text(frame, "layer") is None
    # ... and write_geojson then writes with GDAL, as before.
    written = write_geojson(frame, tmp_path / "layer.geojson").read_bytes()
    (tmp_path / "gdal").mkdir()
    assert written == _gdal(frame.to_crs("OGC:CRS84"), tmp_path / "gdal" / "layer.geojson")


def test_pieces_join_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written a few features at a time (as national layers are), the same bytes."""
    from placeintel.publish import geojson_text as module

    monkeypatch.setattr(module, "CHUNK", 4)
    frame = _frame()
    assert module.write_geojson_text(frame, "layer", tmp_path / "layer.geojson")
    (tmp_path / "gdal").mkdir()
    assert (tmp_path / "layer.geojson").read_bytes() == _gdal(
        frame, tmp_path / "gdal" / "layer.geojson"
    )


def test_a_late_refusal_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from placeintel.publish import geojson_text as module

    monkeypatch.setattr(module, "CHUNK", 4)
    frame = _frame()
    frame.loc[frame.index[-1], "s"] = "late\x00nul"
    assert not module.write_geojson_text(frame, "layer", tmp_path / "layer.geojson")
    assert not (tmp_path / "layer.geojson").exists()
