"""Arrow's reading of a plain CSV is pandas' frame, or it steps aside (None)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placeintel.errors import DataError
from placeintel.sources.arrow_csv import read_plain
from placeintel.sources.tables import _read_with_pandas, read_header


def _agrees(path: Path, columns=None) -> bool:
    """Whether Arrow read the file; if it did, its frame is pandas' exactly."""
    try:
        header, encoding = read_header(path)
    except DataError:
        return False
    frame = read_plain(path, encoding, header, columns)
    if frame is None:
        return False
    expected = _read_with_pandas(path, encoding, columns, 1)
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert list(frame.dtypes) == list(expected.dtypes)
    return True


def test_plain_file_is_read_by_arrow(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    text = '\ufeffcode,name,n\nE1,"a, b",1\nE2,"say ""hi""",\n"E3","x\r\ny",3\nE4,ab"c,"4"d\n'
    path.write_text(text, encoding="utf-8")
    assert _agrees(path)
    assert _agrees(path, lambda label: label in {"code", "n"})


def test_an_empty_line_is_a_row_of_empty_cells_to_both(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("code,name\nE1,a\n\nE2,b\n", encoding="utf-8")
    assert _agrees(path)


@pytest.mark.parametrize(
    "text",
    [
        "code,name\nE1\n",  # short
        "code,name\nE1,a,b\n",  # long
        'code,name\nE1, "a,b"\n',  # a space before a quote: pandas skips it
        "code, name\nE1,a\n",  # a space in the header
        "code,code\nE1,a\n",  # pandas renames a repeated label
        "code,\nE1,a\n",  # and a blank one
        "code\nE1\n",  # one column
    ],
)
def test_pandas_reads_what_arrow_may_not(text: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(text, encoding="utf-8")
    assert not _agrees(path)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["", "a", "x y", '"', '""', ",", "\n", "\r", " ", "\t", "é"])),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_random_text_reads_as_pandas_reads_it(rows: list[list[str]], some: bool) -> None:
    text = "code,name,value\n" + "".join("".join(row) + "\n" for row in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.csv"
        path.write_text(text, encoding="utf-8")
        _agrees(path, (lambda label: label != "name") if some else None)
