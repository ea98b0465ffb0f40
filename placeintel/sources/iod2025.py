"""English Indices of Deprivation 2025 (MHCLG), on 2021 LSOAs.

Read as published: File 7 (all ranks, scores, deciles and population
denominators, CSV) and File 8 (the underlying indicators: an XLSX workbook with
one sheet per domain, or one sheet saved as CSV), under MHCLG's own headers; and
the same tables under the converted names of the `IMD` R package
(`lsoa21_code`, `IMD_score`, `income_deprivation_affecting_older_people_index_idaopi_numerator`,
...), in which the files of a research mirror arrive. A suppressed cell in File 8
is empty: it is missing data, never zero, and validation counts them.

Why IoD2025 and not only IMD 2019: it is on the 2021 LSOAs that current wards
are built from, so it needs no areal interpolation, and its File 8 carries the
IDAOPI numerator and a digital-connectivity indicator, the nearest published
stand-ins for Pension Credit receipt and for broadband speeds.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from placeintel.errors import DataError
from placeintel.sources.formats import Format
from placeintel.sources.headers import canonical_frame, match_headers, missing_cells
from placeintel.sources.tables import read_csv, refuse_first

EDITION = "IoD2025"
#: Canonical field -> MHCLG's header (File 7 / File 8), then the R package's name.
IOD2025_HEADERS: dict[str, tuple[str, ...]] = {
    "lsoa21_code": ("LSOA code (2021)", "lsoa21_code"),
    "lsoa21_name": ("LSOA name (2021)", "lsoa21_name"),
    "imd_score": ("Index of Multiple Deprivation (IMD) Score", "IMD_score"),
    "imd_rank": ("Index of Multiple Deprivation (IMD) Rank", "IMD_rank"),
    "imd_decile": ("Index of Multiple Deprivation (IMD) Decile", "IMD_decile"),
    "income_deprivation_rate": ("Income Score (rate)", "Income_score"),
    "employment_deprivation_rate": ("Employment Score (rate)", "Employment_score"),
    "education_score": ("Education, Skills and Training Score", "Education_score"),
    "health_score": ("Health Deprivation and Disability Score", "Health_score"),
    "crime_score": ("Crime Score", "Crime_score"),
    "barriers_score": ("Barriers to Housing and Services Score", "Housing_and_Services_score"),
    "living_environment_score": ("Living Environment Score", "Environment_score"),
    "population_total": ("Total population: mid 2022",),
    "population_60_plus": ("Older population aged 60 and over: mid 2022",),
    "population_working_age": ("Working age population 18-66",),
    "income_numerator": ("Income Domain numerator", "income_domain_numerator"),
    "idaopi_numerator": (
        "Income Deprivation Affecting Older People Index (IDAOPI) numerator",
        "income_deprivation_affecting_older_people_index_idaopi_numerator",
    ),
    "employment_numerator": ("Employment Domain numerator", "employment_domain_numerator"),
    "digital_connectivity": (
        "Digital Connectivity (Broadband download and upload speeds)",
        "digital_connectivity_broadband_download_and_upload_speeds",
    ),
    "connectivity_score": ("Connectivity Score", "connectivity_score"),
}
TEXT_FIELDS = {"lsoa21_code", "lsoa21_name"}
#: The header that marks a File 8 sheet's header row (its Notes sheet has none).
_KEY_HEADER = "LSOA code (2021)"


def read_iod2025(path: Path, role: str, options: dict) -> pd.DataFrame:
    """Any IoD2025 LSOA file into canonical columns keyed by `lsoa21_code`."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        out = _read_workbook(path)
    else:
        frame = read_csv(path)
        out = _canonical(frame, path)
    out.attrs["edition"] = EDITION
    out.attrs["missing_cells"] = missing_cells(out, TEXT_FIELDS)
    return out


def _canonical(frame: pd.DataFrame, path: Path, sheet: str = "") -> pd.DataFrame:
    columns = match_headers(frame.columns, IOD2025_HEADERS)
    where = f" (sheet {sheet!r})" if sheet else ""
    if "lsoa21_code" not in columns:
        raise DataError(
            f"no LSOA 2021 code column{where}",
            file=path,
            field=_KEY_HEADER,
            hint="IoD2025 is published on 2021 LSOAs; IMD 2019 files use reader imd2019",
        )
    if len(columns) == 1 and not sheet:
        raise DataError(
            "no IoD2025 measure columns recognised",
            file=path,
            hint=f"columns present: {', '.join(frame.columns[:8])}",
        )
    return canonical_frame(frame, columns, TEXT_FIELDS, path)


def _read_workbook(path: Path) -> pd.DataFrame:
    """File 8: every sheet with an LSOA code header and IoD measures, joined on the code.

    A workbook gets no Table Schema pass (frictionless reads CSV here), so the checks the
    schema would make are made here: codes well formed, each LSOA once per sheet.
    """
    from python_calamine import CalamineError

    try:
        # calamine (Rust) reads File 8's ~270,000 cells about 8x faster than openpyxl, to
        # the same text; the workbook holds values only, so openpyxl's formula view is not
        # needed here (council workbooks, where it is, are read in datasets/read.py).
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine="calamine")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, CalamineError) as exc:
        raise DataError(
            f"cannot read the workbook: {exc}", file=path, hint="expected MHCLG's File 8 (.xlsx)"
        ) from None
    parts = []
    for name, raw in sheets.items():
        header = _header_line(raw)
        if header is None:
            continue  # the Notes sheet
        frame = raw.iloc[header + 1 :].copy()
        frame.columns = [str(c).strip() for c in raw.iloc[header]]
        if len(match_headers(frame.columns, IOD2025_HEADERS)) < 2:
            continue  # a sheet that names the key but holds no IoD measure (notes, a key)
        frame = frame.fillna("")
        frame.index = pd.RangeIndex(header + 2, header + 2 + len(frame))
        frame = frame[frame.ne("").any(axis=1)]
        where = f"{path} (sheet {str(name)!r})"
        part = _canonical(frame, Path(where), str(name))
        codes = part["lsoa21_code"]
        refuse_first(
            ~codes.str.fullmatch(r"E01\d{6}"),
            lambda row, codes=codes: f"not an LSOA 2021 code: {codes[row]!r}",
            file=where,
            field=_KEY_HEADER,
        )
        refuse_first(
            codes.duplicated(),
            lambda row, codes=codes: f"LSOA {codes[row]!r} appears more than once",
            file=where,
            field=_KEY_HEADER,
        )
        part = part.set_index("lsoa21_code")
        parts.append(part.drop(columns=[c for c in part if any(c in p for p in parts)]))
    if not parts:
        raise DataError(
            f"no sheet with a {_KEY_HEADER!r} header and IoD2025 measures",
            file=path,
            hint="expected MHCLG's File 8",
        )
    out = pd.concat(parts, axis=1, join="outer").reset_index()
    out.attrs["path"] = str(path)
    return out


def _header_line(raw: pd.DataFrame) -> int | None:
    for position in range(min(30, len(raw))):
        if any(str(c).strip().lower() == _KEY_HEADER.lower() for c in raw.iloc[position]):
            return position
    return None


def header_map(columns: list[str], role: str, options: dict) -> dict[str, list[str]]:
    """Canonical IoD2025 field -> the file's column, for validating the raw file."""
    return {k: [v] for k, v in match_headers(columns, IOD2025_HEADERS).items()}


FORMAT = Format("iod2025", read_iod2025, header_map, schema="iod2025", edition=EDITION)
