"""Checks made on the second thread beside the CSVs, as soon as their files are read.

`check_region` needs every source read, so it began after the last CSV: the ward
checks (shapely overlays, about 4 s at national scale), the union of the wards (about
3 s), the control-character scan of every frame (about 1 s) and, after it, the placing
of the Ofcom postcodes in output areas (about 3 s) all waited for the postcode directory
and the Ofcom files, while the second thread, done with the boundary files in the first
seconds, sat idle. That thread now makes them as their files come in:

1. the boundary checks, once the boundary files and the ward lookup are read;
2. each other file's control-character scan, as the first thread reads it;
3. the placing of postcodes (`place_postcodes`, `early_placing`), once every file is
   read and scanned, beside the rest of `check_region` on the first thread.

They are the very calls `check_region` and `validate_sources` make, on the very frames
they would make them on, each into a report of its own. Their results, and their
findings in their places, are taken only where every frame they were drawn from is still
the region's (checked by identity); anywhere else the call is made again, as before.
The placing is used only where `validate_sources` would place (no error found).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from placeintel.errors import DataError
from placeintel.region import Manifest, Source
from placeintel.sources import RegionData, place_one, place_postcodes, postcode_sources
from placeintel.validate.checks import (
    BOUNDARY_ROLES,
    EXTENT_MARGIN,
    _duplicates,
    _geometries,
    _level,
    _path,
)
from placeintel.validate.controls import remove_control_characters
from placeintel.validate.report import Finding, Report
from placeintel.validate.wards import check_wards

#: The roles the boundary checks read: the boundaries, and the lookup `check_wards`
#: places each LSOA in its ward with.
ROLES = (*BOUNDARY_ROLES, "lookup-lsoa-ward")


@dataclass
class Placed:
    """`place_postcodes` made on the frames `drawn_from` (source id -> frame, the
    lookup's too): for each postcode file in the manifest's order, its placed frame and
    the seconds it took, or the error that stops `place_postcodes` there."""

    drawn_from: dict[str, Any]
    results: list[tuple[str, Any, float]] = field(default_factory=list)
    #: An error before any file is placed (no lookup for postcode-level files).
    error: DataError | None = None
    #: Source id -> whether each row's postcode is in the directory, from the look-up
    #: that placed it (`place_one`), for `check_region`'s `_area_codes` to use again.
    known: dict[str, Any] = field(default_factory=dict)

    def holds_for(self, data: RegionData) -> bool:
        """Whether `data` has these very frames for the postcode files and their lookup."""
        return _placing_inputs(data) == self.drawn_from.keys() and all(
            data.frames[i] is f for i, f in self.drawn_from.items()
        )

    def apply(self, data: RegionData) -> None:
        """What `place_postcodes(data)` does, from the results already made."""
        if self.error is not None:
            raise self.error
        for source_id, placed, seconds in self.results:
            if isinstance(placed, DataError):
                raise placed
            data.frames[source_id] = placed
            data.timings[source_id] = data.timings.get(source_id, 0) + seconds


@dataclass
class EarlyChecks:
    """What the early checks found, and the frames they were drawn from."""

    #: Source id -> the frame as read (validate_sources's), for each source scanned.
    read: dict[str, Any] = field(default_factory=dict)
    #: Source id -> (the frame without control characters, the findings).
    cleaned: dict[str, tuple[Any, list[Finding]]] = field(default_factory=dict)
    #: Source id -> (the frame with repaired polygons, the duplicate and geometry
    #: findings) for each boundary source.
    shaped: dict[str, tuple[Any, list[Finding]]] = field(default_factory=dict)
    #: `check_wards`'s findings.
    wards: list[Finding] = field(default_factory=list)
    #: The region as the checks saw it (cleaned and shaped frames), its ward extent drawn.
    view: RegionData | None = None

    def cleaned_for(self, source_id: str, frame: Any) -> tuple[Any, list[Finding]] | None:
        """The control-character scan of this very frame, if made."""
        if source_id in self.cleaned and self.read.get(source_id) is frame:
            return self.cleaned[source_id]
        return None

    def boundaries_hold_for(self, data: RegionData) -> bool:
        """Whether the boundary checks were made on `data`'s very frames of `ROLES`, as
        read."""
        mine = {s.id for s in _of_roles(data.manifest) if s.id in data.frames}
        drawn = {s.id for s in _of_roles(data.manifest) if s.id in self.read}
        return mine == drawn and all(data.frames[i] is self.read[i] for i in mine)


#: The roles of the files `early_placing` places postcodes with (the directory) or may
#: place (Ofcom's files, when they are by postcode).
PLACING_ROLES = ("lookup-postcode", "broadband-coverage", "broadband-performance")


def reading_rank(source: Source) -> int:
    """Where a file comes in the order the CSVs are read (`validate_sources`; the
    manifest's order within a rank): first the files the boundary checks wait for, then
    those the placing of postcodes does, then the rest.

    The national build read the Ofcom files last but for the services and rasters, so
    the performance file was placed (about a second) after everything else was read;
    read before the census, IMD, DWP and services files, it is placed while they are.
    """
    if source.role in ROLES:
        return 0
    return 1 if source.role in PLACING_ROLES else 2


def _of_roles(manifest: Manifest) -> list[Source]:
    return [s for s in manifest.sources if s.role in ROLES]


def _placing_inputs(data: RegionData) -> set[str]:
    """The ids of the frames `place_postcodes` reads: the postcode files and the lookup."""
    ids = {s.id for s in postcode_sources(data)}
    if ids:
        ids |= {s.id for s, _ in data.role("lookup-postcode")[:1]}
    return ids


def early_checks(
    manifest: Manifest,
    read: Mapping[str, Future[tuple[Any, list[Finding]]]],
    cleaned: Mapping[str, Future[Any]],
) -> EarlyChecks:
    """The checks above, each as soon as the files it needs are read (`read`: each
    source's (frame or None, findings) by id, as `_validated_sources` gives them).
    Each source's frame is given to `cleaned` (None if not read) once scanned, for
    `early_placing`; should anything fail here, those not given are cancelled."""
    try:
        return _early_checks(manifest, read, cleaned)
    finally:
        for future in cleaned.values():
            future.cancel()  # only those not given a frame: early_placing stops waiting


def _early_checks(
    manifest: Manifest,
    read: Mapping[str, Future[tuple[Any, list[Finding]]]],
    cleaned: Mapping[str, Future[Any]],
) -> EarlyChecks:
    done = EarlyChecks(view=RegionData(manifest))
    view = done.view
    by_id = {s.id: s for s in manifest.sources}
    order = [by_id[i] for i in read]  # the order the files are read in

    def take(sources: list[Source]) -> None:
        """Wait for each source's frame, and scan it for control characters (as
        check_region's first loop does)."""
        for source in sources:
            frame = read[source.id].result()[0]
            if source.id in done.read or cleaned[source.id].done():
                continue
            if frame is None:
                cleaned[source.id].set_result(None)
                continue
            done.read[source.id] = frame
            report = Report(manifest.name)
            view.frames[source.id] = remove_control_characters(frame, _path(view, source), report)
            done.cleaned[source.id] = (view.frames[source.id], report.findings)
            cleaned[source.id].set_result(view.frames[source.id])

    take([s for s in order if s.role in ROLES])
    for role in BOUNDARY_ROLES:  # as check_region's second loop
        for source, frame in view.role(role):
            report = Report(manifest.name)
            path = _path(view, source)
            _duplicates(frame, f"{_level(frame)}_code", path, report)
            view.frames[source.id] = _geometries(frame, path, report)
            done.shaped[source.id] = (view.frames[source.id], report.findings)
    wards = Report(manifest.name)
    check_wards(view, wards)
    done.wards = wards.findings
    view.ward_extent(EXTENT_MARGIN)
    take(order)
    return done


def early_placing(manifest: Manifest, cleaned: Mapping[str, Future[Any]]) -> Placed | None:
    """`place_postcodes` on the frames as the early checks leave them (`cleaned`), each
    postcode file placed as soon as it and the lookup are in (on a thread of its own,
    so the first Ofcom file is placed while the second is read), or None when the
    region has no postcode file."""
    region = RegionData(manifest)
    lookup: tuple[str, Any] | None = None
    waiting: list[Source] = []
    placed: dict[str, tuple[Any, float]] = {}
    known: dict[str, Any] = {}
    by_id = {s.id: s for s in manifest.sources}  # ids are unique (the manifest refuses a repeat)
    for source in (by_id[i] for i in cleaned):  # in the order the files are read
        frame = cleaned[source.id].result()
        if frame is None:
            continue
        region.frames[source.id] = frame
        if lookup is None and source.role == "lookup-postcode":
            lookup = (source.id, frame)
        if getattr(frame, "attrs", {}).get("key_kind") == "postcode":
            waiting.append(source)
        while lookup is not None and waiting:
            ready = waiting.pop(0)
            try:
                placed[ready.id] = place_one(region, ready, lookup[1], known)
            except DataError as error:
                placed[ready.id] = (error, 0.0)
    pending = postcode_sources(region)
    if not pending:
        return None
    if lookup is None:  # the error place_postcodes gives
        try:
            place_postcodes(region)
        except DataError as error:
            return Placed({s.id: region.frames[s.id] for s in pending}, error=error)
    drawn = {s.id: region.frames[s.id] for s in pending}
    if lookup is not None:
        drawn[lookup[0]] = lookup[1]
    return Placed(drawn, [(s.id, *placed[s.id]) for s in pending], known=known)
