"""Reading a plain CSV's text cells with Arrow's parser, when it gives pandas' very frame.

`pd.read_csv(dtype=str)` tokenises in C but then builds a Python string per cell and
converts them to Arrow strings (about 8 s for the national postcode files alone);
`pyarrow.csv` parses straight into Arrow strings on every core. The two agree cell
for cell on a UTF-8 file in the plain dialect (comma, doubled double quotes) whose
every row has the header's number of cells, including the quoting quirks (`"ab"c`,
`ab"c`, quoted line breaks). They differ on short, long and blank rows, which pandas
pads or refuses, and on spaces after a delimiter, which the readers ask pandas to skip
(`skipinitialspace`); any file with one of those returns None here, and is read by
pandas as before, so this changes the speed, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas.arrays import ArrowStringArray

#: Bytes per parsed block: 52 columns of text stay a few MB at a time.
BLOCK_BYTES = 8 * 1024 * 1024
#: The encodings Arrow reads as the file's text (it drops a UTF-8 byte-order mark).
ARROW_ENCODINGS = ("utf-8", "utf-8-sig")
#: The dtype `pd.read_csv(dtype=str)` gives a column.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


#: What a reader reads of a file, by trimmed header: a test of the label, or every column.
Wanted = Callable[[str], bool] | None


@dataclass(frozen=True)
class SharedParse:
    """Columns of a file the validation screen parsed, left for the reader.

    The screen keeps them only for a file `read_plain` would read with Arrow (every row
    of the header's width, none ending in an open quote, no cell beginning with a space),
    so the reader's frame is the one it would have parsed itself.
    """

    key: tuple[object, ...]
    #: The header as the csv module read it, trimmed (what the screen was given).
    labels: list[str]
    #: Position in the header -> the column's data rows (the header row excluded).
    columns: dict[int, list[pa.Array]]


#: The parse left by the screen, inside `parses_shared()`; None outside it (nothing kept).
_shared: dict[str, SharedParse | None] | None = None


@contextmanager
def parses_shared() -> Iterator[None]:
    """Let the validation screen hand its parse of a file to the file's reader.

    A national CSV was parsed twice by Arrow, by the screen and by `read_plain` (3.7 s of
    the 0.8 GB postcode directory and the Ofcom files). One parse at a time is kept, and
    only while the block runs (one validation run), for the file as it then is.
    """
    global _shared
    outer = _shared
    if outer is None:
        _shared = {"parse": None}
    try:
        yield
    finally:
        if outer is None:
            _shared = None


def sharing() -> bool:
    """Whether a parse may be handed on (`parses_shared` is running)."""
    return _shared is not None


def file_state(path: Path) -> tuple[object, ...]:
    """The file as it is now (which file, its size and change times): anything worked out
    from it is reused only while this is unchanged."""
    info = os.stat(path)
    return (
        str(Path(path).resolve()),
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
    )


def file_key(path: Path, encoding: str) -> tuple[object, ...]:
    """A parse is handed on only for the very same file, read with the same encoding."""
    return (*file_state(path), encoding)


def share(parse: SharedParse) -> None:
    """Leave `parse` for the reader (replacing any parse left before)."""
    if _shared is not None:
        _shared["parse"] = parse


def _take_shared(
    path: Path, encoding: str, header: list[str], columns: Wanted
) -> pd.DataFrame | None:
    """The reader's frame from the screen's parse of this very file, or None.

    `header` is the header row as the csv module reads it. The frame is the one
    `read_plain` gives, whose columns are Arrow's header cells: the csv module's, for a
    file the screen passed in the plain dialect. None (read_plain parses the file) when
    no parse was left for the file, or it lacks a column the reader wants, or the header
    is one read_plain leaves to pandas (a repeated or empty label, a leading space).
    """
    if _shared is None or _shared["parse"] is None:
        return None
    parse = _shared["parse"]
    _shared["parse"] = None  # read once: the reader's frame holds the columns from now
    width = len(header)
    if (
        parse.key != file_key(path, encoding)
        or [h.strip() for h in header] != parse.labels
        or len(set(header)) < width
        or "" in header
        or any(h.startswith(" ") for h in header)
    ):
        return None
    keep = [i for i, name in enumerate(header) if not columns or columns(name.strip())]
    if not keep or any(i not in parse.columns for i in keep):
        return None
    return pd.DataFrame(
        {header[i]: text_column(parse.columns[i]) for i in keep}, columns=[header[i] for i in keep]
    )


class Irregular(Exception):
    """A row Arrow and pandas may read differently: the caller falls back to pandas."""


def text_batches(
    path: Path,
    width: int,
    delimiter: str = ",",
    quotechar: str = '"',
    skip_rows: int = 0,
    include: list[int] | None = None,
) -> Iterable[pa.RecordBatch]:
    """The file's rows from line `skip_rows + 1` as batches of `width` text columns
    (c0, c1, ...), an empty cell as "" (never null); raises `Irregular` at the first
    row of another width (short, long, or an empty line), and `pa.ArrowException`
    or `OSError` when Arrow cannot read the file. A `.gz` is decompressed as read.

    `include`: only these columns (ascending positions) are made into text, the
    batches holding them in that order; the parser still splits every cell, so a
    row of another width raises as before."""
    names = [f"c{i}" for i in range(width)]
    irregular: list[object] = []

    def note(row: object) -> str:  # an exception raised here would be lost in Arrow
        irregular.append(row)
        return "skip"

    reader = pacsv.open_csv(
        str(path),
        read_options=pacsv.ReadOptions(
            skip_rows=skip_rows, column_names=names, block_size=BLOCK_BYTES
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=quotechar,
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=note,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.large_string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            include_columns=None if include is None else [names[i] for i in include],
        ),
    )
    for batch in reader:
        if irregular:  # the row was in this batch or an earlier one
            raise Irregular(str(irregular[0]))
        yield batch
    if irregular:
        raise Irregular(str(irregular[0]))


def ends_cleanly(path: Path, last_cell: str | None) -> bool:
    """Whether the file certainly does not end inside a quoted cell, which pandas refuses
    ("EOF inside string") and Arrow reads to the end of the file.

    A quote left open always runs to the end, so it is in the last row's last cell; with
    the file ending in a line break, that cell then ends with the break, which a cell
    closed before it never does (a closed cell ending in a quoted break is passed to
    pandas too). A `.gz`, or a file not ending in a break, goes to pandas.
    """
    if path.suffix.lower() == ".gz" or path.stat().st_size == 0:
        return False
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        ends_with_break = handle.read(1) in (b"\n", b"\r")
    return ends_with_break and not (last_cell or "").endswith(("\n", "\r"))


def text_column(chunks: list[pa.Array]) -> ArrowStringArray:
    """Arrow text chunks as the array `pd.read_csv(dtype=str)` gives a column."""
    return ArrowStringArray(pa.chunked_array(chunks, type=pa.large_string()), dtype=TEXT)


def read_plain(
    path: Path, encoding: str, header: list[str], columns: Wanted
) -> pd.DataFrame | None:
    """`pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
    skip_blank_lines=False, usecols=...)` for a header on line 1, or None when Arrow's
    reading could differ from it (see the module's docstring).

    `header` is the header row as the csv module reads it, which gives the width.
    A cell beginning with a space is the one place the two parsers part on rows of the
    right width (pandas skips the space, and then may see a quote that opens a field),
    so any such cell, in any column, sends the file to pandas.
    """
    width = len(header)
    if encoding not in ARROW_ENCODINGS or width < 2:  # one column: a blank line is a row
        return None
    shared = _take_shared(path, encoding, header, columns)
    if shared is not None:  # the validation screen's parse of this very file
        return shared
    labels: list[str] | None = None
    last: str | None = None
    keep: list[int] = []
    kept: dict[int, list[pa.Array]] = {}
    try:
        for batch in text_batches(path, width):
            for column in batch.columns:
                if pc.any(pc.starts_with(column, " ")).as_py():
                    return None
            if labels is None:
                if batch.num_rows == 0:
                    continue
                labels = [str(batch.column(i)[0].as_py()) for i in range(width)]
                if len(set(labels)) < width or "" in labels:  # pandas renames these
                    return None
                keep = [i for i, name in enumerate(labels) if not columns or columns(name.strip())]
                kept = {i: [] for i in keep}
                batch = batch.slice(1)
            for i in keep:
                kept[i].append(batch.column(i))
            if batch.num_rows:
                last = batch.column(width - 1)[-1].as_py()
    except (Irregular, pa.ArrowException, OSError, UnicodeError):
        return None
    if labels is None or not keep or not ends_cleanly(path, last):
        return None  # no header row, or no column wanted: pandas as before
    return pd.DataFrame(
        {labels[i]: text_column(kept[i]) for i in keep}, columns=[labels[i] for i in keep]
    )
