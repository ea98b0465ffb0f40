"""Versioned releases under `<out>/<region>/<version>/`, switched into `current` atomically.

A release is written into a hidden staging folder, checked, renamed into place
(one atomic rename) and only then is the `current` symlink swapped (another
atomic rename). A build that fails or is killed at any point therefore leaves
`current` and every earlier release exactly as they were.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from placeintel.errors import DataError, UsageError
from placeintel.limits import shorten
from placeintel.region import REGION_NAME

STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class Staging:
    """A release being written: where, and the version it will become."""

    region_dir: Path
    path: Path
    version: str


def new_version(region_dir: Path) -> str:
    """A sortable UTC timestamp, suffixed if two builds land in the same second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    version, n = stamp, 1
    while (region_dir / version).exists():
        n += 1
        version = f"{stamp}-{n}"
    return version


def region_folder(out_root: Path, region: str) -> Path:
    """`<out_root>/<region>`, refused unless the region is a slug and the folder resolves,
    symlinks followed, inside `out_root`: a release is never written, or read, elsewhere.

    The manifest's schema already holds names to slugs; this holds every caller to it.
    """
    if not REGION_NAME.fullmatch(str(region)):
        raise UsageError(
            f"{str(region)[:80]!r} is not a region name: lower-case letters, digits and "
            "hyphens only, so that it names a folder inside the releases folder"
        )
    root = Path(out_root)
    folder = root / region
    if not folder.resolve().is_relative_to(root.resolve()):
        raise UsageError(
            f"the release folder {folder} leads outside the releases folder {root.resolve()} "
            "(a symlink?); releases are only written inside it"
        )
    return folder


#: A file name a release may hold: no folder part, no leading dot.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}")


def release_file(folder: Path, name: str) -> Path:
    """`folder / name` for a file named from the data (a district's map, `map-<code>.html`),
    refused unless it is a plain file name: a code such as `../../x` must not write outside
    the release."""
    if not _FILE_NAME.fullmatch(name) or ".." in name:
        raise DataError(
            f"{shorten(name)!r} cannot name a file of the release: a code that names a file "
            "may hold letters, digits, '-', '_' and '.' only",
            rule="unsafe-file-name",
            hint="check the district (LAD) codes in the ward boundaries or the lookup",
        )
    return folder / name


def begin_release(out_root: Path, region: str) -> Staging:
    region_dir = region_folder(out_root, region)
    region_dir.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(region_dir)
    version = new_version(region_dir)
    path = region_dir / f"{STAGING_PREFIX}{version}-{os.getpid()}"
    path.mkdir()
    return Staging(region_dir=region_dir, path=path, version=version)


def commit_release(staging: Staging) -> Path:
    """Move the staged release into place, then point `current` at it."""
    final = staging.region_dir / staging.version
    os.rename(staging.path, final)
    link = staging.region_dir / "current"
    temporary = staging.region_dir / f".current-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(staging.version, target_is_directory=True)
    os.replace(temporary, link)
    return final


def abandon_release(staging: Staging) -> None:
    shutil.rmtree(staging.path, ignore_errors=True)


def current_release(out_root: Path, region: str) -> Path:
    """The folder `current` points at, or a usage error saying how to make one."""
    link = region_folder(out_root, region) / "current"
    if not link.exists():
        raise UsageError(
            f"no release for {region!r} in {out_root}; run `placeintel build {region}` first"
        )
    return link.resolve()


def list_releases(out_root: Path, region: str) -> list[Path]:
    region_dir = region_folder(out_root, region)
    if not region_dir.is_dir():
        return []
    return sorted(
        p
        for p in region_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )


def _remove_abandoned_staging(region_dir: Path) -> None:
    """Clear staging folders and half-made `current` links whose build process is gone."""
    for leftover in [*region_dir.glob(f"{STAGING_PREFIX}*"), *region_dir.glob(".current-*")]:
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            if leftover.is_symlink():
                leftover.unlink(missing_ok=True)
            else:
                shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
