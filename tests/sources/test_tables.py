"""The tolerant-but-strict CSV helpers that every tabular reader relies on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from placeintel.errors import DataError
from placeintel.sources.tables import find_column, numeric, parse_number, read_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("29,199", 29199.0),
        ("1,234,567.5", 1234567.5),
        (" 42 ", 42.0),
        ("-3.5", -3.5),
        ("12.5%", 12.5),
        ("1e3", 1000.0),
    ],
)
def test_parse_number_accepts_official_forms(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "n/a", "..", "-", "x", "c"])
def test_missing_markers_are_nan(text: str) -> None:
    assert np.isnan(parse_number(text))


@pytest.mark.parametrize("text", ["12,34", "1,2345", "abc", "1.2.3", "=1+1", "++"])
def test_parse_number_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


def test_bom_and_header_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeff LSOA code (2011) ,Score\nE01000001,"1,234"\n'.encode())
    frame = read_csv(path)
    assert list(frame.columns) == ["LSOA code (2011)", "Score"]
    assert numeric(frame, "Score").tolist() == [1234.0]
    assert frame.attrs["encoding"] == "utf-8-sig"


def test_cp1252_fallback(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes("name,value\nCaf\xe9 \x96 Bolton,1\n".encode("latin-1"))
    frame = read_csv(path)
    assert frame["name"].iloc[0] == "Café – Bolton"
    assert frame.attrs["encoding"] == "cp1252"


def test_bad_number_names_file_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "imd.csv"
    path.write_text('code,rank\nA,"1,000"\nB,lots\n', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        numeric(read_csv(path), "rank")
    assert (caught.value.row, caught.value.field) == (3, "rank")
    assert str(path) in str(caught.value)


def test_missing_column_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="required column is missing"):
        find_column(read_csv(path), "All Premises")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="file is empty"):
        read_csv(empty)
