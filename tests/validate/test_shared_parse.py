"""Validation's parse of a large CSV is handed to its reader: the reader's frame is the
one it would have parsed itself, and a file changed in between is parsed again."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from placeintel.sources import arrow_csv
from placeintel.sources.arrow_csv import parses_shared, read_plain
from placeintel.sources.tables import (
    PLAIN,
    _read_with_pandas,
    detect_encoding,
    encodings_remembered,
    read_header,
)
from placeintel.validate.bulk import _dialect
from placeintel.validate.well_formed import well_formed_columns


def _screen(path: Path, reads=None) -> None:
    header, encoding = read_header(path)
    labels = [h.strip() for h in header]
    dialect = _dialect(path, encoding, PLAIN)
    clean, _ = well_formed_columns(
        path, encoding, dialect, labels, PLAIN, {""}, labels[:1], hand_on=True, reads=reads
    )
    assert clean


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    served: list[bool] = []
    original = arrow_csv._take_shared

    def take(*args):
        frame = original(*args)
        served.append(frame is not None)
        return frame

    monkeypatch.setattr(arrow_csv, "_take_shared", take)
    return served


@pytest.mark.parametrize("columns", [None, lambda label: label in {"code", "n"}])
def test_the_reader_gets_the_screens_parse(tmp_path: Path, monkeypatch, columns) -> None:
    path = tmp_path / "plain.csv"
    path.write_text('code,name,n\nE1,"a, b",1\nE2,"say ""hi""",\n"E3","x\r\ny",3\n', "utf-8")
    served = _spy(monkeypatch)
    header, encoding = read_header(path)
    with parses_shared():
        _screen(path, reads=columns)
        frame = read_plain(path, encoding, header, columns)
    assert served == [True]
    expected = _read_with_pandas(path, encoding, columns, 1)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)


def test_no_parse_is_kept_outside_a_validation_run(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("code,n\nE1,1\nE2,2\n", "utf-8")
    served = _spy(monkeypatch)
    header, encoding = read_header(path)
    _screen(path)
    read_plain(path, encoding, header, None)
    assert served == [False]


def test_a_file_changed_after_the_screen_is_parsed_again(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("code,n\nE1,1\nE2,2\n", "utf-8")
    served = _spy(monkeypatch)
    with parses_shared():
        _screen(path)
        path.write_text("code,n\nE1,1\nE2,2\nE3,3\n", "utf-8")
        header, encoding = read_header(path)
        frame = read_plain(path, encoding, header, None)
    assert served == [False]
    assert list(frame["code"]) == ["E1", "E2", "E3"]


def test_a_column_the_screen_did_not_keep_is_parsed(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("code,name,n\nE1,a,1\n", "utf-8")
    served = _spy(monkeypatch)
    header, encoding = read_header(path)
    with parses_shared():
        _screen(path, reads=lambda label: label == "n")
        frame = read_plain(path, encoding, header, lambda label: label == "name")
    assert served == [False]
    assert list(frame.columns) == ["name"]


def test_an_encoding_is_remembered_only_inside_a_run(tmp_path: Path) -> None:
    path, other = tmp_path / "text.csv", tmp_path / "other.csv"
    path.write_bytes("code\ncaf\u00e9\n".encode())
    with encodings_remembered():
        assert detect_encoding(path) == "utf-8-sig"
        other.write_bytes("code\ncaf\u00e9\n".encode("cp1252") + b"x")  # the same size
        os.replace(other, path)  # another file now: examined afresh
        assert detect_encoding(path) == "cp1252"
    assert detect_encoding(path) == "cp1252"
