"""Sum area counts up the ONS hierarchy (OA -> LSOA 2021 -> ward) through the lookups.

Counts are summed, never averaged, at every step. Codes are matched exactly;
a code the lookups do not know is an error naming the file and row, since a
silently dropped area would quietly shrink a ward's population.
"""

from __future__ import annotations

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.tables import rows_where


def to_wards(
    frame: pd.DataFrame,
    oa_lookup: pd.DataFrame | None,
    ward_lookup: pd.DataFrame,
    measures: list[str],
    source_path: str | None = None,
) -> pd.DataFrame:
    """Sum `measures` of a frame keyed by `area_code` (OA21 or LSOA21) into wards."""
    codes = frame["area_code"]
    lsoa_to_ward = ward_lookup.set_index("lsoa21_code")["ward_code"]
    if codes.isin(lsoa_to_ward.index).all():
        ward = codes.map(lsoa_to_ward)
    elif oa_lookup is not None and codes.isin(oa_lookup["oa21_code"]).mean() > 0.5:
        lsoa = codes.map(oa_lookup.set_index("oa21_code")["lsoa21_code"])
        ward = lsoa.map(lsoa_to_ward)
    else:
        ward = codes.map(lsoa_to_ward)
    unknown = ward.isna()
    if unknown.any():
        row = rows_where(unknown, 1)[0]
        raise DataError(
            f"area code {codes[row]!r} is not in the OA/LSOA 2021 lookups",
            file=source_path or frame.attrs.get("path"),
            row=row,
            field="area_code",
            hint="check the file's geography vintage (2011 vs 2021 codes) and the lookups",
        )
    sums = frame[measures].groupby(ward.to_numpy()).sum(min_count=1)
    sums.index.name = "ward_code"
    return sums
