"""The release's `datapackage.json` (Data Package v2), with Table Schemas and sha256 hashes.

Written by hand rather than through frictionless' describe(), because describe
guesses types from a sample and would hash the files itself; we know the exact
types from the frames, and frictionless then validates what we wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import FrictionlessException, Package
from frictionless.resources import TableResource
from pyarrow import csv

from placeintel.digest import sha256
from placeintel.fetch.lock import package_fields
from placeintel.region import Manifest, Source

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
OGL = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
MEDIATYPES = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
    "html": "text/html",
    "md": "text/markdown",
}


@dataclass(frozen=True)
class ResourceSpec:
    """A published file and, for tables, the frame and descriptions behind its schema."""

    name: str
    path: Path
    title: str
    frame: pd.DataFrame | None = None
    primary_key: str | None = None
    descriptions: dict[str, str] | None = None
    #: A Table Schema written out already (a council dataset's), used as it is.
    schema: dict[str, Any] | None = None
    description: str = ""
    #: The resource's own licences; the release's (OGL) when not given.
    licenses: list[dict[str, str]] | None = None


def table_schema(
    frame: pd.DataFrame, primary_key: str | None, descriptions: dict[str, str] | None
) -> dict[str, Any]:
    """A Table Schema from the frame's actual dtypes."""
    fields = []
    for column in frame.columns:
        if column == "geometry":
            continue
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            kind = "integer"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "number"
        else:
            kind = "string"
        field: dict[str, Any] = {"name": column, "type": kind}
        if descriptions and column in descriptions:
            field["description"] = descriptions[column]
        if column == primary_key:
            field["constraints"] = {"required": True, "unique": True}
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields}
    if primary_key:
        schema["primaryKey"] = [primary_key]
    return schema


def resource_descriptor(spec: ResourceSpec, root: Path) -> dict[str, Any]:
    extension = spec.path.suffix.lstrip(".").lower()
    descriptor: dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "path": spec.path.relative_to(root).as_posix(),
        "type": "table" if extension == "csv" else "file",
        "format": extension,
        "mediatype": MEDIATYPES.get(extension, "application/octet-stream"),
        "encoding": "utf-8",
        "bytes": spec.path.stat().st_size,
        "hash": f"sha256:{sha256(spec.path)}",
        "licenses": spec.licenses or [OGL],
    }
    if spec.description:
        descriptor["description"] = spec.description
    if extension == "csv" and spec.schema is not None:
        descriptor["schema"] = spec.schema
    elif extension == "csv" and spec.frame is not None:
        descriptor["schema"] = table_schema(spec.frame, spec.primary_key, spec.descriptions)
    return descriptor


def publisher_and_contact(manifest: Manifest) -> list[dict[str, Any]]:
    """The manifest's `publisher` and `contact` as Data Package contributors (roles
    `publisher` and `contact`), so that a release names who stands behind it and whom to
    ask, and the API serving it can say so without the manifest at hand."""
    people: list[dict[str, Any]] = []
    if manifest.publisher:
        people.append({"title": manifest.publisher, "roles": ["publisher"]})
    contact = manifest.contact
    if contact.get("email") or contact.get("url"):
        entry: dict[str, Any] = {"title": contact.get("name") or manifest.publisher or "contact"}
        if contact.get("email"):
            entry["email"] = contact["email"]
        if contact.get("url"):
            entry["path"] = contact["url"]
        people.append({**entry, "roles": ["contact"]})
    return people


def write_datapackage(
    root: Path,
    manifest: Manifest,
    used: list[Source],
    version: str,
    resources: list[ResourceSpec],
    extra: dict[str, Any],
) -> Path:
    """Write `datapackage.json` describing `resources`, crediting the `used` sources."""
    sources = []
    for source in used:
        entry = {"title": source.title or source.id, "path": source.url}
        if source.vintage:
            entry["version"] = str(source.vintage)
        if source.attribution:
            entry["attribution"] = source.attribution
        entry["license"] = source.licence
        # The bytes `placeintel fetch` locked (sources.lock.json), when the file still is them.
        entry.update(package_fields(manifest.data_dir, source.id, manifest.source_path(source)))
        sources.append(entry)
    attributions = sorted({s.attribution for s in used if s.attribution})
    descriptor = {
        "$schema": PROFILE,
        "name": f"placeintel-{manifest.name}",
        "title": manifest.title,
        "description": manifest.description.strip(),
        "version": version,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "licenses": [OGL],
        "keywords": ["digital exclusion", "DERI", "wards", "open data"],
        "sources": sources,
        "contributors": (
            [
                {"title": c.get("title", ""), "roles": [c.get("role", "contributor")]}
                for c in manifest.contributors
            ]
            or [{"title": "placeintel", "roles": ["author"]}]
        )
        + publisher_and_contact(manifest),
        "attribution": attributions,
        "resources": [resource_descriptor(spec, root) for spec in resources],
        "placeintel": {"synthetic": manifest.synthetic, **extra},
    }
    path = root / "datapackage.json"
    path.write_text(
        json.dumps(descriptor, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return path


#: Rows of each CSV that frictionless reads when the build checks its own package.
SAMPLE_ROWS = 1_000


def validate_datapackage(path: Path, sample_rows: int | None = SAMPLE_ROWS) -> list[str]:
    """Check the written package with frictionless; return its errors as readable lines.

    What the build checks, and why not every byte: the descriptor in full (the Data
    Package profile, every resource's metadata and Table Schema); each CSV's header
    against its schema and its first `sample_rows` rows against the field types and
    constraints; each CSV's primary key on every row (present and unique: the one
    property of a table that one row can break anywhere); and each file's size. What it
    leaves to `frictionless validate` (which reads everything, and passes on a release):
    the types of the rest of the rows, which come from the same frame column as the
    sampled ones (the schema is that frame's dtypes, `table_schema`), and the sha256 of
    each file, which `resource_descriptor` read from the file moments before. At
    national scale the full read was 12 s of row-by-row Python over ~300,000 rows and
    ~1 GB. `sample_rows=None` reads everything, as the CLI does.
    """
    package = Package(str(path))
    if sample_rows is None:
        return _messages(package.validate())
    try:
        package.to_descriptor(validate=True)
    except FrictionlessException as exception:
        return [error.message for error in exception.to_errors()]
    problems: list[str] = []
    for resource in package.resources:
        if isinstance(resource, TableResource):
            # limit_rows stops frictionless before its end-of-file checks (bytes, hash):
            # for a table those are the file checks below.
            rows = None if _row_constraints(resource) else sample_rows
            problems += _messages(resource.validate(limit_rows=rows))
            problems += _key_problems(resource, Path(path).parent)
        problems += _size_problems(resource, Path(path).parent)
    return problems


def _messages(report: Any) -> list[str]:
    if report.valid:
        return []
    return [f"{task.name}: {error.message}" for task in report.tasks for error in task.errors] or [
        error.message for error in report.errors
    ]


def _size_problems(resource: Any, root: Path) -> list[str]:
    """The file is there and has the size the descriptor records."""
    file = root / resource.path
    if not file.is_file():
        return [f"{resource.name}: {resource.path} is missing"]
    if resource.bytes is not None and file.stat().st_size != resource.bytes:
        return [
            f"{resource.name}: {resource.path} has {file.stat().st_size} bytes, not the "
            f"{resource.bytes} the descriptor records"
        ]
    return []


def _row_constraints(resource: Any) -> bool:
    """Whether the schema constrains a field other than the key's presence and uniqueness
    (then any row may break it, and every row is read)."""
    key = set(resource.schema.primary_key) if resource.schema else set()
    for field in resource.schema.fields if resource.schema else []:
        given = {k for k, v in field.constraints.items() if v not in (None, False)}
        if given - ({"required", "unique"} if field.name in key else set()):
            return True
    return False


def _arrow_encoding(encoding: str | None) -> str:
    """pyarrow's name for UTF-8 ("utf8" reads natively; any other name is transcoded)."""
    return "utf8" if (encoding or "utf-8").lower().replace("-", "") == "utf8" else encoding


def _key_problems(resource: Any, root: Path) -> list[str]:
    """Every row's primary key is present and unique, read with pyarrow as text (only the
    key's columns), as frictionless' primary-key and required checks would find."""
    key = list(resource.schema.primary_key) if resource.schema else []
    if not key:
        return []
    columns = csv.read_csv(
        root / resource.path,
        read_options=csv.ReadOptions(encoding=_arrow_encoding(resource.encoding)),
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            include_columns=key,
            column_types=dict.fromkeys(key, pa.string()),
            strings_can_be_null=False,
        ),
    )
    missing = set(resource.schema.missing_values or [""])
    blank = sum(
        pc.sum(pc.is_in(columns[name], pa.array(sorted(missing)))).as_py() or 0 for name in key
    )
    problems = []
    if blank:
        problems.append(f"{resource.name}: {blank} row(s) without a {', '.join(key)}")
    distinct = columns.group_by(key).aggregate([]).num_rows
    if distinct != columns.num_rows:
        problems.append(
            f"{resource.name}: {columns.num_rows - distinct} row(s) repeat a {', '.join(key)}"
        )
    return problems
