"""Every limit on what placeintel accepts from outside, in one place.

Manifests and source files come from outside (a council, a download, an upload), so each
is bounded before it is parsed: a file that breaks a limit is refused with a message that
names the file and the limit, rather than exhausting memory or time. The defaults are
generous for real official data (the largest national file, the ONS Postcode Directory, is
about 1.3 GB; the widest official table here has 35 columns); a deployment can lower or
raise the file-size limit with `PLACEINTEL_MAX_SOURCE_BYTES`.
"""

from __future__ import annotations

import os
import re

from placeintel.errors import UsageError

#: The largest manifest (`region.yml`) read; real ones are tens of kilobytes.
MANIFEST_BYTES = 1024 * 1024
#: The most values (scalars, lists, mappings) a manifest may hold with every YAML alias
#: written out: Greater Manchester's holds 779, so a "billion laughs" is refused at once.
MANIFEST_VALUES = 100_000
#: The largest source file read, and the most a `.gz` may decompress to, unless the
#: environment variable below says otherwise.
SOURCE_BYTES = 2 * 1024**3
SOURCE_BYTES_ENV = "PLACEINTEL_MAX_SOURCE_BYTES"
#: The most columns a CSV's header (or any of its rows) may have: official tables have
#: tens, Census bulk tables a few hundred.
COLUMNS = 5_000
#: The longest cell of a CSV, in characters: the csv module's own default limit, four times
#: Excel's (32,767), so anything a spreadsheet can save passes.
CELL_CHARS = 131_072
#: Blank rows a CSV may hold before it is refused: a stray few are reported row by row,
#: but a file of mostly empty lines (10 million in 10 MB) would cost minutes and gigabytes
#: to read into a table for nothing.
BLANK_ROWS = 10_000
#: How much of a cell a report or the terminal shows.
ECHO_CHARS = 80
#: How much of a column name, and of a whole message or hint, a report shows.
FIELD_ECHO_CHARS = 200
MESSAGE_ECHO_CHARS = 1_000
#: The longest ward or LSOA name or code `explain` looks up (England's longest ward name
#: has under 60 characters); a longer one is refused before it is compared with every name.
AREA_QUERY_CHARS = 200


def source_bytes() -> int:
    """The file-size limit now: the environment's, if set, else `SOURCE_BYTES`.

    Read at each use, so a test or a long-running process sees a change.
    """
    text = os.environ.get(SOURCE_BYTES_ENV, "").strip()
    if not text:
        return SOURCE_BYTES
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"{SOURCE_BYTES_ENV} must be a whole number of bytes, got {text!r}")
    return value


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """The first `limit` characters of `text`, saying how long it really is."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


#: A quoted stretch (as repr() or frictionless quote a cell) too long to echo whole.
_LONG_QUOTED = re.compile(rf"""(["'])([^"'\n]{{{ECHO_CHARS + 1},}})\1""")


def shorten_message(text: str, cell: str = "", limit: int = MESSAGE_ECHO_CHARS) -> str:
    """A message fit to echo: `cell`, and any long quoted stretch, cut to `ECHO_CHARS`,
    and the whole cut to `limit`, so no cell ever reaches a terminal whole."""
    if len(cell) > ECHO_CHARS and cell in text:
        text = text.replace(cell, shorten(cell))
    if len(text) > ECHO_CHARS:
        text = _LONG_QUOTED.sub(lambda m: m[1] + shorten(m[2]) + m[1], text)
    return shorten(text, limit)


def human_bytes(count: int) -> str:
    """A byte count as people say it (2 GiB, 1 MiB, 512 bytes)."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:,} bytes"
