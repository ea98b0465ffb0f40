"""Validation: each source file against its format's Table Schema, then geometry and code checks.

Validation keeps going after a bad file, so one run reports every problem; a
file with schema errors is not read further, since its values cannot be trusted.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from placeintel.datasets.checks import validate_datasets
from placeintel.errors import DataError
from placeintel.region import Manifest, Source, inside, load_manifest
from placeintel.sources import (
    RegionData,
    deprivation_edition,
    format_of,
    place_postcodes,
    read_source,
    reader_options,
    source_file,
)
from placeintel.sources.arrow_csv import parses_shared
from placeintel.sources.tables import encodings_remembered, read_header
from placeintel.validate.checks import check_region
from placeintel.validate.early import (
    EarlyChecks,
    Placed,
    early_checks,
    early_placing,
    reading_rank,
)
from placeintel.validate.report import Finding, Report
from placeintel.validate.tables import load_schema, validate_table, validate_with_own_schema


def _check_file(manifest: Manifest, source: Source, report: Report) -> bool:
    """Presence and schema checks for one source; True if it may be read."""
    try:
        path = manifest.source_path(source)
    except DataError as error:  # an absolute path, or one leading out of the data folder
        report.add_error(error, value=source.path)
        return False
    try:
        form = format_of(manifest, source)
    except DataError as error:
        report.add(
            "error",
            "unknown-reader",
            error.message,
            file=str(error.file),
            field=error.field or "",
            hint=error.hint or "",
        )
        return False
    edition = form.edition
    if source.role == "lsoa11" and deprivation_edition(manifest) not in (None, "IMD 2019"):
        # 2011 LSOAs serve only to move IMD 2019 onto 2021 LSOAs; unread, they are not
        # credited as a source of a release that does not use them.
        report.add(
            "warning",
            "source-not-used",
            f"source {source.id!r} (2011 LSOAs) is not used: the region uses "
            f"{deprivation_edition(manifest)}, on 2021 LSOAs",
            file=str(path),
            field="index.deprivation_edition",
        )
        return False
    if source.role == "imd" and edition and edition != deprivation_edition(manifest):
        report.add(
            "warning",
            "source-not-used",
            f"source {source.id!r} ({edition}) is not used: the region uses "
            f"{deprivation_edition(manifest)}",
            file=str(path),
            field="index.deprivation_edition",
            hint=f"set index.deprivation_edition: {edition} to use it instead",
        )
        return False
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
    try:
        source_file(manifest, source)
        if "schema" in source.options:  # the council's own Table Schema, beside the manifest
            own = inside(
                manifest.manifest_path.parent,
                str(source.options["schema"]),
                f"{source.where()}.schema",
                manifest.manifest_path,
            )
    except DataError as error:  # not a regular file, too large, a sidecar or schema outside
        report.add_error(error, field=error.field or f"{source.where()}.path")
        return False
    if "schema" in source.options and not validate_with_own_schema(path, own, report):
        return False
    name = form.schema_for(source)
    if name is None:
        return True
    try:
        layout = form.layout(path)
        header, _ = read_header(path, layout.header_row)
    except DataError as error:  # empty, unreadable, or a header over placeintel.limits
        rule = "empty-file" if error.rule == "read" else error.rule
        report.add(
            "error",
            rule,
            error.message,
            file=str(path),
            row=error.row,
            field=error.field or "",
            hint=error.hint or "",
        )
        return False
    options = reader_options(manifest, source)
    try:
        mapping = form.header_map([h.strip() for h in header], source.role, options)
    except DataError as error:  # the manifest's options for this file are wrong
        report.add_error(
            error,
            file=str(error.file or manifest.manifest_path),
            field=error.field or f"sources[{source.id}]",
            row=None,
        )
        return False
    return validate_table(
        path,
        load_schema(name),
        mapping,
        report,
        layout=layout,
        hand_on=form.shares_parse,
        reads=form.reads,
    )


def validate_sources(manifest: Manifest) -> tuple[RegionData, Report]:
    """Read and check every source; keep going after a bad file so one run reports them all.

    The nation base's files (if the manifest has a `nation:` block) are checked in the
    same run, into the same report, and read into `data.nation`.
    """
    data = RegionData(manifest)
    report = Report(manifest.name)
    _check_contact(manifest, report)
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="vectors") as aside,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="placing") as placer,
    ):
        validated, early, placing = _validated_sources(manifest, aside, placer)
        for source, frame, findings in validated:
            report.findings += findings
            if frame is not None:
                data.frames[source.id] = frame
        check_region(data, report, early, placing)
        nation = manifest.nation_manifest()
        if nation is not None:  # beside the placing of this region's postcodes
            data.nation, nation_report = validate_sources(nation)
            report.findings += [f for f in nation_report.findings if f.rule != "no-contact"]
        placed = placing.result()
    if report.ok:
        try:
            if placed is not None and placed.holds_for(data):  # made beside check_region
                placed.apply(data)
            else:
                place_postcodes(data)
        except DataError as error:
            report.add_error(error, file=str(error.file))
    # After the sources: a dataset is placed with their wards and postcode directory.
    validate_datasets(data, report)
    return data, report


#: Files GDAL reads (pyogrio), releasing the GIL while it does: they are read on a
#: second thread while the CSVs are checked and read on the first.
_VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")


def _read_aside(source: Source) -> bool:
    """Whether the source is a vector file, whose checks and read touch no CSV code (a
    council's own Table Schema is checked with the csv module's process-wide limit)."""
    return source.path.lower().endswith(_VECTOR_SUFFIXES) and "schema" not in source.options


def _validated_sources(
    manifest: Manifest, aside: ThreadPoolExecutor, placer: ThreadPoolExecutor
) -> tuple[
    list[tuple[Source, object | None, list[Finding]]],
    Future[EarlyChecks],
    Future[Placed | None],
]:
    """Each source's frame (or None) and findings, in the manifest's order, and the
    early checks (validate/early.py), made on `aside` as their files are read.

    The vector files are checked and read on `aside`, a second thread, while this one
    checks and reads the CSVs (each file's findings in its own report, so the run's
    report lists them in the manifest's order whichever finishes first): GDAL, Arrow's
    parser and shapely release the GIL, and the machine the national build targets has
    two cores. The second thread then makes the early checks, waiting for the files of
    this one as it reads them, and `placer` places postcodes as they are checked.
    The checks and the reader find each file's encoding once, and parse it once.
    """
    indexed = list(enumerate(manifest.sources))
    # This thread reads its files in `reading_rank`'s order, and the other threads take
    # them in that order (`read` and `cleaned` are in it): the postcode files are placed
    # while the smaller files are read.
    order = sorted(indexed, key=lambda item: reading_rank(item[1]))
    with encodings_remembered(), parses_shared():
        pending = {i: aside.submit(_validated, manifest, s) for i, s in indexed if _read_aside(s)}
        mine: dict[int, Future[tuple[object | None, list[Finding]]]] = {
            i: Future() for i, _ in indexed if i not in pending
        }
        futures = {**pending, **mine}
        cleaned: dict[str, Future[object]] = {s.id: Future() for _, s in order}
        read = {s.id: futures[i] for i, s in order}
        early = aside.submit(early_checks, manifest, read, cleaned)
        placing = placer.submit(early_placing, manifest, cleaned)
        try:
            for i, s in order:
                if i in mine:
                    mine[i].set_result(_validated(manifest, s))
            return [(s, *futures[i].result()) for i, s in indexed], early, placing
        except BaseException:
            # Files not yet begun are not read, and the early checks, if waiting for a
            # file of this thread's, stop waiting (its future is cancelled).
            for future in (*futures.values(), early, placing, *cleaned.values()):
                future.cancel()
            raise


def _validated(manifest: Manifest, source: Source) -> tuple[object | None, list[Finding]]:
    """`validate_source` into a report of the source's own."""
    report = Report(manifest.name)
    frame = validate_source(manifest, source, report)
    return frame, report.findings


def _check_contact(manifest: Manifest, report: Report) -> None:
    """A real region's release goes in front of the public: say when it names no one to ask
    (a warning, since an address cannot be made up for the council)."""
    if manifest.synthetic or manifest.contact:
        return
    report.add(
        "warning",
        "no-contact",
        "the region names no contact: the API's pages and the data package will show "
        "no one to ask about the data",
        file=str(manifest.manifest_path),
        field="contact",
        hint="add `contact: {name: ..., email: ...}` (or url:) for the team that answers "
        "questions about this release",
    )


def validate_source(manifest: Manifest, source: Source, report: Report) -> object | None:
    """One file's checks and read: its frame, or None with the reason in the report.

    The cross-file checks need every frame, so they stay in `validate_sources`; this is
    the part a damaged file can break, and what the fuzz tests drive.
    """
    if not _check_file(manifest, source, report):
        return None
    try:
        frame = read_source(manifest, source)
    except DataError as error:
        for each in (error, *error.more):  # every row the reader could name
            report.add_error(each, file=str(each.file or source.path))
        return None
    _report_missing_cells(frame, source.resolve(manifest.data_dir), report)
    return frame


def _report_missing_cells(frame: object, path: Path, report: Report) -> None:
    """Say how many cells are empty or suppressed: they are missing data, never zero."""
    attrs = getattr(frame, "attrs", {})
    columns = attrs.get("columns", {})
    for measure, count in (attrs.get("missing_cells") or {}).items():
        report.add(
            "warning",
            "missing-cells",
            f"{count:,} empty or suppressed cell(s) in {measure}: read as missing data, not zero",
            file=str(path),
            field=columns.get(measure, measure),
            hint="an indicator built from a missing cell is missing for that area; at ward "
            "level it is computed from the areas that have data",
        )


def validate(region: str | Path, data_dir: str | Path | None = None) -> Report:
    """Validate a region's sources and return the report (`.ok`, `.errors`, `.to_frame()`)."""
    return validate_sources(load_manifest(region, data_dir))[1]


__all__ = ["Finding", "Report", "validate", "validate_source", "validate_sources"]
