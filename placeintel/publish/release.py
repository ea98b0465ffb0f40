"""Versioned releases under `<out>/<region>/<version>/`, switched into `current` atomically.

A release is written into a hidden staging folder, checked, renamed into place
(one atomic rename) and only then is the `current` symlink swapped (another
atomic rename). A build that fails or is killed at any point therefore leaves
`current` and every earlier release exactly as they were.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from placeintel.errors import UsageError

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


def begin_release(out_root: Path, region: str) -> Staging:
    region_dir = Path(out_root) / region
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
    link = Path(out_root) / region / "current"
    if not link.exists():
        raise UsageError(
            f"no release for {region!r} in {out_root}; run `placeintel build {region}` first"
        )
    return link.resolve()


def list_releases(out_root: Path, region: str) -> list[Path]:
    region_dir = Path(out_root) / region
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
