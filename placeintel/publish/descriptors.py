"""The council datasets a release publishes, as its datapackage.json describes them.

The build records each dataset under `placeintel.datasets` (see the issue-16 contract in
docs/add-your-dataset.md); the API, the landing page and the DCAT catalogue read them from
there, never from the region manifest, so a release serves what it holds. The file may
have been edited or come from elsewhere, so every entry is checked here once: a bad one is
skipped with a logged warning naming it (the service still starts), and what is kept is
plain, typed data: a slug id that cannot clash with an index layer or a route, web-only
links, a finite lon/lat box, and file names inside the release.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

LOGGER = logging.getLogger(__name__)

ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
#: The index layers and the service's own routes: a dataset may not take these ids.
RESERVED = frozenset(
    ("wards", "lsoas", "services", "broadband", "deprivation")
    + ("catalog", "map", "release", "static")
)
#: The files a dataset may have, by kind: (media type, how a person names it).
FORMATS = {
    "csv": ("text/csv", "CSV"),
    "geojson": ("application/geo+json", "GeoJSON"),
    "gpkg": ("application/geopackage+sqlite3", "GeoPackage"),
    "parquet": ("application/vnd.apache.parquet", "GeoParquet"),
}
GEOMETRIES = ("point", "polygon", "line")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
#: More datasets than any council publishes: beyond it the rest are not served.
MAX_DATASETS = 1000
#: Longer text is cut (a title or description is read by people, not stored here).
MAX_TEXT = 10_000


class Rejected(ValueError):
    """A dataset entry the service will not publish, and why."""


@dataclass(frozen=True)
class Licence:
    name: str
    title: str
    path: str  # a web address, or ""


@dataclass(frozen=True)
class Dataset:
    """One council dataset of a release, checked."""

    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    licence: Licence
    attribution: str
    publisher: str
    contact: dict[str, str]
    update_frequency: str
    key: str
    title_field: str
    geometry: str | None
    rows: int
    bbox: tuple[float, float, float, float] | None
    modified: str
    source_url: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Its collection id, as an index layer's `name`."""
        return self.id


def text(value: Any, limit: int = MAX_TEXT) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def web(value: Any) -> str:
    """A web address, or "" for anything else (a `javascript:` link must not become one)."""
    link = text(value, 2000)
    return link if link.startswith(("https://", "http://")) and not re.search(r"\s", link) else ""


def _bbox(value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise Rejected("bbox is not [west, south, east, north]")
    try:
        west, south, east, north = (float(v) for v in value)
    except (TypeError, ValueError):
        raise Rejected("bbox holds something that is not a number") from None
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    if not finite or not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise Rejected(f"bbox {value} is not a lon/lat box")
    return west, south, east, north


def _files(identifier: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Rejected("files is not a mapping of format to file name")
    files = {}
    for kind, name in value.items():
        if kind not in FORMATS:
            continue
        # Only `<id>.<format>`: a name can never lead out of the release or to another file.
        if name != f"{identifier}.{kind}":
            raise Rejected(f"files.{kind} is {name!r}, not {identifier}.{kind}")
        files[kind] = name
    if "csv" not in files or "parquet" not in files:
        raise Rejected("files must name the CSV and the GeoParquet file")
    return files


def dataset(entry: Any) -> Dataset:
    """One `placeintel.datasets` entry, checked; Rejected says why it cannot be served."""
    if not isinstance(entry, dict):
        raise Rejected("not a mapping")
    identifier = entry.get("id")
    if not isinstance(identifier, str) or not ID.fullmatch(identifier):
        raise Rejected(f"id {str(identifier)[:80]!r} is not a slug (a-z, 0-9 and -)")
    if identifier in RESERVED:
        raise Rejected(f"id {identifier!r} is an index layer's or the service's own name")
    geometry = entry.get("geometry")
    if geometry is not None and geometry not in GEOMETRIES:
        raise Rejected(f"geometry {str(geometry)[:40]!r} is not point, polygon, line or null")
    licence = entry.get("licence") if isinstance(entry.get("licence"), dict) else {}
    contact = entry.get("contact") if isinstance(entry.get("contact"), dict) else {}
    keywords = entry.get("keywords") if isinstance(entry.get("keywords"), list) else []
    rows = entry.get("rows")
    email = text(contact.get("email"), 320)
    modified = text(entry.get("modified"), 40)
    source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
    key = text(entry.get("key"), 200)
    if not key:
        raise Rejected("no key (the id column)")
    return Dataset(
        id=identifier,
        title=text(entry.get("title"), 500) or identifier,
        description=text(entry.get("description")),
        keywords=tuple(k for k in (text(k, 200) for k in keywords[:50]) if k),
        licence=Licence(
            name=text(licence.get("name"), 200),
            title=text(licence.get("title"), 500) or text(licence.get("name"), 200),
            path=web(licence.get("path")),
        ),
        attribution=text(entry.get("attribution")),
        publisher=text(entry.get("publisher"), 500),
        contact={
            k: v
            for k, v in (
                ("name", text(contact.get("name"), 500)),
                ("email", email if EMAIL.fullmatch(email) else ""),
                ("url", web(contact.get("url"))),
            )
            if v
        },
        update_frequency=text(entry.get("update_frequency"), 200),
        key=key,
        title_field=text(entry.get("title_field"), 200) or key,
        geometry=geometry,
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else 0,
        bbox=_bbox(entry.get("bbox")) if geometry else None,
        modified=modified if DATE.fullmatch(modified) else "",
        source_url=web(source.get("url")),
        files=_files(identifier, entry.get("files")),
    )


def released_datasets(package: dict[str, Any]) -> list[Dataset]:
    """The release's council datasets that can be served, in the order the package lists
    them; each entry that cannot is logged (with its id and the reason) and left out."""
    extension = package.get("placeintel") if isinstance(package.get("placeintel"), dict) else {}
    entries = extension.get("datasets") or []
    if not isinstance(entries, list):
        LOGGER.warning("datapackage.json: placeintel.datasets is not a list; no dataset served")
        return []
    if len(entries) > MAX_DATASETS:
        LOGGER.warning("datapackage.json: only the first %d datasets are served", MAX_DATASETS)
    found: dict[str, Dataset] = {}
    for number, entry in enumerate(entries[:MAX_DATASETS]):
        try:
            checked = dataset(entry)
        except Rejected as reason:
            named = entry.get("id") if isinstance(entry, dict) else None
            LOGGER.warning(
                "datapackage.json: placeintel.datasets[%d] (%s) is not served: %s",
                number,
                str(named)[:80] if named else "no id",
                reason,
            )
            continue
        if checked.id in found:
            LOGGER.warning("datapackage.json: dataset %r is listed twice", checked.id)
            continue
        found[checked.id] = checked
    return list(found.values())
