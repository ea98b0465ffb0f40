"""Census-style tables in the Nomis bulk layout (`date, geography, geography code, ...`).

Each measure the indicators need is named in the manifest as one column or a
list of columns to add up (e.g. the 5-year age bands that make up 65+), because
councils bring tables with different band splits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.tables import find_column, read_csv, sum_columns


def read_census(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Read the measures listed under the source's `measures:` as counts per area code."""
    measures = options.get("measures")
    if not isinstance(measures, dict) or not measures:
        raise DataError(
            "a census source needs a 'measures' mapping",
            field="measures",
            hint="e.g. measures: {population_total: 'Age: Total'}",
        )
    frame = read_csv(path)
    key = find_column(frame, "geography code", "GEOGRAPHY_CODE", path=path)
    out = pd.DataFrame({"area_code": frame[key].str.strip()})
    for measure, spec in measures.items():
        columns = [spec] if isinstance(spec, str) else list(spec)
        resolved = [find_column(frame, c, path=path) for c in columns]
        out[measure] = sum_columns(frame, resolved, path)
    out.attrs.update(frame.attrs)
    return out


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """`area_code` and every measure column (as `*`), for validating the raw file."""
    frame = pd.DataFrame(columns=columns)
    found: dict[str, list[str]] = {}
    key = find_column(frame, "geography code", "GEOGRAPHY_CODE", required=False)
    if key:
        found["area_code"] = [key]
    measures = options.get("measures") or {}
    wanted = [c for spec in measures.values() for c in ([spec] if isinstance(spec, str) else spec)]
    present = [find_column(frame, c, required=False) for c in wanted]
    found["*"] = [c for c in dict.fromkeys(present) if c]
    missing = [c for c, hit in zip(wanted, present, strict=True) if hit is None]
    if missing:
        found["*missing"] = missing
    return found
