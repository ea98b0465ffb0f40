"""placeintel's pygeoapi feature provider over a release's GeoParquet files.

pygeoapi builds a provider per request, and its stock file providers re-read
the file each time (GeoJSON, CSV) or lack sorting and CQL2 (Parquet). This
provider loads each layer once per process, keyed by the resolved path and its
modification time (so a new `current` release is picked up without a restart),
and prepares it so that a page costs in proportion to the page, not the layer:

- each feature's id, geometry and properties serialised to JSON once, at load,
  into three contiguous buffers (releases are immutable): a JSON page is those
  slices joined, handed to orjson as pre-serialised fragments (placeintel.api.
  encoder), and `skipGeometry` leaves a slice out. One buffer per part rather than
  a bytes object per feature: forked workers share it without touching a page of
  it (no per-object reference counts to write);
- coordinates rounded to `coordinate_precision` decimals (the provider's option;
  6 by default, about 0.1 m in lon/lat) when serialised; queries still run on the
  exact geometries;
- an STRtree for bbox (intersects, not "within" as pygeoapi's Parquet provider);
- sort orders per column computed on first use and kept;
- CQL2 (text and JSON, parsed by pygeoapi with pygeofilter) evaluated by
  pygeofilter's geopandas backend over the whole layer, vectorised.

Every mistake in a query is a 400 with a message (ProviderInvalidQueryError),
never a 500.
"""

from __future__ import annotations

import bisect
import enum
import os
import threading
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderGenericError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.util import crs_transform, json_serial
from pygeofilter.backends.geopandas.evaluate import to_filter

STORAGE_CRS = "OGC:CRS84"
#: Decimals kept in served coordinates: 6 in lon/lat is about 0.1 m on the ground, finer
#: than any boundary or point the releases carry; 15 (what GEOS writes) doubles the size.
DEFAULT_PRECISION = 6
#: CQL2 results kept per layer (190,000 output areas: 190 KB each).
MAX_MASKS = 64
#: Features serialised at a time when a layer is loaded (see `_chunks`).
CHUNK_ROWS = 8192


def _json_type(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "string"


def _plain(values: pd.Series) -> list[Any]:
    """Column values as JSON-ready Python objects (NaN/NA -> None)."""
    return [None if pd.isna(v) else v for v in values.astype(object).tolist()]


class Serialised:
    """Many JSON texts in one buffer: item `i` is `buffer[offsets[i]:offsets[i + 1]]`."""

    __slots__ = ("buffer", "offsets")

    def __init__(self, texts: Iterable[list[bytes]]) -> None:
        """From the texts in chunks (see `_chunks`): each chunk's texts are joined as soon
        as they are made, so a layer's million small bytes objects never live at once."""
        parts: list[bytes] = []
        lengths: list[np.ndarray] = []
        for chunk in texts:
            parts.append(b"".join(chunk))
            lengths.append(np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk)))
        self.buffer = b"".join(parts)
        del parts
        self.offsets = np.zeros(sum(len(n) for n in lengths) + 1, dtype=np.int64)
        if lengths:
            np.cumsum(np.concatenate(lengths), out=self.offsets[1:])

    def __getitem__(self, row: int) -> bytes:
        return self.buffer[self.offsets[row] : self.offsets[row + 1]]

    @property
    def nbytes(self) -> int:
        return len(self.buffer) + self.offsets.nbytes


def _chunks(rows: int) -> Iterator[slice]:
    """Row ranges of CHUNK_ROWS: a layer is serialised a slice at a time, so the Python
    objects made on the way (a value per cell, a rounded copy per geometry) are those of
    one slice, and the heap they leave behind is a slice's, reused by the next."""
    for start in range(0, rows, CHUNK_ROWS):
        yield slice(start, min(start + CHUNK_ROWS, rows))


def _geometry_json(geometry: np.ndarray, precision: int) -> Iterator[list[bytes]]:
    """Each geometry's GeoJSON (b"null" if missing), coordinates rounded to `precision`."""
    for rows in _chunks(len(geometry)):
        rounded = shapely.transform(geometry[rows], lambda xy: np.round(xy, precision))
        yield [b"null" if g is None else g.encode() for g in shapely.to_geojson(rounded)]


def _properties_json(properties: pd.DataFrame) -> Iterator[list[bytes]]:
    """Each row's properties as a JSON object, in column order, missing values null."""
    names = list(properties.columns)
    dumps = orjson.dumps
    for rows in _chunks(len(properties)):
        if not names:
            yield [b"{}"] * (rows.stop - rows.start)
            continue
        part = properties.iloc[rows]
        columns = [_plain(part[c]) for c in names]
        yield [
            dumps(dict(zip(names, row, strict=True)), default=json_serial)
            for row in zip(*columns, strict=True)
        ]


def _id_json(ids: pd.Index) -> Iterator[list[bytes]]:
    for rows in _chunks(len(ids)):
        yield [orjson.dumps(i) for i in ids[rows].tolist()]


class IdLookup:
    """The row of each feature id, without a Python object per id.

    A dict (id -> row) cost 26 MB and 570,000 objects for the national release's
    layers, and the objects' reference counts are written on use, copying shared pages
    into every worker. Here the ids are one sorted numpy array of UTF-8 bytes and the
    look-up is a binary search (1 microsecond for 190,000 ids; pandas' Index.get_indexer on Arrow
    strings converted the whole index on every call, 0.7 ms for 221 wards). Where an id
    repeats, its last row answers, as the dict did.
    """

    __slots__ = ("_order", "_sorted")

    def __init__(self, ids: pd.Index) -> None:
        encoded = np.char.encode(ids.to_numpy(dtype=str), "utf-8")
        self._order = np.argsort(encoded, kind="stable")
        self._sorted = encoded[self._order]

    def row(self, identifier: str) -> int | None:
        """The row of `identifier`, or None if no feature has it."""
        try:
            key = identifier.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no id is one
            return None
        # numpy's bytes drop trailing NULs, so b"A\0" would find "A"; no id ends so.
        if len(key) > self._sorted.dtype.itemsize or key.endswith(b"\0"):
            return None
        # bisect over the array: 1 us a look-up, numpy's searchsorted on one key 4 us
        found = bisect.bisect_right(self._sorted, key) - 1
        if found < 0 or self._sorted[found] != key:
            return None
        return int(self._order[found])


@dataclass
class Layer:
    """A layer held in memory, ready to answer queries."""

    frame: gpd.GeoDataFrame  # CRS84, for CQL2 evaluation
    id_field: str
    ids: pd.Index
    #: Row of each id: a by-id request is one binary search.
    positions: IdLookup
    fields: dict[str, dict[str, str]]
    tree: shapely.STRtree
    id_json: Serialised
    geometry_json: Serialised
    properties_json: Serialised
    _orders: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)
    _ranks: dict[str, np.ndarray] = field(default_factory=dict)
    #: CQL2 filters' results by the parsed filter's text, newest last: the layer never
    #: changes, so a filter asked again (a client paging through it) is not evaluated again.
    _masks: dict[Hashable, np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str, id_field: str, precision: int = DEFAULT_PRECISION) -> Layer:
        frame = gpd.read_parquet(path).to_crs(STORAGE_CRS).reset_index(drop=True)
        properties = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        geometry = frame.geometry.to_numpy()
        ids = pd.Index(properties[id_field].astype(str))
        return cls(
            frame=frame,
            id_field=id_field,
            ids=ids,
            positions=IdLookup(ids),
            fields={c: {"type": _json_type(properties[c].dtype)} for c in properties.columns},
            tree=shapely.STRtree(geometry),
            id_json=Serialised(_id_json(ids)),
            geometry_json=Serialised(_geometry_json(geometry, precision)),
            properties_json=Serialised(_properties_json(properties)),
        )

    @property
    def columns(self) -> list[str]:
        return list(self.fields)

    def feature_json(self, row: int, skip_geometry: bool = False) -> bytes:
        """One feature's GeoJSON, from the parts serialised at load."""
        geometry = b"null" if skip_geometry else self.geometry_json[row]
        return b"".join(
            (
                b'{"type":"Feature","id":',
                self.id_json[row],
                b',"geometry":',
                geometry,
                b',"properties":',
                self.properties_json[row],
                b"}",
            )
        )

    def feature(self, row: int, select: list[str] | None, skip_geometry: bool) -> dict:
        """One feature as a dict (for HTML, CSV, JSON-LD, a CRS transform, or a property
        selection), parsed back from its JSON: the same values the JSON carries."""
        properties = orjson.loads(self.properties_json[row])
        if select:
            # the key stays, as pygeoapi's own providers keep it
            properties = {k: v for k, v in properties.items() if k in select or k == self.id_field}
        geometry = None if skip_geometry else orjson.loads(self.geometry_json[row])
        return {
            "type": "Feature",
            # from its JSON: a pandas Index's scalar look-up cost a tenth of a request
            "id": orjson.loads(self.id_json[row]),
            "geometry": geometry,
            "properties": properties,
        }

    def rank(self, column: str) -> np.ndarray:
        """Dense rank of each row's value (missing values rank last), computed once."""
        if column not in self._ranks:
            values = self.frame[column]
            # As floats: a nullable integer column (Int64) ranks as uint64, which a
            # descending sort's negation would wrap around.
            codes = values.rank(method="dense", na_option="bottom").to_numpy(dtype="float64")
            # Kept per column in every worker: as float32 (exact to 16.7 million rows), half
            # the size; the output areas' 12 columns sorted both ways came to 55 MB a worker.
            self._ranks[column] = codes.astype(_rank_type(len(codes)))
        return self._ranks[column]

    def order(self, column: str, ascending: bool) -> np.ndarray:
        """All rows sorted by one column (stable; missing values last either way)."""
        key = (column, ascending)
        if key not in self._orders:
            rank = self.rank(column)
            missing = self.frame[column].isna().to_numpy()
            keyed = np.where(missing, np.inf, rank if ascending else -rank)
            self._orders[key] = np.argsort(keyed, kind="stable").astype(_row_type(len(keyed)))
        return self._orders[key]


def _rank_type(rows: int) -> type[np.floating]:
    """float32 holds every whole number up to 2**24 exactly: dense ranks of that many rows."""
    return np.float32 if rows < 2**24 else np.float64


def _row_type(rows: int) -> type[np.integer]:
    return np.int32 if rows < 2**31 else np.int64


#: (path as configured, precision) -> (identity of the file behind it, its layer)
_CACHE: dict[tuple[str, int], tuple[tuple[int, int, int], Layer]] = {}
_LOCK = threading.Lock()
_MASKS_LOCK = threading.Lock()


def load_layer(
    path: str | os.PathLike[str], id_field: str, options: dict[str, Any] | None = None
) -> Layer:
    """The in-memory layer for a file, reloaded only when the file behind the path changes.

    Called on every request (pygeoapi makes a provider per request), so the check is one
    `stat` through the path: its device, inode and mtime name the file that `current` leads
    to now, and change when a new release is switched in. `os.path.realpath` (an lstat per
    path component, in Python) was a fifth of a ward-by-id request's CPU; it now runs only
    when the file changed."""
    precision = _precision(options)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise ProviderQueryError(
            user_msg=f"release file {Path(path).name} is missing; build the region first"
        ) from None
    identity = (found.st_dev, found.st_ino, found.st_mtime_ns)
    key = (os.fspath(path), precision)
    cached = _CACHE.get(key)
    if cached and cached[0] == identity:
        return cached[1]
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == identity:
            return cached[1]
        layer = Layer.load(os.path.realpath(path), id_field, precision)
        # Keyed by the configured path, a new release's layer takes its predecessor's
        # place: the cache holds one layer per served file and precision, however many
        # releases a long-running server sees.
        _CACHE[key] = (identity, layer)
        return layer


def _precision(options: dict[str, Any] | None) -> int:
    value = (options or {}).get("coordinate_precision", DEFAULT_PRECISION)
    try:
        precision = int(value)
    except (TypeError, ValueError):
        precision = -1
    if not 0 <= precision <= 15:
        raise ProviderGenericError(
            f"coordinate_precision must be a whole number of decimals from 0 to 15, got {value!r}"
        )
    return precision


def wants_json(crs_transform_spec: Any = None) -> bool:
    """Whether pygeoapi will write this request's features as GeoJSON with placeintel's
    encoder, so that they can go out as the pre-serialised fragments; pygeoapi's own
    format choice (`f`, else the Accept header) decides, outside a request too (None)."""
    from flask import has_request_context, request
    from pygeoapi.api import APIRequest

    from placeintel.api import encoder

    if crs_transform_spec is not None or not encoder.INSTALLED:
        return False
    if not has_request_context():
        return False
    asked = APIRequest._get_format(_Args(request.args), request.headers)
    return asked in (None, "json")


@dataclass
class _Args:
    """What pygeoapi's format negotiation reads of a request."""

    _args: Any


class ReleaseProvider(BaseProvider):
    """OGC API - Features over one GeoParquet layer of a placeintel release."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        if not self.id_field:
            raise ProviderGenericError(
                f"the collection over {provider_def.get('data')} needs an id_field in its "
                "configuration (placeintel/publish/layers.py gives every layer its key)"
            )
        # pygeoapi makes a provider per request: the layer is looked up (a stat of the
        # file, to see a new release) once per request, not at each use.
        self._layer = load_layer(Path(self.data), self.id_field, self.options)
        self._fields = self.get_fields()

    @property
    def layer(self) -> Layer:
        return self._layer

    def get_fields(self) -> dict[str, dict[str, str]]:
        return dict(self.layer.fields)

    @crs_transform
    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        layer = self.layer
        rows = self._filter(layer, bbox, properties, filterq)
        if sortby:
            rows = self._sort(layer, rows, sortby)
        matched = len(layer.ids) if rows is None else int(rows.size)
        result: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [],
            "numberMatched": matched,
        }
        if resulttype == "hits":
            result["numberReturned"] = 0
            return result
        # Clamp first: an offset past the end (however large) is simply an empty page.
        start = min(max(int(offset), 0), matched)
        stop = min(start + max(int(limit), 0), matched)
        page = np.arange(start, stop) if rows is None else rows[start:stop]
        raw = wants_json(kwargs.get("crs_transform_spec")) and not select_properties
        result["features"] = (
            [orjson.Fragment(layer.feature_json(row, skip_geometry)) for row in page.tolist()]
            if raw
            else [layer.feature(row, select_properties, skip_geometry) for row in page.tolist()]
        )
        result["numberReturned"] = len(result["features"])
        return result

    @crs_transform
    def get(self, identifier: str, **kwargs: Any) -> dict[str, Any]:
        layer = self.layer
        position = layer.positions.row(str(identifier))
        if position is None:
            raise ProviderItemNotFoundError(user_msg=f"no item {identifier!r}")
        feature = layer.feature(position, None, True)
        # pygeoapi reads the properties (its uri_field) and adds links: a dict, with the
        # geometry as its pre-serialised fragment when the answer is JSON.
        if wants_json(kwargs.get("crs_transform_spec")):
            feature["geometry"] = orjson.Fragment(layer.geometry_json[position])
        else:
            feature["geometry"] = orjson.loads(layer.geometry_json[position])
        return feature

    def _filter(
        self,
        layer: Layer,
        bbox: list[float] | None,
        properties: list[tuple[str, str]] | None,
        filterq: Any,
    ) -> np.ndarray | None:
        """Row positions that match, in file order; None means every row (no copy needed)."""
        rows: np.ndarray | None = None
        if bbox:
            try:
                box = shapely.box(*[float(b) for b in bbox[:4]])
            except (TypeError, ValueError):
                raise ProviderInvalidQueryError(user_msg="bbox must be four numbers") from None
            rows = np.sort(layer.tree.query(box, predicate="intersects"))
        for name, value in properties or []:
            if name not in layer.columns:
                raise ProviderInvalidQueryError(user_msg=f"unknown property {name!r}")
            column = layer.frame[name].to_numpy()
            mask = _equals(
                column if rows is None else column[rows], value, layer.fields[name]["type"], name
            )
            rows = np.flatnonzero(mask) if rows is None else rows[mask]
        if filterq is not None:
            mask = self._cached_cql(layer, filterq)
            rows = np.flatnonzero(mask) if rows is None else rows[mask[rows]]
        return rows

    @classmethod
    def _cached_cql(cls, layer: Layer, filterq: Any) -> np.ndarray:
        """`_cql`, kept for the last MAX_MASKS filters (a mask is one byte per row)."""
        key = _filter_key(filterq)
        with _MASKS_LOCK:
            mask = layer._masks.pop(key, None)
        if mask is None:
            mask = cls._cql(layer, filterq)
            mask.setflags(write=False)
        with _MASKS_LOCK:
            layer._masks[key] = mask  # newest last
            while len(layer._masks) > MAX_MASKS:
                layer._masks.pop(next(iter(layer._masks)))
        return mask

    @staticmethod
    def _cql(layer: Layer, filterq: Any) -> np.ndarray:
        try:
            mask = to_filter(layer.frame, filterq)
        except KeyError as error:
            raise ProviderInvalidQueryError(
                user_msg=f"unknown property in filter: {error.args[0]!r}"
            ) from None
        except NotImplementedError:
            raise ProviderInvalidQueryError(
                user_msg="this CQL2 operation is not supported here (comparison, LIKE, IN, "
                "BETWEEN, IS NULL, S_INTERSECTS, S_WITHIN, S_CONTAINS and friends are)"
            ) from None
        except AttributeError:
            # pygeofilter calls .str on LIKE's and .intersects on S_*'s first argument
            raise ProviderInvalidQueryError(
                user_msg="filter applies LIKE to a property that is not text, or a spatial "
                "function to one that is not the geometry"
            ) from None
        except RecursionError:
            raise ProviderInvalidQueryError(user_msg="filter is nested too deeply") from None
        except (TypeError, ValueError, ArithmeticError) as error:  # e.g. 1/0: a 400
            raise ProviderInvalidQueryError(
                user_msg=f"filter cannot be evaluated: {error}"
            ) from None
        if mask is None:  # pygeofilter's geopandas backend leaves temporal operators empty
            raise ProviderInvalidQueryError(
                user_msg="temporal operators (T_AFTER, T_BEFORE ...) are not supported here"
            )
        if isinstance(mask, pd.Series):
            return mask.fillna(False).to_numpy(dtype=bool)
        if isinstance(mask, bool | np.bool_):
            return np.full(len(layer.ids), bool(mask))
        return np.asarray(mask, dtype=bool)

    @staticmethod
    def _sort(layer: Layer, rows: np.ndarray | None, sortby: list[dict[str, str]]) -> np.ndarray:
        keys = []
        for spec in sortby:
            name = spec.get("property")
            if name not in layer.columns:
                raise ProviderInvalidQueryError(
                    user_msg=f"cannot sort by unknown property {name!r}"
                )
            keys.append((name, spec.get("order", "+") != "-"))
        if rows is None and len(keys) == 1:
            return layer.order(*keys[0])
        subset = np.arange(len(layer.ids)) if rows is None else rows
        # np.lexsort sorts by the last key first; missing values go last for either direction.
        columns = []
        for name, ascending in reversed(keys):
            rank = layer.rank(name)[subset]
            missing = layer.frame[name].isna().to_numpy()[subset]
            columns.append(np.where(missing, np.inf, rank if ascending else -rank))
        return subset[np.lexsort(columns)]


def _equals(column: np.ndarray, value: str, kind: str, name: str) -> np.ndarray:
    if kind == "string":
        return np.array([str(v) == value for v in column], dtype=bool)
    if kind == "boolean":
        if value.lower() not in {"true", "false", "1", "0"}:
            raise ProviderInvalidQueryError(user_msg=f"{name} takes true or false, got {value!r}")
        return column == (value.lower() in {"true", "1"})
    try:
        target = float(value)
    except ValueError:
        raise ProviderInvalidQueryError(user_msg=f"{name} takes a {kind}, got {value!r}") from None
    return column == target


def _filter_key(node: Any) -> Hashable:
    """A filter's structure as a hashable value, the key of its cached mask.

    Not `repr`: several pygeofilter nodes (`Not`, the combination and comparison bases)
    keep object's default repr, `<pygeofilter.ast.Not object at 0x...>`, so two different
    filters whose nodes reuse a freed address would share a mask. Scalars keep their type,
    so `x = 1` and `x = '1'` differ.
    """
    if node is None or isinstance(node, str | int | float | bool):
        return (type(node).__name__, node)
    if isinstance(node, enum.Enum):
        return (type(node).__name__, node.name)
    if isinstance(node, list | tuple):
        return ("seq", tuple(_filter_key(item) for item in node))
    if isinstance(node, dict):
        return ("map", tuple(sorted((str(k), _filter_key(v)) for k, v in node.items())))
    if hasattr(node, "__dict__"):
        fields = sorted(vars(node).items())
        return (type(node).__name__, tuple((name, _filter_key(v)) for name, v in fields))
    return (type(node).__name__, repr(node))  # dates, times, durations: value reprs
