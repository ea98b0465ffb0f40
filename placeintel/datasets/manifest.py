"""The `datasets:` entries of a region manifest, parsed into `Dataset` values.

The JSON Schema (`region.schema.json`, `$defs/dataset`) has already checked every
type and the id's form; what is left here needs more than one key at a time: ids
unique, a geometry every format can honour, and a postcode geometry only where the
region has an ONS Postcode Directory to place it with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from placeintel.errors import ManifestError

#: The formats a dataset's file may have, by its (lower-case) suffix.
FORMATS = {
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
    ".xlsx": "xlsx",
}
#: Formats that carry their own geometry.
VECTOR_FORMATS = frozenset({"geojson", "gpkg", "shapefile"})
#: Licences councils use, by the name a manifest gives, as the data package writes them.
LICENCES = {
    "OGL-UK-3.0": (
        "Open Government Licence v3.0",
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    ),
    "CC-BY-4.0": (
        "Creative Commons Attribution 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
    "CC0-1.0": (
        "Creative Commons Zero v1.0 Universal",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
    "ODbL-1.0": (
        "Open Data Commons Open Database License 1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
    ),
}


@dataclass(frozen=True)
class Geometry:
    """How a dataset's rows are placed: `kind` is lonlat, bng, postcode, file or none."""

    kind: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """One council dataset named by the manifest."""

    id: str
    title: str
    path: str
    key: str
    format: str
    geometry: Geometry
    description: str = ""
    keywords: tuple[str, ...] = ()
    licence: dict[str, str] = field(default_factory=dict)
    #: Whether the entry named its licence (without one it is published under OGL-UK-3.0).
    licence_stated: bool = True
    attribution: str = ""
    publisher: str = ""
    contact: dict[str, str] = field(default_factory=dict)
    update_frequency: str = ""
    url: str = ""
    vintage: str = ""
    optional: bool = False
    layer: str | None = None
    sheet: str | None = None
    title_field: str = ""
    schema: str | None = None
    public_values: tuple[str, ...] = ()
    #: Where the entry is in the manifest (`datasets[2]`), for messages.
    where: str = ""

    def resolve(self, data_dir: Path) -> Path:
        """The file's name under `data_dir`, for messages; reading goes through
        `Manifest.dataset_path`, which refuses a path leading out of the folder."""
        return data_dir / self.path


def licence(raw: Any) -> dict[str, str]:
    """A manifest's `licence` (a name, or {name, title, path}) as the data package's form."""
    if isinstance(raw, dict):
        name = str(raw["name"])
        known = LICENCES.get(name, (name, ""))
        out = {"name": name, "title": str(raw.get("title") or known[0])}
        if raw.get("path") or known[1]:
            out["path"] = str(raw.get("path") or known[1])
        return out
    name = str(raw or "OGL-UK-3.0")
    title, path = LICENCES.get(name, (name, ""))
    return {"name": name, "title": title, **({"path": path} if path else {})}


def parse_datasets(entries: list[dict[str, Any]], manifest: Path, roles: set[str]) -> list[Dataset]:
    """Every `datasets:` entry (types already checked by the schema) as a `Dataset`.

    `roles` are the roles of the region's sources: a postcode geometry needs one
    playing `lookup-postcode`.
    """
    seen: set[str] = set()
    out = []
    for position, entry in enumerate(entries or []):
        where = f"datasets[{position}]"
        if entry["id"] in seen:
            raise ManifestError(
                f"duplicate dataset id {entry['id']!r}", file=manifest, field=f"{where}.id"
            )
        seen.add(entry["id"])
        suffix = Path(entry["path"]).suffix.lower()
        form = FORMATS.get(suffix)
        if form is None:
            raise ManifestError(
                f"a dataset's file must be one of {', '.join(sorted(FORMATS))}, got "
                f"{suffix or 'no suffix'!r}",
                file=manifest,
                field=f"{where}.path",
                hint="a shapefile is published zipped: a .zip holding one .shp with its "
                ".dbf, .shx and .prj",
            )
        geometry = _geometry(entry.get("geometry"), form, where, manifest, roles)
        for option, wanted in (("layer", "gpkg"), ("sheet", "xlsx")):
            if entry.get(option) is not None and form != wanted:
                raise ManifestError(
                    f"`{option}` is for {wanted.upper()} files; this dataset's file is {form}",
                    file=manifest,
                    field=f"{where}.{option}",
                )
        out.append(
            Dataset(
                id=entry["id"],
                title=entry["title"].strip(),
                path=entry["path"],
                key=entry["key"],
                format=form,
                geometry=geometry,
                description=str(entry.get("description", "")).strip(),
                keywords=tuple(entry.get("keywords") or ()),
                licence=licence(entry.get("licence")),
                licence_stated=bool(entry.get("licence")),
                attribution=str(entry.get("attribution", "")),
                publisher=str(entry.get("publisher", "")),
                contact={k: str(v).strip() for k, v in (entry.get("contact") or {}).items()},
                update_frequency=str(entry.get("update_frequency", "")),
                url=str(entry.get("url", "")),
                vintage=str(entry.get("vintage", "")),
                optional=bool(entry.get("optional", False)),
                layer=entry.get("layer"),
                sheet=entry.get("sheet"),
                title_field=entry.get("title_field") or entry["key"],
                schema=entry.get("schema"),
                public_values=tuple(v.strip() for v in entry.get("public_values") or ()),
                where=where,
            )
        )
    return out


def _geometry(raw: Any, form: str, where: str, manifest: Path, roles: set[str]) -> Geometry:
    key = f"{where}.geometry"
    if raw is None:
        if form in VECTOR_FORMATS:
            return Geometry("file")
        raise ManifestError(
            f"a {form.upper()} dataset must say where its rows are",
            file=manifest,
            field=key,
            hint="geometry: {lon: COLUMN, lat: COLUMN}, {easting: COLUMN, northing: COLUMN}, "
            "{postcode: COLUMN}, or none for a table without places",
        )
    if raw == "none":
        return Geometry("none")
    if raw == "file":
        if form not in VECTOR_FORMATS:
            raise ManifestError(
                f"geometry: file needs a file with geometry (GeoJSON, GeoPackage or zipped "
                f"shapefile); this one is {form}",
                file=manifest,
                field=key,
                hint="name the coordinate or postcode columns instead, or geometry: none",
            )
        return Geometry("file")
    if form in VECTOR_FORMATS:
        raise ManifestError(
            f"a {form} file has its own geometry; columns cannot place its rows",
            file=manifest,
            field=key,
            hint="leave geometry out (or write geometry: file), or geometry: none to publish "
            "it as a table",
        )
    if "postcode" in raw:
        if "lookup-postcode" not in roles:
            raise ManifestError(
                "a dataset placed by postcode needs the ONS Postcode Directory, and the region "
                "has no source with role lookup-postcode",
                file=manifest,
                field=f"{key}.postcode",
                hint="add the ONSPD as a source (role: lookup-postcode, reader: onspd), or give "
                "coordinate columns: {lon:, lat:} or {easting:, northing:}",
            )
        return Geometry("postcode", (raw["postcode"],))
    if "lon" in raw:
        return Geometry("lonlat", (raw["lon"], raw["lat"]))
    return Geometry("bng", (raw["easting"], raw["northing"]))
