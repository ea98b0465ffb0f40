"""The Arrow screen passes a file only when the exact csv pass would find nothing.

It may send a clean file to the exact pass (that costs time), but never wave
through a file with a blank, short or long row, or a cell over the limit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placeintel.errors import DataError
from placeintel.sources.tables import PLAIN, detect_encoding, read_header
from placeintel.validate.bulk import _dialect, _structure
from placeintel.validate.well_formed import well_formed_columns
from tests.validate.test_corpus import CASES, Case, _broken_region


def _agrees(path: Path, missing: set[str]) -> bool:
    """Whether the screen's verdict is safe for this file; True if it passes it."""
    try:
        header, encoding = read_header(path)
        dialect = _dialect(path, encoding, PLAIN)
    except DataError:
        return False  # refused before either pass runs
    labels = [h.strip() for h in header]
    passed, _ = well_formed_columns(path, encoding, dialect, labels, PLAIN, missing, [])
    if passed:
        assert _structure(path, encoding, dialect, labels, PLAIN, missing, 100) == ([], [])
    clean, frame = well_formed_columns(path, encoding, dialect, labels, PLAIN, missing, labels)
    assert clean == passed
    if frame is not None:  # the cells the bulk checks read are pandas' very cells
        expected = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            sep=dialect.delimiter,
            quotechar=dialect.quotechar,
            doublequote=dialect.doublequote,
            skip_blank_lines=False,
        )
        expected.columns = [str(c).strip() for c in expected.columns]
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    return passed


@pytest.mark.parametrize("case", [c for c in CASES if c.file.endswith(".csv")], ids=lambda c: c.id)
def test_corpus_files(case: Case, tmp_path: Path) -> None:
    region = _broken_region(tmp_path, case.mutate)
    _agrees(region / case.file, {""})


def test_clean_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    path.write_text('code,name\nE1,"a, b"\nE2,"say ""hi"""\n', encoding="utf-8")
    assert _agrees(path, {""})


@pytest.mark.parametrize(
    "text",
    [
        "code,name\nE1,a\n\nE2,b\n",  # an empty line
        "code,name\nE1,a\n,\n",  # a row of missing cells
        "code,name\nE1\n",  # short
        "code,name\nE1,a,b\n",  # long
        'code,name\n"E1,a\n',  # a quote never closed: one short row
        "code,name\nE1," + "x" * 70_000 + "\n",  # near the cell limit
        # In a column the screen does not parse (only the checked and the last are):
        "code,name,n\nE1," + "x" * 70_000 + ",1\n",  # a long cell
        'code,name,n\nE1,"' + "x\n" * 40_000 + '",1\n',  # a long cell of short lines
        "code,name,n\nE1,a,1\n,,\n",  # a blank row
        "code,name,n\nE1,a,1\n\n",  # an empty line
        'code,name,n\nE1,"a\nE2,b,1\n',  # a quote never closed: one short row
        "code,name,n\nE1,a\rE2,1\n",  # a carriage return alone ends a row
    ],
)
def test_damaged_file_goes_to_the_exact_pass(text: str, tmp_path: Path) -> None:
    path = tmp_path / "damaged.csv"
    path.write_text(text, encoding="utf-8")
    assert detect_encoding(path) == "utf-8-sig"
    assert not _agrees(path, {""})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["", "a", "x y", '"', '""', ",", "\n", "\r", " ", "n/a"])),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([{""}, {"", "n/a"}, {"n/a"}]),
)
def test_random_text_is_never_waved_through_wrongly(
    rows: list[list[str]], missing: set[str]
) -> None:
    text = "code,name,value\n" + "".join("".join(row) + "\n" for row in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.csv"
        path.write_text(text, encoding="utf-8")
        _agrees(path, missing)


@pytest.mark.parametrize(
    "text",
    [
        'code,name,n\nE1,"a\nb",1\nE2,"c\r\nd",2\n',  # quoted line breaks
        "code,name,n\r\nE1, a,1\r\nE2,b,2\r\n",  # a space after a comma
        'code,name,n\nE1,"' + "x" * 1000 + '",1\n',
    ],
)
def test_unparsed_columns_are_vouched_for_or_parsed(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the checked columns and the last are parsed when the file's lines vouch for
    the others; where they cannot (a line break in a cell, a space beginning a cell for
    the reader), every column is parsed, and the verdict is the csv pass's."""
    from placeintel.validate import well_formed

    counted: list[object] = []
    original = well_formed.plain_lines

    def spy(path: Path, longest: int) -> object:
        counted.append(original(path, longest))
        return counted[-1]

    monkeypatch.setattr(well_formed, "plain_lines", spy)
    path = tmp_path / "file.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _agrees(path, {""})
    assert counted  # the partial parse was tried
