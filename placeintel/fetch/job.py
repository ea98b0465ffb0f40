"""What each kind of download is given: the block, the client, the region's codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from placeintel.errors import DataError


@dataclass
class Job:
    """One source's download: its block, where it goes, and what the region knows."""

    source_id: str
    block: dict[str, Any]
    #: The manifest key of the block, e.g. `sources[3].download`, for messages.
    where: str
    #: The manifest's `path` of the source, as written there.
    path: str
    target: Path
    manifest_path: Path
    client: requests.Session
    lad_codes: tuple[str, ...] = ()
    #: The file of another source (already fetched), for `codes: {source, column}`.
    path_of: Callable[[str, str], Path] = lambda source, where: Path(source)
    on_progress: Callable[[str, int, int], None] = field(default=lambda *_: None)

    def progress(self, done_bytes: int, rows: int = 0) -> None:
        self.on_progress(self.source_id, done_bytes, rows)

    def lad_codes_required(self) -> tuple[str, ...]:
        if not self.lad_codes:
            raise DataError(
                "the download filters on the region's districts (`lad`), but the manifest "
                "has no top-level `lad_codes`",
                file=self.manifest_path,
                field=self.where,
                hint="list the region's districts, e.g. lad_codes: [E08000001, E08000002]",
            )
        return self.lad_codes
