"""Readers for official source formats: one module per format, all returning tidy frames.

Every reader has the signature `(path, role, options) -> frame` and brings
geometry to EPSG:27700, so stages downstream never think about formats. Each
module declares its `Format` (reader, header map, schema, layout), and `FORMATS`
collects them: the only list of readers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from placeintel.errors import DataError
from placeintel.region import Manifest, Source, inside
from placeintel.sources import (
    boundaries,
    census,
    census_table,
    dwp,
    imd,
    iod2025,
    lookups,
    nomis_extract,
    ofcom,
    onspd,
    raster,
    services,
)
from placeintel.sources.formats import Format
from placeintel.sources.raster import RasterSource
from placeintel.sources.tables import check_file

#: Every format a manifest's `reader:` may name, each declared beside its reader.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        boundaries.FORMAT,
        lookups.FORMAT,
        onspd.FORMAT,
        imd.FORMAT,
        iod2025.FORMAT,
        *ofcom.FORMATS,
        census.FORMAT,
        nomis_extract.FORMAT,
        census_table.FORMAT,
        dwp.FORMAT,
        services.FORMAT,
        raster.FORMAT,
    )
}
#: The deprivation editions, oldest first.
EDITIONS = ("IMD 2019", "IoD2025")


def format_of(manifest: Manifest, source: Source) -> Format:
    """The format a source's `reader:` names, or an error listing the known ones."""
    found = FORMATS.get(source.reader)
    if found is None:
        raise DataError(
            f"unknown reader {source.reader!r}",
            file=manifest.manifest_path,
            field=f"sources[{source.id}].reader",
            hint=f"one of {', '.join(sorted(FORMATS))}",
        )
    return found


def deprivation_edition(manifest: Manifest) -> str | None:
    """The edition the region uses: `index.deprivation_edition`, else the newest it lists."""
    chosen = manifest.index.get("deprivation_edition")
    if chosen is not None:
        if chosen not in EDITIONS:
            raise DataError(
                f"unknown deprivation edition {chosen!r}",
                file=manifest.manifest_path,
                field="index.deprivation_edition",
                hint=f"one of {', '.join(EDITIONS)}",
            )
        return str(chosen)
    listed = {FORMATS[s.reader].edition for s in manifest.by_role("imd") if s.reader in FORMATS}
    listed.discard(None)
    return max(listed, key=EDITIONS.index) if listed else None


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
    #: The council's datasets (`datasets:`), validated and placed, ready to publish.
    datasets: dict[str, Any] = field(default_factory=dict)
    #: The last `ward_extent`: the wards frame it was drawn from, the margin, the shape.
    _extent: tuple[Any, float, Any] | None = field(default=None, repr=False, compare=False)

    def ward_extent(self, margin: float) -> Any | None:
        """The union of the wards, buffered by `margin` metres (None without wards).

        The service checks and the dataset checks both ask for it; at national scale the
        union of 7,000 wards takes about a second, so it is drawn once per wards frame.
        """
        wards = self.one("wards")
        if wards is None or wards.empty:
            return None
        if self._extent is None or self._extent[0] is not wards or self._extent[1] != margin:
            self._extent = (wards, margin, wards.union_all().buffer(margin))
        return self._extent[2]

    def adopt_extent(self, other: RegionData) -> None:
        """Take the ward extent `other` drew, which `ward_extent` uses only while the
        wards frame it was drawn from is this region's too."""
        if other._extent is not None:
            self._extent = other._extent

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


def source_file(manifest: Manifest, source: Source) -> Path:
    """The file a source names, checked before anything opens it: inside the data folder
    (with the files a reader opens beside it, such as a shapefile's .dbf), a regular file,
    and within the size limit. Every reader is reached through this."""
    path = manifest.source_path(source)
    check_file(path)  # first: `path: .` is the data folder itself, which has no siblings
    for sibling in _sidecars(path):
        where = str(sibling.relative_to(manifest.data_dir))
        inside(manifest.data_dir, where, f"{source.where()}.path", manifest.manifest_path)
        if not sibling.is_dir():
            check_file(sibling)
    return path


def _sidecars(path: Path) -> list[Path]:
    """Files GDAL opens beside a source (`x.shp` -> `x.dbf`, `x.prj`; `x.tif.aux.xml`)."""
    if not path.parent.is_dir():
        return []
    stems = (f"{path.stem}.", f"{path.name}.")
    return [p for p in path.parent.iterdir() if p != path and p.name.startswith(stems)]


def read_source(manifest: Manifest, source: Source) -> Any:
    """Read one source with the reader its manifest entry names."""
    reader = format_of(manifest, source).read
    path = source.resolve(manifest.data_dir)
    try:
        path = source_file(manifest, source)
        return reader(path, source.role, reader_options(manifest, source))
    except DataError as error:
        if error.file is None:
            error.file = path
        raise


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
        data.frames[source.id], seconds = place_one(data, source, lookup)
        data.timings[source.id] = data.timings.get(source.id, 0) + seconds


def place_one(
    data: RegionData, source: Source, lookup: Any, known: dict[str, Any] | None = None
) -> tuple[Any, float]:
    """One postcode-level source's frame placed in output areas with `lookup` (the ONS
    Postcode Directory's frame), and the seconds it took.

    `known`, if given, gets `source.id` -> whether each row's postcode is in the
    directory (a numpy bool array), from the very look-up that places them (even when
    a postcode is unknown and placing raises), where Arrow makes it.
    """
    started = time.perf_counter()
    path = source.resolve(data.manifest.data_dir)
    frame = data.frames[source.id]
    positions = onspd.postcode_positions(frame, lookup)
    if known is not None and positions is not None:
        known[source.id] = positions.is_valid().to_numpy(zero_copy_only=False).astype(bool)
    placed = onspd.to_output_areas(frame, lookup, path, positions)
    return placed, time.perf_counter() - started


__all__ = ["FORMATS", "Format", "RasterSource", "RegionData", "read_source", "source_file"]
