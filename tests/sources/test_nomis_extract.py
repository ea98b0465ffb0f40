"""Nomis extracts as the query tool downloads them: preamble, 'CODE : Name' cells, footnotes.

The fixture copies the layout of Census 2021 RM121 by LSOA from Nomis (14 February 2024):
CRLF line endings, a 7-line preamble, the header on line 8, a blank line, area lines, blank
lines and the perturbation footnote, and an area name holding a comma (so quoted).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.errors import DataError
from placeintel.sources.nomis_extract import locate, read_nomis_extract
from placeintel.validate.report import Report
from placeintel.validate.tables import load_schema, validate_table

HEADER = (
    "2021 super output area - lower layer,Total,Aged 65 years,Aged 66 to 69 years,"
    "Aged 70 to 74 years,Aged 75 to 79 years,Aged 80 to 84 years,Aged 85 years and over"
)
LINES = [
    "RM121 - Sex by age,,,,,,,",
    "ONS Crown Copyright Reserved [from Nomis on 14 February 2024],,,,,,,",
    "Population :,All Usual residents,,,,,,",
    "Units      :,Persons,,,,,,",
    "Date       :,2021,,,,,,",
    "Sex        :,All persons,,,,,,",
    ",,,,,,,",
    HEADER,
    ",,,,,,,",
    "E01004768 : Bolton 001A,1599,23,77,118,65,30,29",
    '"E01012345 : Kingston upon Hull, City of 001A",1000,10,20,30,40,50,60',
    "E01004807 : Bolton 001D,1372,11,40,59,44,33,4",
    ",,,,,,,",
    ",,,,,,,",
    ',"In order to protect against disclosure of personal information, records",,,,,,',
    ",have been swapped between different geographic areas and counts perturbed,,,,,,",
]
MEASURES = {
    "population": "Total",
    "aged_65_plus": [
        "Aged 65 years",
        "Aged 66 to 69 years",
        "Aged 70 to 74 years",
        "Aged 75 to 79 years",
        "Aged 80 to 84 years",
        "Aged 85 years and over",
    ],
    "aged_75_plus": ["Aged 75 to 79 years", "Aged 80 to 84 years", "Aged 85 years and over"],
}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "census2021_rm121.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    return path


def test_the_table_is_found_between_preamble_and_footnotes(tmp_path: Path) -> None:
    layout = locate(_write(tmp_path, LINES))
    assert layout.header_row == 8
    assert layout.skip_rows == (9, 13, 14, 15, 16)


def test_codes_names_and_summed_bands(tmp_path: Path) -> None:
    frame = read_nomis_extract(_write(tmp_path, LINES), "census", {"measures": MEASURES})
    assert frame["area_code"].tolist() == ["E01004768", "E01012345", "E01004807"]
    assert frame["area_name"].tolist()[1] == "Kingston upon Hull, City of 001A"
    # Bolton 001A: 23 + 77 + 118 + 65 + 30 + 29 = 342 aged 65+; 65 + 30 + 29 = 124 aged 75+.
    assert frame.loc[10, "aged_65_plus"] == 342
    assert frame.loc[10, "aged_75_plus"] == 124
    assert frame.loc[10, "population"] == 1599
    assert frame.index.tolist() == [10, 11, 12]  # line numbers in the file


def test_an_empty_cell_is_missing_and_counted(tmp_path: Path) -> None:
    lines = list(LINES)
    lines[11] = "E01004807 : Bolton 001D,1372,11,,59,44,33,4"
    frame = read_nomis_extract(_write(tmp_path, lines), "census", {"measures": MEASURES})
    assert frame["aged_65_plus"].isna().tolist() == [False, False, True]  # never 0 or 147
    assert frame["aged_75_plus"].tolist()[2] == 81
    assert frame.attrs["missing_cells"] == {"aged_65_plus": 1}


def test_a_damaged_area_cell_names_its_line(tmp_path: Path) -> None:
    lines = list(LINES)
    lines[10] = "Kingston upon Hull 001A,1000,10,20,30,40,50,60"
    with pytest.raises(DataError, match="not an area cell") as caught:
        read_nomis_extract(_write(tmp_path, lines), "census", {"measures": MEASURES})
    assert caught.value.row == 11


def test_validation_reads_the_table_where_the_reader_does(tmp_path: Path) -> None:
    lines = list(LINES)
    lines[9] = "E01004768 : Bolton 001A,1599,23,77,1x8,65,30,29"
    path = _write(tmp_path, lines)
    report = Report("test")
    mapping = {"area_cell": [HEADER.split(",")[0]], "*": HEADER.split(",")[1:]}
    ok = validate_table(path, load_schema("nomis-extract"), mapping, report, layout=locate(path))
    assert not ok
    (finding,) = report.errors  # the preamble and footnotes are not data: one finding only
    assert (finding.row, finding.field, finding.value) == (10, "Aged 70 to 74 years", "1x8")


def test_a_file_without_area_lines_says_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="CODE : Name|E01004766 : Bolton 001A"):
        locate(_write(tmp_path, LINES[:9]))


def test_an_unclosed_quote_is_named_not_swallowed(tmp_path: Path) -> None:
    """An unclosed quote would read every later line as one cell: the table would end
    there, and most areas would vanish without a word."""
    lines = list(LINES)
    lines[10] = '"E01012345 : Kingston upon Hull, City of 001A,1000,10,20,30,40,50,60'
    with pytest.raises(DataError, match="quote opened on this line is not closed") as caught:
        locate(_write(tmp_path, lines))
    assert caught.value.row == 11


def test_a_table_without_its_header_line_says_so(tmp_path: Path) -> None:
    lines = [line for line in LINES if line != HEADER][6:]  # preamble and header gone
    with pytest.raises(DataError, match="no header line before its first area line"):
        locate(_write(tmp_path, lines))


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "rm121.csv"
    packed.write_bytes(gzip.compress("\r\n".join(LINES).encode("utf-8")))
    with pytest.raises(DataError, match="gzip-compressed but not named .gz"):
        locate(packed)
    binary = tmp_path / "rm121-binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match="not a text file"):
        locate(binary)


def test_a_percentage_is_not_a_count(tmp_path: Path) -> None:
    lines = list(LINES)
    lines[9] = "E01004768 : Bolton 001A,1599,12.5%,77,118,65,30,29"
    path = _write(tmp_path, lines)
    report = Report("test")
    mapping = {"area_cell": [HEADER.split(",")[0]], "*": HEADER.split(",")[1:]}
    assert not validate_table(
        path, load_schema("nomis-extract"), mapping, report, layout=locate(path)
    )
    assert [(f.row, f.field, f.value) for f in report.errors] == [(10, "Aged 65 years", "12.5%")]


def test_repeated_header_names_are_a_finding_not_a_crash(tmp_path: Path) -> None:
    lines = [line.replace("Aged 65 years", "Total") for line in LINES]
    path = _write(tmp_path, lines)
    report = Report("test")
    mapping = {"area_cell": [HEADER.split(",")[0]], "*": ["Total"]}
    assert not validate_table(
        path, load_schema("nomis-extract"), mapping, report, layout=locate(path)
    )
    assert [(f.rule, f.field) for f in report.errors] == [("duplicate-label", "Total")]
