"""Validating council datasets into the same report as the sources.

Each dataset gets the checks a source gets, with file, row and field: its Table
Schema (frictionless, through the same path as the sources' CSVs, which switches
to the column-wise checker for large files), the key column (present, filled,
unique), control characters, the personal-data refusal, and its geometry
(coordinates that cannot be places, postcodes the directory does not know,
points outside the region). A dataset with an error is not published, and the
build stops before anything is written, so `current` stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from frictionless import FrictionlessException, Resource, Schema

from placeintel.datasets.manifest import VECTOR_FORMATS, Dataset
from placeintel.datasets.read import place, read_dataset
from placeintel.errors import DataError
from placeintel.sources.tables import check_file, read_bytes, read_header, rows_where
from placeintel.validate.controls import remove_control_characters
from placeintel.validate.privacy import personal_data, public_values
from placeintel.validate.report import Report
from placeintel.validate.tables import (
    _FLAT,
    MAX_FINDINGS_PER_FILE,
    _report_findings,
    validate_table,
)

if TYPE_CHECKING:
    from placeintel.sources import RegionData

MAX_ROWS_PER_RULE = 20
#: How far outside the region's wards a point may lie before it is reported (metres).
EXTENT_MARGIN = 2_000


def validate_datasets(data: RegionData, report: Report) -> None:
    """Check and read every dataset of the region into `data.datasets`."""
    manifest = data.manifest
    extent = data.ward_extent(EXTENT_MARGIN)
    postcodes = data.one("lookup-postcode")
    for dataset in manifest.datasets:
        frame = validate_dataset(data, dataset, report, postcodes, extent)
        if frame is not None:
            data.datasets[dataset.id] = frame


def validate_dataset(
    data: RegionData,
    dataset: Dataset,
    report: Report,
    postcodes: pd.DataFrame | None = None,
    extent: Any = None,
) -> pd.DataFrame | None:
    """One dataset's checks and read: its frame ready to publish, or None (see the report)."""
    manifest = data.manifest
    try:
        path = manifest.dataset_path(dataset)
    except DataError as error:
        report.add_error(error, value=dataset.path)
        return None
    if dataset.optional and not path.exists():
        report.add(
            "warning",
            "dataset-absent",
            f"optional dataset {dataset.id!r} is not present and is not published",
            file=str(path),
            field=f"{dataset.where}.path",
            hint=f"download {dataset.title} from {dataset.url}" if dataset.url else "",
        )
        return None
    _licence(dataset, report)
    before = len(report.errors)
    try:
        check_file(path)
        schema_path = manifest.dataset_schema(dataset)
    except DataError as error:
        report.add_error(error, field=error.field or f"{dataset.where}.path")
        return None
    schema = _schema(dataset, schema_path, report)
    if schema is False:
        return None
    if dataset.format == "csv" and not _check_csv(path, dataset, schema, report):
        return None
    try:
        frame = read_dataset(path, dataset)
    except DataError as error:
        for each in (error, *error.more):
            report.add_error(each, file=str(each.file or path))
        return None
    if dataset.format != "csv" and schema and not _check_frame(frame, path, schema, report):
        return None
    if not _publishable_columns(frame, dataset, path, report):
        return None
    frame = remove_control_characters(frame, str(path), report)
    _keys(frame, dataset, path, report)
    public = public_values(manifest).including(dataset.public_values)
    personal_data(frame.drop(columns="geometry", errors="ignore"), str(path), public, report)
    try:
        frame = place(frame, dataset, path, postcodes)
    except DataError as error:
        for each in (error, *error.more):
            report.add_error(each, file=str(each.file or path))
        return None
    if isinstance(frame, gpd.GeoDataFrame) and extent is not None:
        _outside(frame, dataset, path, extent, report)
    if len(report.errors) > before:
        return None
    frame.attrs["schema"] = schema or None
    frame.attrs["path"] = str(path)
    return frame


def _schema(dataset: Dataset, path: Path | None, report: Report) -> dict[str, Any] | None | bool:
    """The dataset's Table Schema as a dict; None when it has none; False when it is broken."""
    if path is None:
        report.add(
            "warning",
            "no-schema",
            f"dataset {dataset.id!r} has no Table Schema: its columns are published as text, "
            "undocumented",
            field=f"{dataset.where}.schema",
            hint=f"draft one with `placeintel describe {dataset.path} --output "
            f"{dataset.id}.schema.json`, review it, and name it under schema:",
        )
        return None
    if not path.is_file():
        report.add(
            "error",
            "schema-missing",
            "the Table Schema named in the manifest is missing",
            file=str(path),
            field=f"{dataset.where}.schema",
        )
        return False
    try:
        descriptor = json.loads(read_bytes(path).decode("utf-8-sig"))
        if not isinstance(descriptor, dict) or not isinstance(descriptor.get("fields"), list):
            raise ValueError("a Table Schema is a JSON object with a list of fields")
        Schema.from_descriptor(descriptor)
        for spec in descriptor["fields"]:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ValueError("every field needs a name")
    except (DataError, ValueError, FrictionlessException) as error:
        report.add(
            "error",
            "schema-invalid",
            f"the Table Schema cannot be used: {error}",
            file=str(path),
            field=f"{dataset.where}.schema",
            hint="check it against https://datapackage.org/standard/table-schema/",
        )
        return False
    return descriptor


def _check_csv(path: Path, dataset: Dataset, schema: dict[str, Any] | None, report: Report) -> bool:
    """The raw CSV against its schema, cell by cell, as the sources' CSVs are checked."""
    try:
        header, _ = read_header(path)
    except DataError as error:
        report.add_error(error, file=str(path))
        return False
    labels = [h.strip() for h in header]
    if not _columns(labels, dataset, schema, path, report):
        return False
    if schema is None:
        schema = {"fields": []}
    fields = [dict(f, **{"x-requiredColumn": False}) for f in schema["fields"]]
    canonical = {
        "fields": fields,
        "missingValues": schema.get("missingValues", [""]),
        "primaryKey": [dataset.key],
    }
    for spec in fields:
        if spec["name"] == dataset.key:
            spec["constraints"] = {**spec.get("constraints", {}), "required": True}
    mapping = {label: [label] for label in labels if label}
    if not any(f["name"] == dataset.key for f in fields):
        fields.append({"name": dataset.key, "type": "string", "constraints": {"required": True}})
    start = len(report.findings)
    ok = validate_table(path, canonical, mapping, report)
    for position in range(start, len(report.findings)):  # frictionless names no field here
        finding = report.findings[position]
        if finding.rule == "primary-key" and not finding.field:
            report.findings[position] = replace(finding, field=dataset.key)
    return ok


def _columns(
    labels: list[str],
    dataset: Dataset,
    schema: dict[str, Any] | None,
    path: Path,
    report: Report,
) -> bool:
    """The schema's fields and the manifest's key and title columns are in the file."""
    ok = _named_columns(labels, dataset, path, report)
    for spec in (schema or {}).get("fields", []):
        if spec["name"] not in labels:
            report.add(
                "error",
                "missing-column",
                "a column of the Table Schema is missing from the file",
                file=str(path),
                field=spec["name"],
                hint=f"columns present: {', '.join(labels[:12])}",
            )
            ok = False
    return ok


def _licence(dataset: Dataset, report: Report) -> None:
    """Say what a harvester will read: the default a missing licence gets, or a licence
    with no address to read its terms at."""
    where = f"{dataset.where}.licence"
    if not dataset.licence_stated:
        report.add(
            "warning",
            "no-licence",
            f"dataset {dataset.id!r} names no licence: it is published under the Open "
            "Government Licence v3.0",
            field=where,
            hint="say licence: OGL-UK-3.0 (or the licence it is really under)",
        )
    elif not dataset.licence.get("path"):
        report.add(
            "warning",
            "unknown-licence",
            f"licence {dataset.licence.get('name')!r} is not one placeintel knows, and has "
            "no path: the catalogue and API can link to no terms",
            field=where,
            hint="give {name: ..., title: ..., path: https://...} with the licence's web page",
        )


def _publishable_columns(frame: pd.DataFrame, dataset: Dataset, path: Path, report: Report) -> bool:
    """Column names every published format can hold: none twice when case is ignored
    (GeoPackage, PostGIS and Excel treat `Name` and `name` as one column), and none
    called `geometry` (the published files' own geometry column)."""
    ok = True
    seen: dict[str, str] = {}
    for column in map(str, frame.columns):
        if column == "geometry" and dataset.format not in VECTOR_FORMATS:
            report.add(
                "error",
                "reserved-column",
                "a column is named geometry, the name of the published files' geometry",
                file=str(path),
                field=column,
                hint="rename the column (e.g. geometry_note)",
            )
            ok = False
        folded = column.casefold()
        if folded in seen:
            report.add(
                "error",
                "duplicate-column",
                f"columns {seen[folded]!r} and {column!r} differ only in case: GeoPackage, "
                "PostGIS and spreadsheets treat them as one",
                file=str(path),
                field=column,
                hint="rename one of them",
            )
            ok = False
        seen.setdefault(folded, column)
    if len(frame) == 0:
        report.add(
            "warning",
            "no-rows",
            "the file has a header and no rows: the dataset is published empty",
            file=str(path),
            hint="check the export: a failed one would replace the published rows with none",
        )
    return ok


def _named_columns(labels: list[str], dataset: Dataset, path: Path, report: Report) -> bool:
    """The columns the manifest names as key and title_field are in the file."""
    ok = True
    for column, option in ((dataset.key, "key"), (dataset.title_field, "title_field")):
        if column not in labels:
            report.add(
                "error",
                "missing-column",
                f"the column the manifest names as {option} is missing",
                file=str(path),
                field=column,
                hint=f"columns present: {', '.join(labels[:12])}",
            )
            ok = False
    return ok


def _check_frame(frame: pd.DataFrame, path: Path, schema: dict[str, Any], report: Report) -> bool:
    """A GeoJSON, GeoPackage, shapefile or sheet's attributes against the schema.

    frictionless checks the cells as text, as it checks a CSV's, and its row numbers
    (header = 1) are turned back into the feature or sheet row each came from.
    """
    labels = [str(c) for c in frame.columns if c != "geometry"]
    missing = [f["name"] for f in schema["fields"] if f["name"] not in labels]
    for name in missing:
        report.add(
            "error",
            "missing-column",
            "a column of the Table Schema is missing from the file",
            file=str(path),
            field=name,
            hint=f"columns present: {', '.join(labels[:12])}",
        )
    if missing:
        return False
    specs = {f["name"]: f for f in schema["fields"]}
    fields = [
        {k: v for k, v in specs[label].items() if not k.startswith("x-")}
        if label in specs
        else {"name": label, "type": "any"}
        for label in labels
    ]
    # The key's uniqueness is checked by `_keys`, once, whatever the format.
    descriptor = {"fields": fields, "missingValues": schema.get("missingValues", [""])}
    rows = frame[labels].to_numpy(dtype=object).tolist()
    before = len(report.errors)
    try:
        resource = Resource(data=[labels, *rows], schema=Schema.from_descriptor(descriptor))
        found = resource.validate(limit_errors=MAX_FINDINGS_PER_FILE).flatten(_FLAT)
    except FrictionlessException as error:
        report.add("error", "schema-invalid", str(error), file=str(path))
        return False
    index = list(frame.index)
    for item in found:
        number = item[0]
        item[0] = int(index[number - 2]) if number and 2 <= number < len(index) + 2 else number
    _report_findings(
        found,
        path,
        report,
        lambda field: f"a {specs.get(field, {}).get('type', 'value')}",
    )
    return len(report.errors) == before


def _keys(frame: pd.DataFrame, dataset: Dataset, path: Path, report: Report) -> None:
    """The key column present, every row's key filled in, and no key twice."""
    if not _named_columns([str(c) for c in frame.columns], dataset, path, report):
        return
    keys = frame[dataset.key].astype(str).str.strip()
    report.add_rows(
        "error",
        "missing-key",
        "the row has no key",
        keys == "",
        keys,
        MAX_ROWS_PER_RULE,
        file=str(path),
        field=dataset.key,
        hint="every row needs its own id in the key column: the API and diff find rows by it",
    )
    repeated = keys.duplicated() & (keys != "")
    report.add_rows(
        "error",
        "duplicate-key",
        "the same key appears on an earlier row",
        repeated,
        keys,
        MAX_ROWS_PER_RULE,
        file=str(path),
        field=dataset.key,
        hint="each row needs its own id in the key column",
    )


def _outside(
    frame: gpd.GeoDataFrame, dataset: Dataset, path: Path, extent: Any, report: Report
) -> None:
    """Features that do not touch the region (with a margin): a warning, since a council may
    publish a place just over its border; an error when swapped coordinates would fit."""
    from placeintel.validate.checks import _swapped

    outside = ~frame.intersects(extent)
    for row in rows_where(outside, MAX_ROWS_PER_RULE):
        shape = frame.geometry[row]
        swapped = _swapped(shape) if shape.geom_type == "Point" else None
        fits = swapped is not None and extent.contains(swapped)
        report.add(
            "error" if fits else "warning",
            "outside-region",
            "the feature lies outside the region's wards",
            file=str(path),
            row=row,
            field="geometry",
            value=str(frame[dataset.title_field][row]) if dataset.title_field in frame else "",
            hint="the coordinates look swapped (lon/lat or easting/northing)"
            if fits
            else "check the coordinates, or whether it is outside the region",
        )
