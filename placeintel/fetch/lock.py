"""`sources.lock.json`: exactly which bytes each source was fetched as.

The lock lives in the data folder, beside the files it describes. Per source id it keeps
the address asked for and the one that answered (after redirects), when, how many bytes
and their sha256 (of the file written under the manifest's `path`), and the server's
ETag and Last-Modified. `placeintel fetch --check` compares the folder with it, and
`placeintel build` copies it into the release's `datapackage.json`, so a release says
which bytes it was built from and a changed upstream file is noticed.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from placeintel.digest import sha256
from placeintel.errors import DataError

LOCK_NAME = "sources.lock.json"
LOCK_VERSION = 1
#: A lock file is small (a few hundred bytes per source); a larger one is not ours.
LOCK_BYTES = 16 * 1024**2


def now() -> str:
    """The time now in UTC, ISO 8601 to the second (`2026-11-22T10:04:05Z`)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_lock(data_dir: Path) -> dict[str, dict[str, Any]]:
    """The lock's entries by source id; empty when there is no lock."""
    path = data_dir / LOCK_NAME
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > LOCK_BYTES:
            raise ValueError("larger than a lock file can be")
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = raw["sources"]
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise ValueError("`sources` must map each source id to its entry")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"not a placeintel lock file: {exc}",
            file=path,
            hint="delete it and run placeintel fetch --refresh to write it again",
        ) from None
    return entries


def write_lock(data_dir: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """Write the lock atomically (a temporary file, then a rename)."""
    path = data_dir / LOCK_NAME
    text = json.dumps(
        {"version": LOCK_VERSION, "sources": dict(sorted(entries.items()))},
        indent=2,
        ensure_ascii=False,
    )
    handle, temp = tempfile.mkstemp(prefix=".sources.lock.", dir=data_dir)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.replace(temp, path)
    return path


@dataclass(frozen=True)
class Difference:
    """A file that is not what its lock says."""

    source: str
    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.what}"


def compare(source_id: str, path: Path, entry: dict[str, Any]) -> Difference | None:
    """How the file at `path` differs from its lock `entry` (missing, size, sha256), if it does."""
    if not path.is_file():
        return Difference(source_id, path, "missing")
    size = path.stat().st_size
    if size != entry.get("bytes"):
        return Difference(source_id, path, f"size {size:,} bytes, locked {entry.get('bytes')!r}")
    digest = sha256(path)
    if digest != entry.get("sha256"):
        return Difference(
            source_id, path, f"sha256 {digest[:12]}..., locked {str(entry.get('sha256'))[:12]}..."
        )
    return None


def package_fields(data_dir: Path, source_id: str, path: Path) -> dict[str, Any]:
    """What the release's `datapackage.json` records of a locked source: its sha256, bytes,
    retrieval time and the address it came from; nothing when the source is not locked or
    the file has changed since (the release then does not claim bytes it was not built from)."""
    entry = read_lock(data_dir).get(source_id)
    if not entry or not path.is_file() or compare(source_id, path, entry) is not None:
        return {}
    fields = {
        "sha256": entry["sha256"],
        "bytes": entry["bytes"],
        "retrieved": entry.get("retrieved", ""),
        "url": entry.get("final_url") or entry.get("url", ""),
    }
    return {k: v for k, v in fields.items() if v not in ("", None)}
