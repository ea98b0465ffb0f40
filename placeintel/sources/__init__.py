"""Readers for official source formats: one function per format, all returning tidy frames.

Every reader has the signature `(path, role, options) -> frame` and brings
geometry to EPSG:27700, so stages downstream never think about formats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from placeintel.errors import DataError
from placeintel.region import Manifest, Source
from placeintel.sources import census, imd, lookups, ofcom, onspd, services
from placeintel.sources.boundaries import read_boundaries
from placeintel.sources.census import read_census
from placeintel.sources.dwp import read_stat_xplore
from placeintel.sources.imd import read_imd
from placeintel.sources.lookups import read_lookup
from placeintel.sources.ofcom import read_coverage, read_performance
from placeintel.sources.raster import RasterSource, read_raster
from placeintel.sources.services import read_services

READERS: dict[str, Callable[..., Any]] = {
    "ons-boundaries": read_boundaries,
    "ons-lookup": read_lookup,
    "onspd": onspd.read_onspd,
    "imd2019": read_imd,
    "ofcom-coverage": read_coverage,
    "ofcom-performance": read_performance,
    "nomis-census": read_census,
    "dwp-stat-xplore": read_stat_xplore,
    "services": read_services,
    "geotiff": read_raster,
}

#: For CSV formats: which of a file's columns hold each canonical field, so that
#: validation can check the raw file against the format's Table Schema.
HEADER_MAPS: dict[str, Callable[..., dict[str, list[str]]]] = {
    "ons-lookup": lookups.header_map,
    "onspd": onspd.header_map,
    "imd2019": imd.header_map,
    "ofcom-coverage": ofcom.header_map,
    "ofcom-performance": ofcom.header_map,
    "nomis-census": census.header_map,
    "services": services.header_map,
}


@dataclass
class RegionData:
    """Every source of a region, read: the input of validation and of the indicators."""

    manifest: Manifest
    frames: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def role(self, role: str) -> list[tuple[Source, Any]]:
        """The sources playing a role, with their frames, in manifest order."""
        return [(s, self.frames[s.id]) for s in self.manifest.by_role(role) if s.id in self.frames]

    def used_sources(self) -> list[Source]:
        """The sources actually read; only these are credited in a release."""
        return [s for s in self.manifest.sources if s.id in self.frames]

    def require(self, role: str, why: str) -> Any:
        """The frame for a role the computation cannot do without, or an error saying why."""
        frame = self.one(role)
        if frame is None:
            raise DataError(
                f"{why} (role: {role})", file=self.manifest.manifest_path, field="sources"
            )
        return frame

    def one(self, role: str) -> Any | None:
        """The single frame for a role, or None when the region has no such source."""
        found = self.role(role)
        return found[0][1] if found else None


def read_source(manifest: Manifest, source: Source) -> Any:
    """Read one source with the reader its manifest entry names."""
    reader = READERS.get(source.reader)
    if reader is None:
        raise DataError(
            f"unknown reader {source.reader!r}",
            file=manifest.manifest_path,
            field=f"sources[{source.id}].reader",
            hint=f"one of {', '.join(sorted(READERS))}",
        )
    options = {"source_id": source.id, **source.options}
    try:
        return reader(source.resolve(manifest.data_dir), source.role, options)
    except DataError as error:
        if error.file is None:
            error.file = source.resolve(manifest.data_dir)
        raise


def read_region(manifest: Manifest) -> RegionData:
    """Read every source the manifest names, timing each."""
    data = RegionData(manifest)
    for source in manifest.sources:
        if source.is_absent(manifest.data_dir):
            continue
        started = time.perf_counter()
        data.frames[source.id] = read_source(manifest, source)
        data.timings[source.id] = time.perf_counter() - started
    place_postcodes(data)
    return data


def postcode_sources(data: RegionData) -> list[Source]:
    """Sources read with postcode keys, which must be placed in output areas."""
    return [
        s
        for s in data.used_sources()
        if getattr(data.frames[s.id], "attrs", {}).get("key_kind") == "postcode"
    ]


def place_postcodes(data: RegionData) -> None:
    """Replace postcode-level frames (Ofcom's national files) by their output-area sums,
    placed with the ONS Postcode Directory, so every later step works on OAs."""
    pending = postcode_sources(data)
    if not pending:
        return
    lookup = data.require(
        "lookup-postcode", "postcode-level data needs the ONS Postcode Directory to place it"
    )
    for source in pending:
        started = time.perf_counter()
        path = source.resolve(data.manifest.data_dir)
        data.frames[source.id] = onspd.to_output_areas(data.frames[source.id], lookup, path)
        data.timings[source.id] = data.timings.get(source.id, 0) + time.perf_counter() - started


__all__ = ["HEADER_MAPS", "READERS", "RasterSource", "RegionData", "read_region", "read_source"]
