"""GeoJSON text as GDAL's RFC 7946 writer lays it out, made from arrays: the same bytes.

GDAL's GeoJSON driver builds a json-c object per feature and per value; at national scale
that is most of publishing (about 17 of 26 CPU seconds, 190,096 output areas and 35,316
LSOAs). The text it writes is regular, so it is made here from whole columns instead:

- geometry: coordinates in CRS84 with exterior rings counter-clockwise and holes
  clockwise (`shapely.orient_polygons`, as RFC 7946 asks and GDAL does), written to 7
  decimals with trailing zeros trimmed (GEOS's WKT writer, `rounding_precision=7,
  trim=True`, re-punctuated as GeoJSON arrays; coordinates GEOS would write in exponent
  form, below 1e-4 or so, are formatted by Python's correctly rounded "%.7f", as GDAL's);
- each feature's bbox from its bounds, likewise; the collection's bbox "%.7f" untrimmed,
  padded to the width GDAL reserves for it;
- properties in column order: strings escaped as json-c does (orjson's escaping is the
  same for every code point), integers and booleans as they are, missing values null, and
  floats as GDAL's `OGR_json_double_with_significant_figures_to_string` writes them:
  "%.17g", retried at 16, 15 and 14 figures when the digits after the point hold a run of
  six 0s or 9s, and ".0" added to a whole number; most values' text is that rule's
  outcome read from Arrow's shortest decimals, without a Python call each (`_shortest`).

Anything else (other column types, infinities, NUL in text, empty or missing geometries,
no rows, other geometry types) returns None, and the caller writes with GDAL as before.
tests/publish/test_geojson_text.py compares the bytes with GDAL's on tricky values, and
the national and GM-sized releases' layers were byte-identical when this was written.
This module imports nothing of placeintel: `geojson.py` runs it in worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

#: Width of GDAL's reserved line for the collection's bbox (it seeks back to write it).
BBOX_LINE = 131
_TYPES = {"POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon", "POINT": "Point"}


def _coordinate(value: float) -> str:
    """GDAL's coordinate: "%.7f" with trailing zeros trimmed (one kept after the point)."""
    text = f"{value:.7f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _formatted(values: list[float], figures: int) -> np.ndarray:
    """ "%.<figures>g" of each value, by one `%` over all of them (no call per value)."""
    if not values:
        return np.array([], dtype=str)
    form = f"%.{figures}g"
    return np.array(("\n".join([form] * len(values)) % tuple(values)).split("\n"))


def _has_run(texts: np.ndarray) -> np.ndarray:
    """GDAL's test: a run of six 0s or 9s after the decimal point."""
    dot = np.strings.find(texts, ".")
    after = np.maximum(dot, 0)
    run = (np.strings.find(texts, "000000", after) >= 0) | (
        np.strings.find(texts, "999999", after) >= 0
    )
    return (dot >= 0) & run


#: A positional decimal with a run of six 0s or 9s after its point (GDAL's retry test).
_RUN = r"\.[0-9]*(000000|999999)"


def _shortest(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Which `values` GDAL writes as their shortest round-trip decimal, and that text, from
    Arrow's formatting (double-conversion, in C++: no Python call per value).

    Let s be the shortest decimal that reads back as x, with k significant digits, x = s + e.
    e is at most half x's ulp, under 1.11 units of x's 16th significant digit, so:
    - k = 17: no shorter decimal reads back, so s is x correctly rounded to 17 digits, the
      digits of "%.17g";
    - k <= 9, x not whole: "%.17g" is s, or s followed (after the point) by at least six
      0s or 9s up to the 15th digit and a tail; GDAL then retries "%.16g", which is s or
      again has that run, then "%.15g", which is s (e is under half its last unit);
    - x whole and under 1e14: exact, so "%.17g" is s, and GDAL adds ".0".
    s is GDAL's text when it is also laid out as "%.<n>g" lays it out (positional: 0, or at
    least 1e-4 and under 1e14 in size) and holds no run of its own. The published columns
    are mostly rounded to 6 decimals, counts, or computed to full precision (93-100% of the
    distinct values of each national layer); the rest go through `_gdal_doubles_printf`.
    tests/publish/test_geojson_text.py checks this against "%.17g" on millions of values."""
    texts = pc.cast(pa.array(values, type=pa.float64()), pa.string())
    significant = pc.utf8_ltrim(texts, characters="-0.")  # sign and leading zeros off
    digits = pc.subtract(pc.utf8_length(significant), pc.count_substring(significant, "."))
    k = digits.to_numpy(zero_copy_only=False)
    size = np.abs(values)
    point = pc.match_substring(texts, ".").to_numpy(zero_copy_only=False)
    taken = (
        (((size >= 1e-4) & (size < 1e14)) | (values == 0))
        & ((k <= 9) | (k == 17) | ~point)
        & ~pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
        & ~pc.match_substring_regex(texts, _RUN).to_numpy(zero_copy_only=False)
    )
    whole = pc.if_else(pa.array(point), texts, pc.binary_join_element_wise(texts, ".0", ""))
    return taken, whole.filter(pa.array(taken)).to_pylist()


def _gdal_doubles(values: list[float] | np.ndarray) -> list[str]:
    """Float properties as GDAL's `OGR_json_double_with_significant_figures_to_string`
    writes them (`_gdal_doubles_printf`); most read from Arrow's formatting instead
    (`_shortest`: the same text in a fraction of the time)."""
    array = np.asarray(values, dtype=np.float64)
    taken, texts = _shortest(array)
    if not texts:
        return _gdal_doubles_printf(array.tolist())
    out = np.empty(len(array), dtype=object)
    out[taken] = texts
    rest = np.flatnonzero(~taken)
    if rest.size:
        out[rest] = _gdal_doubles_printf(array[rest].tolist())
    return out.tolist()


def _gdal_doubles_printf(values: list[float]) -> list[str]:
    """Float properties as GDAL's `OGR_json_double_with_significant_figures_to_string`
    writes them: "%.17g"; where the digits after the point hold a run of six 0s or 9s,
    the first of "%.16g", "%.15g", "%.14g" that has a point and no such run (else the
    "%.17g"); then ".0" after a whole number."""
    texts = _formatted(values, 17).astype(object)
    retry = np.flatnonzero(_has_run(texts.astype(str)))
    for figures in (16, 15, 14):
        if not retry.size:
            break
        again = _formatted([values[i] for i in retry.tolist()], figures)
        fine = (np.strings.find(again, ".") >= 0) & ~_has_run(again)
        texts[retry[fine]] = again[fine]
        retry = retry[~fine]
    out = texts.tolist()
    return [t if ("." in t or "e" in t or "n" in t) else t + ".0" for t in out]


def _gdal_double(value: float) -> str:
    """One float property as GDAL writes it (`_gdal_doubles`)."""
    return _gdal_doubles([value])[0]


def _slow_coordinates(geometry: shapely.Geometry) -> str:
    def ring(r: shapely.LinearRing) -> str:
        return (
            "[ " + ", ".join(f"[ {_coordinate(x)}, {_coordinate(y)} ]" for x, y in r.coords) + " ]"
        )

    def polygon(p: shapely.Polygon) -> str:
        return "[ " + ", ".join(ring(r) for r in (p.exterior, *p.interiors)) + " ]"

    if isinstance(geometry, shapely.Point):
        return f"[ {_coordinate(geometry.x)}, {_coordinate(geometry.y)} ]"
    if isinstance(geometry, shapely.Polygon):
        return polygon(geometry)
    return "[ " + ", ".join(polygon(p) for p in geometry.geoms) + " ]"


def _punctuate(texts: list[str]) -> list[str]:
    """GEOS's WKT bodies ("((x y, x y), (x y ...))") as GeoJSON coordinate arrays, by
    replacing on all of them joined (each replace is one pass in C over the whole layer)."""
    joined = "\n".join(texts)
    joined = joined.replace(", ", "C").replace(" ", ", ")
    joined = joined.replace("))C((", "Q").replace(")C(", "R").replace("C", " ], [ ")
    joined = joined.replace("(((", "[ [ [ [ ").replace(")))", " ] ] ] ]")
    joined = joined.replace("((", "[ [ [ ").replace("))", " ] ] ]")
    joined = joined.replace("(", "[ ").replace(")", " ]")
    joined = joined.replace("Q", " ] ] ], [ [ [ ").replace("R", " ] ], [ [ ")
    return joined.split("\n")


def _geometries(geometries: np.ndarray) -> list[str] | None:
    """Each geometry's `"geometry": {...}` text, or None when one is not supported."""
    kinds = shapely.get_type_id(geometries)
    if not np.isin(kinds, (0, 3, 6)).all() or shapely.is_empty(geometries).any():
        return None  # points, polygons and multipolygons only; none missing or empty
    if shapely.has_z(geometries).any():
        return None
    oriented = shapely.orient_polygons(geometries, exterior_cw=False)
    texts = shapely.to_wkt(oriented, rounding_precision=7, trim=True).tolist()
    names, bodies = [], []
    for text in texts:
        kind, _, body = text.partition(" ")
        names.append(_TYPES[kind])
        bodies.append(body)
    punctuated = _punctuate(bodies)
    # GEOS writes a whole number without a point ("2", where GDAL writes "2.0") and a tiny
    # one with an exponent: those geometries' coordinates are formatted as GDAL does.
    points = shapely.get_num_coordinates(oriented).tolist()
    for n, body in enumerate(bodies):
        if "e" in body or body.count(".") != 2 * points[n]:
            punctuated[n] = _slow_coordinates(oriented[n])
    return [
        f'"geometry": {{ "type": "{name}", "coordinates": {body} }}'
        for name, body in zip(names, punctuated, strict=True)
    ]


def _boxes(bounds: np.ndarray) -> list[str]:
    """Each feature's `"bbox": [ ... ]` from its bounds, formatted as its coordinates (its
    two corners as points through the same WKT writer: "POINT (a b)")."""
    corners = shapely.points(bounds.reshape(-1, 2))
    texts = shapely.to_wkt(corners, rounding_precision=7, trim=True).tolist()
    joined = "\n".join(texts).replace("POINT (", "").replace(")", "").replace(" ", ", ")
    pairs = joined.split("\n")
    out = [f"{low}, {high}" for low, high in zip(pairs[::2], pairs[1::2], strict=True)]
    for n, box in enumerate(out):
        if "e" in box or box.count(".") != 4:
            out[n] = ", ".join(_coordinate(v) for v in bounds[n].tolist())
    return [f'"bbox": [ {box} ]' for box in out]


def _string(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if isinstance(value, str) and "\x00" not in value:
        return orjson.dumps(value).decode("utf-8")
    return None  # not text, or text GDAL would cut at the NUL


def _distinct(
    codes: np.ndarray,
    uniques: list[Any] | np.ndarray,
    write: Callable[[Any], list[str]] | Callable[[Any], list[str | None]],
    key: str,
) -> pa.Array | None:
    """`key: text` per cell, each distinct value formatted once (`codes` index `uniques`;
    len(uniques) is missing, null)."""
    texts = write(uniques)
    if None in texts:
        return None
    table = pa.array([f"{key}: {t}" for t in texts] + [f"{key}: null"], pa.large_string())
    return table.take(pa.array(codes, pa.int64()))


def _column(series: pd.Series, key: str) -> pa.Array | None:
    """Each cell's `"key": value` text as GDAL writes it, or None for a type it is not
    made for. Each distinct value is formatted once: float formatting is most of the cost,
    and published columns repeat values (counts, ranks, classes, codes)."""
    dtype = series.dtype
    if pd.api.types.is_float_dtype(dtype):
        if str(dtype) not in ("float64", "Float64", "double[pyarrow]"):
            return None
        values = series.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            return None
        # By bit pattern, so that -0.0 and 0.0 stay apart (GDAL writes "-0.0").
        bits, codes = np.unique(values.view(np.int64), return_inverse=True)
        codes = np.where(np.isnan(values), len(bits), codes.reshape(-1))
        return _distinct(codes, bits.view(np.float64), _gdal_doubles, key)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        boolean = pd.api.types.is_bool_dtype(dtype)
        codes = np.where(codes < 0, len(uniques), codes)
        return _distinct(
            codes,
            list(uniques),
            (lambda vs: ["true" if v else "false" for v in vs])
            if boolean
            else (lambda vs: [str(int(v)) for v in vs]),
            key,
        )
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=None)
        missing = pd.isna(values)
        codes, uniques = pd.factorize(values[~missing])
        full = np.full(len(values), len(uniques), dtype=np.int64)
        full[~missing] = codes
        return _distinct(full, list(uniques), lambda vs: [_string(v) for v in vs], key)
    return None


#: Rows made into text at a time: the text of a whole national layer (130 MB, several
#: copies while it is assembled) would add about 0.5 GB to each worker process.
CHUNK = 5_000


def _features(frame: gpd.GeoDataFrame) -> str | None:
    """The features of `frame`'s rows, one per line and joined as GDAL joins them."""
    geometries = _geometries(frame.geometry.to_numpy())
    if geometries is None:
        return None
    cells: list[pa.Array] = []
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        if not isinstance(column, str):
            return None
        made = _column(frame[column], orjson.dumps(column).decode("utf-8"))
        if made is None:
            return None
        cells.append(made)
    if not cells:
        return None
    boxes = _boxes(shapely.bounds(frame.geometry.to_numpy()))
    # Each row's text joined column by column in Arrow (C++), not cell by cell in Python.
    text = [
        pa.scalar(t, pa.large_string())
        for t in ('{ "type": "Feature", "properties": { ', ", ", " }, ", " }", "")
    ]
    features = pc.binary_join_element_wise(
        text[0],
        pc.binary_join_element_wise(*cells, text[1]),
        text[2],
        pa.array(boxes, pa.large_string()),
        text[1],
        pa.array(geometries, pa.large_string()),
        text[3],
        text[4],
    )
    return ",\n".join(features.to_pylist())


def geojson_pieces(frame: gpd.GeoDataFrame, name: str) -> Iterator[str | None]:
    """The RFC 7946 GeoJSON GDAL would write for `frame` (already in CRS84) as layer
    `name`, in pieces of `CHUNK` features; a None piece means `frame` holds something this
    module does not write (the caller then discards what it has and uses GDAL)."""
    if frame.empty or frame.shape[1] < 2 or not frame.columns.is_unique:
        yield None
        return
    bounds = shapely.bounds(frame.geometry.to_numpy())
    with np.errstate(invalid="ignore"):
        low_x, low_y = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
        high_x, high_y = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    bbox = f'"bbox": [ {low_x:.7f}, {low_y:.7f}, {high_x:.7f}, {high_y:.7f} ],'
    yield (
        '{\n"type": "FeatureCollection",\n'
        f'"name": {orjson.dumps(name).decode("utf-8")},\n'
        f"{bbox.ljust(BBOX_LINE)}\n"
        '"features": [\n'
    )
    for start in range(0, len(frame), CHUNK):
        features = _features(frame.iloc[start : start + CHUNK])
        if features is None:
            yield None
            return
        yield (",\n" if start else "") + features
    yield "\n]\n}\n"


def geojson_text(frame: gpd.GeoDataFrame, name: str) -> str | None:
    """All of `geojson_pieces` as one text, or None."""
    pieces = []
    for piece in geojson_pieces(frame, name):
        if piece is None:
            return None
        pieces.append(piece)
    return "".join(pieces)


def write_geojson_text(frame: gpd.GeoDataFrame, name: str, path: Path) -> bool:
    """Write `geojson_pieces` to `path` as they are made; False (and no file) when the
    frame holds something this module does not write."""
    with path.open("wb") as out:
        for piece in geojson_pieces(frame, name):
            if piece is None:
                break
            out.write(piece.encode("utf-8"))
        else:
            return True
    path.unlink()
    return False
