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
class NationBase:
    """The national files that set the `nation` base's 0-10 scale (DERI scales within England).

    Its sources are read by the same readers and turned into LSOA indicators by the same
    code as the region's; `codes` picks the areas that form the base (England's LSOA codes
    start E01), and `cap` the percentiles that bound the scale, so that one extreme LSOA
    cannot squash everyone else's scores into a corner of 0-10.
    """

    title: str
    sources: tuple[Source, ...]
    codes: str = "E01"
    cap: tuple[float, float] = (0.1, 99.9)


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
    nation: NationBase | None = None

    @property
    def public_fields(self) -> set[str]:
        """Columns the council has confirmed may be published although they look personal."""
        return set(self.publish.get("public_fields") or [])

    def by_role(self, role: str) -> list[Source]:
        return [s for s in self.sources if s.role == role]

    def nation_manifest(self) -> Manifest | None:
        """The nation base's files as a manifest of their own, so that they are read and
        validated exactly as the region's sources are."""
        if self.nation is None:
            return None
        return Manifest(
            name=f"{self.name} (nation base)",
            title=self.nation.title,
            description="",
            synthetic=self.synthetic,
            data_dir=self.data_dir,
            manifest_path=self.manifest_path,
            sources=self.nation.sources,
            index={},
        )


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
    seen: set[str] = set()
    sources = _sources(raw["sources"], "sources", path, seen)
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
        nation=_nation(raw.get("nation"), path, seen),
    )


def _nation(raw: Any, path: Path, seen: set[str]) -> NationBase | None:
    """The `nation:` block: title, sources, the area codes of the base, and the cap."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("sources"):
        raise DataError(
            "`nation` must be a mapping with its own, non-empty `sources`",
            file=path,
            field="nation",
        )
    cap = raw.get("cap_percentiles", [0.1, 99.9])
    if cap in (None, "none", False):
        cap = [0, 100]
    valid = (
        isinstance(cap, list)
        and len(cap) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in cap)
        and 0 <= cap[0] <= 10
        and 90 <= cap[1] <= 100
    )
    if not valid:
        raise DataError(
            f"cap_percentiles must be a low percentile (0 to 10) then a high one (90 to 100), "
            f"got {cap!r}",
            file=path,
            field="nation.cap_percentiles",
            hint="the cap trims the tails, e.g. [0.1, 99.9]; [0, 100] (or none) scales from "
            "the national minimum to maximum",
        )
    codes = raw.get("codes", "E01")
    if not isinstance(codes, str) or not codes:
        raise DataError("codes must be a code prefix such as E01", file=path, field="nation.codes")
    return NationBase(
        title=str(raw.get("title", "nation")),
        sources=tuple(_sources(raw["sources"], "nation.sources", path, seen)),
        codes=codes,
        cap=(float(cap[0]), float(cap[1])),
    )


def _sources(entries: Any, key: str, path: Path, seen: set[str]) -> list[Source]:
    """Each source entry checked for its required keys, a known role and a unique id."""
    if not isinstance(entries, list):
        raise DataError("must be a list of sources", file=path, field=key)
    sources = []
    for position, entry in enumerate(entries, start=1):
        where = f"{key}[{position}]"
        if not isinstance(entry, dict):
            raise DataError("each source must be a mapping", file=path, field=where)
        for required in ("id", "role", "reader", "path"):
            if required not in entry:
                raise DataError(f"source is missing {required!r}", file=path, field=where)
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
    return sources
