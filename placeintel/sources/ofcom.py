"""Ofcom Connected Nations fixed-broadband files (coverage and performance).

Output-area files are keyed `oa11` up to about 2022 and `output_area` (2021 OAs)
from 2024; postcode files by `postcode`. We keep premises and connection counts
so that later aggregation sums people and lines rather than averaging percentages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.headers import canonical_frame, match_headers
from placeintel.sources.onspd import normalise
from placeintel.sources.tables import find_column, read_csv

_KEYS = {
    "output_area": "oa21",
    "oa21": "oa21",
    "oa21cd": "oa21",
    "oa11": "oa11",
    "oa11cd": "oa11",
    "postcode": "postcode",
    "pcds": "postcode",
    "postcode_space": "postcode",
}

COVERAGE_HEADERS: dict[str, tuple[str, ...]] = {
    "all_premises": ("All Premises",),
    "pct_sfbb_available": ("SFBB availability (% premises)",),
    "pct_premises_below_30mbit": ("% of premises unable to receive 30Mbit/s",),
    "premises_below_2mbit": (
        "Number of premises with 0<2Mbit/s download speed",
        "Number of premises with less than 2Mbit/s download speed",
    ),
    "premises_2_5mbit": ("Number of premises with 2<5Mbit/s download speed",),
    "premises_5_10mbit": ("Number of premises with 5<10Mbit/s download speed",),
    "premises_10_30mbit": ("Number of premises with 10<30Mbit/s download speed",),
}
PERFORMANCE_HEADERS: dict[str, tuple[str, ...]] = {
    "median_download_mbit": ("Median download speed (Mbit/s)",),
    "avg_download_mbit": ("Average download speed (Mbit/s)",),
    "connections_below_2mbit": ("Number of connections < 2 Mbit/s",),
    "connections_2_5mbit": ("Number of connections 2<5 Mbit/s",),
    "connections_5_10mbit": ("Number of connections 5<10 Mbit/s",),
    "connections_10_30mbit": ("Number of connections 10<30 Mbit/s",),
    "connections_30_300mbit": ("Number of connections 30<300 Mbit/s",),
    "connections_300mbit_plus": ("Number of connections >= 300 Mbit/s",),
}
_BELOW_30 = ("premises_below_2mbit", "premises_2_5mbit", "premises_5_10mbit", "premises_10_30mbit")

#: What the rest of placeintel takes from Ofcom, per area. Counts are summed over any
#: area (postcodes into output areas, output areas into LSOAs and wards); shares are
#: recomputed from the summed counts, never averaged. This is the one list to extend
#: when another Ofcom column is wanted: the reader's headers above, this, and the schema.
COUNTS = (
    "all_premises",
    "premises_below_30mbit",
    "premises_with_sfbb",
    "connections_total",
    "connections_below_10mbit",
)
#: The average speed, combined as a sum of speed x lines over the lines that report one.
SPEED_WEIGHTS = ("download_mbit_x_connections", "connections_with_speed")
#: Share -> (part, whole), each a count above.
SHARES = {
    "pct_premises_below_30mbit": ("premises_below_30mbit", "all_premises"),
    "pct_sfbb_available": ("premises_with_sfbb", "all_premises"),
    "pct_connections_below_10mbit": ("connections_below_10mbit", "connections_total"),
}


def speed_weights(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with speed x lines and the lines that report a speed, so that speeds can be
    summed; Ofcom withholds the speed (n/a) where too few lines report one."""
    if "connections_with_speed" in frame or "avg_download_mbit" not in frame:
        return frame
    out = frame.copy()
    has_speed = out["avg_download_mbit"].notna()
    out["download_mbit_x_connections"] = (
        out["avg_download_mbit"].fillna(0) * out["connections_total"] * has_speed
    )
    out["connections_with_speed"] = out["connections_total"].where(has_speed, 0)
    return out


def average_speed(sums: pd.DataFrame) -> pd.Series:
    """The average download speed of summed areas, from their speed weights."""
    lines = sums["connections_with_speed"]
    return np.round(sums["download_mbit_x_connections"] / lines.where(lines > 0), 1)


_CONNECTION_BANDS = tuple(PERFORMANCE_HEADERS)[2:]


def _key_column(frame: pd.DataFrame, path: Path) -> tuple[pd.Series, str]:
    """The area codes and their kind; postcodes in one spelling (upper case, no spaces)."""
    column = find_column(frame, *_KEYS, path=path)
    kind = _KEYS[column.strip().lower()]
    codes = normalise(frame[column]) if kind == "postcode" else frame[column].str.strip()
    return codes, kind


def read_coverage(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Coverage per area: premises, and premises unable to receive 30 Mbit/s as a count."""
    frame = read_csv(path)
    key, kind = _key_column(frame, path)
    columns = match_headers(frame.columns, COVERAGE_HEADERS)
    if "all_premises" not in columns:
        raise DataError("required column is missing", file=path, field="All Premises")
    out = canonical_frame(frame, columns, set(), path)
    if all(c in out for c in _BELOW_30):
        out["premises_below_30mbit"] = out[list(_BELOW_30)].sum(axis=1, min_count=1)
    elif "pct_premises_below_30mbit" in out:
        # Older files give only the percentage; recover the count it was made from.
        out["premises_below_30mbit"] = np.round(
            out["pct_premises_below_30mbit"] * out["all_premises"] / 100
        )
    else:
        raise DataError(
            "no column for premises unable to receive 30Mbit/s",
            file=path,
            field="% of premises unable to receive 30Mbit/s",
        )
    if "pct_sfbb_available" in out:  # a share of premises: kept as the count it stands for
        out["premises_with_sfbb"] = np.round(out["pct_sfbb_available"] * out["all_premises"] / 100)
    out.insert(0, "area_code", key)
    out.attrs["key_kind"] = kind
    return out[["area_code", *[c for c in COUNTS if c in out]]]


def read_performance(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Performance per area: connections by speed band and the average download speed."""
    frame = read_csv(path)
    key, kind = _key_column(frame, path)
    columns = match_headers(frame.columns, PERFORMANCE_HEADERS)
    missing = [c for c in _CONNECTION_BANDS if c not in columns]
    if missing:
        raise DataError(
            "required column is missing", file=path, field=PERFORMANCE_HEADERS[missing[0]][0]
        )
    out = canonical_frame(frame, columns, set(), path)
    bands = out[list(_CONNECTION_BANDS)]
    out["connections_total"] = bands.sum(axis=1, min_count=1)
    out["connections_below_10mbit"] = out[list(_CONNECTION_BANDS[:3])].sum(axis=1, min_count=1)
    out.insert(0, "area_code", key)
    out.attrs["key_kind"] = kind
    keep = ["area_code", "connections_total", "connections_below_10mbit"]
    keep += [c for c in ("avg_download_mbit", "median_download_mbit") if c in out]
    return out[keep]


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical Ofcom field -> the file's column, for validating the raw file."""
    known = COVERAGE_HEADERS if role == "broadband-coverage" else PERFORMANCE_HEADERS
    found = {k: [v] for k, v in match_headers(columns, known).items()}
    key = next((c for c in columns if c.strip().lower() in _KEYS), None)
    if key:
        found["area_code"] = [key]
    return found


FORMATS = (
    Format("ofcom-coverage", read_coverage, header_map, schema="ofcom-coverage", shares_parse=True),
    Format(
        "ofcom-performance",
        read_performance,
        header_map,
        schema="ofcom-performance",
        shares_parse=True,
    ),
)
