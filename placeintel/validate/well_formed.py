"""A fast screen for a large CSV with nothing for the structure pass to report.

`bulk._structure` walks every row with the csv module to find blank, short and
long rows and over-long cells: exact, but about 10 s for the 52-column ONS
Postcode Directory, whose rows are all fine. Arrow's multithreaded CSV parser
reads the same file in about a second, so it screens first: when it sees every
row with exactly the header's number of cells, none of them blank, and no cell
anywhere near the length limit, the csv pass could report nothing, and is
skipped. Anything else, or any file the screen cannot read as the csv module
does (another encoding or dialect, notes around the table), gets the exact
pass, so the screen changes the speed, never a finding.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from placeintel.limits import CELL_CHARS
from placeintel.sources.arrow_csv import (
    Irregular,
    SharedParse,
    Wanted,
    ends_cleanly,
    file_key,
    share,
    sharing,
    text_batches,
    text_column,
)
from placeintel.sources.tables import PLAIN, TableLayout
from placeintel.validate.lines import Lines, plain_lines

#: Cells longer than this send the file to the exact pass, which names the long cell;
#: half the limit, so that no difference of quoting between the parsers can matter.
SCREEN_CHARS = CELL_CHARS // 2


def well_formed_columns(
    path: Path,
    encoding: str,
    dialect: type[csv.Dialect],
    labels: list[str],
    layout: TableLayout,
    missing: set[str],
    keep: list[str],
    hand_on: bool = False,
    reads: Wanted = None,
) -> tuple[bool, pd.DataFrame | None]:
    """Whether the csv pass would find nothing at all, and if so the columns `keep` (in
    the file's order) of the data rows, as `pd.read_csv(dtype=str)` reads them with the
    file's dialect, or None where they could be read otherwise.

    The screen has read every cell already, so the cell checks need no second parse.
    Arrow splits the cells as pandas does on a file that passes (sources/arrow_csv.py),
    and the header as the csv module read `labels`, when the dialect is its own (comma
    and double quote); with any other dialect the columns are not kept (pandas reads
    them), though the verdict stands.

    With `hand_on` (inside `arrow_csv.parses_shared`), the columns the file's reader
    reads (`reads`, by trimmed header; None for all) are left for it as well, when
    `read_plain` would read the file with Arrow: so the file is parsed once.
    """
    if not _screenable(encoding, dialect, labels, layout):
        return False, None
    width = len(labels)
    read = dialect.delimiter == "," and dialect.quotechar == '"' and len(set(labels)) == width
    hand_on = hand_on and read and sharing()
    chosen = [labels.index(name) for name in keep]
    positions = chosen
    if hand_on:
        wanted = [i for i, name in enumerate(labels) if reads is None or reads(name)]
        positions = sorted(set(chosen) | set(wanted))
    # An empty line reads as a row of empty cells here, and as blank in the csv
    # pass: "" counts as missing for the screen whatever the schema says.
    absent = pa.array(sorted(missing | {""}), type=pa.large_string())
    include = sorted({*positions, width - 1})
    if read and len(include) < width and path.suffix.lower() != ".gz":
        # The other columns are vouched for by the file's lines (validate/lines.py),
        # counted on a thread beside the parse.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lines") as counter:
            counting = counter.submit(_lines, path)
            screened = _screen(path, dialect, layout, width, absent, include, positions, hand_on)
            if screened.verdict == _CLEAN:
                lines = counting.result()
                if (
                    lines is None
                    or lines.count != screened.rows + layout.header_row
                    or (hand_on and lines.spaced)
                ):
                    screened = _Screened(_UNSURE)
        if screened.verdict == _UNSURE:  # every column parsed, as before
            screened = _screen(path, dialect, layout, width, absent, None, positions, hand_on)
    else:
        kept = positions if read else []
        screened = _screen(path, dialect, layout, width, absent, None, kept, hand_on)
    if screened.verdict != _CLEAN:
        return False, None  # the exact pass reads it, and names what is wrong
    if not read or not ends_cleanly(path, screened.last if screened.rows else labels[-1]):
        return True, None
    kept = screened.kept
    if hand_on and not screened.spaced:
        share(SharedParse(file_key(path, encoding), list(labels), kept))
    return True, pd.DataFrame({labels[i]: text_column(kept[i]) for i in chosen}, columns=keep)


def _lines(path: Path) -> Lines | None:
    """The file's lines (`plain_lines`), or None when they cannot be read."""
    try:
        return plain_lines(path, SCREEN_CHARS)
    except OSError:
        return None


#: What `_screen` makes of a file: nothing for the csv pass to find, something it
#: would find, or (with some columns unparsed) a row that may be blank.
_CLEAN, _DIRTY, _UNSURE = "clean", "dirty", "unsure"


@dataclass
class _Screened:
    verdict: str
    #: Position in the header -> the column's data rows, for the columns parsed.
    kept: dict[int, list[pa.Array]] = field(default_factory=dict)
    #: The last row's last cell, for ends_cleanly.
    last: str | None = None
    #: Whether a cell begins with a space (looked at only with `hand_on`, all parsed).
    spaced: bool = False
    rows: int = 0


def _screen(
    path: Path,
    dialect: type[csv.Dialect],
    layout: TableLayout,
    width: int,
    absent: pa.Array,
    include: list[int] | None,
    keep: list[int],
    hand_on: bool,
) -> _Screened:
    """Parse the file's columns `include` (None: all of them; the last among them) and
    screen every row, keeping the columns at positions `keep`.

    A row whose parsed cells are all absent is blank only if the others are too:
    with some columns unparsed, it makes the verdict unsure.
    """
    columns = list(range(width)) if include is None else include
    screened = _Screened(_CLEAN, kept={i: [] for i in keep})
    try:
        for batch in text_batches(
            path, width, dialect.delimiter, dialect.quotechar, layout.header_row, include
        ):
            if _long_cell(batch):
                return _Screened(_DIRTY)
            if _blank_row(batch, absent):
                return _Screened(_DIRTY if include is None else _UNSURE)
            if hand_on and include is None and not screened.spaced:
                screened.spaced = any(pc.any(pc.starts_with(c, " ")).as_py() for c in batch.columns)
            for j, i in enumerate(columns):
                if i in screened.kept:
                    screened.kept[i].append(batch.column(j))
            if batch.num_rows:
                screened.last = batch.column(len(columns) - 1)[-1].as_py()
                screened.rows += batch.num_rows
    except (Irregular, pa.ArrowException, OSError, UnicodeError):
        return _Screened(_DIRTY)
    return screened


def _long_cell(batch: pa.RecordBatch) -> bool:
    """Whether a cell is longer than `SCREEN_CHARS` characters. A character is at least
    a byte, and a column's byte lengths come from its offsets alone, so characters are
    counted only in a column with a cell of more bytes than that."""
    for column in batch.columns:
        if (pc.max(pc.binary_length(column)).as_py() or 0) > SCREEN_CHARS and (
            pc.max(pc.utf8_length(column)).as_py() or 0
        ) > SCREEN_CHARS:
            return True
    return False


def _blank_row(batch: pa.RecordBatch, absent: pa.Array) -> bool:
    """Whether a row has every cell absent (empty or a missing value); the other columns
    are looked at only for the rows whose first cell is absent."""
    if batch.num_columns == 0 or batch.num_rows == 0:
        return False
    blank = pc.is_in(batch.column(0), value_set=absent)
    if not pc.any(blank).as_py():
        return False
    rows = batch.filter(blank)
    for column in rows.columns[1:]:
        blank = pc.is_in(column, value_set=absent)
        if not pc.any(blank).as_py():
            return False
        rows = rows.filter(blank)
    return rows.num_rows > 0


def _screenable(
    encoding: str, dialect: type[csv.Dialect], labels: list[str], layout: TableLayout
) -> bool:
    """Files Arrow splits into the very cells the csv module does: UTF-8, the plain
    dialect (a quote character doubled inside quotes, no escapes, no spaces skipped),
    a header on line 1 (of one line) and no notes, and more than one column (so an
    empty line is a short row to Arrow)."""
    return (
        encoding in ("utf-8", "utf-8-sig")
        and layout == PLAIN
        and len(labels) > 1
        and not any("\n" in label or "\r" in label for label in labels)  # Arrow skips lines
        and len(dialect.delimiter) == 1
        and isinstance(dialect.quotechar, str)
        and len(dialect.quotechar) == 1
        and dialect.quotechar != dialect.delimiter
        and dialect.doublequote
        and dialect.escapechar is None
        and not dialect.skipinitialspace
        and dialect.quoting == csv.QUOTE_MINIMAL
    )
