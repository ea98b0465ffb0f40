"""Publishing council datasets into the release, per the contract the API reads.

Each dataset becomes `<id>.csv` (always, with its Table Schema in the data
package), and `<id>.geojson`, `<id>.gpkg` (layer `<id>`) and `<id>.parquet` when
it has geometry; without geometry `<id>.parquet` is still written (GeoParquet
with an all-null `geometry`, EPSG:27700) so the API can serve it, but the data
package lists only the CSV. `datapackage.json` gets `placeintel.datasets`, one
descriptor per dataset: everything the API's collections and catalogue need,
so that `serve` never reads the manifest.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from placeintel.datasets.manifest import Dataset
from placeintel.publish.package import ResourceSpec
from placeintel.publish.writers import write_csv, write_geojson, write_gpkg, write_parquet
from placeintel.region import Manifest
from placeintel.sources.boundaries import BNG

#: Table Schema constraints kept in the published schema: those the published values
#: still meet once text a spreadsheet would run is prefixed with an apostrophe.
KEPT_CONSTRAINTS = ("required", "unique", "minimum", "maximum")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GEOMETRY = {"Point": "point", "MultiPoint": "point", "LineString": "line"}
_GEOMETRY |= {"MultiLineString": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}


def write_datasets(
    root: Path, manifest: Manifest, frames: dict[str, pd.DataFrame], version: str
) -> tuple[list[ResourceSpec], list[dict[str, Any]]]:
    """Every validated dataset's files and resources, and the `placeintel.datasets` list."""
    specs: list[ResourceSpec] = []
    descriptors = []
    for dataset in manifest.datasets:
        if dataset.id not in frames:
            continue
        frame = frames[dataset.id]
        schema = frame.attrs.get("schema")
        table = typed(frame.drop(columns="geometry", errors="ignore"), schema)
        geographic = isinstance(frame, gpd.GeoDataFrame) and dataset.geometry.kind != "none"
        published = gpd.GeoDataFrame(
            table,
            geometry=frame.geometry.values if geographic else [None] * len(table),
            crs=BNG,
        ).reset_index(drop=True)
        licences = [dataset.licence]
        name, title = dataset.id, dataset.title
        csv_spec = ResourceSpec(
            f"{name}-csv",
            write_csv(published, root / f"{name}.csv"),
            f"{title} (CSV{', no geometry' if geographic else ''})",
            schema=published_schema(table, schema, dataset.key),
            description=dataset.description,
            licenses=licences,
        )
        files = {"csv": f"{name}.csv"}
        parquet = write_parquet(published, root / f"{name}.parquet")
        specs.append(csv_spec)
        if geographic:
            specs += [
                ResourceSpec(
                    f"{name}-geojson",
                    write_geojson(published, root / f"{name}.geojson"),
                    f"{title} (GeoJSON)",
                    licenses=licences,
                ),
                ResourceSpec(
                    f"{name}-gpkg",
                    write_gpkg(published, root / f"{name}.gpkg", name),
                    f"{title} (GeoPackage, EPSG:27700)",
                    licenses=licences,
                ),
                ResourceSpec(
                    f"{name}-parquet",
                    parquet,
                    f"{title} (GeoParquet, EPSG:27700)",
                    licenses=licences,
                ),
            ]
            files |= {"geojson": f"{name}.geojson", "gpkg": f"{name}.gpkg"}
        files["parquet"] = f"{name}.parquet"
        descriptors.append(
            describe(
                dataset, published if geographic else None, len(table), version, files, manifest
            )
        )
    return specs, descriptors


def typed(frame: pd.DataFrame, schema: dict[str, Any] | None) -> pd.DataFrame:
    """Text cells as the schema's types (integer, number, boolean), so that the published
    files carry numbers as numbers; dates and everything else stay as written."""
    out = pd.DataFrame(index=frame.index)
    specs = {f["name"]: f for f in (schema or {}).get("fields", [])}
    missing = set((schema or {}).get("missingValues", [""]))
    for column in frame.columns:
        values = frame[column]
        spec = specs.get(str(column), {})
        kind = spec.get("type", "string")
        text = values.astype(object).where(values.notna(), "")
        text = text.map(lambda v: v.strip() if isinstance(v, str) else v)
        blank = text.isin(missing) | (text == "")
        if kind in ("integer", "number"):
            cleaned = text.mask(blank, None)
            if spec.get("groupChar"):
                cleaned = cleaned.str.replace(spec["groupChar"], "", regex=False)
            if spec.get("decimalChar"):
                cleaned = cleaned.str.replace(spec["decimalChar"], ".", regex=False)
            if spec.get("bareNumber") is False:
                cleaned = cleaned.str.replace(r"[^0-9eE.+-]", "", regex=True)
            numbers = pd.to_numeric(cleaned, errors="coerce")
            out[column] = numbers.astype("Int64") if kind == "integer" else numbers.astype(float)
        elif kind == "boolean":
            true = set(spec.get("trueValues", ["true", "True", "TRUE", "1"]))
            false = set(spec.get("falseValues", ["false", "False", "FALSE", "0"]))
            flags = {**{v: True for v in true}, **{v: False for v in false}}
            out[column] = text.map(flags).astype("boolean")
        else:
            out[column] = text.mask(blank, None).astype(object)
    return out


def published_schema(
    table: pd.DataFrame, schema: dict[str, Any] | None, key: str
) -> dict[str, Any]:
    """The CSV's Table Schema: the council's types, titles and descriptions, for the
    columns as published (numbers as the writer spells them)."""
    specs = {f["name"]: f for f in (schema or {}).get("fields", [])}
    fields = []
    for column in table.columns:
        spec = specs.get(str(column), {})
        kind = spec.get("type", "string")
        kind = kind if kind in ("integer", "number", "boolean", "date", "datetime") else "string"
        field: dict[str, Any] = {"name": str(column), "type": kind}
        for text in ("title", "description", "example"):
            if spec.get(text) not in (None, ""):
                field[text] = str(spec[text])
        if kind in ("date", "datetime") and spec.get("format"):
            field["format"] = spec["format"]
        constraints = {
            k: v for k, v in (spec.get("constraints") or {}).items() if k in KEPT_CONSTRAINTS
        }
        if kind == "string":  # a bound on text is not a bound on prefixed text
            constraints = {k: v for k, v in constraints.items() if k in ("required", "unique")}
        if column == key:
            constraints |= {"required": True, "unique": True}
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "primaryKey": [key], "missingValues": [""]}


def describe(
    dataset: Dataset,
    geometry: gpd.GeoDataFrame | None,
    rows: int,
    version: str,
    files: dict[str, str],
    manifest: Manifest,
) -> dict[str, Any]:
    """The dataset's entry in `placeintel.datasets`, the contract with the API: a dataset
    without its own publisher or contact has the region's."""
    kinds = None
    if geometry is not None:
        kinds = geometry.geom_type.dropna().map(_GEOMETRY).value_counts()
    bbox = None
    if geometry is not None and len(geometry):
        west, south, east, north = Transformer.from_crs(
            BNG, "OGC:CRS84", always_xy=True
        ).transform_bounds(*geometry.total_bounds)
        bbox = [round(v, 6) for v in (west, south, east, north)]
    vintage = dataset.vintage
    return {
        "id": dataset.id,
        "title": dataset.title,
        "description": dataset.description,
        "keywords": list(dataset.keywords),
        "licence": dict(dataset.licence),
        "attribution": dataset.attribution,
        "publisher": dataset.publisher or manifest.publisher,
        "contact": {k: v for k, v in (dataset.contact or manifest.contact).items() if v},
        "update_frequency": dataset.update_frequency,
        "key": dataset.key,
        "title_field": dataset.title_field,
        "geometry": str(kinds.index[0]) if kinds is not None and len(kinds) else None,
        "rows": int(rows),
        "bbox": bbox,
        "modified": vintage if _ISO_DATE.match(vintage) else _release_date(version),
        "source": {"path": Path(dataset.path).name, "url": dataset.url, "vintage": vintage},
        "files": files,
    }


def _release_date(version: str) -> str:
    """`20260522T101500Z` as `2026-05-22`."""
    return f"{version[:4]}-{version[4:6]}-{version[6:8]}"
