"""`placeintel fetch`: download each source's `download:` block into the data folder.

Every file goes where the manifest's `path` says, confined to the data folder exactly as
reading is (`Manifest.source_path`), and replaces what was there only once it is whole
and is what was asked for: it is written to a temporary file beside it, sniffed (an HTML
page or a truncated zip is refused), cut to the region, and renamed into place. The lock
(`sources.lock.json`, `placeintel.fetch.lock`) records what each file is, so a second run
skips what is already there and `--check` finds what has changed.

One module per kind of endpoint: `arcgis`, `files` (`kind: file`), `nomis`, `ckan`; the
HTTP client with its retries and resuming is `http`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from placeintel.digest import sha256
from placeintel.errors import DataError, PlaceintelError, UsageError
from placeintel.fetch import arcgis, ckan, nomis
from placeintel.fetch.files import count_rows, extract_member, rewrite_csv, subset_codes
from placeintel.fetch.http import download, session
from placeintel.fetch.job import Job
from placeintel.fetch.lock import Difference, compare, now, read_lock, write_lock
from placeintel.fetch.sniff import check_file, expected_kind
from placeintel.limits import human_bytes, shorten
from placeintel.region import Manifest, Source, inside, load_manifest, read_manifest, saved_as

__all__ = ["Fetched", "check", "fetch"]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Fetched:
    """What happened to one source."""

    source: str
    path: Path
    status: str  # fetched, up-to-date, kept, failed
    bytes: int = 0
    rows: int | None = None
    seconds: float = 0.0
    message: str = ""

    def line(self) -> str:
        rows = f", {self.rows:,} rows" if self.rows is not None else ""
        match self.status:
            case "fetched":
                return (
                    f"  {self.source}: {self.path.name} {human_bytes(self.bytes)}{rows} "
                    f"in {self.seconds:.1f} s"
                )
            case "up-to-date":
                return f"  {self.source}: {self.path.name} up to date (matches the lock)"
            case "kept":
                return (
                    f"  {self.source}: {self.path.name} kept: present but not fetched by "
                    f"placeintel (--refresh downloads it)"
                )
        return f"  {self.source}: FAILED: {self.message}"


def _all_sources(manifest: Manifest) -> list[Source]:
    return list(manifest.sources) + list(manifest.nation.sources if manifest.nation else ())


def _load(region: str | Path, data_dir: Path | None) -> tuple[Manifest, tuple[str, ...]]:
    manifest = load_manifest(region, data_dir)
    raw = read_manifest(manifest.manifest_path)
    return manifest, tuple(raw.get("lad_codes") or ())


def _chosen(manifest: Manifest, only: Iterable[str]) -> list[Source]:
    """The sources with a download block, or those `--only` names (each must have one)."""
    sources = _all_sources(manifest)
    only = list(only)
    if not only:
        return _in_order([s for s in sources if "download" in s.options])
    by_id = {s.id: s for s in sources}
    unknown = [i for i in only if i not in by_id]
    if unknown:
        raise UsageError(
            f"--only {shorten(unknown[0])!r} is not a source of {manifest.name}; its sources "
            f"are {', '.join(by_id)}"
        )
    without = [i for i in only if "download" not in by_id[i].options]
    if without:
        raise UsageError(
            f"source {without[0]!r} has no download block in {manifest.manifest_path}; "
            "add one (docs/fetch.md) or place the file by hand"
        )
    return _in_order([by_id[i] for i in dict.fromkeys(only)])


def _in_order(sources: list[Source]) -> list[Source]:
    """Sources whose subset takes its codes from another source's file come after the
    others, so that file is there first (manifest order otherwise)."""

    def needs(source: Source) -> bool:
        codes = (source.options["download"].get("subset") or {}).get("codes")
        return isinstance(codes, dict)

    return [s for s in sources if not needs(s)] + [s for s in sources if needs(s)]


def fetch(
    region: str | Path,
    data_dir: str | Path | None = None,
    only: Iterable[str] = (),
    refresh: bool = False,
    echo: Echo = print,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[Fetched]:
    """Download the region's sources; raise a `DataError` naming every source that failed
    (after fetching all the others)."""
    if data_dir is not None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
    manifest, lad_codes = _load(region, Path(data_dir) if data_dir is not None else None)
    chosen = _chosen(manifest, only)
    if not chosen:
        raise UsageError(
            f"no source of {manifest.name} has a download block; nothing to fetch "
            "(docs/fetch.md says how to add one)"
        )
    lock = read_lock(manifest.data_dir)
    client = session()
    echo(f"Fetching {len(chosen)} source(s) of {manifest.name} into {manifest.data_dir}")
    results = []
    for source in chosen:
        try:
            result = _one(manifest, source, lock, lad_codes, client, refresh, on_progress)
        except PlaceintelError as error:
            where = f"{source.where()}.download"
            if isinstance(error, DataError):
                error.file = error.file or manifest.manifest_path
                error.field = error.field or where
            result = Fetched(
                source.id, manifest.data_dir / saved_as(source), "failed", message=str(error)
            )
        except OSError as error:  # the disk is full, a folder is not writable
            result = Fetched(
                source.id, manifest.data_dir / saved_as(source), "failed", message=f"{error}"
            )
        results.append(result)
        echo(result.line())
        if result.status == "fetched":
            write_lock(manifest.data_dir, lock)
    failed = [r for r in results if r.status == "failed"]
    fetched = [r for r in results if r.status == "fetched"]
    echo(
        f"{len(fetched)} fetched, {len(results) - len(fetched) - len(failed)} already there, "
        f"{len(failed)} failed; lock: {manifest.data_dir / 'sources.lock.json'}"
    )
    if failed:
        raise DataError(
            f"{len(failed)} source(s) could not be fetched: {', '.join(r.source for r in failed)}",
            hint="each is explained above; run placeintel fetch again to resume",
        )
    return results


def _one(
    manifest: Manifest,
    source: Source,
    lock: dict[str, dict[str, Any]],
    lad_codes: tuple[str, ...],
    client: Any,
    refresh: bool,
    on_progress: Callable[[str, int, int], None] | None,
) -> Fetched:
    block = source.options["download"]
    target = _target(manifest, source)
    entry = lock.get(source.id)
    if not refresh and target.exists():
        if entry and entry.get("download") == block and compare(source.id, target, entry) is None:
            return Fetched(source.id, target, "up-to-date")
        if not entry:
            return Fetched(source.id, target, "kept")
    target.parent.mkdir(parents=True, exist_ok=True)

    def path_of(other: str, where: str) -> Path:
        by_id = {s.id: s for s in _all_sources(manifest)}
        if other not in by_id:
            raise DataError(f"no source {other!r} in the manifest", field=where)
        fetched = _target(manifest, by_id[other])
        path = fetched if fetched.is_file() else manifest.source_path(by_id[other])
        if not path.is_file():
            raise DataError(
                f"the codes come from source {other!r}, whose file {path} is not there yet",
                field=where,
                hint=f"fetch {other!r} first: list it before {source.id!r} in the manifest",
            )
        return path

    job = Job(
        source_id=source.id,
        block=block,
        where=f"{source.where()}.download",
        path=saved_as(source),
        target=target,
        manifest_path=manifest.manifest_path,
        client=client,
        lad_codes=lad_codes,
        path_of=path_of,
        on_progress=on_progress or (lambda *_: None),
    )
    started = time.perf_counter()
    temp = target.with_name(f".{target.name}.fetching")
    part = target.with_name(f".{target.name}.part")
    try:
        info = _run(job, temp, part)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    size = target.stat().st_size
    lock[source.id] = {
        "path": saved_as(source),
        "url": info.get("url", ""),
        "final_url": info.get("final_url", ""),
        "retrieved": now(),
        "bytes": size,
        "sha256": sha256(target),
        "etag": info.get("etag", ""),
        "last_modified": info.get("last_modified", ""),
        **{k: info[k] for k in ("download_bytes", "download_sha256", "resource_url") if k in info},
        "download": block,
    }
    rows = info.get("rows")
    return Fetched(source.id, target, "fetched", size, rows, time.perf_counter() - started)


def _target(manifest: Manifest, source: Source) -> Path:
    """Where the download goes: `save_as` or `path`, confined to the data folder."""
    key = f"{source.where()}.download.save_as" if saved_as(source) != source.path else None
    if key is None:
        return manifest.source_path(source)
    return inside(manifest.data_dir, saved_as(source), key, manifest.manifest_path)


def _run(job: Job, temp: Path, part: Path) -> dict[str, Any]:
    """Produce the source's file at `temp`; return what the lock records of it."""
    kind = job.block["kind"]
    if kind == "arcgis":
        return arcgis.fetch(job, temp)
    if kind == "nomis":
        info = nomis.fetch(job, temp)
        return {**info, **_post_process(job, temp, temp, info["url"], "csv")}
    url = job.block["url"] if kind == "file" else ckan.resource_url(job)
    member = job.block.get("member")
    got = download(job.client, url, part, job.where, lambda n: job.progress(n))
    info: dict[str, Any] = {
        "url": url,
        "final_url": got.final_url,
        "etag": got.etag,
        "last_modified": got.last_modified,
    }
    if kind == "ckan":
        info["url"] = f"{job.block['portal'].rstrip('/')}/dataset/{job.block['package']}"
        info["resource_url"] = url
    try:
        if member:
            check_file(part, url, "zip", job.where)
            info["download_bytes"] = got.bytes
            info["download_sha256"] = sha256(part)
            extract_member(part, member, temp, url, job.where)
            wanted = expected_kind(member, None)
        else:
            wanted = expected_kind(job.path, job.block.get("expect"))
            os.replace(part, temp)
        check_file(temp, url, wanted, job.where)
        info.update(_post_process(job, temp, temp, url, wanted))
    finally:
        part.unlink(missing_ok=True)
    return info


def _post_process(job: Job, source: Path, temp: Path, url: str, wanted: str) -> dict[str, Any]:
    """Subset and rename a CSV's rows in a stream; count its rows."""
    subset = job.block.get("subset")
    rename = job.block.get("rename")
    if (subset or rename) and job.block["kind"] != "arcgis":
        if wanted not in ("csv", "any"):
            raise DataError(
                f"subset and rename apply to CSV files, and this download is {wanted}",
                field=f"{job.where}.subset",
            )
        codes = (
            subset_codes(subset["codes"], job.lad_codes, job.path_of, f"{job.where}.subset.codes")
            if subset
            else None
        )
        cut = temp.with_name(temp.name + ".subset")
        try:
            rows = rewrite_csv(
                source,
                cut,
                job.where,
                subset["column"] if subset else None,
                codes,
                rename,
            )
            os.replace(cut, temp)
        finally:
            cut.unlink(missing_ok=True)
        return {"rows": rows}
    if wanted == "csv":
        return {"rows": count_rows(temp)}
    return {}


def check(region: str | Path, data_dir: str | Path | None = None) -> list[Difference]:
    """Each locked or downloadable source whose file differs from the lock (or is not locked)."""
    manifest, _ = _load(region, Path(data_dir) if data_dir is not None else None)
    lock = read_lock(manifest.data_dir)
    found = []
    for source in _all_sources(manifest):
        entry = lock.get(source.id)
        if entry is None:
            if "download" in source.options:
                found.append(
                    Difference(source.id, manifest.data_dir / saved_as(source), "not in the lock")
                )
            continue
        difference = compare(source.id, _target(manifest, source), entry)
        if difference is not None:
            found.append(difference)
    return found
