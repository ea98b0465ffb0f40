"""The tolerant-but-strict CSV helpers that every tabular reader relies on."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeintel.errors import DataError
from placeintel.region import load_manifest
from placeintel.sources import FORMATS
from placeintel.sources.tables import (
    detect_encoding,
    find_column,
    numeric,
    parse_number,
    read_csv,
    read_header,
)


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


# --- issue 14: UTF-16 and UTF-32 are found by their byte-order mark -----------------------

UNICODE = (
    'LSOA code (2011),name,Score\r\nE01000001,Café – Bolton,"1,234"\r\nE01000002,Ŵrexham ☃,5\r\n'
)


@pytest.mark.parametrize(
    ("encoding", "bom", "codec"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
        ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32"),
        ("utf-32-be", codecs.BOM_UTF32_BE, "utf-32"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
    ],
)
def test_unicode_files_are_read_by_their_byte_order_mark(
    tmp_path: Path, encoding: str, bom: bytes, codec: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(bom + UNICODE.encode(encoding))
    assert detect_encoding(path) == codec
    frame = read_csv(path)
    assert list(frame.columns) == ["LSOA code (2011)", "name", "Score"]
    assert frame["name"].tolist() == ["Café – Bolton", "Ŵrexham ☃"]
    assert numeric(frame, "Score").tolist() == [1234.0, 5.0]
    assert read_header(path) == (["LSOA code (2011)", "name", "Score"], codec)


def test_gzipped_utf16_is_read(tmp_path: Path) -> None:
    path = tmp_path / "table.csv.gz"
    path.write_bytes(gzip.compress(codecs.BOM_UTF16_LE + UNICODE.encode("utf-16-le")))
    assert read_csv(path)["name"].tolist() == ["Café – Bolton", "Ŵrexham ☃"]


def test_utf16_without_a_mark_is_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(UNICODE.encode("utf-16-le"))
    with pytest.raises(DataError) as caught:
        read_csv(path)
    assert caught.value.rule == "encoding"
    assert "NUL bytes" in caught.value.message and "byte-order mark" in str(caught.value.hint)


def test_a_mark_on_bytes_that_are_not_that_encoding_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + UNICODE.encode("utf-16-le") + b"\x00")  # odd length
    with pytest.raises(DataError) as caught:
        read_csv(path)
    assert caught.value.rule == "encoding"
    assert caught.value.message.startswith("not readable as UTF-16, which its byte-order mark")


def test_a_mark_and_nothing_else_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(codecs.BOM_UTF32_BE + "\r\n".encode("utf-32-be"))
    with pytest.raises(DataError, match="file is empty"):
        read_csv(path)


def test_dwp_and_census_readers_read_utf16(tmp_path: Path) -> None:
    """Readers that parse text themselves use the same detection as read_csv."""
    manifest = load_manifest("demo")
    sources = [s for s in manifest.sources if s.reader in ("dwp-stat-xplore", "nomis-census")]
    assert len(sources) == 2
    for source in sources:
        original = source.resolve(manifest.data_dir)
        copy = tmp_path / original.name
        text = original.read_bytes().decode("utf-8")
        copy.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
        read = FORMATS[source.reader].read
        pd.testing.assert_frame_equal(
            read(copy, source.role, source.options), read(original, source.role, source.options)
        )


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (b"abcdefg\xc3\xa9\n", "utf-8-sig"),  # a character split across two chunks
        (b"\xc3\xa9" + b"x" * 7 + b"\n", "utf-8-sig"),  # then an ASCII chunk after it
        (b"abcdefg\xc3" + b"x" * 8, "cp1252"),  # a lead byte, then a chunk of ASCII
        (b"caf\xe9\n", "cp1252"),  # not UTF-8, after chunks of ASCII
        (b"caf\xc3", "cp1252"),  # a UTF-8 character cut off by the end of the file
    ],
)
def test_ascii_chunks_are_skipped_without_changing_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: bytes, expected: str
) -> None:
    from placeintel.sources import tables

    monkeypatch.setattr(tables, "ENCODING_CHUNK", 8)
    path = tmp_path / "table.csv"
    path.write_bytes(b"code,name\nE01,abcdefghij" + tail)  # the header in ASCII chunks
    assert tables._detect_encoding(path) == expected
