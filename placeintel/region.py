"""Region manifests (`datasets/<region>/region.yml`): what to read and how to score it.

The manifest is the single place that says which official file plays which role,
so the readers and the indicator code never hard-code a region's file names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from placeintel.errors import DataError, UsageError

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"

#: Roles a source can play. Readers turn files into frames; roles say what a frame is for.
ROLES = {
    "wards",
    "districts",
    "lsoa21",
    "lsoa11",
    "oa21",
    "lookup-oa-lsoa",
    "lookup-lsoa-ward",
    "lookup-postcode",
    "imd",
    "broadband-coverage",
    "broadband-performance",
    "census",
    "pension-credit",
    "services",
    "population-raster",
    "coverage-raster",
}


@dataclass(frozen=True)
class Source:
    """One official file named by the manifest, with its provenance."""

    id: str
    role: str
    reader: str
    path: str
    title: str = ""
    url: str = ""
    licence: str = "OGL-UK-3.0"
    attribution: str = ""
    vintage: str = ""
    optional: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def resolve(self, data_dir: Path) -> Path:
        return data_dir / self.path

    def is_absent(self, data_dir: Path) -> bool:
        """An optional source whose file is not there: skipped, and its indicators go missing."""
        return self.optional and not self.resolve(data_dir).exists()


@dataclass(frozen=True)
class Manifest:
    """A parsed `region.yml`."""

    name: str
    title: str
    description: str
    synthetic: bool
    data_dir: Path
    manifest_path: Path
    sources: tuple[Source, ...]
    index: dict[str, Any]
    publisher: str = ""
    publish: dict[str, Any] = field(default_factory=dict)
    contributors: tuple[dict[str, str], ...] = ()

    @property
    def public_fields(self) -> set[str]:
        """Columns the council has confirmed may be published although they look personal."""
        return set(self.publish.get("public_fields") or [])

    def by_role(self, role: str) -> list[Source]:
        return [s for s in self.sources if s.role == role]


_SOURCE_KEYS = {
    "id",
    "role",
    "reader",
    "path",
    "title",
    "url",
    "licence",
    "attribution",
    "vintage",
    "optional",
}


def find_manifest(region: str | Path) -> Path:
    """Accept a region name under `datasets/`, a region folder, or a manifest path."""
    candidate = Path(region)
    if candidate.is_file():
        return candidate
    if (candidate / "region.yml").is_file():
        return candidate / "region.yml"
    named = DATASETS_DIR / str(region) / "region.yml"
    if named.is_file():
        return named
    known = sorted(p.parent.name for p in DATASETS_DIR.glob("*/region.yml"))
    raise UsageError(f"unknown region {str(region)!r}; known regions: {', '.join(known) or 'none'}")


def load_manifest(region: str | Path, data_dir: str | Path | None = None) -> Manifest:
    """Read and check a manifest; `data_dir` overrides where the source files live."""
    path = find_manifest(region)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", file=path) from None
    if not isinstance(raw, dict):
        raise DataError("a manifest must be a mapping", file=path)
    for key in ("name", "sources"):
        if key not in raw:
            raise DataError("missing required key", file=path, field=key)
    sources = []
    seen: set[str] = set()
    for position, entry in enumerate(raw["sources"], start=1):
        where = f"sources[{position}]"
        if not isinstance(entry, dict):
            raise DataError("each source must be a mapping", file=path, field=where)
        for key in ("id", "role", "reader", "path"):
            if key not in entry:
                raise DataError(f"source is missing {key!r}", file=path, field=where)
        if entry["role"] not in ROLES:
            raise DataError(
                f"unknown role {entry['role']!r}",
                file=path,
                field=f"{where}.role",
                hint=f"one of {', '.join(sorted(ROLES))}",
            )
        if entry["id"] in seen:
            raise DataError(f"duplicate source id {entry['id']!r}", file=path, field=where)
        seen.add(entry["id"])
        options = {k: v for k, v in entry.items() if k not in _SOURCE_KEYS}
        sources.append(
            Source(**{k: v for k, v in entry.items() if k in _SOURCE_KEYS}, options=options)
        )
    base = Path(data_dir) if data_dir is not None else path.parent
    if not base.is_dir():
        raise UsageError(f"data directory {base} does not exist")
    return Manifest(
        name=str(raw["name"]),
        title=str(raw.get("title", raw["name"])),
        description=str(raw.get("description", "")),
        synthetic=bool(raw.get("synthetic", False)),
        data_dir=base.resolve(),
        manifest_path=path.resolve(),
        sources=tuple(sources),
        index=dict(raw.get("index") or {}),
        publisher=str(raw.get("publisher", "")),
        publish=dict(raw.get("publish") or {}),
        contributors=tuple(raw.get("contributors") or ()),
    )
