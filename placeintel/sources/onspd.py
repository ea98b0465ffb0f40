"""The ONS Postcode Directory (ONSPD, or its NSPL cut): which output area each postcode is in.

Ofcom publishes broadband by postcode; ONS places every postcode, live or
terminated, in a 2021 output area. We read only the postcode, the OA and the
termination date out of ONSPD's 52 columns, and place postcode-level rows in
output areas by exact code, so every later step works on OAs as usual.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from placeintel.sources.arrow_text import (
    duplicated,
    map_text,
    positions_in,
    to_numeric,
    without_spaces_upper,
)
from placeintel.sources.formats import Format
from placeintel.sources.tables import find_column, read_csv, refuse_first

#: Postcode columns in the order we prefer them: pcds is the one-space form.
POSTCODE_COLUMNS = ("pcds", "pcd", "pcd2", "pcd7", "pcd8", "postcode")
OA_COLUMNS = ("oa21", "oa21cd")
#: ONSPD's grid reference of each postcode's centroid (metres, EPSG:27700), which places
#: a council dataset given by postcode (`datasets.read.place`).
GRID_COLUMNS = ("oseast1m", "osnrth1m")
_WANTED = {*POSTCODE_COLUMNS, *OA_COLUMNS, "doterm", "lsoa21", "lsoa21cd", *GRID_COLUMNS}


def normalise(postcodes: pd.Series) -> pd.Series:
    """'QA1 0AA', 'qa10aa' and 'QA1  0AA' are one postcode: upper case without spaces."""
    return without_spaces_upper(postcodes)


def _wanted(label: str) -> bool:
    """The columns read of ONSPD's 52, by trimmed header."""
    return label.lower() in _WANTED


def read_onspd(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Postcode -> 2021 output area, one row per postcode (live and terminated)."""
    frame = read_csv(path, columns=_wanted)
    postcode = find_column(frame, *POSTCODE_COLUMNS, path=path)
    oa = find_column(frame, *OA_COLUMNS, path=path)
    out = pd.DataFrame(
        {"postcode": normalise(frame[postcode]), "oa21_code": frame[oa].str.strip()},
        index=frame.index,
    )
    terminated = find_column(frame, "doterm", required=False)
    out["terminated"] = frame[terminated].str.strip() != "" if terminated else False
    east, north = (find_column(frame, c, required=False) for c in GRID_COLUMNS)
    if east and north:  # blank for postcodes ONS could not grid-reference
        out["easting"] = to_numeric(frame[east].str.strip())
        out["northing"] = to_numeric(frame[north].str.strip())
    blank = out["oa21_code"] == ""
    if blank.any():
        # ONSPD leaves OA blank for a few non-geographic postcodes (e.g. large users' PO
        # boxes); they cannot be placed, and Ofcom has no premises for them.
        out = out[~blank]
    refuse_first(
        duplicated(out["postcode"]),
        lambda row: f"postcode {out['postcode'][row]!r} appears more than once",
        file=path,
        field=postcode,
        hint="the directory maps each postcode to exactly one output area",
    )
    out.attrs.update(frame.attrs)
    return out


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical fields -> the file's columns, for validating the raw file."""
    lower = {c.lower(): c for c in columns}
    found: dict[str, list[str]] = {}
    for canonical, candidates in (
        ("postcode", POSTCODE_COLUMNS),
        ("oa21_code", OA_COLUMNS),
        ("doterm", ("doterm",)),
    ):
        hit = next((lower[c] for c in candidates if c in lower), None)
        if hit:
            found[canonical] = [hit]
    return found


def postcode_positions(frame: pd.DataFrame, lookup: pd.DataFrame) -> pa.ChunkedArray | None:
    """Each row's postcode's position in the directory (`arrow_text.positions_in`)."""
    return positions_in(frame["area_code"], lookup["postcode"])


def to_output_areas(
    frame: pd.DataFrame,
    lookup: pd.DataFrame,
    path: Path | str,
    positions: pa.ChunkedArray | None = None,
) -> pd.DataFrame:
    """Merge a postcode-keyed Ofcom frame into output areas: counts summed, the speed
    weighted by the connections that report one, shares weighted by premises.

    A postcode the directory does not know is an error naming the row: dropping it
    would quietly remove premises from a ward. `positions`: `postcode_positions(frame,
    lookup)`, when the caller has it already.
    """
    oa = map_text(frame["area_code"], lookup["postcode"], lookup["oa21_code"], positions)
    unknown = oa.isna()
    refuse_first(
        unknown,
        lambda row: (
            f"postcode {frame['area_code'][row]!r} is not in the ONS Postcode "
            f"Directory ({int(unknown.sum()):,} such rows)"
        ),
        file=path,
        field="postcode",
        hint="use an ONSPD edition at least as new as the Ofcom file",
    )
    from placeintel.sources.ofcom import average_speed, speed_weights

    work = speed_weights(frame).drop(
        columns=["area_code", "median_download_mbit", "avg_download_mbit"], errors="ignore"
    )
    # Grouped by the Arrow text itself: pandas factorises it with Arrow's hash kernel
    # rather than one Python string per postcode (0.5 s -> 0.1 s a national file).
    sums = work.groupby(oa.rename(None), sort=True).sum(min_count=1)
    if "download_mbit_x_connections" in sums:
        sums["avg_download_mbit"] = average_speed(sums)
    out = sums.rename_axis("area_code").reset_index()
    out.attrs.update(frame.attrs)
    out.attrs["key_kind"] = "oa21"
    out.attrs["placed_from"] = "postcode"
    return out


FORMAT = Format("onspd", read_onspd, header_map, schema="onspd", shares_parse=True, reads=_wanted)
