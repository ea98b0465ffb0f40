"""placeintel's pygeoapi feature provider over a release's GeoParquet files.

pygeoapi builds a provider per request, and its stock file providers re-read
the file each time (GeoJSON, CSV) or lack sorting and CQL2 (Parquet). This
provider loads each layer once per process, keyed by the resolved path and its
modification time (so a new `current` release is picked up without a restart),
and prepares it so that a page costs in proportion to the page, not the layer:

- properties as plain Python lists, NaN already None, so a page is a few
  thousand list look-ups rather than a pandas round trip;
- each geometry serialised to GeoJSON once, at load;
- an STRtree for bbox (intersects, not "within" as pygeoapi's Parquet provider);
- sort orders per column computed on first use and kept;
- CQL2 (text and JSON, parsed by pygeoapi with pygeofilter) evaluated by
  pygeofilter's geopandas backend over the whole layer, vectorised.

Every mistake in a query is a 400 with a message (ProviderInvalidQueryError),
never a 500.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderGenericError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.util import crs_transform
from pygeofilter.backends.geopandas.evaluate import to_filter

STORAGE_CRS = "OGC:CRS84"


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


@dataclass
class Layer:
    """A layer held in memory, ready to answer queries."""

    frame: gpd.GeoDataFrame  # CRS84, for CQL2 evaluation
    columns: dict[str, list[Any]]
    geometry_json: list[str | None]
    tree: shapely.STRtree
    ids: pd.Index
    fields: dict[str, dict[str, str]]
    _orders: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)
    _ranks: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str, id_field: str) -> Layer:
        frame = gpd.read_parquet(path).to_crs(STORAGE_CRS).reset_index(drop=True)
        properties = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        geometry = frame.geometry.to_numpy()
        serialised = shapely.to_geojson(geometry)
        return cls(
            frame=frame,
            columns={c: _plain(properties[c]) for c in properties.columns},
            geometry_json=[None if g is None else str(g) for g in serialised],
            tree=shapely.STRtree(geometry),
            ids=pd.Index(properties[id_field].astype(str)),
            fields={c: {"type": _json_type(properties[c].dtype)} for c in properties.columns},
        )

    def rank(self, column: str) -> np.ndarray:
        """Dense rank of each row's value (missing values rank last), computed once."""
        if column not in self._ranks:
            values = self.frame[column]
            # As floats: a nullable integer column (Int64) ranks as uint64, which a
            # descending sort's negation would wrap around.
            codes = values.rank(method="dense", na_option="bottom").to_numpy(dtype="float64")
            self._ranks[column] = codes
        return self._ranks[column]

    def order(self, column: str, ascending: bool) -> np.ndarray:
        """All rows sorted by one column (stable; missing values last either way)."""
        key = (column, ascending)
        if key not in self._orders:
            rank = self.rank(column)
            missing = self.frame[column].isna().to_numpy()
            keyed = np.where(missing, np.inf, rank if ascending else -rank)
            self._orders[key] = np.argsort(keyed, kind="stable")
        return self._orders[key]


_CACHE: dict[str, tuple[float, Layer]] = {}
_LOCK = threading.Lock()


def load_layer(path: str | os.PathLike[str], id_field: str) -> Layer:
    """The in-memory layer for a file, reloaded only when the file behind the path changes."""
    real = os.path.realpath(path)
    try:
        mtime = os.stat(real).st_mtime
    except FileNotFoundError:
        raise ProviderQueryError(
            user_msg=f"release file {Path(path).name} is missing; build the region first"
        ) from None
    cached = _CACHE.get(real)
    if cached and cached[0] == mtime:
        return cached[1]
    with _LOCK:
        cached = _CACHE.get(real)
        if cached and cached[0] == mtime:
            return cached[1]
        layer = Layer.load(real, id_field)
        for stale in [p for p in _CACHE if os.path.dirname(p) != os.path.dirname(real)]:
            if len(_CACHE) > 16:
                _CACHE.pop(stale, None)
        _CACHE[real] = (mtime, layer)
        return layer


class ReleaseProvider(BaseProvider):
    """OGC API - Features over one GeoParquet layer of a placeintel release."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        if not self.id_field:
            raise ProviderGenericError(
                f"the collection over {provider_def.get('data')} needs an id_field in its "
                "configuration (placeintel/publish/layers.py gives every layer its key)"
            )
        self._fields = self.get_fields()

    @property
    def layer(self) -> Layer:
        return load_layer(Path(self.data), self.id_field)

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
        result["features"] = self._features(layer, page, select_properties, skip_geometry)
        result["numberReturned"] = len(result["features"])
        return result

    @crs_transform
    def get(self, identifier: str, **kwargs: Any) -> dict[str, Any]:
        layer = self.layer
        position = layer.ids.get_indexer([str(identifier)])[0]
        if position < 0:
            raise ProviderItemNotFoundError(user_msg=f"no item {identifier!r}")
        return self._features(layer, np.array([position]), None, False)[0]

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
            mask = self._cql(layer, filterq)
            rows = np.flatnonzero(mask) if rows is None else rows[mask[rows]]
        return rows

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
        except (TypeError, ValueError) as error:
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

    def _features(
        self, layer: Layer, rows: np.ndarray, select: list[str] | None, skip_geometry: bool
    ) -> list[dict[str, Any]]:
        names = [c for c in layer.columns if not select or c in select or c == self.id_field]
        columns = [layer.columns[c] for c in names]
        features = []
        for row in rows.tolist():
            geometry = None if skip_geometry else layer.geometry_json[row]
            features.append(
                {
                    "type": "Feature",
                    "id": layer.ids[row],
                    "geometry": json.loads(geometry) if geometry else None,
                    "properties": dict(
                        zip(names, (column[row] for column in columns), strict=True)
                    ),
                }
            )
        return features


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
