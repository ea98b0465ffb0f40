"""ONS lookup tables (OA -> LSOA -> MSOA -> LAD, best-fit LSOA -> ward).

ONS names lookup columns `<LEVEL><YY><CD|NM>` (upper case on the portal, lower
case in many mirrors). We recognise them by that pattern so that any vintage's
lookup works, and keep the vintage so later checks can catch mismatches.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.tables import read_csv, refuse_first

_ONS_COLUMN = re.compile(r"^(OA|LSOA|MSOA|WD|LAD|LTLA|UTLA|CAUTH)(\d\d)(CD|NM)$", re.IGNORECASE)

#: Canonical column per ONS level; 2011/2021 small areas keep their vintage in the
#: name because they are different geographies, wards and districts do not.
_CANONICAL = {
    "OA": "oa{yy}",
    "LSOA": "lsoa{yy}",
    "MSOA": "msoa{yy}",
    "WD": "ward",
    "LAD": "lad",
    "LTLA": "lad",
    "UTLA": "utla",
    "CAUTH": "cauth",
}


def _recognise(columns: list[str] | pd.Index) -> tuple[dict[str, str], dict[str, str]]:
    """{column: canonical} for ONS code/name columns, and the vintage of each level."""
    renamed: dict[str, str] = {}
    vintages: dict[str, str] = {}
    for column in columns:
        match = _ONS_COLUMN.match(column)
        if not match:
            continue
        level, yy, kind = match.group(1).upper(), match.group(2), match.group(3).upper()
        stem = _CANONICAL[level].format(yy=yy)
        target = f"{stem}_{'code' if kind == 'CD' else 'name'}"
        if target not in renamed.values():
            renamed[column] = target
            vintages[stem] = f"{level}{yy}"
    return renamed, vintages


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical lookup field -> the file's column, for validating the raw file."""
    return {canonical: [column] for column, canonical in _recognise(columns)[0].items()}


def read_lookup(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Read a lookup as canonical `<level>_code`/`<level>_name` columns."""
    frame = read_csv(path)
    renamed, vintages = _recognise(frame.columns)
    out = frame[list(renamed)].rename(columns=renamed)
    for column in out.columns:
        out[column] = out[column].str.strip()
    needed = {
        "lookup-oa-lsoa": ("oa21_code", "lsoa21_code"),
        "lookup-lsoa-ward": ("lsoa21_code", "ward_code"),
    }.get(role, ())
    for column in needed:
        if column not in out.columns:
            raise DataError(
                "lookup lacks a required ONS code column",
                file=path,
                field=column,
                hint=f"columns present: {', '.join(frame.columns)}",
            )
    key = needed[0] if needed else None
    if key:
        refuse_first(
            out[key].duplicated(),
            lambda row: (
                f"code {out[key][row]!r} appears more than once; "
                "a best-fit lookup maps each area to exactly one parent"
            ),
            file=path,
            field=key,
        )
    out.attrs["vintages"] = vintages
    return out


#: Lookups have a schema per role (OA -> LSOA, LSOA -> ward); the postcode directory has its own
#: format (onspd).
FORMAT = Format(
    "ons-lookup",
    read_lookup,
    header_map,
    schema=lambda source: (
        source.role if source.role in ("lookup-oa-lsoa", "lookup-lsoa-ward") else None
    ),
    shares_parse=True,
)
