"""English Indices of Deprivation 2019 (MHCLG), on 2011 LSOAs.

Accepts MHCLG's File 1 (ranks), File 6 (population denominators) and File 7
(everything), and mySociety's re-published scores, which carry the official IMD
score under another header. Ranks and counts may carry thousands separators.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.headers import canonical_frame, match_headers
from placeintel.sources.tables import read_csv

EDITION = "IMD 2019"
IMD_HEADERS: dict[str, tuple[str, ...]] = {
    "lsoa11_code": ("LSOA code (2011)", "lsoa11cd", "lsoa"),
    "lsoa11_name": ("LSOA name (2011)",),
    "imd_score": ("Index of Multiple Deprivation (IMD) Score", "overall_local_score"),
    "imd_rank": ("Index of Multiple Deprivation (IMD) Rank",),
    "imd_decile": ("Index of Multiple Deprivation (IMD) Decile",),
    "income_deprivation_rate": ("Income Score (rate)",),
    "employment_deprivation_rate": ("Employment Score (rate)",),
    "education_score": ("Education, Skills and Training Score",),
    "population_total": ("Total population: mid 2015",),
    "population_60_plus": ("Older population aged 60 and over",),
    "population_working_age": ("Working age population 18-59/64",),
}
#: mySociety publishes domain rates multiplied by 100.
_PERCENT_HEADERS = {
    "income_score": "income_deprivation_rate",
    "employment_score": "employment_deprivation_rate",
}


def read_imd(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Read any IMD 2019 LSOA file into canonical columns keyed by `lsoa11_code`."""
    frame = read_csv(path)
    if "nation" in {c.lower() for c in frame.columns}:
        frame = frame[frame[next(c for c in frame.columns if c.lower() == "nation")] == "E"]
    columns = match_headers(frame.columns, IMD_HEADERS)
    percent = match_headers(frame.columns, {k: (k,) for k in _PERCENT_HEADERS})
    if "lsoa11_code" not in columns:
        raise DataError(
            "no LSOA 2011 code column",
            file=path,
            field="LSOA code (2011)",
            hint="IMD 2019 is published on 2011 LSOAs",
        )
    if len(columns) == 1 and not percent:
        raise DataError(
            "no IMD measure columns recognised",
            file=path,
            hint=f"columns present: {', '.join(frame.columns[:8])}",
        )
    out = canonical_frame(frame, columns, {"lsoa11_code", "lsoa11_name"}, path)
    out.attrs["edition"] = EDITION
    for header, canonical in _PERCENT_HEADERS.items():
        if header in percent and canonical not in out:
            out[canonical] = (
                canonical_frame(frame, {header: percent[header]}, set(), path)[header] / 100
            )
    return out


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical IMD field -> the file's column, for validating the raw file."""
    return {k: [v] for k, v in match_headers(columns, IMD_HEADERS).items()}


FORMAT = Format("imd2019", read_imd, header_map, schema="imd2019", edition=EDITION)
