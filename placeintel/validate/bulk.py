"""Table Schema checks for very large CSVs: frictionless's own cell checks, once per value.

frictionless validates row by row in Python, about 40,000 rows a second here, so the
1.7-million-row Ofcom postcode files and the ONS Postcode Directory would take minutes
each. Files above `BULK_BYTES` take this path instead, and it does not re-implement
Table Schema: every cell's verdict (its type, every constraint, missing values) comes
from frictionless's own cell reader for the field, called once per *distinct* value of a
column rather than once per row, and every finding is a frictionless error object, so the
report reads the same either way.

A vectorised screen (`_certainly_valid`) waves through the distinct values that certainly
pass: a string that matches every one of its constraints, a plain decimal inside its
bounds. It may only ever let through what frictionless would pass; anything it is unsure
of goes to frictionless, so it changes the speed, never a finding. What frictionless
checks across rows rather than cells is done on whole columns here: blank, short and long
rows, `unique` fields and the primary key. A schema that asks for a cross-row check this
module does not do raises `UnsupportedSchema` naming it, rather than being skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from frictionless import Detector, Dialect, Resource, Schema, errors
from frictionless.error import Error

from placeintel.errors import DataError
from placeintel.limits import BLANK_ROWS
from placeintel.sources.arrow_csv import Wanted
from placeintel.sources.arrow_text import arrow_strings, surely_distinct
from placeintel.sources.tables import (
    PLAIN,
    TableLayout,
    cells_within_limit,
    limited_rows,
    open_text,
    read_head,
)
from placeintel.validate.well_formed import well_formed_columns

#: Files larger than this are checked column-wise: above ~20,000 rows the column-wise pass
#: is the faster one (the demo's largest CSV is 0.2 MB, so tests exercise both).
BULK_BYTES = 2 * 1024 * 1024
#: How much of a file the dialect is sniffed from: far more than 100 lines of any real table.
SNIFF_BYTES = 1024 * 1024
#: Schema keys this module honours; any other key is a check it would otherwise skip.
_SCHEMA_KEYS = {"fields", "missingValues", "primaryKey"}
#: Constraints the screen can judge for each type; a field with any other constraint, or
#: another type or format, has all its distinct values read by frictionless.
_SCREENED = {
    "string": {"required", "pattern", "minLength", "maxLength", "enum", "unique"},
    "number": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "integer": {"required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
}
_BOUNDS: dict[str, Callable[[Any, Any], Any]] = {
    "minimum": np.greater_equal,
    "maximum": np.less_equal,
    "exclusiveMinimum": np.greater,
    "exclusiveMaximum": np.less,
}
#: A plain decimal: no sign but "-", no exponent, group or currency character, and at most
#: 15 significant digits, so a float holds it exactly enough to order it against a bound
#: as frictionless's Decimal does.
_PLAIN_NUMBER = {"number": r"-?[0-9]+(?:\.[0-9]+)?", "integer": r"-?[0-9]+"}
_MAX_DIGITS = 15


class UnsupportedSchema(ValueError):
    """The schema asks for a check the column-wise path does not make."""


def bulk_findings(
    path: Path,
    encoding: str,
    header: list[str],
    descriptor: dict[str, Any],
    layout: TableLayout = PLAIN,
    limit: int = 100,
    hand_on: bool = False,
    reads: Wanted = None,
) -> list[list[Any]]:
    """The first `limit` findings, as frictionless's `flatten` gives them
    (row, field, cell, type, message, note), in frictionless's order.

    `hand_on` and `reads` let the screen leave its parse for the file's reader
    (`well_formed_columns`)."""
    supported(descriptor)
    schema = Schema.from_descriptor(descriptor)
    labels = [h.strip() for h in header]
    checked = [f for f in schema.fields if f.type != "any"]
    wanted = {f.name for f in checked}
    missing = list(schema.missing_values)
    dialect = _dialect(path, encoding, layout)
    keep = [label for label in labels if label in wanted]
    clean, frame = well_formed_columns(
        path, encoding, dialect, labels, layout, set(missing), keep, hand_on, reads
    )
    if clean:
        blank: list[int] = []
        found: list[Found] = []  # nothing for the row-by-row pass below to find
    else:
        found, blank = _structure(path, encoding, dialect, labels, layout, set(missing), limit)
    if frame is None:  # the screen's parse is used when it certainly splits as pandas does
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            sep=dialect.delimiter,
            quotechar=dialect.quotechar,
            escapechar=dialect.escapechar,
            doublequote=dialect.doublequote,
            skipinitialspace=dialect.skipinitialspace,
            skip_blank_lines=False,
            skiprows=layout.header_row - 1,
            usecols=lambda label: str(label).strip() in wanted,
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    first = layout.header_row + 1
    frame.index = pd.RangeIndex(first, len(frame) + first)
    # A short row's absent cells read as NaN here and as None in frictionless.
    frame = _without_rows(frame, layout.skip_rows)
    rows = _without_rows(frame, blank)
    try:
        for field in checked:
            position = labels.index(field.name) + 1
            key = rows is frame and field.name in schema.primary_key
            found += _cell_findings(rows[field.name], field, position, missing, limit, key)
            if field.constraints.get("unique"):
                found += _unique_findings(rows[field.name], field.name, position, missing, limit)
        if schema.primary_key:
            found += _primary_key_findings(frame[schema.primary_key], missing, limit)
    finally:
        _key_columns.clear()
    found.sort(key=lambda item: item[:3])
    return [
        [
            e.row_number,
            getattr(e, "field_name", None),
            getattr(e, "cell", None),
            e.type,
            e.message,
            e.note,
        ]
        for *_, e in found[:limit]
    ]


def _without_rows(frame: pd.DataFrame, numbers: Iterable[int]) -> pd.DataFrame:
    """The frame without the rows numbered `numbers`; the frame itself when none of them
    is in it (`drop` copies every column even with nothing to drop: 1.7 s on ONSPD)."""
    present = [r for r in numbers if r in frame.index]
    return frame.drop(index=present) if present else frame


#: Where each finding falls among a row's findings in frictionless: the cells' own errors
#: in field order, then extra and missing cells, then unique fields, then the primary key.
_CELL, _EXTRA, _MISSING, _UNIQUE, _KEY = range(5)
Found = tuple[int, int, int, Error]  # row, stage, field position, the error


def supported(descriptor: dict[str, Any]) -> None:
    """Raise `UnsupportedSchema` naming any check this path would not make."""
    extra = sorted(set(descriptor) - _SCHEMA_KEYS)
    if extra:
        raise UnsupportedSchema(
            f"the large-file checker (validate/bulk.py) does not check {', '.join(extra)}"
        )
    types = {f["name"]: f.get("type", "string") for f in descriptor["fields"]}
    keyed = [
        (f["name"], "unique")
        for f in descriptor["fields"]
        if f.get("constraints", {}).get("unique")
    ] + [(name, "primaryKey") for name in descriptor.get("primaryKey", [])]
    for name, rule in keyed:
        # Cross-row checks compare raw text, which is the read value only for plain strings.
        field = next(f for f in descriptor["fields"] if f["name"] == name)
        if types[name] != "string" or field.get("format", "default") != "default":
            raise UnsupportedSchema(
                f'the large-file checker (validate/bulk.py) does not check "{rule}" on '
                f'field "{name}" of type "{types[name]}"'
            )


def _dialect(path: Path, encoding: str, layout: TableLayout) -> type[csv.Dialect]:
    """The CSV dialect frictionless sniffs from the file's first rows (delimiter, quoting,
    spaces after delimiters), so both paths split the cells alike.

    frictionless is given the file's first lines only (`SNIFF_BYTES`): it sniffs 100
    lines whatever their length, so a hostile 50 MB line would otherwise cost gigabytes.
    Opening the resource also infers a type for every column from those lines, which
    the dialect does not depend on and nothing here reads: every column is taken as
    text instead (`field_type`), a quarter of the time (ONSPD's 52 columns: 0.2 s).
    """
    resource = Resource(
        read_head(path, SNIFF_BYTES),
        format="csv",
        encoding=encoding,
        dialect=Dialect(header_rows=[layout.header_row], comment_rows=list(layout.skip_rows)),
        detector=Detector(field_type="string"),
    )
    with resource:
        return resource.dialect.get_control("csv").to_python()


def _structure(
    path: Path,
    encoding: str,
    dialect: type[csv.Dialect],
    labels: list[str],
    layout: TableLayout,
    missing: set[str],
    limit: int,
) -> tuple[list[Found], list[int]]:
    """Blank, short and long rows, as frictionless reports them.

    A plain csv pass, because pandas quietly pads short rows and, reading only some
    columns, drops extra cells; it costs a few seconds on the largest national file.
    A row is blank when every cell is absent or a missing value, whatever its length.
    Every blank row is listed (the cell checks skip them); findings stop at `limit`.
    """
    found: list[Found] = []
    blank: list[int] = []
    width = len(labels)
    skip = set(layout.skip_rows)
    with open_text(path, encoding) as handle, cells_within_limit():
        # limited_rows refuses a row or cell over placeintel.limits as it is read.
        rows = limited_rows(csv.reader(handle, dialect), path, encoding, dialect, labels)
        for number, row in rows:
            if number <= layout.header_row or number in skip:
                continue
            if (not row or row[0] in missing) and all(cell in missing for cell in row[:width]):
                blank.append(number)
                if len(blank) > BLANK_ROWS:
                    raise DataError(
                        f"more than {BLANK_ROWS:,} blank rows (the first is row {blank[0]:,})",
                        file=path,
                        row=number,
                        rule="too-many-blank-rows",
                        hint="remove the empty rows: the file looks damaged or padded",
                    )
                if len(found) < limit:
                    error = errors.BlankRowError(note="", cells=row, row_number=number)
                    found.append((number, _EXTRA, 0, error))
            elif len(row) == width or len(found) >= limit:
                continue
            elif len(row) < width:
                found += [
                    (
                        number,
                        _MISSING,
                        i + 1,
                        errors.MissingCellError(
                            note="",
                            cells=row,
                            row_number=number,
                            cell="",
                            field_name=labels[i],
                            field_number=i + 1,
                        ),
                    )
                    for i in range(len(row), width)
                ]
            else:
                found += [
                    (
                        number,
                        _EXTRA,
                        i + 1,
                        errors.ExtraCellError(
                            note="",
                            cells=row,
                            row_number=number,
                            cell=row[i],
                            field_name="",
                            field_number=i + 1,
                        ),
                    )
                    for i in range(width, len(row))
                ]
    return found, blank


def _cell_findings(
    cells: pd.Series,
    field: Any,
    position: int,
    missing: list[str],
    limit: int,
    key: bool = False,
) -> Iterator[Found]:
    """Type and constraint errors, each distinct value judged once by frictionless.

    Distinct values are listed in order of first appearance (`_distinct`), so once `limit`
    values have failed, any later failure falls after `limit` findings of this column.
    An absent cell (a short row) is frictionless's None, code -1 here, judged last.
    """
    codes, distinct = _distinct(cells, remember=key)
    absent = len(distinct)  # the code of None, judged after every distinct value
    read = field.create_cell_reader()
    notes: dict[int, dict[str, str]] = {}
    unsure = np.append(~_certainly_valid(distinct, field, missing), (codes == -1).any())
    judged = np.flatnonzero(unsure)
    # Only the values the screen is unsure of become Python strings (a postcode column
    # has 1.7 million distinct values, nearly all certainly valid).
    values = dict(
        zip(judged.tolist(), _python_values(distinct, judged[judged < absent]), strict=False)
    )
    values[absent] = None
    for index in judged:
        _, cell_notes = read(values[int(index)])
        if cell_notes:
            notes[int(index)] = cell_notes
            if len(notes) >= limit:
                break
    if not notes:
        return
    failing = np.zeros(absent + 1, dtype=bool)
    failing[list(notes)] = True
    hits = np.flatnonzero(failing[codes])[:limit]
    for row, code in zip(cells.index[hits], codes[hits], strict=True):
        index = int(code) % (absent + 1)
        for rule, note in notes[index].items():
            kind = errors.TypeError if rule == "type" else errors.ConstraintError
            error = kind(
                note=note,
                cells=[],
                row_number=int(row),
                cell=str(values[index]),
                field_name=field.name,
                field_number=position,
            )
            yield (int(row), _CELL, position, error)


def _distinct(cells: pd.Series, remember: bool = False) -> tuple[np.ndarray, pa.Array | np.ndarray]:
    """Each cell's code and the distinct values in order of first appearance (an absent
    cell, NaN, is -1), as `pd.factorize` gives them: with Arrow's hash kernel for Arrow
    text, which keeps the distinct values in Arrow rather than as Python strings."""
    array = arrow_strings(cells)
    if array is None:
        codes, values = pd.factorize(cells, sort=False)
        return codes, np.asarray(values, dtype=object)
    held = _key_columns.get(id(array))
    if held is not None and held[0] is array:  # a key column, encoded for its cells
        return held[1]
    whole = array.combine_chunks()
    if remember and surely_distinct(whole):
        # A key column with every value once: what dictionary_encode gives (each row
        # its own code, the dictionary the column itself) without hashing the key of a
        # file sorted by it (0.5 s for each national postcode file; 0.1 s by order).
        codes, distinct = np.arange(len(whole), dtype=np.int64), whole
    else:
        encoded = pc.dictionary_encode(whole, null_encoding="mask")
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        distinct = encoded.dictionary
    if remember:  # Arrow arrays never change; one held here cannot be freed and its id reused
        _key_columns[id(array)] = (array, (codes, distinct))
    return codes, distinct


#: Primary-key columns `_distinct` encoded for their cell checks, for the key check to
#: use again (a second for ONSPD's postcodes); emptied as each file's checks end.
_key_columns: dict[int, tuple[pa.ChunkedArray, tuple[np.ndarray, pa.Array]]] = {}


def _python_values(distinct: pa.Array | np.ndarray, positions: np.ndarray) -> list[Any]:
    """The distinct values at `positions` as Python strings, for frictionless."""
    if isinstance(distinct, np.ndarray):
        return list(distinct[positions])
    return distinct.take(pa.array(positions, type=pa.int64())).to_pylist()


def _certainly_valid(values: pa.Array | np.ndarray, field: Any, missing: list[str]) -> np.ndarray:
    """Which distinct values frictionless would certainly pass (all False when unsure):
    in Arrow when the values are Arrow text and every check has an Arrow kernel that is
    never more lenient than frictionless, else on Python strings."""
    if isinstance(values, pa.Array):
        screened = _certainly_valid_arrow(values, field, missing)
        if screened is not None:
            return screened
        values = np.asarray(values.to_pylist(), dtype=object)
    return _certainly_valid_python(values, field, missing)


#: Patterns RE2 and Python's re read alike, or RE2 more strictly: literal characters,
#: classes of literals and ranges, `.`, `\\d` and `\\s` (ASCII in RE2, wider in Python),
#: and `?`, `*`, `+` and `{m}`/`{m,n}` repeats; no alternation or groups, so anchoring
#: them is the same in both, and no `[:`, which RE2 reads as a POSIX class.
_SIMPLE_PATTERN = re.compile(
    r"(?:[A-Za-z0-9 :,\-.]|\\[ds]|\[(?:[A-Za-z0-9 ,\-]|\\[ds])+\]|[?*+]|\{[0-9]+(?:,[0-9]+)?\})*"
)


def _certainly_valid_arrow(values: pa.Array, field: Any, missing: list[str]) -> np.ndarray | None:
    """`_certainly_valid_python` with Arrow kernels, or None where one is not certain."""
    constraints = field.constraints
    if field.type not in _SCREENED or set(constraints) - _SCREENED[field.type]:
        return np.zeros(len(values), dtype=bool)
    checks = [pc.invert(pc.is_in(values, value_set=pa.array(missing, type=values.type)))]
    if field.type == "string":
        if field.format != "default":
            return np.zeros(len(values), dtype=bool)
        if "pattern" in constraints:  # frictionless anchors the pattern exactly so
            pattern = constraints["pattern"]
            if not isinstance(pattern, str) or not _SIMPLE_PATTERN.fullmatch(pattern):
                return None
            try:
                checks.append(pc.match_substring_regex(values, f"^{pattern}$"))
            except pa.ArrowInvalid:  # RE2 refuses it: Python's re judges every value
                return None
        if "minLength" in constraints or "maxLength" in constraints:
            length = pc.utf8_length(values)  # characters, as Python's len
            if "minLength" in constraints:
                checks.append(pc.greater_equal(length, constraints["minLength"]))
            if "maxLength" in constraints:
                checks.append(pc.less_equal(length, constraints["maxLength"]))
        if "enum" in constraints:
            enum = [e for e in constraints["enum"] if isinstance(e, str)]
            checks.append(pc.is_in(values, value_set=pa.array(enum, type=values.type)))
        return _all_true(checks, len(values))
    if getattr(field, "decimal_char", ".") != "." or not all(
        _plain_bound(constraints[b]) for b in _BOUNDS if b in constraints
    ):
        return np.zeros(len(values), dtype=bool)
    plain = pc.and_(
        pc.match_substring_regex(values, f"^{_PLAIN_NUMBER[field.type]}$"),
        pc.less_equal(pc.count_substring_regex(values, "[0-9]"), _MAX_DIGITS),
    )
    checks.append(plain)
    ok = _all_true(checks, len(values))
    # Arrow's cast rounds a plain decimal correctly, as pandas' to_numeric does.
    text = pc.if_else(pa.array(ok), values, pa.scalar("0", values.type))
    numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    for bound, compare in _BOUNDS.items():
        if bound in constraints:
            ok &= compare(numbers, float(constraints[bound]))
    return ok


def _all_true(checks: list[pa.Array], size: int) -> np.ndarray:
    """Where every check holds (a null, from a null value, counts as not holding)."""
    ok = np.ones(size, dtype=bool)
    for check in checks:
        ok &= pc.fill_null(check, False).to_numpy(zero_copy_only=False).astype(bool)
    return ok


def _certainly_valid_python(values: np.ndarray, field: Any, missing: list[str]) -> np.ndarray:
    """Which distinct values frictionless would certainly pass (all False when unsure)."""
    text = pd.Series(values, dtype=object)
    ok = ~text.isin(missing).to_numpy()
    constraints = field.constraints
    if field.type not in _SCREENED or set(constraints) - _SCREENED[field.type]:
        return np.zeros(len(values), dtype=bool)
    if field.type == "string":
        if field.format != "default":
            return np.zeros(len(values), dtype=bool)
        if "pattern" in constraints:  # frictionless anchors the pattern exactly so
            ok &= text.str.match(f"^{constraints['pattern']}$").to_numpy(dtype=bool)
        if "minLength" in constraints:
            ok &= (text.str.len() >= constraints["minLength"]).to_numpy()
        if "maxLength" in constraints:
            ok &= (text.str.len() <= constraints["maxLength"]).to_numpy()
        if "enum" in constraints:
            ok &= text.isin([e for e in constraints["enum"] if isinstance(e, str)]).to_numpy()
        return ok
    if getattr(field, "decimal_char", ".") != "." or not all(
        _plain_bound(constraints[b]) for b in _BOUNDS if b in constraints
    ):
        return np.zeros(len(values), dtype=bool)
    # A plain decimal is untouched by frictionless's group-character and bare-number
    # clean-up, so frictionless reads the very number pandas does.
    ok &= text.str.fullmatch(_PLAIN_NUMBER[field.type]).to_numpy(dtype=bool)
    ok &= (text.str.count("[0-9]") <= _MAX_DIGITS).to_numpy(dtype=bool)
    numbers = pd.to_numeric(text.where(ok, "0")).to_numpy(dtype=float)
    for bound, compare in _BOUNDS.items():
        if bound in constraints:
            ok &= compare(numbers, float(constraints[bound]))
    return ok


def _plain_bound(bound: Any) -> bool:
    """A bound a float compares exactly as frictionless's Decimal does."""
    if isinstance(bound, bool) or not isinstance(bound, int | float):
        return False
    return len(re.sub(r"[^0-9]|e.*", "", repr(bound).lstrip("-0.")) or "0") <= _MAX_DIGITS


def _unique_findings(
    cells: pd.Series, name: str, position: int, missing: list[str], limit: int
) -> Iterator[Found]:
    present = cells[cells.notna() & ~cells.isin(missing)]
    earlier = _earlier_row(present)
    for row in earlier.index[earlier.notna().to_numpy()][:limit]:
        error = errors.UniqueError(
            note=f"the same as in the row at position {int(earlier[row])}",
            cells=[],
            row_number=int(row),
            cell=str(present[row]),
            field_name=name,
            field_number=position,
        )
        yield (int(row), _UNIQUE, position, error)


def _primary_key_findings(keys: pd.DataFrame, missing: list[str], limit: int) -> Iterator[Found]:
    """frictionless's primary-key rule: a row whose key cells are all missing, or a key
    seen on an earlier row (a missing cell reads as None, equal to another None)."""
    absent = keys.isna() | keys.isin(missing)
    empty = absent.all(axis=1)
    marked = keys.mask(absent, "\0") if absent.to_numpy().any() else keys
    columns = [marked[c] for c in marked.columns]
    key = columns[0].str.cat(columns[1:], sep="\x1f") if len(columns) > 1 else columns[0]
    earlier = _earlier_row(key[~empty] if empty.any() else key).reindex(keys.index)
    for row in keys.index[(empty | earlier.notna()).to_numpy()][:limit]:
        note = (
            'cells composing the primary keys are all "None"'
            if empty[row]
            else f"the same as in the row at position {int(earlier[row])}"
        )
        yield (int(row), _KEY, 0, errors.PrimaryKeyError(note=note, cells=[], row_number=int(row)))


def _earlier_row(values: pd.Series) -> pd.Series:
    """For each row, the last earlier row with the same value (NaN if none, or if the
    value is missing), which is the row frictionless names in its note.

    A stable sort of the values' codes puts each value's rows together in file order,
    so each row's predecessor in that order is its earlier row: `groupby().shift()` did
    the same through pandas' grouping machinery, seconds on a national file.
    """
    codes, distinct = _distinct(values)
    if len(distinct) == len(codes):  # every value once (and none missing): no earlier row
        return pd.Series(np.nan, index=values.index)
    rows = values.index.to_numpy(dtype=float)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (ordered[1:] == ordered[:-1]) & (ordered[1:] != -1)
    earlier = np.full(len(order), np.nan)
    earlier[order[same]] = rows[order[np.flatnonzero(same) - 1]]
    return pd.Series(earlier, index=values.index)
