"""Area-keyed census tables with coded columns, wide or long, and their metadata file.

Census 2021 tables are republished (by ONS's own bulk files, by research mirrors
and R packages) keyed on one area column (`OA`, `lsoa21_code`) with measure
columns named by code (`ts0620001` ...), and a metadata file that gives each
code its ONS label. Some come in long form instead: one row per area and
category (`lsoa21_code, disability, n, total_residents`). The manifest names
the key (`code_field`), the metadata file, and for a long table its category and
value columns; a measure may then be named by its code or by its label:

    reader: census-table
    code_field: OA
    metadata: census2021_oa21_table_metadata.csv
    measures:
      social_grade_de: [ts0620007, ts0620008, ts0620009]

    reader: census-table
    code_field: lsoa21_code
    long: {category: disability, value: n}
    measures:
      activities_limited: Disabled under the Equality Act
      disability_base: total_residents
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.census import measure_frame, measure_header_map, measure_specs
from placeintel.sources.formats import Format
from placeintel.sources.tables import _key, find_column, read_csv, refuse_first

#: Column names that metadata files use for the code and the label of each measure.
_META_CODE = ("new_names", "code", "variable_code", "cell")
_META_LABEL = ("Variable_Name", "old_names", "label", "name")
#: A label that two codes share in a metadata file: it cannot name a column.
_AMBIGUOUS = "\x00ambiguous"


def read_census_table(path: Path, role: str, options: dict) -> pd.DataFrame:
    """`area_code` and the counts named under `measures:`, one row per area."""
    measure_specs(options)
    frame = read_csv(path)
    key = _code_field(frame, options, path)
    long = options.get("long")
    if long is not None:
        frame = _widen(frame, key, long, _named_columns(frame, options), path)
    labels = _labels(options, path)
    out = measure_frame(frame, frame[key], options, path, _resolver(frame, labels))
    named = {c for columns in measure_specs(options).values() for c in columns}
    out.attrs["labels"] = {
        column: labels[_key(column)]
        for column in (_resolver(frame, labels)(name) for name in named)
        if column and _key(column) in labels
    }
    return out


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """The key, (for a long table) the category, and every measure column present."""
    frame = pd.DataFrame(columns=columns)
    code = _code_name(options, frame)
    found: dict[str, list[str]] = {}
    key = find_column(frame, code, required=False)
    if key:
        found["area_code"] = [key]
    long = options.get("long")
    if isinstance(long, dict):
        category = find_column(frame, str(long.get("category", "")), required=False)
        value = find_column(frame, str(long.get("value", "")), required=False)
        if category:
            found["category"] = [category]
        # A long table's measures are category values, checked after widening; the raw
        # file's own numeric columns are the value and any per-area total named.
        found["*"] = list(dict.fromkeys([c for c in [value, *_named_columns(frame, options)] if c]))
        return found
    return found | measure_header_map(frame, options, _resolver(frame, _labels(options, None)))


def _code_name(options: dict, frame: pd.DataFrame) -> str:
    """The manifest's `code_field`, or an error saying the manifest must give it."""
    code = options.get("code_field")
    if not isinstance(code, str) or not code:
        raise DataError(
            "a census-table source needs `code_field`, the column holding the area code",
            field="code_field",
            hint=f"columns present: {', '.join(map(str, frame.columns[:8]))}",
        )
    return code


def _code_field(frame: pd.DataFrame, options: dict, path: Path) -> str:
    return find_column(frame, _code_name(options, frame), path=path)


def _named_columns(frame: pd.DataFrame, options: dict) -> list[str]:
    """The file's columns that the manifest's measures name directly (e.g. a total)."""
    names = [
        name
        for spec in (options.get("measures") or {}).values()
        for name in ([spec] if isinstance(spec, str) else spec)
    ]
    return [c for c in (find_column(frame, n, required=False) for n in names) if c]


def _widen(
    frame: pd.DataFrame, key: str, long: object, per_area: list[str], path: Path
) -> pd.DataFrame:
    """One row per area: each category's value becomes a column, beside the per-area
    columns the measures name (e.g. `total_residents`), which must agree on every line
    of an area. The row kept for an area is its first line, so errors still name a line.
    """
    if not isinstance(long, dict) or not {"category", "value"} <= set(long):
        raise DataError(
            "`long` needs the category and value columns",
            field="long",
            hint="e.g. long: {category: disability, value: n}",
        )
    category = find_column(frame, str(long["category"]), path=path)
    value = find_column(frame, str(long["value"]), path=path)
    codes = frame[key].str.strip()
    frame = frame.assign(**{category: frame[category].str.strip()})
    spellings = frame[category].drop_duplicates()
    clash = spellings.map(_key).duplicated(keep=False)
    refuse_first(
        clash,
        lambda row: (
            f"category {frame[category][row]!r} is also written another way "
            f"({', '.join(repr(s) for s in spellings[clash])}): they would count as two categories"
        ),
        file=path,
        field=category,
        hint="write each category exactly as the table does on every line",
    )
    twice = pd.Series(list(zip(codes, frame[category], strict=True)), index=frame.index)
    refuse_first(
        twice.duplicated(),
        lambda row: f"area {codes[row]!r} has category {frame[category][row]!r} twice",
        file=path,
        field=category,
    )
    first_rows = frame.index.to_series().groupby(codes.to_numpy(), sort=False).min()
    wide = frame.pivot(index=key, columns=category, values=value)
    keep = [c for c in dict.fromkeys(per_area) if c not in (key, category, value)]
    grouped = frame.groupby(key, sort=False)[keep]
    varies = grouped.nunique() > 1
    for column in keep:
        if varies[column].any():
            area = varies.index[varies[column].to_numpy()][0]
            raise DataError(
                f"{column!r} differs between the lines of area {area!r}",
                file=path,
                row=int(first_rows[area]),
                field=column,
                hint="a per-area column of a long table must repeat the same value",
            )
    out = grouped.first().join(wide).reindex(first_rows.index)
    out.insert(0, key, out.index)
    out.index = pd.Index(first_rows.to_numpy(), name=None)
    out.columns = [str(c) for c in out.columns]
    out.attrs.update(frame.attrs)
    return out.fillna("")


def _labels(options: dict, path: Path | None) -> dict[str, str]:
    """{code or label (normalised): label} from the metadata file, when the manifest names one."""
    meta = options.get("metadata")
    if not meta:
        return {}
    data_dir = Path(options.get("_data_dir", "."))
    meta_path = data_dir / str(meta)
    if not meta_path.resolve().is_relative_to(data_dir.resolve()) or not meta_path.is_file():
        if path is None:
            return {}
        raise DataError(
            "the metadata file named in the manifest is missing, or outside the data folder",
            file=meta_path,
            field="metadata",
        )
    table = read_csv(meta_path)
    code = find_column(table, *_META_CODE, path=meta_path)
    labels = [c for c in (find_column(table, n, required=False) for n in _META_LABEL) if c]
    if not labels:
        raise DataError(
            "the metadata file has no label column", file=meta_path, field=_META_LABEL[0]
        )
    out: dict[str, str] = {}
    for row in table.itertuples(index=False):
        record = dict(zip(table.columns, row, strict=True))
        label = str(record[labels[0]]).strip()
        coded = str(record[code]).strip()
        out[_key(coded)] = label
        for column in labels:  # a measure may be named by any of its labels
            named = f"label:{_key(str(record[column]))}"
            if out.get(named, coded) != coded:
                out[named] = _AMBIGUOUS  # two codes share this label: it names neither
            else:
                out[named] = coded
    return out


def _resolver(frame: pd.DataFrame, labels: dict[str, str]) -> Callable[[str], str | None]:
    """A manifest's name for a column -> the column: its header, or the code of its label."""

    def column_of(name: str) -> str | None:
        hit = find_column(frame, name, required=False)
        coded = labels.get(f"label:{_key(name)}")
        if hit is None and coded == _AMBIGUOUS:
            raise DataError(
                f"the label {name!r} belongs to more than one code in the metadata file",
                field=name,
                hint="name the measure by its code (e.g. ts0620007) instead",
            )
        if hit is None and coded is not None:
            hit = find_column(frame, coded, required=False)
        return hit

    return column_of


FORMAT = Format(
    "census-table",
    read_census_table,
    header_map,
    schema=lambda source: "census-table-long" if "long" in source.options else "census-table",
)
