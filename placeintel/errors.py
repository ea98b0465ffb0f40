"""Errors a user can act on.

Every stage raises these instead of letting a library exception escape, so the
CLI (and a notebook) can show one clear line naming the file, row and field
rather than a traceback for the user's own mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class PlaceintelError(Exception):
    """Base for errors caused by the user's input, not by a bug in placeintel."""

    exit_code = 1


class UsageError(PlaceintelError):
    """The command was asked for something that cannot exist (unknown region, bad option)."""

    exit_code = 2


@dataclass
class DataError(PlaceintelError):
    """A source file is unreadable or wrong, located as precisely as we can."""

    message: str
    file: str | Path | None = None
    row: int | None = None
    field: str | None = None
    hint: str | None = None
    rule: str = "read"
    #: Further rows with the same kind of problem, so one run can name every row to fix.
    more: tuple[DataError, ...] = ()

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = (": ".join([", ".join(where), self.message])) if where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class ManifestError(DataError):
    """The manifest itself is wrong (a key of the wrong type, an alias, a path leading out
    of the data folder): a usage error, located by the manifest key at fault."""

    exit_code = 2
