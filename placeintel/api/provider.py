"""placeintel's pygeoapi feature provider over a release's GeoParquet files.

pygeoapi builds a provider per request, and its stock file providers re-read
the file each time. This provider keeps each layer in memory once per process,
keyed by the resolved path and modification time (so a new `current` release is
picked up without a restart), with an STRtree for bbox queries that test
intersection rather than containment.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

STORAGE_CRS = "OGC:CRS84"


@dataclass(frozen=True)
class Layer:
    """A layer held in memory, ready to answer queries."""

    frame: pd.DataFrame  # properties only, in publication order
    geometry: np.ndarray  # shapely geometries in CRS84
    tree: shapely.STRtree
    ids: pd.Index
    fields: dict[str, dict[str, str]]


_CACHE: dict[str, tuple[float, Layer]] = {}
_LOCK = threading.Lock()


def _json_type(dtype: Any) -> str:
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "string"


def load_layer(path: str | os.PathLike[str], id_field: str) -> Layer:
    """The in-memory layer for a file, reloaded only when the file behind the path changes."""
    real = os.path.realpath(path)
    try:
        mtime = os.stat(real).st_mtime
    except FileNotFoundError:
        raise ProviderQueryError(
            user_msg=f"release file {path} is missing; build the region first"
        ) from None
    cached = _CACHE.get(real)
    if cached and cached[0] == mtime:
        return cached[1]
    with _LOCK:
        cached = _CACHE.get(real)
        if cached and cached[0] == mtime:
            return cached[1]
        frame = gpd.read_parquet(real).to_crs(STORAGE_CRS)
        geometry = frame.geometry.to_numpy()
        properties = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        layer = Layer(
            frame=properties,
            geometry=geometry,
            tree=shapely.STRtree(geometry),
            ids=pd.Index(properties[id_field].astype(str)),
            fields={c: {"type": _json_type(properties[c].dtype)} for c in properties.columns},
        )
        _CACHE.clear() if len(_CACHE) > 32 else None
        _CACHE[real] = (mtime, layer)
        return layer


class ReleaseProvider(BaseProvider):
    """OGC API - Features over one GeoParquet layer of a placeintel release."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        if not self.id_field:
            raise RuntimeError("placeintel provider needs id_field")
        self._fields = self.get_fields()

    @property
    def layer(self) -> Layer:
        return load_layer(Path(self.data), self.id_field)

    def get_fields(self) -> dict[str, dict[str, str]]:
        return dict(self.layer.fields)

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
        **kwargs: Any,
    ) -> dict[str, Any]:
        layer = self.layer
        rows = np.arange(len(layer.frame))
        if bbox:
            try:
                box = shapely.box(*[float(b) for b in bbox[:4]])
            except (TypeError, ValueError):
                raise ProviderInvalidQueryError(user_msg="bbox must be four numbers") from None
            rows = np.sort(layer.tree.query(box, predicate="intersects"))
        for name, value in properties or []:
            if name not in layer.frame:
                raise ProviderInvalidQueryError(user_msg=f"unknown property {name!r}")
            column = layer.frame[name].to_numpy()[rows]
            rows = rows[_equals(column, value, layer.fields[name]["type"], name)]
        if sortby:
            rows = self._sort(layer, rows, sortby)
        matched = int(rows.size)
        result: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [],
            "numberMatched": matched,
        }
        if resulttype == "hits":
            result["numberReturned"] = 0
            return result
        page = rows[int(offset) : int(offset) + int(limit)]
        result["features"] = self._features(layer, page, select_properties, skip_geometry)
        result["numberReturned"] = len(result["features"])
        return result

    def get(self, identifier: str, **kwargs: Any) -> dict[str, Any]:
        layer = self.layer
        positions = layer.ids.get_indexer([str(identifier)])
        if positions[0] < 0:
            raise ProviderItemNotFoundError(user_msg=f"no item {identifier!r}")
        return self._features(layer, positions, None, False)[0]

    def _sort(self, layer: Layer, rows: np.ndarray, sortby: list[dict[str, str]]) -> np.ndarray:
        keys, ascending = [], []
        for spec in sortby:
            name = spec["property"]
            if name not in layer.frame:
                raise ProviderInvalidQueryError(
                    user_msg=f"cannot sort by unknown property {name!r}"
                )
            keys.append(name)
            ascending.append(spec.get("order", "+") != "-")
        subset = layer.frame.iloc[rows][keys]
        order = (
            subset.reset_index(drop=True)
            .sort_values(keys, ascending=ascending, kind="stable", na_position="last")
            .index.to_numpy()
        )
        return rows[order]

    def _features(
        self, layer: Layer, rows: np.ndarray, select: list[str] | None, skip_geometry: bool
    ) -> list[dict[str, Any]]:
        frame = layer.frame.iloc[rows]
        if select:
            frame = frame[[c for c in frame.columns if c in select or c == self.id_field]]
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        geometries = (
            [None] * len(rows)
            if skip_geometry
            else [json.loads(g) if g else None for g in shapely.to_geojson(layer.geometry[rows])]
        )
        return [
            {
                "type": "Feature",
                "id": str(record[self.id_field])
                if self.id_field in record
                else str(layer.ids[row]),
                "geometry": geometry,
                "properties": {k: _plain(v) for k, v in record.items()},
            }
            for row, record, geometry in zip(rows, records, geometries, strict=True)
        ]


def _equals(column: np.ndarray, value: str, kind: str, name: str) -> np.ndarray:
    if kind == "string":
        return np.array([str(v) == value for v in column], dtype=bool)
    try:
        target = float(value) if kind != "boolean" else value.lower() in {"true", "1"}
    except ValueError:
        raise ProviderInvalidQueryError(user_msg=f"{name} takes a {kind}, got {value!r}") from None
    return column == target


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
