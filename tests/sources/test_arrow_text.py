"""`isin_many` gives each column what `isin` gives it alone; the distinct-value checks
that stand in for hashing never say a column is distinct when it is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from placeintel.sources import arrow_text
from placeintel.sources.arrow_text import (
    arrow_strings,
    duplicated,
    isin,
    isin_many,
    map_text,
    surely_distinct,
    without_spaces_upper,
)


def test_isin_many_matches_isin_column_by_column() -> None:
    allowed = pd.Series(["A1", "B2", "C3", None], dtype="str")
    columns = [
        pd.Series(["A1", "Z9", None, "C3"], dtype="str"),
        pd.Series(["B2", "B2", "X"], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series([1, 2], dtype="int64"),  # not text: pandas decides, as in `isin`
    ]
    got = isin_many(columns, allowed)
    for column, found in zip(columns, got, strict=True):
        np.testing.assert_array_equal(found, isin(column, allowed))
        assert len(found) == len(column)


def test_isin_many_without_a_missing_value_in_the_set() -> None:
    allowed = pd.Series(["A1", "B2"], dtype="str")
    columns = [pd.Series(["A1", None], dtype="str"), pd.Series([None, "B2"], dtype="str")]
    assert [list(f) for f in isin_many(columns, allowed)] == [[True, False], [False, True]]


def test_isin_many_joins_string_and_large_string_columns() -> None:
    allowed = pd.Series(["A1", "B2"], dtype="str")
    small = pd.Series(pd.arrays.ArrowStringArray(pa.array(["A1", "Q"], type=pa.string())))
    large = pd.Series(pd.arrays.ArrowStringArray(pa.array(["B2"], type=pa.large_string())))
    assert arrow_strings(small) is not None and arrow_strings(allowed) is not None
    assert [list(f) for f in isin_many([small, large], allowed)] == [[True, False], [True]]


def _text(values: list[str | None]) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(values, type=pa.large_string())])


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["A"],
        ["A", "B", "C"],
        ["A", "A"],
        ["B", "A"],
        ["A", None, "C"],
        [None],
        [f"QA{d}{n}AA" for d in range(1, 12) for n in range(10)],  # districts in number order
        [f"QA{d}{n}AA" for d in range(1, 12) for n in range(10)] + ["QA50AA"],  # one repeat
        [f"P{i}" for i in range(500)][::-1],  # in no order: left to the hash
    ],
)
def test_surely_distinct_is_never_wrong(values: list[str | None]) -> None:
    """True only for a column with every value once and none missing; False (hash it) for
    any other, and for one in too little order to tell cheaply."""
    truly = None not in values and len(set(values)) == len(values)
    assert not surely_distinct(_text(values)) or truly
    if truly and values == sorted(values):
        assert surely_distinct(_text(values))


@given(st.lists(st.sampled_from(["a", "b", "ab", "b a", "", "é", "QA1 0AA", None]), max_size=12))
def test_surely_distinct_against_a_set(values: list[str | None]) -> None:
    for column in (values, sorted(v for v in values if v is not None)):
        truly = None not in column and len(set(column)) == len(column)
        assert not surely_distinct(_text(column)) or truly


def test_map_text_counts_a_directory_once_and_answers_as_pandas() -> None:
    """`duplicated` remembers the very array it found distinct; `map_text` then looks up
    in it without counting again, and gives pandas' answer."""
    index = pd.Series(pd.arrays.ArrowStringArray(_text(["QA10AB", "QA10AA", "QA11AA"])))
    values = pd.Series(pd.arrays.ArrowStringArray(_text(["E1", "E2", "E3"])))
    keys = pd.Series(pd.arrays.ArrowStringArray(_text(["QA11AA", "ZZ", None, "QA10AB"])))
    assert not duplicated(index).any()
    assert arrow_text._known_distinct(arrow_strings(index))
    got = map_text(keys, index, values)
    expected = keys.map(pd.Series(values.to_numpy(), index=index))
    assert got.fillna("-").tolist() == expected.fillna("-").tolist() == ["E3", "-", "-", "E1"]


def test_a_repeated_index_is_left_to_pandas() -> None:
    index = pd.Series(pd.arrays.ArrowStringArray(_text(["QA10AA", "QA10AA"])))
    values = pd.Series(pd.arrays.ArrowStringArray(_text(["E1", "E2"])))
    keys = pd.Series(pd.arrays.ArrowStringArray(_text(["QA10AA"])))
    assert duplicated(index).tolist() == [False, True]
    assert not arrow_text._known_distinct(arrow_strings(index))
    with pytest.raises(Exception, match="unique"):
        map_text(keys, index, values)


@given(st.lists(st.one_of(st.none(), st.text(alphabet="aB1 \t\x0b\x1c-é", max_size=6)), max_size=8))
def test_without_spaces_upper_is_pandas(values: list[str | None]) -> None:
    """The literal-space path and the regex path both give pandas' own spelling."""
    column = pd.Series(pd.arrays.ArrowStringArray(_text(values)))
    expected = column.str.replace(r"\s+", "", regex=True).str.upper()
    got = without_spaces_upper(column)
    assert got.fillna("\0").tolist() == expected.fillna("\0").tolist()
