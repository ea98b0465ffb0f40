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
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from placeintel.limits import CELL_CHARS
from placeintel.sources.tables import PLAIN, TableLayout

#: Bytes per parsed block: small enough that 52 columns of text stay a few MB at a time.
BLOCK_BYTES = 8 * 1024 * 1024
#: Cells longer than this send the file to the exact pass, which names the long cell;
#: half the limit, so that no difference of quoting between the parsers can matter.
SCREEN_CHARS = CELL_CHARS // 2


def certainly_well_formed(
    path: Path,
    encoding: str,
    dialect: type[csv.Dialect],
    labels: list[str],
    layout: TableLayout,
    missing: set[str],
) -> bool:
    """True only if the csv pass over the file's data rows would find nothing at all."""
    if not _screenable(encoding, dialect, labels, layout):
        return False
    width = len(labels)
    names = [f"c{i}" for i in range(width)]
    irregular: list[object] = []

    def note(row: object) -> str:  # a row of the wrong width: the exact pass names it
        irregular.append(row)
        return "skip"

    try:
        reader = pacsv.open_csv(
            str(path),  # a .gz is decompressed as it is read
            read_options=pacsv.ReadOptions(
                skip_rows=layout.header_row, column_names=names, block_size=BLOCK_BYTES
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
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
            ),
        )
        # An empty line reads as a row of empty cells here, and as blank in the csv
        # pass: "" counts as missing for the screen whatever the schema says.
        absent = pa.array(sorted(missing | {""}), type=pa.large_string())
        for batch in reader:
            if irregular:
                return False
            blank = None
            for column in batch.columns:
                if (pc.max(pc.utf8_length(column)).as_py() or 0) > SCREEN_CHARS:
                    return False
                gone = pc.is_in(column, value_set=absent)
                blank = gone if blank is None else pc.and_(blank, gone)
            if blank is not None and pc.any(blank).as_py():
                return False
    except (pa.ArrowException, OSError, UnicodeError):
        return False  # the exact pass reads it, and names what is wrong
    return not irregular


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
