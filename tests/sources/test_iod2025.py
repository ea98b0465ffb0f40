"""IoD2025 under MHCLG's own headers (File 7 CSV, File 8 workbook) and the converted names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from placeintel.errors import DataError
from placeintel.sources.iod2025 import read_iod2025

FILE7 = (
    "LSOA code (2021),LSOA name (2021),Local Authority District code (2024),"
    "Local Authority District name (2024),Index of Multiple Deprivation (IMD) Score,"
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived),"
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs),"
    "Income Score (rate),Employment Score (rate),Total population: mid 2022,"
    "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022\n"
    'E01004766,Bolton 005A,E08000001,Bolton,33.083,"6,907",3,0.353,0.169,"1,720",1010\n'
)


def test_file7_headers(tmp_path: Path) -> None:
    path = tmp_path / "File_7_IoD2025.csv"
    path.write_text(FILE7, encoding="utf-8")
    frame = read_iod2025(path, "imd", {})
    row = frame.loc[2]
    assert row["lsoa21_code"] == "E01004766" and row["imd_score"] == pytest.approx(33.083)
    assert row["imd_rank"] == 6907 and row["imd_decile"] == 3
    assert row["employment_deprivation_rate"] == pytest.approx(0.169)
    assert row["population_total"] == 1720 and row["population_working_age"] == 1010
    assert frame.attrs["edition"] == "IoD2025"


def test_converted_names_and_suppressed_cells(tmp_path: Path) -> None:
    path = tmp_path / "indicators.csv"
    path.write_text(
        "lsoa21_code,income_deprivation_affecting_older_people_index_idaopi_numerator,"
        "employment_domain_numerator,digital_connectivity_broadband_download_and_upload_speeds\n"
        "E01004766,135,170,0.611\n"
        "E01004767,,175,-0.113\n",
        encoding="utf-8",
    )
    frame = read_iod2025(path, "imd", {})
    assert frame["idaopi_numerator"].tolist()[0] == 135
    assert np.isnan(frame["idaopi_numerator"].tolist()[1])  # suppressed: missing, not zero
    assert frame.attrs["missing_cells"] == {"idaopi_numerator": 1}
    assert frame["digital_connectivity"].tolist() == pytest.approx([0.611, -0.113])


def test_file8_workbook_sheets_joined(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["English Indices of Deprivation 2025: underlying indicators"])
    ids = [
        "LSOA code (2021)",
        "LSOA name (2021)",
        "Local Authority District code (2024)",
        "Local Authority District name (2024)",
    ]
    income = book.create_sheet("IoD25 Income Domain")
    income.append(
        [
            *ids,
            "Income Domain numerator",
            "Income Deprivation Affecting Older People Index (IDAOPI) numerator",
        ]
    )
    income.append(["E01004766", "Bolton 005A", "E08000001", "Bolton", 580, 135])
    income.append(["E01004767", "Bolton 005B", "E08000001", "Bolton", 565, None])
    barriers = book.create_sheet("IoD25 Barriers Domain")
    barriers.append(
        [*ids, "Connectivity Score", "Digital Connectivity (Broadband download and upload speeds)"]
    )
    barriers.append(["E01004767", "Bolton 005B", "E08000001", "Bolton", 75.338, -0.113])
    barriers.append(["E01004766", "Bolton 005A", "E08000001", "Bolton", 78.318, 0.611])
    path = tmp_path / "File_8_IoD2025_Underlying_Indicators.xlsx"
    book.save(path)
    frame = read_iod2025(path, "imd", {}).set_index("lsoa21_code")
    assert frame.loc["E01004766", "idaopi_numerator"] == 135
    assert np.isnan(frame.loc["E01004767", "idaopi_numerator"])
    assert frame.loc["E01004766", "digital_connectivity"] == pytest.approx(0.611)  # by code
    assert frame.loc["E01004767", "connectivity_score"] == pytest.approx(75.338)


def test_an_imd2019_file_is_not_taken_for_iod2025(tmp_path: Path) -> None:
    path = tmp_path / "imd2019.csv"
    path.write_text(
        "LSOA code (2011),Index of Multiple Deprivation (IMD) Score\nE01004766,30\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="no LSOA 2021 code column"):
        read_iod2025(path, "imd", {})


def _book(tmp_path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["See the sheet headed LSOA code (2021) for the data:"])
    notes.append(["LSOA code (2021)", "the 2021 LSOA, as in File 7"])  # a key, not data
    sheet = book.create_sheet("IoD25 Income Domain")
    sheet.append(
        ["LSOA code (2021)", "Income Deprivation Affecting Older People Index (IDAOPI) numerator"]
    )
    for row in rows:
        sheet.append(row)
    path = tmp_path / "File_8.xlsx"
    book.save(path)
    return path


def test_a_workbook_is_checked_as_a_csv_would_be(tmp_path: Path) -> None:
    good = read_iod2025(_book(tmp_path, [["E01004766", 135], ["E01004767", 80]]), "imd", {})
    assert good["lsoa21_code"].tolist() == ["E01004766", "E01004767"]  # the Notes key ignored
    twice = _book(tmp_path, [["E01004766", 135], ["E01004766", 80]])
    with pytest.raises(DataError, match="appears more than once") as caught:
        read_iod2025(twice, "imd", {})
    assert caught.value.row == 3 and "IoD25 Income Domain" in str(caught.value.file)
    with pytest.raises(DataError, match="not an LSOA 2021 code: 'E0100476X'"):
        read_iod2025(_book(tmp_path, [["E0100476X", 135]]), "imd", {})


def test_a_file_that_is_not_a_workbook_says_so(tmp_path: Path) -> None:
    path = tmp_path / "File_8.xlsx"
    path.write_text("LSOA code (2021),x\nE01004766,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read the workbook"):
        read_iod2025(path, "imd", {})
