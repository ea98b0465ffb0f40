"""Validation: each source file against its format's Table Schema, then geometry and code checks.

Validation keeps going after a bad file, so one run reports every problem; a
file with schema errors is not read further, since its values cannot be trusted.
"""

from __future__ import annotations

from pathlib import Path

from placeintel.errors import DataError
from placeintel.region import Manifest, Source, load_manifest
from placeintel.sources import HEADER_MAPS, RegionData, place_postcodes, read_source
from placeintel.sources.tables import read_header
from placeintel.validate.checks import check_region
from placeintel.validate.report import Finding, Report
from placeintel.validate.tables import (
    load_schema,
    schema_name,
    validate_table,
    validate_with_own_schema,
)


def _check_file(manifest: Manifest, source: Source, report: Report) -> bool:
    """Presence and schema checks for one source; True if it may be read."""
    path = source.resolve(manifest.data_dir)
    if source.is_absent(manifest.data_dir):
        report.add(
            "warning",
            "source-absent",
            f"optional source {source.id!r} is not present; indicators from it will be missing",
            file=str(path),
            hint=f"download {source.title or source.id} from {source.url}",
        )
        return False
    if not path.exists():
        report.add(
            "error",
            "source-missing",
            "file not found",
            file=str(path),
            hint=f"get it from {source.url}, or pass --data-dir with the folder holding it",
        )
        return False
    if "schema" in source.options:  # the council's own Table Schema for this file
        own = manifest.manifest_path.parent / str(source.options["schema"])
        if not validate_with_own_schema(path, own, report):
            return False
    name = schema_name(source)
    if name is None:
        return True
    try:
        header, _ = read_header(path)
    except DataError as error:
        report.add("error", "empty-file", error.message, file=str(path))
        return False
    options = {"source_id": source.id, **source.options}
    mapping = HEADER_MAPS[source.reader]([h.strip() for h in header], source.role, options)
    return validate_table(path, load_schema(name), mapping, report)


def validate_sources(manifest: Manifest) -> tuple[RegionData, Report]:
    """Read and check every source; keep going after a bad file so one run reports them all."""
    data = RegionData(manifest)
    report = Report(manifest.name)
    for source in manifest.sources:
        if not _check_file(manifest, source, report):
            continue
        try:
            data.frames[source.id] = read_source(manifest, source)
        except DataError as error:
            report.add(
                "error",
                error.rule,
                error.message,
                file=str(error.file or source.path),
                row=error.row,
                field=error.field or "",
                hint=error.hint or "",
            )
    check_region(data, report)
    if report.ok:
        try:
            place_postcodes(data)
        except DataError as error:
            report.add(
                "error",
                error.rule,
                error.message,
                file=str(error.file),
                row=error.row,
                field=error.field or "",
                hint=error.hint or "",
            )
    return data, report


def validate(region: str | Path, data_dir: str | Path | None = None) -> Report:
    """Validate a region's sources and return the report (`.ok`, `.errors`, `.to_frame()`)."""
    return validate_sources(load_manifest(region, data_dir))[1]


__all__ = ["Finding", "Report", "validate", "validate_sources"]
