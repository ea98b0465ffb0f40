"""CSV text of a frame, byte for byte what `DataFrame.to_csv(index=False, lineterminator="\\n")`
writes, made a whole column at a time.

pandas formats each float with NumPy's `astype(str)` (Python's `repr`, about 1.5 us a value)
and hands every row to `csv.writer` as Python objects: at national scale the published CSVs
took 7.7 s of the build's one busy thread, all of it holding the GIL. Here a float64 column is
cast to text by Arrow (the same shortest round-trip digits, in C, without the GIL) and only the
values Arrow lays out differently from `repr` are fixed up in Python: Arrow writes `1` where
`repr` writes `1.0`, and uses an exponent in other ranges than `repr` does (`repr` is
positional for 1e-4 <= |x| < 1e16). Rows are joined by Arrow as well. Every other dtype goes
through pandas' own per-column formatting (`get_values_for_csv`, the function `to_csv` uses)
and the conversions `csv.writer` makes, so booleans, nullable integers, categoricals and text
come out as pandas writes them; quoting follows `csv.QUOTE_MINIMAL` as Python 3.11's `csv`
applies it (a cell is quoted when it holds `,`, `"` or a newline, and a row that is one empty
cell is written `""`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.indexes.base import get_values_for_csv

#: What makes `csv.writer` (QUOTE_MINIMAL, lineterminator "\n") quote a cell: found by trying
#: every code point with Python 3.11's csv module (tests/publish/test_csv_text.py checks it).
NEEDS_QUOTES = r'[,"\n]'
#: `repr` writes a float positionally when its decimal exponent is in [-4, 16).
_POSITIONAL_LOW, _POSITIONAL_HIGH = 1e-4, 1e16


def float_text(values: np.ndarray) -> pa.Array:
    """The text `to_csv` writes for a float64 column: `repr` of each value, "" for NaN."""
    missing = np.isnan(values)
    size = np.abs(values)
    positional = np.isfinite(values) & (
        (values == 0) | ((size >= _POSITIONAL_LOW) & (size < _POSITIONAL_HIGH))
    )
    text = pc.cast(pa.array(values), pa.large_string())
    # Arrow's shortest digits are repr's; where Arrow wrote an exponent, or the value is
    # outside repr's positional range (or infinite), repr is used for that value alone.
    exponent = pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    whole = ~pc.match_substring(text, ".").to_numpy(zero_copy_only=False)
    same = positional & ~exponent
    text = pc.if_else(
        pa.array(same & whole), pc.binary_join_element_wise(text, _text(".0"), _text("")), text
    )
    odd = np.flatnonzero(~missing & ~same)
    if len(odd):
        mask = np.zeros(len(values), dtype=bool)
        mask[odd] = True
        reprs = pa.array([float.__repr__(v) for v in values[odd].tolist()], pa.large_string())
        text = pc.replace_with_mask(text, pa.array(mask), reprs)
    return pc.if_else(pa.array(missing), _text(""), text)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _cell(value: object) -> str:
    """What `csv.writer` writes for one object (None empty, floats by repr, others by str)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return float.__repr__(value)
    return str(value)


def column_text(column: pd.Series) -> pa.Array:
    """A column's cells as `to_csv` writes them, quoted where `csv.writer` would quote."""
    values = column.array
    dtype = values.dtype
    if isinstance(values, pd.arrays.NumpyExtensionArray) and dtype.numpy_dtype.kind in "fib":
        numbers = values.to_numpy()
        if numbers.dtype == np.float64:
            return float_text(numbers)
        if numbers.dtype == np.bool_:
            return pa.array(np.where(numbers, "True", "False"), pa.large_string())
        if numbers.dtype == np.int64:  # Arrow writes integers as str() does
            return pc.cast(pa.array(numbers), pa.large_string())
    if isinstance(values, pd.arrays.IntegerArray) and dtype.numpy_dtype == np.int64:
        return pc.fill_null(pc.cast(pa.array(values), pa.large_string()), _text(""))
    if isinstance(values, pd.arrays.ArrowStringArray):
        text = values._pa_array.combine_chunks().cast(pa.large_string())
        return _quoted(pc.fill_null(text, _text("")))
    # Anything else as pandas formats it (the function to_csv uses), converted as csv does.
    cells = get_values_for_csv(
        column._values, date_format=None, na_rep="", quoting=csv.QUOTE_MINIMAL
    )
    return _quoted(pa.array([_cell(cell) for cell in cells.tolist()], type=pa.large_string()))


def _quoted(text: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(text, NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quoted = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
    return pc.if_else(needs, quoted, text)


def _header(columns: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(columns)
    return out.getvalue().encode("utf-8")


def csv_body(frame: pd.DataFrame) -> tuple[pa.Buffer, int, int]:
    """The rows of the CSV (no header): a buffer and the span of it they fill.

    Arrow's kernels let go of the GIL, so another thread (the maps) runs meanwhile."""
    cells = [column_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if len(cells) == 1:
        # csv.writer writes a row that is one empty cell as "" (else it would be a blank line)
        rows = pc.if_else(pc.equal(cells[0], _text("")), _text('""'), cells[0])
    else:
        rows = pc.binary_join_element_wise(*cells, _text(","))
    rows = pc.binary_join_element_wise(rows, _text("\n"), _text(""))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    return rows.buffers()[2], int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])


def write_csv_text(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as `frame.to_csv(path, index=False, lineterminator="\\n")` would."""
    if frame.shape[1] == 0 or frame.columns.nlevels > 1:
        frame.to_csv(path, index=False, lineterminator="\n")  # shapes never published
        return path
    header = _header([_cell(c) for c in frame.columns])
    with path.open("wb") as out:
        out.write(header)
        if len(frame):
            body, first, last = csv_body(frame)
            out.write(memoryview(body)[first:last])
    return path
