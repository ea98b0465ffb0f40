"""Region manifests (`datasets/<region>/region.yml`): what to read and how to score it.

The manifest is the single place that says which official file plays which role,
so the readers and the indicator code never hard-code a region's file names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from placeintel.datasets.manifest import Dataset, parse_datasets
from placeintel.errors import ManifestError, UsageError
from placeintel.limits import MANIFEST_BYTES, MANIFEST_VALUES, human_bytes, shorten

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"
#: What a manifest may hold, as one JSON Schema document (also usable by editors).
SCHEMA_PATH = Path(__file__).resolve().parent / "region.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

#: Roles a source can play. Readers turn files into frames; roles say what a frame is for.
ROLES = frozenset(SCHEMA["$defs"]["source"]["properties"]["role"]["enum"])
#: A region name: it names the release folder, so nothing else may pass.
REGION_NAME = re.compile(SCHEMA["$defs"]["slug"]["pattern"])


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
    #: Where the entry is in the manifest (`sources[3]`, `nation.sources[0]`), for messages.
    key: str = ""

    def resolve(self, data_dir: Path) -> Path:
        """The file's name under `data_dir`, for messages and existence checks; reading goes
        through `Manifest.source_path`, which refuses a path that leads out of the folder."""
        return data_dir / self.path

    def where(self) -> str:
        """The manifest key of the entry, e.g. `sources[3]`, for messages."""
        return self.key or f"sources[{self.id}]"

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
    #: Who answers questions about the data (`name`, `email`, `url`): the API's pages show it.
    contact: dict[str, str] = field(default_factory=dict)
    #: The council's own datasets (`datasets:`), published beside the index layers.
    datasets: tuple[Dataset, ...] = ()

    @property
    def public_fields(self) -> set[str]:
        """Columns the council has confirmed may be published although they look personal."""
        return set(self.publish.get("public_fields") or [])

    def by_role(self, role: str) -> list[Source]:
        return [s for s in self.sources if s.role == role]

    def source_path(self, source: Source) -> Path:
        """The file a source names, once it is sure to lie inside the data folder."""
        return inside(self.data_dir, source.path, f"{source.where()}.path", self.manifest_path)

    def dataset_path(self, dataset: Dataset) -> Path:
        """The file a dataset names, once it is sure to lie inside the data folder."""
        return inside(self.data_dir, dataset.path, f"{dataset.where}.path", self.manifest_path)

    def dataset_schema(self, dataset: Dataset) -> Path | None:
        """A dataset's Table Schema: beside the manifest, else in the data folder; confined
        to whichever folder it is found in."""
        if dataset.schema is None:
            return None
        key = f"{dataset.where}.schema"
        beside = inside(self.manifest_path.parent, dataset.schema, key, self.manifest_path)
        if beside.exists() or self.data_dir == self.manifest_path.parent.resolve():
            return beside
        return inside(self.data_dir, dataset.schema, key, self.manifest_path)

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
    if REGION_NAME.fullmatch(str(region)) and named.is_file():
        return named
    known = sorted(p.parent.name for p in DATASETS_DIR.glob("*/region.yml"))
    raise UsageError(
        f"unknown region {shorten(str(region))!r}; known regions: {', '.join(known) or 'none'}"
    )


def load_manifest(region: str | Path, data_dir: str | Path | None = None) -> Manifest:
    """Read and check a manifest; `data_dir` overrides where the source files live.

    Every type is checked against `region.schema.json` before any value is used, so a
    wrong manifest is one usage error naming its key, never a traceback further on.
    """
    path = find_manifest(region)
    raw = read_manifest(path)
    check_schema(raw, path)
    seen: set[str] = set()
    sources = _sources(raw["sources"], "sources", path, seen)
    base = Path(data_dir) if data_dir is not None else path.parent
    if not base.is_dir():
        raise UsageError(f"data directory {base} does not exist")
    manifest = Manifest(
        name=raw["name"],
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
        contact={k: str(v).strip() for k, v in (raw.get("contact") or {}).items()},
        datasets=tuple(parse_datasets(raw.get("datasets") or [], path, {s.role for s in sources})),
    )
    return _with_fetched_files(manifest)


def saved_as(source: Source) -> str:
    """The name `placeintel fetch` saves a source's download under: `download.save_as`,
    else the entry's own `path`."""
    block = source.options.get("download") or {}
    return str(block.get("save_as") or source.path)


def _with_fetched_files(manifest: Manifest) -> Manifest:
    """Sources whose download was saved under its own name (`save_as`), read from that file.

    An official file can differ in shape from the copy a manifest names (MHCLG's File 8 is
    a workbook; a research mirror converts it to CSV): the entry describes the copy, and
    its download block says how to read the official file once fetched. Which one is read
    depends only on which file is in the data folder, so a region built from copies keeps
    working, and `placeintel fetch` then `build` needs no edit of the manifest.
    """

    def view(source: Source) -> Source:
        block = source.options.get("download") or {}
        name = block.get("save_as")
        if not name or name == source.path:
            return source
        where = f"{source.where()}.download.save_as"
        if not inside(manifest.data_dir, name, where, manifest.manifest_path).is_file():
            return source
        read = dict(block.get("read") or {})
        reader = str(read.pop("reader", source.reader))
        options = {**(read if block.get("read") else source.options), "download": block}
        return replace(source, path=name, reader=reader, options=options)

    nation = manifest.nation
    if nation is not None:
        nation = replace(nation, sources=tuple(view(s) for s in nation.sources))
    return replace(manifest, sources=tuple(view(s) for s in manifest.sources), nation=nation)


def inside(folder: Path, name: str, key: str, manifest: Path) -> Path:
    """`folder / name`, refused unless it resolves, symlinks followed, inside `folder`.

    A manifest comes from outside: an absolute path or a `..` that climbs out would let it
    read any file on the machine (and echo it in the report), so neither is followed.
    """
    where = {"file": manifest, "field": key, "rule": "path-outside-data"}
    if Path(name).is_absolute():
        raise ManifestError(
            f"{shorten(name)!r} is an absolute path; a path in the manifest is relative to "
            f"its folder",
            hint=f"name the file relative to {folder}",
            **where,
        )
    joined = folder / name
    try:
        real = joined.resolve()
        root = folder.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise ManifestError(f"{shorten(name)!r} cannot be resolved: {exc}", **where) from None
    if not real.is_relative_to(root):
        raise ManifestError(
            f"{shorten(name)!r} leads outside the folder {root}",
            hint="a file named in the manifest must be inside that folder; symlinks are followed",
            **where,
        )
    return joined


class _Refused(Exception):
    """YAML the manifest loader will not build (an alias bomb, a repeated key)."""


class _ManifestLoader(yaml.SafeLoader):
    """PyYAML's safe loader, without repeated keys or implicit dates, whose aliases are
    counted before anything is built from them (`read_manifest`).

    A repeated key would silently override the first; a date would not be text.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _Refused(
                        f"line {key_node.start_mark.line + 1}: the key "
                        f"{shorten(key_node.value)!r} appears twice in one mapping"
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_manifest(path: Path) -> Any:
    """The manifest's YAML, within `MANIFEST_BYTES` and `MANIFEST_VALUES`."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest: {exc.strerror}", file=path) from None
    if len(data) > MANIFEST_BYTES:
        raise ManifestError(
            f"the manifest is larger than {human_bytes(MANIFEST_BYTES)}; a region's manifest "
            f"lists its files, and real ones are tens of kilobytes",
            file=path,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"the manifest is not UTF-8 text: {exc.reason}", file=path) from None
    try:
        loader = _ManifestLoader(text)  # its reader refuses control characters at once
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {shorten(str(exc), 300)}", file=path) from None
    try:
        node = loader.get_single_node()
        if node is not None:
            _count_values(node, {}, path)
        raw = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise ManifestError(str(exc), file=path) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"not valid YAML: {shorten(str(exc), 300)}", file=path) from None
    except RecursionError:
        raise ManifestError("not valid YAML: nested too deeply", file=path) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python will convert
        raise ManifestError(f"not valid YAML: {shorten(str(exc), 300)}", file=path) from None
    finally:
        loader.dispose()
    return {} if raw is None else raw


def _count_values(node: yaml.Node, counted: dict[int, int], path: Path) -> int:
    """How many values `node` holds once every alias in it is written out, refusing more
    than `MANIFEST_VALUES`.

    An alias is how a few hundred bytes of YAML stand for a billion values ("billion
    laughs"): PyYAML builds them cheaply, as shared objects, but anything that walks the
    result (the schema check, `str()`) then walks all of them. Shared nodes are counted
    once each and remembered, so the count itself costs one pass over the text.
    """
    key = id(node)
    if key in counted:
        if counted[key] < 0:
            raise _Refused(
                f"line {node.start_mark.line + 1}: a YAML alias refers to the value it is in"
            )
        return counted[key]
    counted[key] = -1  # being counted: meeting it again is a loop
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_count_values(item, counted, path) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(
            _count_values(k, counted, path) + _count_values(v, counted, path) for k, v in node.value
        )
    if total > MANIFEST_VALUES:
        raise _Refused(
            f"line {node.start_mark.line + 1}: the manifest holds more than "
            f"{MANIFEST_VALUES:,} values once its YAML aliases are written out (an alias "
            "'bomb'); real manifests hold about a thousand"
        )
    counted[key] = total
    return total


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(SCHEMA)
    return Draft202012Validator(SCHEMA)


def check_schema(raw: Any, path: Path) -> None:
    """Check the manifest's keys and types against `region.schema.json`; the first problem
    (the most relevant, as jsonschema ranks them) is a usage error naming its key."""
    try:
        error = best_match(_validator().iter_errors(raw))
    except RecursionError:
        raise ManifestError("the manifest is nested too deeply", file=path) from None
    if error is None:
        return
    key, message = _explain(error)
    raise ManifestError(message, file=path, field=key or None, rule="manifest-schema")


_TYPES = {
    "array": "a list",
    "object": "a mapping",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def manifest_key(parts: Any) -> str:
    """`["sources", 3, "path"]` as `sources[3].path`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: Any) -> str:
    """A value as the manifest spells it, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return shorten(text)


def _explain(error: ValidationError) -> tuple[str, str]:
    """The manifest key at fault and a message a council officer can act on."""
    key = manifest_key(error.absolute_path)
    custom = next((e.schema["x-message"] for e in _lineage(error) if "x-message" in e.schema), None)
    got = f", got {_shown(error.instance)}"
    match error.validator:
        case "required":
            missing = next((k for k in error.validator_value if k not in error.instance), "")
            return manifest_key([*error.absolute_path, missing]), "missing required key"
        case "additionalProperties":
            known = set(error.schema.get("properties", {}))
            extra = next((k for k in error.instance if k not in known), "")
            return (
                manifest_key([*error.absolute_path, str(extra)]),
                f"unknown key; the keys here are {', '.join(sorted(known))}",
            )
        case "type":
            wanted = error.validator_value
            names = [_TYPES.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)]
            return key, (custom or f"must be {' or '.join(names)}") + got
        case "enum":
            options = ", ".join(str(v) for v in error.validator_value if v is not None)
            return key, (custom or f"must be one of: {options}") + got
    if custom:
        return key, custom + got
    return key, shorten(error.message, 300)


def _lineage(error: ValidationError | None) -> list[ValidationError]:
    """The error and the errors it sits inside (an `anyOf` around it, say)."""
    found = []
    while error is not None:
        found.append(error)
        error = error.parent
    return found


def _nation(raw: Any, path: Path, seen: set[str]) -> NationBase | None:
    """The `nation:` block: title, sources, the area codes of the base, and the cap."""
    if raw is None:
        return None
    if not raw.get("sources"):
        raise ManifestError(
            "`nation` must be a mapping with its own, non-empty `sources`",
            file=path,
            field="nation.sources",
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
        raise ManifestError(
            f"cap_percentiles must be a low percentile (0 to 10) then a high one (90 to 100), "
            f"got {_shown(cap)}",
            file=path,
            field="nation.cap_percentiles",
            hint="the cap trims the tails, e.g. [0.1, 99.9]; [0, 100] (or none) scales from "
            "the national minimum to maximum",
        )
    return NationBase(
        title=str(raw.get("title", "nation")),
        sources=tuple(_sources(raw["sources"], "nation.sources", path, seen)),
        codes=raw.get("codes", "E01"),
        cap=(float(cap[0]), float(cap[1])),
    )


def _sources(entries: list[dict], key: str, path: Path, seen: set[str]) -> list[Source]:
    """Each source entry (its types already checked by the schema) with a unique id; keys
    the schema does not name are the reader's options."""
    sources = []
    for position, entry in enumerate(entries):
        where = f"{key}[{position}]"
        if entry["id"] in seen:
            raise ManifestError(
                f"duplicate source id {entry['id']!r}", file=path, field=f"{where}.id"
            )
        seen.add(entry["id"])
        options = {k: v for k, v in entry.items() if k not in _SOURCE_KEYS}
        sources.append(
            Source(
                **{k: v for k, v in entry.items() if k in _SOURCE_KEYS},
                options=options,
                key=where,
            )
        )
    return sources
