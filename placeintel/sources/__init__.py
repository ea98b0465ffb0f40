"""Readers for official source formats: one function per format, all returning tidy frames.

Every reader has the signature `(path, role, options) -> frame` and brings
geometry to EPSG:27700, so stages downstream never think about formats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from placeintel.errors import DataError
from placeintel.region import Manifest, Source
from placeintel.sources import (
    census,
    census_table,
    imd,
    iod2025,
    lookups,
    nomis_extract,
    ofcom,
    onspd,
    services,
)
from placeintel.sources.boundaries import read_boundaries
from placeintel.sources.census import read_census
from placeintel.sources.census_table import read_census_table
from placeintel.sources.dwp import read_stat_xplore
from placeintel.sources.imd import read_imd
from placeintel.sources.iod2025 import read_iod2025
from placeintel.sources.lookups import read_lookup
from placeintel.sources.nomis_extract import read_nomis_extract
from placeintel.sources.ofcom import read_coverage, read_performance
from placeintel.sources.raster import RasterSource, read_raster
from placeintel.sources.services import read_services
from placeintel.sources.tables import PLAIN, TableLayout

READERS: dict[str, Callable[..., Any]] = {
    "ons-boundaries": read_boundaries,
    "ons-lookup": read_lookup,
    "onspd": onspd.read_onspd,
    "imd2019": read_imd,
    "iod2025": read_iod2025,
    "ofcom-coverage": read_coverage,
    "ofcom-performance": read_performance,
    "nomis-census": read_census,
    "nomis-extract": read_nomis_extract,
    "census-table": read_census_table,
    "dwp-stat-xplore": read_stat_xplore,
    "services": read_services,
    "geotiff": read_raster,
}

#: The deprivation edition each deprivation reader reads, newest last.
EDITIONS: dict[str, str] = {"imd2019": "IMD 2019", "iod2025": "IoD2025"}


def deprivation_edition(manifest: Manifest) -> str | None:
    """The edition the region uses: `index.deprivation_edition`, else the newest it lists."""
    chosen = manifest.index.get("deprivation_edition")
    known = list(EDITIONS.values())
    if chosen is not None:
        if chosen not in known:
            raise DataError(
                f"unknown deprivation edition {chosen!r}",
                file=manifest.manifest_path,
                field="index.deprivation_edition",
                hint=f"one of {', '.join(known)}",
            )
        return str(chosen)
    listed = {EDITIONS.get(s.reader) for s in manifest.by_role("imd")} - {None}
    return max(listed, key=known.index) if listed else None


#: For CSV formats: which of a file's columns hold each canonical field, so that
#: validation can check the raw file against the format's Table Schema.
HEADER_MAPS: dict[str, Callable[..., dict[str, list[str]]]] = {
    "ons-lookup": lookups.header_map,
    "onspd": onspd.header_map,
    "imd2019": imd.header_map,
    "iod2025": iod2025.header_map,
    "ofcom-coverage": ofcom.header_map,
    "ofcom-performance": ofcom.header_map,
    "nomis-census": census.header_map,
    "nomis-extract": nomis_extract.header_map,
    "census-table": census_table.header_map,
    "services": services.header_map,
}

#: Formats whose table does not start on line 1: where the header and the data are.
TABLE_LAYOUTS: dict[str, Callable[[Path], TableLayout]] = {
    "nomis-extract": nomis_extract.locate,
}


def table_layout(reader: str, path: Path) -> TableLayout:
    """Where a CSV source's header and data lines are, as its reader finds them."""
    locate = TABLE_LAYOUTS.get(reader)
    return locate(path) if locate else PLAIN


def reader_options(manifest: Manifest, source: Source) -> dict[str, Any]:
    """What a reader is told about a source: its manifest options, its id and data folder
    (a metadata file named in the options is found there)."""
    return {"source_id": source.id, "_data_dir": str(manifest.data_dir), **source.options}


@dataclass
class RegionData:
    """Every source of a region, read: the input of validation and of the indicators."""

    manifest: Manifest
    frames: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: The nation base's files (`nation:` in the manifest), read the same way.
    nation: RegionData | None = None

    def role(self, role: str) -> list[tuple[Source, Any]]:
        """The sources playing a role, with their frames, in manifest order."""
        return [(s, self.frames[s.id]) for s in self.manifest.by_role(role) if s.id in self.frames]

    def read_sources(self) -> list[Source]:
        """The region's own sources that were read."""
        return [s for s in self.manifest.sources if s.id in self.frames]

    def used_sources(self) -> list[Source]:
        """The sources actually read (the nation base's too); only these are credited."""
        nation = self.nation.used_sources() if self.nation is not None else []
        return self.read_sources() + nation

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
    try:
        path = source.resolve(manifest.data_dir)
        return reader(path, source.role, reader_options(manifest, source))
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
        for s in data.read_sources()
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
