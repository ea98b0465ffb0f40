"""Validation: read every source (format errors become findings), then geometry and code checks."""

from __future__ import annotations

from pathlib import Path

from placeintel.errors import DataError
from placeintel.region import Manifest, load_manifest
from placeintel.sources import RegionData, read_source
from placeintel.validate.checks import check_region
from placeintel.validate.report import Finding, Report


def validate_sources(manifest: Manifest) -> tuple[RegionData, Report]:
    """Read and check every source; keep going after a bad file so one run reports them all."""
    data = RegionData(manifest)
    report = Report(manifest.name)
    for source in manifest.sources:
        if source.is_absent(manifest.data_dir):
            report.add(
                "warning",
                "source-absent",
                f"optional source {source.id!r} is not present; indicators from it will be missing",
                file=str(source.resolve(manifest.data_dir)),
                hint=f"download {source.title or source.id} from {source.url}",
            )
            continue
        path = source.resolve(manifest.data_dir)
        if not path.exists():
            report.add(
                "error",
                "source-missing",
                "file not found",
                file=str(path),
                hint=f"get it from {source.url}, or pass --data-dir with the folder holding it",
            )
            continue
        try:
            data.frames[source.id] = read_source(manifest, source)
        except DataError as error:
            report.add(
                "error",
                "read",
                error.message,
                file=str(error.file or source.path),
                row=error.row,
                field=error.field or "",
                hint=error.hint or "",
            )
    if report.ok:
        check_region(data, report)
    return data, report


def validate(region: str | Path, data_dir: str | Path | None = None) -> Report:
    """Validate a region's sources and return the report (`.ok`, `.errors`, `.to_frame()`)."""
    return validate_sources(load_manifest(region, data_dir))[1]


__all__ = ["Finding", "Report", "validate", "validate_sources"]
