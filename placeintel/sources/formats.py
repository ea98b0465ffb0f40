"""What a file format is to placeintel: one entry per official format, beside its reader.

Each reader module declares its format (`FORMAT = Format(...)`): how to
read a file, how validation finds the file's columns for the format's Table Schema,
which schema that is, where the table sits in the file, and, for deprivation files,
the edition. Adding a format is one module with one entry; nothing else lists readers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from placeintel.sources.tables import PLAIN, TableLayout

if TYPE_CHECKING:
    from placeintel.region import Source

Reader = Callable[[Path, str, dict], Any]
HeaderMap = Callable[[list[str], str, dict], dict[str, list[str]]]
#: Files a Table Schema is checked against (frictionless reads these); others, such as
#: GeoJSON or a workbook, are checked by their reader and the geometry checks.
TABLE_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class Format:
    """One official format: its reader, and how validation checks the raw file."""

    name: str
    read: Reader
    #: The file's column for each canonical field of the schema (CSV formats).
    header_map: HeaderMap | None = None
    #: The Table Schema in validate/schemas, or a function of the source choosing one.
    schema: str | Callable[[Source], str | None] | None = None
    #: The schema whose foreignKeys apply to a source of this format, whatever its file type.
    links: str | None = None
    #: Where the table sits in a file whose header is not on line 1.
    locate: Callable[[Path], TableLayout] | None = None
    #: The deprivation edition the format holds (role imd).
    edition: str | None = None
    #: Whether the reader reads the file with `tables.read_csv` (header on line 1), so
    #: validation's parse of a large file can be handed to it, and which columns it
    #: reads by trimmed header (None: every column).
    shares_parse: bool = False
    reads: Callable[[str], bool] | None = None

    def schema_for(self, source: Source) -> str | None:
        """The schema the raw file is validated against, or None when no schema applies."""
        if self.header_map is None or not source.path.lower().endswith(TABLE_SUFFIXES):
            return None
        return self.schema(source) if callable(self.schema) else self.schema

    def linked_schema(self, source: Source) -> str | None:
        return self.links or self.schema_for(source)

    def layout(self, path: Path) -> TableLayout:
        return self.locate(path) if self.locate else PLAIN
