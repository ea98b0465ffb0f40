"""`placeintel describe FILE`: a draft Table Schema for a council to review and commit,
and `placeintel datasets REGION`: the region's datasets at a glance.

The draft comes from frictionless' type inference over every row (not a sample,
so a late "n/a" or text value does not slip past), read through the same readers
as a build, so it describes the columns exactly as the build will see them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from frictionless import Detector, FrictionlessException, Resource

from placeintel.datasets.manifest import FORMATS, Dataset, Geometry
from placeintel.datasets.read import read_dataset
from placeintel.errors import DataError, UsageError
from placeintel.region import Manifest
from placeintel.sources.tables import check_file

#: Cells frictionless treats as missing while inferring, as the published schema does.
MISSING = ["", "n/a", "N/A", "NA", "-"]


@dataclass
class Draft:
    """A drafted schema and what a person must check before committing it."""

    schema: dict[str, Any]
    rows: int
    #: Columns filled and unique on every row: candidates for the manifest's `key`.
    keys: list[str]


def draft_schema(path: Path, sheet: str | None = None, layer: str | None = None) -> Draft:
    """Infer a Table Schema for a CSV, GeoJSON, GeoPackage, zipped shapefile or XLSX."""
    form = FORMATS.get(path.suffix.lower())
    if form is None:
        raise UsageError(
            f"{path.name}: describe reads {', '.join(sorted(FORMATS))} files, not "
            f"{path.suffix or 'a file without a suffix'}"
        )
    check_file(path)
    probe = Dataset(
        id="draft",
        title="draft",
        path=path.name,
        key="",
        format=form,
        geometry=Geometry("file" if form in ("geojson", "gpkg", "shapefile") else "none"),
        sheet=sheet,
        layer=layer,
    )
    frame = read_dataset(path, probe).drop(columns="geometry", errors="ignore")
    labels = [str(c) for c in frame.columns]
    rows = frame.to_numpy(dtype=object).tolist()
    try:
        resource = Resource(
            data=[labels, *rows],
            detector=Detector(sample_size=max(len(rows), 1), field_missing_values=MISSING),
        )
        resource.infer()
        inferred = resource.schema.to_descriptor()
    except FrictionlessException as error:
        raise DataError(f"cannot infer a schema: {error}", file=path) from None
    fields = []
    for spec in inferred["fields"]:
        field = {"name": spec["name"], "type": spec.get("type", "string")}
        if field["type"] == "any":
            field["type"] = "string"
        if spec.get("format") not in (None, "default"):
            field["format"] = spec["format"]
        field["title"] = spec["name"].replace("_", " ").strip().capitalize()
        field["description"] = ""
        fields.append(field)
    keys = [
        str(column)
        for column in frame.columns
        if (frame[column].astype(str).str.strip() != "").all() and frame[column].is_unique
    ]
    return Draft({"fields": fields, "missingValues": MISSING}, len(rows), keys)


def write_draft(draft: Draft, out: Path) -> Path:
    out.write_text(json.dumps(draft.schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def review_notes(draft: Draft, source: Path, out: Path | None) -> list[str]:
    """What a person must check before committing the draft."""
    name = out.name if out is not None else "SCHEMA.json"
    return [
        f"Drafted a Table Schema for {source.name}: {len(draft.schema['fields'])} columns, "
        f"inferred from all {draft.rows:,} rows.",
        "Review it before committing it beside region.yml:",
        "  - each column's type: a column of codes (ward codes, phone numbers, ids with leading "
        "zeros) must be string, not integer;",
        "  - write a description for every column (the data package and API show them);",
        "  - add constraints where they hold (required, unique, minimum, maximum, enum);",
        "  - choose the key column for the manifest (key:): "
        + (
            ", ".join(draft.keys[:8])
            if draft.keys
            else "no column is filled and unique on every row; add an id column"
        ),
        f"Then name it in the dataset's entry: schema: {name}",
    ]


def dataset_rows(manifest: Manifest, releases: Path) -> list[dict[str, str]]:
    """The region's datasets for `placeintel datasets`: id, title, format, geometry, the
    rows in the current release (when it has been built), licence."""
    built: dict[str, int] = {}
    package = releases / manifest.name / "current" / "datapackage.json"
    if package.is_file():
        try:
            listed = json.loads(package.read_text(encoding="utf-8"))["placeintel"]["datasets"]
            built = {d["id"]: int(d["rows"]) for d in listed}
        except (ValueError, KeyError, TypeError):
            built = {}
    out = []
    for dataset in manifest.datasets:
        named = ", ".join(dataset.geometry.columns)
        geometry = {
            "lonlat": f"lon/lat ({named})",
            "bng": f"easting/northing ({named})",
            "postcode": f"postcode ({named})",
            "file": "the file's own",
            "none": "none",
        }[dataset.geometry.kind]
        rows = built.get(dataset.id)
        out.append(
            {
                "id": dataset.id,
                "title": dataset.title,
                "format": dataset.format + (" (optional)" if dataset.optional else ""),
                "geometry": geometry,
                "rows": f"{rows:,}" if rows is not None else "not built",
                "licence": dataset.licence.get("name", ""),
            }
        )
    return out


def table(rows: list[dict[str, str]]) -> str:
    """Rows as an aligned plain-text table."""
    if not rows:
        return ""
    frame = pd.DataFrame(rows)
    widths = {c: max(len(c), *(len(str(v)) for v in frame[c])) for c in frame.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in frame.columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in frame.columns) for r in rows]
    return "\n".join(line.rstrip() for line in lines)
